//! `exo init`: make a folder a vault without touching any note.

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use exo_vault::CONFIG_FILE;
use exo_vault::config::DEFAULT_CONFIG_TEXT;
use serde::Serialize;

use crate::cli::{Globals, InitArgs};
use crate::context::cwd;
use crate::output::print_json;

#[derive(Serialize)]
struct InitReport {
    root: String,
    config_written: bool,
    gitignore_updated: bool,
}

pub fn run(globals: &Globals, args: InitArgs) -> Result<ExitCode> {
    let cwd = cwd()?;
    let dir = cwd.join(args.dir.as_deref().or(globals.vault.as_deref()).unwrap_or(Path::new(".")));
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let config_written = write_config_if_missing(&dir)?;
    let gitignore_updated = ignore_exo_dir(&dir)?;
    let report =
        InitReport { root: dir.canonicalize().unwrap_or(dir).display().to_string(), config_written, gitignore_updated };
    if globals.json {
        print_json(&report)?;
    } else {
        let config = if config_written { "wrote exo.toml" } else { "exo.toml already there" };
        let ignore = if gitignore_updated { "added .exo/ to .gitignore" } else { ".gitignore already ignores .exo/" };
        println!("exo: {} — {config}; {ignore}. Next: exo index", report.root);
    }
    Ok(ExitCode::SUCCESS)
}

fn write_config_if_missing(dir: &Path) -> Result<bool> {
    let path = dir.join(CONFIG_FILE);
    if path.exists() {
        return Ok(false);
    }
    fs::write(&path, DEFAULT_CONFIG_TEXT).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(true)
}

/// Appends `.exo/` to `.gitignore` unless a line already ignores it; never rewrites the file.
fn ignore_exo_dir(dir: &Path) -> Result<bool> {
    let path = dir.join(".gitignore");
    let existing = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let already = existing.lines().map(str::trim).any(|l| matches!(l, ".exo" | ".exo/" | "/.exo" | "/.exo/"));
    if already {
        return Ok(false);
    }
    let separator = if existing.is_empty() || existing.ends_with('\n') { "" } else { "\n" };
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    use std::io::Write;
    write!(file, "{separator}# exo's derived index (rebuild with `exo index`)\n.exo/\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(true)
}
