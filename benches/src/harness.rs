//! Times whole exo processes on generated vaults: full index, no-op index, 1-note reindex and
//! status, search and the garden report, with `git status` on the same repository for the
//! ratio. Prints a markdown table.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::generate::generate;
use crate::process::{measure, median, ms};
use crate::vectors::{Vectors, initial_config, provide};

struct Row {
    notes: usize,
    full_index: Duration,
    full_rss_mb: f64,
    noop_index: Duration,
    one_note: Duration,
    status: Duration,
    status_walking: Duration,
    git_status: Duration,
    search: Duration,
    garden: Duration,
    peak_rss_mb: f64,
}

pub(crate) fn git(dir: &Path, args: &[&str]) -> Result<()> {
    let status = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .stdout(std::process::Stdio::null())
        .status()
        .context("cannot run git")?;
    if !status.success() {
        bail!("git {args:?} failed in {}", dir.display());
    }
    Ok(())
}

fn prepare(work: &Path, notes: usize, seed: u64) -> Result<PathBuf> {
    let dir = work.join(format!("{notes}-seed{seed}"));
    if dir.join(".git").is_dir() {
        return Ok(dir);
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("generating {notes} notes in {} …", dir.display());
    generate(&dir, notes, seed)?;
    git(&dir, &["init", "-q", "-b", "main"])?;
    git(&dir, &["add", "-A"])?;
    git(&dir, &["commit", "-q", "-m", "generated vault"])?;
    Ok(dir)
}

fn repeated(repeat: usize, mut once: impl FnMut() -> Result<(Duration, u64)>) -> Result<(Duration, u64)> {
    let mut times = Vec::new();
    let mut peak = 0;
    for _ in 0..repeat {
        let (wall, rss) = once()?;
        times.push(wall);
        peak = peak.max(rss);
    }
    Ok((median(times), peak))
}

fn bench_one(exo: &Path, dir: &Path, notes: usize, repeat: usize, vectors: Vectors) -> Result<Row> {
    let exo_run = |args: &[&str]| measure(exo, args, dir).map(|m| (m.wall, m.max_rss_kb));
    let _ = std::fs::remove_dir_all(dir.join(".exo"));
    // The full build is timed for text and graph; vectors, if asked for, come after it.
    std::fs::write(dir.join("exo.toml"), initial_config())?;
    let full_repeat = if notes <= 10_000 { 3 } else { 1 };
    let (full_index, full_rss) = repeated(full_repeat, || {
        let _ = std::fs::remove_dir_all(dir.join(".exo"));
        exo_run(&["index", "--quiet"])
    })?;
    provide(exo, dir, vectors)?;
    // In real use the folders were last changed well before a check, so the index run
    // keeps its walk (.exo/walk) for status and search to replay. Right after the build
    // they are still inside the racy window, where no walk is kept.
    std::thread::sleep(Duration::from_nanos(exo_vault::RACY_WINDOW_NS as u64 + 500_000_000));
    let (noop_index, noop_rss) = repeated(repeat, || exo_run(&["index", "--quiet"]))?;
    if !dir.join(".exo/walk").is_file() {
        bail!("exo index kept no walk of {}", dir.display());
    }
    // exo and git alternate, so a drift in the machine's speed hits both alike.
    let mut git_times = Vec::new();
    let (status, status_rss) = repeated(repeat, || {
        let exo = exo_run(&["status"])?;
        git_times.push(measure(Path::new("git"), &["status", "--porcelain"], dir)?.wall);
        Ok(exo)
    })?;
    let git_status = median(git_times);
    let walk = std::fs::read(dir.join(".exo/walk"))?;
    // Status never writes the walk, so without it every run walks.
    std::fs::remove_file(dir.join(".exo/walk"))?;
    let (status_walking, _) = repeated(repeat, || exo_run(&["status"]))?;
    std::fs::write(dir.join(".exo/walk"), walk)?;
    let (search, search_rss) = repeated(repeat, || exo_run(&["search", "--json", "notes", "about", "memory"]))?;
    let (garden, garden_rss) = repeated(repeat, || exo_run(&["garden", "--json"]))?;
    let target = first_note(dir)?;
    let mut edit = 0;
    let (one_note, one_rss) = repeated(repeat, || {
        edit += 1;
        let mut text = std::fs::read_to_string(&target)?;
        text.push_str(&format!("\nEdit number {edit}.\n"));
        std::fs::write(&target, text)?;
        exo_run(&["index", "--quiet"])
    })?;
    let peak = [full_rss, noop_rss, status_rss, search_rss, garden_rss, one_rss].into_iter().max().unwrap_or(0);
    Ok(Row {
        notes,
        full_index,
        full_rss_mb: full_rss as f64 / 1024.0,
        noop_index,
        one_note,
        status,
        status_walking,
        git_status,
        search,
        garden,
        peak_rss_mb: peak as f64 / 1024.0,
    })
}

fn first_note(dir: &Path) -> Result<PathBuf> {
    let report = exo_vault::scan(dir, &exo_vault::Config::default())?;
    let first = report.notes.first().context("generated vault has no notes")?;
    Ok(dir.join(&first.path))
}

pub fn run(sizes: &[usize], seed: u64, exo: &Path, work: &Path, repeat: usize, vectors: Vectors) -> Result<()> {
    let exo =
        exo.canonicalize().with_context(|| format!("no exo binary at {} (cargo build --release)", exo.display()))?;
    std::fs::create_dir_all(work)?;
    let mut rows = Vec::new();
    for &notes in sizes {
        let dir = prepare(work, notes, seed)?;
        let row = bench_one(&exo, &dir, notes, repeat, vectors)?;
        eprintln!("{notes} notes done");
        rows.push(row);
    }
    if vectors != Vectors::None {
        println!("vectors: {vectors:?} (the full index is text and graph only; the rest ran with vectors)");
    }
    println!(
        "| notes | full index | full-index RSS | no-op index | 1-note reindex | exo status | git status | status / git | status, walking | exo search | exo garden | peak RSS |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {:.0} ms | {:.0} MB | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.2}x | {:.1} ms | {:.1} ms | {:.1} ms | {:.0} MB |",
            r.notes,
            ms(r.full_index),
            r.full_rss_mb,
            ms(r.noop_index),
            ms(r.one_note),
            ms(r.status),
            ms(r.git_status),
            ms(r.status) / ms(r.git_status),
            ms(r.status_walking),
            ms(r.search),
            ms(r.garden),
            r.peak_rss_mb
        );
    }
    Ok(())
}
