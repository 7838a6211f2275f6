//! Recall and latency of the coarse pass of vector search (sign codes, then the best
//! candidates rescored in int8) against the exact int8 scan, on real vectors: SciFact's chunk
//! vectors from an indexed copy of its vault, and sets of any size made from them by
//! replicating every note with noise (each copy's chunk vectors are the originals plus a
//! Gaussian of norm `--noise`, renormalised). Queries are SciFact's own, embedded by the
//! built-in model as `exo search` embeds them. Every scan opens and maps the file as one
//! `exo search` process does, so its latency includes that.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use exo_embed::Embedder;
use exo_index::search::vector_bench::{self, Scan};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub struct Options {
    /// An indexed copy of the SciFact vault (with the built-in model's vectors).
    pub vault: PathBuf,
    pub queries: PathBuf,
    /// Synthetic set sizes in chunks (0: SciFact itself).
    pub chunks: Vec<usize>,
    pub noise: f32,
    pub candidates: Vec<usize>,
    /// Notes asked for (hybrid search asks for 100).
    pub k: usize,
    pub max_queries: usize,
    pub work: PathBuf,
    /// Where to write SciFact's vector-only runs (query id, note path, rank, cosine) per scan,
    /// for `score.py`.
    pub runs: Option<PathBuf>,
}

/// SciFact's chunk vectors, grouped by note in (note, seq) order.
type Notes = Vec<Vec<Vec<f32>>>;

/// SciFact's notes (their vectors and vault paths) and queries (ids and vectors).
struct SciFact {
    notes: Notes,
    paths: Vec<String>,
    query_ids: Vec<String>,
    queries: Vec<Vec<f32>>,
}

pub fn run(options: &Options) -> Result<()> {
    let (notes, paths) = scifact_vectors(&options.vault)?;
    let chunk_count: usize = notes.iter().map(Vec::len).sum();
    eprintln!("{} SciFact notes, {chunk_count} chunks", notes.len());
    let (query_ids, queries) = embed_queries(&options.queries, options.max_queries)?;
    if queries.is_empty() {
        bail!("{}: no queries (lines of id, tab, text) to measure with", options.queries.display());
    }
    eprintln!("{} queries embedded", queries.len());
    let scifact = SciFact { notes, paths, query_ids, queries };
    let (notes, queries) = (&scifact.notes, &scifact.queries);
    std::fs::create_dir_all(&options.work)?;
    println!(
        "{:>9} {:>8} {:<16} {:>9} {:>9} {:>8} {:>8} {:>8} {:>10}",
        "chunks", "notes", "scan", "recall@10", "recall@100", "p50 ms", "p90 ms", "CPU ms", "MB read"
    );
    for &size in &options.chunks {
        let path = options.work.join(format!("set-{size}-noise{}.flat", options.noise));
        let (rows, set_notes) = if size == 0 {
            write_set(&path, notes, chunk_count, 0.0)?
        } else {
            write_set(&path, notes, size, options.noise)?
        };
        let exact = measure(&path, queries, options.k, Scan::Exact, None)?;
        print_row(rows, set_notes, "exact", &exact);
        let runs = options.runs.as_deref().filter(|_| size == 0);
        if let Some(dir) = runs {
            write_run(&dir.join("vector-exact.tsv"), &scifact, &exact.answers)?;
        }
        let mut scans: Vec<(String, Scan)> =
            options.candidates.iter().map(|&c| (format!("coarse {c}"), Scan::Coarse { candidates: c })).collect();
        scans.push(("default".into(), Scan::Default));
        for (name, scan) in scans {
            let measured = measure(&path, queries, options.k, scan, Some(&exact.answers))?;
            print_row(rows, set_notes, &name, &measured);
            if let Some(dir) = runs {
                write_run(&dir.join(format!("vector-{}.tsv", name.replace(' ', "-"))), &scifact, &measured.answers)?;
            }
        }
        if size != 0 {
            std::fs::remove_file(&path).ok();
        }
    }
    Ok(())
}

/// A run file for `score.py`: query id, note path, rank, score. Set notes are numbered from 1
/// in SciFact's note order.
fn write_run(path: &Path, scifact: &SciFact, answers: &[Vec<(i64, f32)>]) -> Result<()> {
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
    let mut out = String::new();
    for (id, answer) in scifact.query_ids.iter().zip(answers) {
        for (rank, (note, cosine)) in answer.iter().enumerate() {
            let note_path = scifact.paths.get((*note - 1) as usize).map_or("", String::as_str);
            out.push_str(&format!("{id}\t{note_path}\t{}\t{cosine}\n", rank + 1));
        }
    }
    std::fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}

struct Measured {
    answers: Vec<Vec<(i64, f32)>>,
    recall_10: f64,
    recall_100: f64,
    p50_ms: f64,
    p90_ms: f64,
    /// Median CPU time of a query on all threads (steadier than wall time on a shared machine).
    cpu_ms: f64,
    mean_bytes: f64,
}

fn print_row(rows: usize, notes: usize, name: &str, m: &Measured) {
    println!(
        "{rows:>9} {notes:>8} {name:<16} {:>9.4} {:>9.4} {:>8.1} {:>8.1} {:>8.1} {:>10.1}",
        m.recall_10,
        m.recall_100,
        m.p50_ms,
        m.p90_ms,
        m.cpu_ms,
        m.mean_bytes / 1e6
    );
}

/// Every query through `scan`, each opening the file afresh; recall against `exact`'s answers.
fn measure(
    path: &Path,
    queries: &[Vec<f32>],
    k: usize,
    scan: Scan,
    exact: Option<&[Vec<(i64, f32)>]>,
) -> Result<Measured> {
    let mut times = Vec::with_capacity(queries.len());
    let mut cpu = Vec::with_capacity(queries.len());
    let mut answers = Vec::with_capacity(queries.len());
    let mut bytes = 0usize;
    for query in queries {
        let (start, cpu_start) = (Instant::now(), crate::process::cpu_time_ms());
        let opened = vector_bench::open(path, scan).with_context(|| format!("cannot open {}", path.display()))?;
        let answer = opened.nearest(query, k, scan);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        cpu.push(crate::process::cpu_time_ms() - cpu_start);
        bytes += opened.bytes_read(query, k, scan);
        answers.push(answer);
    }
    let recall = |at: usize| match exact {
        None => 1.0,
        Some(exact) => {
            let overlap: f64 = exact
                .iter()
                .zip(&answers)
                .map(|(truth, got)| {
                    let truth: Vec<i64> = truth.iter().take(at).map(|h| h.0).collect();
                    let hits = got.iter().take(at).filter(|h| truth.contains(&h.0)).count();
                    hits as f64 / truth.len().max(1) as f64
                })
                .sum();
            overlap / exact.len().max(1) as f64
        }
    };
    times.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
    Ok(Measured {
        recall_10: recall(10),
        recall_100: recall(100),
        p50_ms: at(0.5),
        p90_ms: at(0.9),
        cpu_ms: cpu[cpu.len() / 2],
        mean_bytes: bytes as f64 / queries.len().max(1) as f64,
        answers,
    })
}

/// Writes a set of at least `chunks` rows (whole notes), streaming: SciFact's notes, then
/// copies of them with noise. Returns (rows, notes).
fn write_set(path: &Path, notes: &Notes, chunks: usize, noise: f32) -> Result<(usize, usize)> {
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let (mut written, mut note_id, mut copy, mut index) = (0usize, 0i64, 0usize, 0usize);
    let mut pending = Vec::new().into_iter();
    let rows = std::iter::from_fn(|| {
        loop {
            if let Some(row) = pending.next() {
                return Some(row);
            }
            if written >= chunks {
                return None;
            }
            note_id += 1;
            let chunks_of_note = &notes[index];
            let noisy =
                |v: &Vec<f32>, rng: &mut ChaCha8Rng| if copy == 0 { v.clone() } else { with_noise(v, noise, rng) };
            pending = chunks_of_note
                .iter()
                .enumerate()
                .map(|(seq, v)| (note_id, seq as u32, noisy(v, &mut rng)))
                .collect::<Vec<_>>()
                .into_iter();
            written += chunks_of_note.len();
            index += 1;
            if index == notes.len() {
                (index, copy) = (0, copy + 1);
            }
        }
    });
    vector_bench::write(path, rows)?;
    Ok((written, note_id as usize))
}

/// `vector` plus a Gaussian of norm about `noise`, renormalised.
fn with_noise(vector: &[f32], noise: f32, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let sigma = noise / (vector.len() as f32).sqrt();
    let mut out: Vec<f32> = vector.iter().map(|v| v + sigma * gaussian(rng)).collect();
    let norm = out.iter().map(|x| x * x).sum::<f32>().sqrt();
    out.iter_mut().for_each(|x| *x /= norm);
    out
}

/// A standard normal sample (Box–Muller).
fn gaussian(rng: &mut ChaCha8Rng) -> f32 {
    let u: f32 = rng.random_range(f32::EPSILON..1.0);
    let v: f32 = rng.random_range(0.0..1.0);
    (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
}

fn scifact_vectors(vault: &Path) -> Result<(Notes, Vec<String>)> {
    let exo = vault.join(".exo");
    let catalog =
        rusqlite::Connection::open_with_flags(exo.join("index.sqlite"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("no index in {} (index a copy of the SciFact vault first)", vault.display()))?;
    catalog.execute("ATTACH DATABASE ?1 AS vec", [exo.join("vectors.sqlite").to_string_lossy()])?;
    let mut stmt = catalog.prepare(
        "SELECT c.note_id, v.vector, n.path FROM chunks c JOIN vec.vectors v ON v.embed_hash = c.embed_hash
         JOIN notes n ON n.id = c.note_id ORDER BY c.note_id, c.seq",
    )?;
    let (mut notes, mut paths): (Notes, Vec<String>) = (Vec::new(), Vec::new());
    let mut last = None;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let note: i64 = row.get(0)?;
        let blob: Vec<u8> = row.get(1)?;
        let vector: Vec<f32> = blob.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        if last != Some(note) {
            notes.push(Vec::new());
            paths.push(row.get(2)?);
            last = Some(note);
        }
        if let Some(chunks) = notes.last_mut() {
            chunks.push(vector);
        }
    }
    if notes.is_empty() {
        bail!("{} has no vectors: index it with the built-in model first", vault.display());
    }
    Ok((notes, paths))
}

fn embed_queries(path: &Path, max: usize) -> Result<(Vec<String>, Vec<Vec<f32>>)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut queries: Vec<(&str, &str)> =
        text.lines().filter_map(|line| line.split_once('\t').map(|(id, query)| (id, query.trim()))).collect();
    if max > 0 {
        queries.truncate(max);
    }
    let model = exo_embed::BuiltinMiniLm::new();
    let mut vectors = Vec::with_capacity(queries.len());
    // One at a time, as a search embeds its query.
    for (_, query) in &queries {
        vectors.extend(model.embed(&[query])?);
    }
    Ok((queries.iter().map(|(id, _)| id.to_string()).collect(), vectors))
}
