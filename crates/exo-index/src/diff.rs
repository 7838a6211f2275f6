//! Scan + compare: which notes on disk differ from what the catalog recorded.
//!
//! Like git's index, a note whose size and mtime match the catalog is taken as unchanged
//! without reading it, unless its entry is racily clean: its mtime was so close to the moment
//! it was read that a later edit in the same timestamp tick could leave the stat unchanged.
//! Those, and every note under `--verify`, are hashed.

use exo_vault::{ReadNote, ScanReport, ScannedFile, Vault};
use rayon::prelude::*;

use crate::entries::{Entries, Entry};

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
    let (pairs, gone) = pair_up(entries, scan);
    let verdicts: Vec<(&ScannedFile, Verdict)> =
        pairs.into_par_iter().map(|(file, entry)| (file, judge(vault, entry, file, verify))).collect();
    let mut diff = Diff::default();
    for (file, verdict) in verdicts {
        match verdict {
            Verdict::Unchanged => {}
            Verdict::Refresh(r) => diff.refresh.push(r),
            Verdict::Modified => diff.modified.push(file.path.clone()),
            Verdict::New => diff.new.push(file.path.clone()),
        }
    }
    for (path, entry) in gone {
        if entry.skipped && !entry.pending {
            diff.skipped_gone.push(path.to_string());
        } else {
            diff.deleted.push(path.to_string());
        }
    }
    diff.new.sort();
    diff.modified.sort();
    diff.deleted.sort();
    diff.refresh.sort_by(|a, b| a.path.cmp(&b.path));
    diff.skipped_gone.sort();
    diff
}

type Pairs<'s, 'e> = Vec<(&'s ScannedFile, Option<Entry<'e>>)>;

/// Each scanned file with the catalog's entry for its path, and the entries no file has:
/// one merge of two sorted lists (a scan is sorted by path; sorted here if not).
fn pair_up<'s, 'e>(entries: &'e Entries, scan: &'s ScanReport) -> (Pairs<'s, 'e>, Vec<(&'e str, Entry<'e>)>) {
    let mut files: Vec<&ScannedFile> = scan.notes.iter().collect();
    if !files.is_sorted_by(|a, b| a.path <= b.path) {
        files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    let mut recorded = entries.iter().peekable();
    let mut pairs = Vec::with_capacity(files.len());
    let mut gone = Vec::new();
    for file in files {
        while let Some(unmatched) = recorded.next_if(|(path, _)| *path < file.path.as_str()) {
            gone.push(unmatched);
        }
        pairs.push((file, recorded.next_if(|(path, _)| *path == file.path).map(|(_, entry)| entry)));
    }
    gone.extend(recorded);
    (pairs, gone)
}

fn judge(vault: &Vault, entry: Option<Entry<'_>>, file: &ScannedFile, verify: bool) -> Verdict {
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
        ReadNote::Read { hash, size, mtime_ns, .. } if Some(hash.as_str()) == entry.hash => {
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
