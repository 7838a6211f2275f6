//! What a walk of the vault found, and the stat records that prove it would find the same
//! again: git's untracked cache, for exo.
//!
//! Adding, removing or renaming an entry changes its directory's mtime and ctime, and the
//! only other inputs of the walk are the ignore files and `exo.toml`. So when every walked
//! directory and every ignore file still has the stat record it had during the walk, a new
//! walk would list the same files, and a stat of each one is all a freshness check needs.
//! Anything unusual (a symlink, an unreadable folder, a name with a line break, a directory
//! touched just before the walk) makes the walk uncacheable rather than risk a wrong answer.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::config::{Config, IGNORE_FILES};
use crate::path::parent_dir;
#[cfg(unix)]
use crate::scan::identity_of;
use crate::scan::{ScanReport, ScannedFile, Walk, mtime_ns};

/// A stat record younger than this when read cannot prove a later read unchanged. Two
/// seconds covers coarse file-system clocks (FAT, SMB) as well as ext4's jiffy ticks.
pub const RACY_WINDOW_NS: i64 = 2_000_000_000;

const HEADER: &str = "exo walk snapshot 1";

/// One walk's result and the stat records it depended on. Serialised as text lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalkSnapshot {
    rules: String,
    /// (vault-relative folder, its stamp), "" for the root.
    dirs: Vec<(String, String)>,
    notes: Vec<String>,
    attachments: Vec<String>,
}

impl WalkSnapshot {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{HEADER}\nrules\t{}\n", self.rules);
        for (dir, stamp) in &self.dirs {
            out.push_str(&format!("dir\t{stamp}\t{dir}\n"));
        }
        for note in &self.notes {
            out.push_str(&format!("note\t{note}\n"));
        }
        for attachment in &self.attachments {
            out.push_str(&format!("attachment\t{attachment}\n"));
        }
        out.into_bytes()
    }

    /// The attachments the walk listed.
    pub fn attachments(&self) -> &[String] {
        &self.attachments
    }

    /// None for anything but a snapshot this version wrote: the caller walks instead.
    pub fn from_bytes(bytes: &[u8]) -> Option<WalkSnapshot> {
        let text = std::str::from_utf8(bytes).ok()?;
        let mut lines = text.lines();
        if lines.next()? != HEADER {
            return None;
        }
        let rules = lines.next()?.strip_prefix("rules\t")?.to_string();
        let mut snapshot = WalkSnapshot { rules, ..WalkSnapshot::default() };
        for line in lines {
            let (kind, rest) = line.split_once('\t')?;
            match kind {
                "dir" => {
                    let (stamp, dir) = rest.split_once('\t')?;
                    snapshot.dirs.push((dir.to_string(), stamp.to_string()));
                }
                "note" => snapshot.notes.push(rest.to_string()),
                "attachment" => snapshot.attachments.push(rest.to_string()),
                _ => return None,
            }
        }
        Some(snapshot)
    }
}

/// Collects a snapshot during a walk, from every walker thread; gives up (None) at the
/// first thing it cannot vouch for.
#[derive(Debug)]
pub(crate) struct Recorder {
    started_ns: i64,
    dirs: Mutex<Option<Vec<(String, String)>>>,
}

impl Recorder {
    pub(crate) fn new() -> Recorder {
        Recorder { started_ns: now_ns(), dirs: Mutex::new(Some(Vec::new())) }
    }

    fn dirs(&self) -> std::sync::MutexGuard<'_, Option<Vec<(String, String)>>> {
        self.dirs.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn give_up(&self) {
        *self.dirs() = None;
    }

    /// Called for a folder as the walk visits it. The walker has already read it by then,
    /// so a change during the walk is caught by the racy-window check on its mtime alone.
    /// The stats run outside the lock: other walker threads go on meanwhile.
    pub(crate) fn dir(&self, root: &Path, rel: &str) {
        if self.dirs().is_none() {
            return;
        }
        match stamp_dir(&root.join(rel)) {
            Some((stamp, newest_mtime)) if !unsafe_name(rel) && !is_racy(newest_mtime, self.started_ns) => {
                if let Some(dirs) = self.dirs().as_mut() {
                    dirs.push((rel.to_string(), stamp));
                }
            }
            _ => self.give_up(),
        }
    }

    pub(crate) fn finish(self, root: &Path, config: &Config, report: &ScanReport) -> Option<WalkSnapshot> {
        let mut dirs = self.dirs.into_inner().unwrap_or_else(|p| p.into_inner())?;
        let (rules, newest_mtime) = stamp_rules(root, config)?;
        let names = report.notes.iter().map(|n| n.path.as_str()).chain(report.attachments.iter().map(String::as_str));
        if is_racy(newest_mtime, self.started_ns) || !report.skipped.is_empty() || names.clone().any(unsafe_name) {
            return None;
        }
        dirs.sort();
        Some(WalkSnapshot {
            rules,
            dirs,
            notes: report.notes.iter().map(|n| n.path.clone()).collect(),
            attachments: report.attachments.clone(),
        })
    }
}

/// Whether a walk now would list the very files `snapshot`'s walk did, and refuse nothing as
/// it did: the rules are the same and no walked folder gained, lost or renamed an entry.
/// The notes themselves are not stat'ed: that is for a caller with another witness of them.
pub(crate) fn listing_holds(root: &Path, config: &Config, snapshot: &WalkSnapshot) -> bool {
    stamp_rules(root, config).is_some_and(|(rules, _)| rules == snapshot.rules)
        && snapshot.dirs.par_iter().all(|(dir, stamp)| stamp_dir(&root.join(dir)).is_some_and(|(now, _)| now == *stamp))
}

/// The walk `snapshot` recorded, with fresh stat records, if nothing it depended on has
/// changed since; None when the vault must be walked again.
pub(crate) fn replay(root: &Path, config: &Config, snapshot: WalkSnapshot) -> Option<ScanReport> {
    if !listing_holds(root, config, &snapshot) {
        return None;
    }
    let stats = stat_notes(root, &snapshot.notes)?;
    // The snapshot's paths move into the report: at 100k notes a copy of each was a
    // twentieth of a search.
    let notes = snapshot
        .notes
        .into_iter()
        .zip(stats)
        .map(|(path, (size, mtime_ns, identity))| ScannedFile { path, size, mtime_ns, identity })
        .collect();
    Some(ScanReport { notes, attachments: snapshot.attachments, skipped: Vec::new(), walk: Walk::Replayed })
}

/// Fresh (size, mtime, identity) of each of `notes` (sorted paths), or None if any is missing or not
/// a file. Each folder is opened once and its notes stat'ed relative to it, which spares
/// the kernel a walk of the whole path per note (10k notes: 19–24 ms of stats became 13–19).
fn stat_notes(root: &Path, notes: &[String]) -> Option<Vec<(u64, i64, i64)>> {
    let mut folders: Vec<&[String]> = Vec::new();
    let mut start = 0;
    for i in 1..=notes.len() {
        if i == notes.len() || parent_dir(&notes[i]) != parent_dir(&notes[start]) {
            folders.push(&notes[start..i]);
            start = i;
        }
    }
    let stated: Option<Vec<Vec<(u64, i64, i64)>>> =
        folders.par_iter().map(|folder| stat_folder(root, folder)).collect();
    Some(stated?.into_iter().flatten().collect())
}

#[cfg(unix)]
fn stat_folder(root: &Path, notes: &[String]) -> Option<Vec<(u64, i64, i64)>> {
    use rustix::fs::{AtFlags, FileType, Mode, OFlags};
    let dir = root.join(parent_dir(notes.first()?));
    let fd = rustix::fs::open(&dir, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).ok()?;
    notes
        .iter()
        .map(|path| {
            let name = path.rsplit_once('/').map_or(path.as_str(), |(_, name)| name);
            let stat = rustix::fs::statat(&fd, name, AtFlags::empty()).ok()?;
            let is_file = FileType::from_raw_mode(stat.st_mode).is_file();
            let mtime_ns =
                (stat.st_mtime as i64).saturating_mul(1_000_000_000).saturating_add(stat.st_mtime_nsec as i64);
            // The same fields `std`'s MetadataExt reads, so a replayed walk and a real one
            // give the same identity.
            let identity =
                identity_of(stat.st_dev as u64, stat.st_ino as u64, stat.st_ctime as i64, stat.st_ctime_nsec as i64);
            is_file.then_some((stat.st_size as u64, mtime_ns, identity))
        })
        .collect()
}

#[cfg(not(unix))]
fn stat_folder(_root: &Path, _notes: &[String]) -> Option<Vec<(u64, i64, i64)>> {
    None
}

/// Line breaks and tabs would break the line format; such names are simply not cached.
fn unsafe_name(name: &str) -> bool {
    name.contains(['\n', '\r', '\t'])
}

/// Now, in nanoseconds since the epoch, as file times are recorded.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub fn is_racy(mtime_ns: i64, read_at_ns: i64) -> bool {
    read_at_ns.saturating_sub(mtime_ns) < RACY_WINDOW_NS
}

/// A folder's stat record and its ignore files', and the newest mtime among them. None
/// when any of them cannot be read (other than not existing).
fn stamp_dir(dir: &Path) -> Option<(String, i64)> {
    let mut stamp = String::new();
    let newest = stamp_path(dir, &mut stamp)?;
    let newest = newest?.max(stamp_ignore_files(dir, &mut stamp)?);
    Some((stamp, newest))
}

/// Appends the stat records of every ignore file the walk reads in `dir`; returns the
/// newest mtime among them (i64::MIN for none). None on an error.
fn stamp_ignore_files(dir: &Path, stamp: &mut String) -> Option<i64> {
    let mut newest = i64::MIN;
    for path in rule_files_in(dir)? {
        stamp.push('|');
        if let Some(mtime) = stamp_path(&path, stamp)? {
            newest = newest.max(mtime);
        }
    }
    Some(newest)
}

/// The files in `dir` that decide what the walk skips, whether they exist or not: its
/// ignore files and its `.git/info/exclude`. None when a linked worktree's `.git` file
/// cannot be followed.
fn rule_files_in(dir: &Path) -> Option<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = IGNORE_FILES.iter().map(|name| dir.join(name)).collect();
    let dot_git = dir.join(".git");
    if dot_git.is_file() {
        // A linked worktree: `.git` is a file naming its git dir, and the exclude file the
        // walk reads lives in the common git dir all worktrees share. Which one it is
        // depends on the `.git` file, so that is listed too. (A `.git` folder itself is
        // not: git touches it on every command.)
        let exclude = worktree_exclude(&dot_git)?;
        files.extend([dot_git, exclude]);
    } else {
        files.push(dot_git.join("info/exclude"));
    }
    Some(files)
}

/// The folders whose ignore files the walker reads besides those it walks: every folder
/// above each place it starts — above the vault, and with `notes` folders also the vault's
/// own and those in between.
fn folders_above_walk_starts(root: &Path, config: &Config) -> BTreeSet<PathBuf> {
    let starts: Vec<PathBuf> = match config.notes.is_empty() {
        true => vec![root.to_path_buf()],
        false => config.notes.iter().map(|folder| root.join(folder)).collect(),
    };
    starts.iter().flat_map(|start| start.ancestors().skip(1)).map(Path::to_path_buf).collect()
}

/// The `info/exclude` of a linked worktree whose `.git` file is `dot_git`, found as git
/// (and the `ignore` walker) find it: `gitdir: X` in the file, `commondir` in X.
fn worktree_exclude(dot_git: &Path) -> Option<PathBuf> {
    let first_line = |path: &Path| std::fs::read_to_string(path).ok()?.lines().next().map(str::to_string);
    let folder = dot_git.parent()?;
    let git_dir = folder.join(first_line(dot_git)?.strip_prefix("gitdir: ")?.trim_end());
    let common = match first_line(&git_dir.join("commondir")) {
        Some(common) => git_dir.join(common.trim_end()),
        None => git_dir,
    };
    Some(common.join("info/exclude"))
}

/// The global excludes file git reads (`core.excludesFile` in the user's git config, else
/// `$XDG_CONFIG_HOME/git/ignore`), as the walker resolves it. Its path is part of the stamp:
/// a config that names another file changes the stamp.
fn stamp_global_excludes(stamp: &mut String) -> Option<i64> {
    let Some(path) = ignore::gitignore::gitconfig_excludes_path() else {
        stamp.push_str("|global:-");
        return Some(i64::MIN);
    };
    stamp.push_str(&format!("|global:{}:", path.display()));
    Some(stamp_path(&path, stamp)?.unwrap_or(i64::MIN))
}

/// Everything outside the walked folders that decides what the walk skips: the ignore
/// files of the folders above the vault, and `exo.toml`'s settings for the walk.
fn stamp_rules(root: &Path, config: &Config) -> Option<(String, i64)> {
    let mut stamp = format!("{}|{:?}|{:?}", env!("CARGO_PKG_VERSION"), config.notes, config.ignore);
    let mut newest = i64::MIN;
    for ancestor in folders_above_walk_starts(root, config) {
        newest = newest.max(stamp_ignore_files(&ancestor, &mut stamp)?);
    }
    newest = newest.max(stamp_global_excludes(&mut stamp)?);
    // A notes folder that does not exist yet may appear deep inside a folder never walked.
    if config.notes.iter().any(|folder| !root.join(folder).is_dir()) {
        return None;
    }
    Some((stamp, newest))
}

/// The stat records of every rules input of the walk that no watch inside the vault sees:
/// the ignore files above the vault, git's global excludes, the vault's own `.git/info/exclude`
/// (or a linked worktree's), and `exo.toml`'s walk settings. Equal stamps mean the walk would
/// skip the same paths. None when any of them cannot be read, or a notes folder is missing.
/// (`exo watch` keeps one beside its word that nothing changed, and checks it on each answer.)
pub fn rules_stamp(root: &Path, config: &Config) -> Option<String> {
    let (mut stamp, _) = stamp_rules(root, config)?;
    // What the walk skips as too large, and so reports as changed, is a walk setting too.
    stamp.push_str(&format!("|max{}", config.max_file_size));
    stamp.push_str("|root");
    stamp_ignore_files(root, &mut stamp)?;
    Some(stamp)
}

/// The files [`rules_stamp`] stamps (whether they exist or not): the ignore files of the
/// vault's root and of every folder above each place the walk starts, their `info/exclude`
/// (a linked worktree's common one), and git's global excludes. `exo watch` reads them for
/// whitelist lines, which can make the walk read hidden names it does not watch.
pub fn rules_files(root: &Path, config: &Config) -> Vec<PathBuf> {
    let mut folders = folders_above_walk_starts(root, config);
    folders.insert(root.to_path_buf());
    let mut files: Vec<PathBuf> = folders.iter().filter_map(|folder| rule_files_in(folder)).flatten().collect();
    files.extend(ignore::gitignore::gitconfig_excludes_path());
    files
}

/// Appends the stat record of `path` (or `-` when it does not exist) to `stamp`. Returns
/// Some(Some(mtime)) for an existing path, Some(None) for a missing one, None on an error.
#[cfg(unix)]
fn stamp_path(path: &Path, stamp: &mut String) -> Option<Option<i64>> {
    use std::fmt::Write;
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(path) {
        Ok(meta) => {
            let ctime_ns = meta.ctime().saturating_mul(1_000_000_000).saturating_add(meta.ctime_nsec());
            let mtime = mtime_ns(&meta);
            let _ = write!(stamp, "{}.{}.{}.{}.{}", meta.dev(), meta.ino(), meta.len(), mtime, ctime_ns);
            Some(Some(mtime))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound || e.kind() == std::io::ErrorKind::NotADirectory => {
            stamp.push('-');
            Some(None)
        }
        Err(_) => None,
    }
}

/// Without inode numbers and change times a folder's mtime alone is too weak a proof.
#[cfg(not(unix))]
fn stamp_path(_path: &Path, _stamp: &mut String) -> Option<Option<i64>> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The walk reports a file over `max_file_size` as skipped (and a note grown past it as
    /// changed): a watch's word given under another limit must not match this one.
    #[test]
    fn the_rules_stamp_names_the_size_limit() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::default();
        let smaller = Config { max_file_size: config.max_file_size / 2, ..Config::default() };
        let (one, other) = (rules_stamp(dir.path(), &config), rules_stamp(dir.path(), &smaller));
        assert!(one.is_some() && other.is_some(), "{one:?} {other:?}");
        assert_ne!(one, other);
    }

    #[test]
    fn the_line_format_round_trips() {
        let snapshot = WalkSnapshot {
            rules: "r|1.2".into(),
            dirs: vec![(String::new(), "1.2.3".into()), ("a b/c".into(), "4.5.6|-".into())],
            notes: vec!["a b/c/n.md".into(), "émoji 🚀.md".into()],
            attachments: vec!["img.png".into()],
        };
        assert_eq!(WalkSnapshot::from_bytes(&snapshot.to_bytes()), Some(snapshot));
    }

    #[test]
    fn anything_else_is_rejected() {
        assert_eq!(WalkSnapshot::from_bytes(b""), None);
        assert_eq!(WalkSnapshot::from_bytes(b"exo walk snapshot 0\nrules\tx\n"), None);
        assert_eq!(WalkSnapshot::from_bytes(b"exo walk snapshot 1\nrules\tx\nodd\tline\n"), None);
        assert_eq!(WalkSnapshot::from_bytes(&[0xff, 0xfe]), None);
    }
}
