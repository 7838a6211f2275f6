//! Listing the notes on disk, in parallel, with the stat record exo's fast path compares.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use ignore::overrides::OverrideBuilder;
use ignore::{DirEntry, WalkBuilder, WalkState};
use serde::Serialize;

use crate::config::{ALWAYS_IGNORED, Config};
use crate::error::{Result, VaultError};
use crate::path::rel_path_string;
use crate::snapshot::{Recorder, WalkSnapshot};

/// One markdown file found on disk, before it is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScannedFile {
    /// Vault-relative, `/`-separated.
    pub path: String,
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
}

/// A file the scan saw and deliberately left out, with the reason a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct ScanReport {
    /// Markdown notes, sorted by path.
    pub notes: Vec<ScannedFile>,
    /// Other files (images, PDFs…) that links and embeds may point at, sorted.
    pub attachments: Vec<String>,
    pub skipped: Vec<Skipped>,
    /// Whether this report was walked or replayed, and what a later check needs to reuse it.
    #[serde(skip)]
    pub walk: Walk,
}

/// Where a [`ScanReport`] came from.
#[derive(Debug, Clone, Default)]
pub enum Walk {
    /// Walked, and the walk cannot be vouched for later (see [`WalkSnapshot`]).
    #[default]
    Uncacheable,
    /// Walked; the snapshot lets a later check reuse it.
    Cacheable(WalkSnapshot),
    /// Replayed from a snapshot taken by an earlier walk.
    Replayed,
}

pub fn is_note_path(path: &str) -> bool {
    let lower = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    lower.ends_with(".md") || lower.ends_with(".markdown")
}

/// Walks the vault with the `ignore` crate on all cores: honours `.gitignore`, `.ignore`,
/// the config's ignore globs and notes folders, and never leaves the vault through a symlink.
pub fn scan(root: &Path, config: &Config) -> Result<ScanReport> {
    let walker = build_walker(root, config)?;
    let collected = Mutex::new(ScanReport::default());
    let recorder = Recorder::new();
    let canonical_root = root.canonicalize().map_err(|e| VaultError::io(root, e))?;
    walker.run(|| {
        let (collected, recorder) = (&collected, &recorder);
        let root = root.to_path_buf();
        let canonical_root = canonical_root.clone();
        Box::new(move |entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(_) => {
                    recorder.give_up();
                    return WalkState::Continue;
                }
            };
            if entry.depth() > 0 && entry.path_is_symlink() {
                recorder.give_up();
            }
            if entry.file_type().is_some_and(|t| t.is_dir()) {
                match rel_path_string(&root, entry.path()) {
                    Ok(rel) => recorder.dir(&root, &rel),
                    Err(_) => recorder.give_up(),
                }
            }
            if let Some(found) = classify(&root, &canonical_root, &entry) {
                let mut report = collected.lock().unwrap_or_else(|p| p.into_inner());
                found.add_to(&mut report);
            }
            WalkState::Continue
        })
    });
    let mut report = collected.into_inner().unwrap_or_else(|p| p.into_inner());
    report.notes.sort_by(|a, b| a.path.cmp(&b.path));
    report.attachments.sort();
    report.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    report.walk = match recorder.finish(root, config, &report) {
        Some(snapshot) => Walk::Cacheable(snapshot),
        None => Walk::Uncacheable,
    };
    Ok(report)
}

/// The notes on disk: replayed from `snapshot` when no folder, ignore file or setting the
/// walk depends on has changed since it was taken (each note is still stat'ed), walked
/// otherwise.
pub fn scan_with(root: &Path, config: &Config, snapshot: Option<WalkSnapshot>) -> Result<ScanReport> {
    if let Some(report) = snapshot.and_then(|snapshot| crate::snapshot::replay(root, config, snapshot)) {
        return Ok(report);
    }
    scan(root, config)
}

fn build_walker(root: &Path, config: &Config) -> Result<ignore::WalkParallel> {
    let mut overrides = OverrideBuilder::new(root);
    for glob in &config.ignore {
        let pattern = format!("!{}", glob.trim_start_matches('!'));
        overrides.add(&pattern).map_err(|e| VaultError::Config {
            path: root.join(crate::config::CONFIG_FILE),
            message: format!("ignore glob {glob:?}: {e}"),
        })?;
    }
    let overrides = overrides
        .build()
        .map_err(|e| VaultError::Config { path: root.join(crate::config::CONFIG_FILE), message: e.to_string() })?;

    let starts: Vec<PathBuf> = if config.notes.is_empty() {
        vec![root.to_path_buf()]
    } else {
        config.notes.iter().map(|f| root.join(f)).filter(|p| p.is_dir()).collect()
    };
    let Some((first, rest)) = starts.split_first() else {
        return Ok(WalkBuilder::new(root).max_depth(Some(0)).build_parallel());
    };
    let mut builder = WalkBuilder::new(first);
    for start in rest {
        builder.add(start);
    }
    let walk_root = root.to_path_buf();
    builder
        .hidden(true)
        .git_ignore(true)
        .git_global(false)
        .git_exclude(true)
        .require_git(false)
        .follow_links(true)
        .overrides(overrides)
        .threads(0)
        .filter_entry(move |entry| entry.path() == walk_root || !is_always_ignored(entry));
    Ok(builder.build_parallel())
}

/// Only the entry's own name needs checking: the walk never descends into an ignored folder.
fn is_always_ignored(entry: &DirEntry) -> bool {
    let name = entry.file_name();
    ALWAYS_IGNORED.iter().any(|ignored| name == *ignored)
}

enum Found {
    Note(ScannedFile),
    Attachment(String),
    Skipped(Skipped),
}

impl Found {
    fn add_to(self, report: &mut ScanReport) {
        match self {
            Found::Note(file) => report.notes.push(file),
            Found::Attachment(path) => report.attachments.push(path),
            Found::Skipped(skipped) => report.skipped.push(skipped),
        }
    }
}

fn classify(root: &Path, canonical_root: &Path, entry: &DirEntry) -> Option<Found> {
    let file_type = entry.file_type()?;
    if !file_type.is_file() {
        return None;
    }
    let path = match rel_path_string(root, entry.path()) {
        Ok(path) => path,
        Err(shown) => {
            return Some(Found::Skipped(Skipped {
                path: shown,
                reason: "file name is not valid UTF-8; rename it".into(),
            }));
        }
    };
    if entry.path_is_symlink() && !stays_inside(canonical_root, entry.path()) {
        return Some(Found::Skipped(Skipped { path, reason: "symlink leads outside the vault; not followed".into() }));
    }
    if !is_note_path(&path) {
        return Some(Found::Attachment(path));
    }
    match entry.metadata() {
        Ok(meta) => Some(Found::Note(ScannedFile { path, size: meta.len(), mtime_ns: mtime_ns(&meta) })),
        Err(e) => Some(Found::Skipped(Skipped { path, reason: format!("cannot stat: {e}") })),
    }
}

fn stays_inside(canonical_root: &Path, path: &Path) -> bool {
    path.canonicalize().map(|p| p.starts_with(canonical_root)).unwrap_or(false)
}

/// Modification time in nanoseconds since the epoch; 0 when the platform has none.
pub fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The stat record of one note, for callers that check a single file.
pub fn stat_note(root: &Path, rel: &str) -> std::io::Result<ScannedFile> {
    let meta = std::fs::metadata(root.join(rel))?;
    Ok(ScannedFile { path: rel.to_string(), size: meta.len(), mtime_ns: mtime_ns(&meta) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn paths(report: &ScanReport) -> Vec<&str> {
        report.notes.iter().map(|f| f.path.as_str()).collect()
    }

    #[test]
    fn finds_notes_and_attachments_skips_ignored_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "a.md", "a");
        write(root, "sub/b.markdown", "b");
        write(root, "sub/img.png", "png");
        for ignored in ALWAYS_IGNORED {
            write(root, &format!("{ignored}/x.md"), "x");
        }
        write(root, "deep/node_modules/y.md", "y");
        let report = scan(root, &Config::default()).unwrap();
        assert_eq!(paths(&report), vec!["a.md", "sub/b.markdown"]);
        assert_eq!(report.attachments, vec!["sub/img.png"]);
    }

    #[test]
    fn honours_gitignore_and_config_globs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, ".gitignore", "drafts/\n");
        write(root, "drafts/d.md", "d");
        write(root, "README.md", "r");
        write(root, "keep.md", "k");
        let config = Config { ignore: vec!["README.md".into()], ..Config::default() };
        let report = scan(root, &config).unwrap();
        assert_eq!(paths(&report), vec!["keep.md"]);
    }

    #[test]
    fn notes_folders_restrict_the_walk() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "notes/a.md", "a");
        write(root, "other/b.md", "b");
        let config = Config { notes: vec!["notes".into()], ..Config::default() };
        assert_eq!(paths(&scan(root, &config).unwrap()), vec!["notes/a.md"]);
    }

    #[test]
    fn odd_names_are_kept_verbatim() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for name in ["with space.md", "emoji 🚀.md", "#hash.md", "a & b.md", "(paren).md", "v2.1.notes.md"] {
            write(root, name, "x");
        }
        let report = scan(root, &Config::default()).unwrap();
        assert_eq!(report.notes.len(), 6, "{:?}", report.notes);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_vault_are_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "secret.md", "s");
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "in.md", "i");
        std::os::unix::fs::symlink(outside.path().join("secret.md"), root.join("link.md")).unwrap();
        std::os::unix::fs::symlink(root.join("in.md"), root.join("alias.md")).unwrap();
        let report = scan(root, &Config::default()).unwrap();
        assert_eq!(paths(&report), vec!["alias.md", "in.md"]);
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].path, "link.md");
    }
}
