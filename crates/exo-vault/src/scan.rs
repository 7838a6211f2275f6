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
    /// Which file this is and when its inode last changed: see [`identity`].
    pub identity: i64,
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
                // A linked folder is judged once, here: everything under it is reached
                // through it, and none of those entries is a symlink itself.
                if entry.file_type().is_some_and(|t| t.is_dir())
                    && let Some(reason) = symlink_refusal(&canonical_root, entry.path())
                {
                    let path = rel_path_string(&root, entry.path()).unwrap_or_else(|shown| shown);
                    let mut report = collected.lock().unwrap_or_else(|p| p.into_inner());
                    report.skipped.push(Skipped { path, reason });
                    return WalkState::Skip;
                }
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

    if let Some(missing) = config.notes.iter().find(|folder| !root.join(folder).is_dir()) {
        return Err(VaultError::MissingNotesFolder {
            config: root.join(crate::config::CONFIG_FILE),
            folder: missing.clone(),
        });
    }
    let starts: Vec<PathBuf> = if config.notes.is_empty() {
        vec![root.to_path_buf()]
    } else {
        config.notes.iter().map(|f| root.join(f)).collect()
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
        // As git does: the user's global excludes (`core.excludesFile`) hide files from
        // exo as they do from `git status`. The snapshot stamps that file too.
        .git_global(true)
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
    if entry.path_is_symlink()
        && let Some(reason) = symlink_refusal(canonical_root, entry.path())
    {
        return Some(Found::Skipped(Skipped { path, reason }));
    }
    if !is_note_path(&path) {
        return Some(Found::Attachment(path));
    }
    match entry.metadata() {
        Ok(meta) => Some(Found::Note(ScannedFile {
            path,
            size: meta.len(),
            mtime_ns: mtime_ns(&meta),
            identity: identity(&meta),
        })),
        Err(e) => Some(Found::Skipped(Skipped { path, reason: format!("cannot stat: {e}") })),
    }
}

/// Why a symlink must not be followed, if it must not: it leads out of the vault, or into
/// a folder exo never reads (`.git/`, `.exo/`, …) whatever the path that reaches it.
fn symlink_refusal(canonical_root: &Path, path: &Path) -> Option<String> {
    let Ok(target) = path.canonicalize() else {
        return Some("symlink cannot be resolved; not followed".into());
    };
    let Ok(inside) = target.strip_prefix(canonical_root) else {
        return Some("symlink leads outside the vault; not followed".into());
    };
    let ignored = inside.components().find_map(|c| ALWAYS_IGNORED.iter().find(|name| c.as_os_str() == **name));
    ignored.map(|name| format!("symlink leads into {name}/, which exo never indexes; not followed"))
}

/// Modification time in nanoseconds since the epoch; 0 when the platform has none.
pub fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A fingerprint of the device, inode number and change time (ctime) of a file: the rest
/// of the stat record git's index compares besides size and mtime. Copying with `cp -p`,
/// `rsync -a` or `tar x`, or `touch -d`, can put size and mtime back to what they were
/// while the content differs; none of them can set the change time, which the kernel
/// moves on every write, and a replaced file has a new inode as well. A change here
/// only makes the file be read and hashed again, so a mere `chmod` costs one read.
#[cfg(unix)]
pub fn identity(meta: &std::fs::Metadata) -> i64 {
    use std::os::unix::fs::MetadataExt;
    identity_of(meta.dev(), meta.ino(), meta.ctime(), meta.ctime_nsec())
}

/// Without inode numbers and change times there is nothing more to compare.
#[cfg(not(unix))]
pub fn identity(_meta: &std::fs::Metadata) -> i64 {
    0
}

/// The fingerprint [`identity`] computes, from the raw stat fields. Not cryptographic:
/// it only has to tell a file's record apart from its own earlier record.
pub(crate) fn identity_of(dev: u64, ino: u64, ctime_s: i64, ctime_nsec: i64) -> i64 {
    let mix = |h: u64, v: u64| (h ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
    let h = [dev, ino, ctime_s as u64, ctime_nsec as u64].into_iter().fold(0x243F_6A88_85A3_08D3, mix);
    (h ^ (h >> 32)) as i64
}

/// The stat record of one note, for callers that check a single file.
pub fn stat_note(root: &Path, rel: &str) -> std::io::Result<ScannedFile> {
    let meta = std::fs::metadata(root.join(rel))?;
    Ok(ScannedFile { path: rel.to_string(), size: meta.len(), mtime_ns: mtime_ns(&meta), identity: identity(&meta) })
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
    fn a_missing_notes_folder_is_an_error_not_an_empty_vault() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "notes/a.md", "a");
        let config = Config { notes: vec!["notes".into(), "missing-folder".into()], ..Config::default() };
        match scan(root, &config) {
            Err(VaultError::MissingNotesFolder { folder, .. }) => assert_eq!(folder, "missing-folder"),
            other => panic!("expected MissingNotesFolder, got {other:?}"),
        }
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

    #[cfg(unix)]
    #[test]
    fn symlinks_into_git_or_exo_are_never_followed() {
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "far/secret.md", "s");
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "in.md", "i");
        write(root, ".git/config", "[core]");
        write(root, ".git/notes/n.md", "n");
        write(root, ".exo/x.md", "x");
        let link = |target: &Path, name: &str| std::os::unix::fs::symlink(target, root.join(name)).unwrap();
        link(&root.join(".git/config"), "gitconfig.md");
        link(&root.join(".exo/x.md"), "exo.md");
        link(&root.join(".git/notes"), "gitnotes");
        link(&outside.path().join("far"), "far");
        let report = scan(root, &Config::default()).unwrap();
        assert_eq!(paths(&report), vec!["in.md"]);
        let skipped: Vec<&str> = report.skipped.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(skipped, vec!["exo.md", "far", "gitconfig.md", "gitnotes"]);
        assert!(report.skipped.iter().all(|s| s.reason.contains("not followed")), "{:?}", report.skipped);
    }
}
