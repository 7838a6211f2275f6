//! Scan + compare: which notes on disk differ from what the catalog recorded.
//!
//! Like git's index, a note whose size and mtime match the catalog is taken as unchanged
//! without reading it, unless its entry is racily clean: its mtime was so close to the moment
//! it was read that a later edit in the same timestamp tick could leave the stat unchanged.
//! Those, and every note under `--verify`, are hashed.

use exo_vault::{ReadNote, ScanReport, ScannedFile, Vault};
use rayon::prelude::*;

use crate::catalog::{Entries, Entry};

pub use exo_vault::{is_racy, now_ns};

/// Same content, different stat record: the catalog only needs the new stat.
#[derive(Debug, Clone)]
pub struct StatRefresh {
    pub path: String,
    pub size: i64,
    pub mtime_ns: i64,
    pub racy: bool,
}

#[derive(Debug, Default)]
pub struct Diff {
    pub new: Vec<String>,
    pub modified: Vec<String>,
    pub deleted: Vec<String>,
    pub refresh: Vec<StatRefresh>,
    /// Skipped files that are gone from disk: forgotten silently.
    pub skipped_gone: Vec<String>,
}

impl Diff {
    pub fn has_changes(&self) -> bool {
        !(self.new.is_empty() && self.modified.is_empty() && self.deleted.is_empty())
    }

    pub fn is_noop(&self) -> bool {
        !self.has_changes() && self.refresh.is_empty() && self.skipped_gone.is_empty()
    }
}

enum Verdict {
    Unchanged,
    Refresh(StatRefresh),
    Modified,
    New,
}

pub fn compute(vault: &Vault, entries: &Entries, scan: &ScanReport, verify: bool) -> Diff {
    let verdicts: Vec<(&ScannedFile, Verdict)> =
        scan.notes.par_iter().map(|file| (file, judge(vault, entries.get(&file.path), file, verify))).collect();
    let mut diff = Diff::default();
    for (file, verdict) in verdicts {
        match verdict {
            Verdict::Unchanged => {}
            Verdict::Refresh(r) => diff.refresh.push(r),
            Verdict::Modified => diff.modified.push(file.path.clone()),
            Verdict::New => diff.new.push(file.path.clone()),
        }
    }
    let on_disk: foldhash::HashSet<&str> = scan.notes.iter().map(|f| f.path.as_str()).collect();
    for (path, entry) in entries {
        if on_disk.contains(path.as_str()) {
            continue;
        }
        if entry.skipped && !entry.pending {
            diff.skipped_gone.push(path.clone());
        } else {
            diff.deleted.push(path.clone());
        }
    }
    diff.new.sort();
    diff.modified.sort();
    diff.deleted.sort();
    diff.refresh.sort_by(|a, b| a.path.cmp(&b.path));
    diff.skipped_gone.sort();
    diff
}

fn judge(vault: &Vault, entry: Option<&Entry>, file: &ScannedFile, verify: bool) -> Verdict {
    let Some(entry) = entry else { return Verdict::New };
    if entry.pending {
        return if entry.hash.is_some() || entry.skipped { Verdict::Modified } else { Verdict::New };
    }
    let same_stat = entry.size == file.size as i64 && entry.mtime_ns == file.mtime_ns;
    if entry.skipped {
        return if same_stat { Verdict::Unchanged } else { Verdict::Modified };
    }
    if same_stat && !entry.racy && !verify {
        return Verdict::Unchanged;
    }
    let read_at = now_ns();
    match vault.read(&file.path) {
        ReadNote::Read { hash, size, mtime_ns, .. } if Some(hash.as_str()) == entry.hash.as_deref() => {
            let racy = is_racy(mtime_ns, read_at);
            if size as i64 == entry.size && mtime_ns == entry.mtime_ns && racy == entry.racy {
                Verdict::Unchanged
            } else {
                Verdict::Refresh(StatRefresh { path: file.path.clone(), size: size as i64, mtime_ns, racy })
            }
        }
        // Gone since the scan: the next scan reports it deleted; say modified for now.
        _ => Verdict::Modified,
    }
}
