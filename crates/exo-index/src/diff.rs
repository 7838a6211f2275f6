//! Scan + compare: which notes on disk differ from what the catalog recorded.
//!
//! Like git's index, a note whose size and mtime match the catalog is taken as unchanged
//! without reading it, unless its entry is racily clean: its mtime was so close to the moment
//! it was read that a later edit in the same timestamp tick could leave the stat unchanged.
//! Those, and every note under `--verify`, are hashed.

use exo_vault::{ReadNote, ScanReport, ScannedFile, Vault};
use rayon::prelude::*;

use crate::store::entries::{Entries, Entry};

pub use exo_vault::{is_racy, now_ns};

/// Same content, different stat record: the catalog only needs the new stat.
#[derive(Debug, Clone)]
pub struct StatRefresh {
    pub path: String,
    pub size: i64,
    pub mtime_ns: i64,
    pub identity: i64,
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
    let mut diff = Diff::default();
    let rules = Rules {
        verify,
        max_file_size: vault.config().max_file_size,
        skip_limit_changed: entries.skip_limit != Some(vault.config().max_file_size),
    };
    // The stat records settle almost every note in one merge of the two sorted lists; only
    // the rest are read, in parallel (at 100k notes, judging every note on the pool and
    // collecting a verdict for each took 17 ms of a search).
    let mut to_read: Vec<(&ScannedFile, Entry<'_>)> = Vec::new();
    let mut recorded = entries.iter().peekable();
    for file in sorted(scan) {
        while let Some((path, entry)) = recorded.next_if(|(path, _)| *path < file.path.as_str()) {
            gone(&mut diff, path, entry);
        }
        let entry = recorded.next_if(|(path, _)| *path == file.path).map(|(_, entry)| entry);
        match judge_by_stat(entry, file, &rules) {
            Ok(verdict) => diff.record(file, verdict),
            Err(entry) => to_read.push((file, entry)),
        }
    }
    for (path, entry) in recorded {
        gone(&mut diff, path, entry);
    }
    let read: Vec<(&ScannedFile, Verdict)> =
        to_read.into_par_iter().map(|(file, entry)| (file, judge_by_content(vault, entry, file))).collect();
    for (file, verdict) in read {
        diff.record(file, verdict);
    }
    diff.new.sort();
    diff.modified.sort();
    diff.deleted.sort();
    diff.refresh.sort_by(|a, b| a.path.cmp(&b.path));
    diff.skipped_gone.sort();
    diff
}

impl Diff {
    fn record(&mut self, file: &ScannedFile, verdict: Verdict) {
        match verdict {
            Verdict::Unchanged => {}
            Verdict::Refresh(r) => self.refresh.push(r),
            Verdict::Modified => self.modified.push(file.path.clone()),
            Verdict::New => self.new.push(file.path.clone()),
        }
    }
}

/// The scan's notes in path order (a scan is sorted already; sorted here if not).
fn sorted(scan: &ScanReport) -> Vec<&ScannedFile> {
    let mut files: Vec<&ScannedFile> = scan.notes.iter().collect();
    if !files.is_sorted_by(|a, b| a.path <= b.path) {
        files.sort_by(|a, b| a.path.cmp(&b.path));
    }
    files
}

/// A recorded path no file has any more.
fn gone(diff: &mut Diff, path: &str, entry: Entry<'_>) {
    if entry.skipped && !entry.pending {
        diff.skipped_gone.push(path.to_string());
    } else {
        diff.deleted.push(path.to_string());
    }
}

/// What a verdict depends on besides the two stat records.
struct Rules {
    verify: bool,
    max_file_size: u64,
    /// `max_file_size` is not what the skipped entries were judged under.
    skip_limit_changed: bool,
}

/// The verdict the stat record alone can give, or Err(entry) when the file must be read.
fn judge_by_stat<'e>(entry: Option<Entry<'e>>, file: &ScannedFile, rules: &Rules) -> Result<Verdict, Entry<'e>> {
    let Some(entry) = entry else { return Ok(Verdict::New) };
    if entry.pending {
        return Ok(if entry.hash.is_some() || entry.skipped { Verdict::Modified } else { Verdict::New });
    }
    // Size and mtime alone miss a copy that puts them back (`cp -p`, `rsync -a`, `touch -d`);
    // the identity (device, inode, change time) is what git's index compares too.
    let same_stat =
        entry.size == file.size as i64 && entry.mtime_ns == file.mtime_ns && entry.identity == file.identity;
    // A skip is a fact about a file and a setting: judged again when either changes (a
    // `chmod` moves the change time), and read again under --verify.
    if entry.skipped {
        return match (same_stat && !rules.skip_limit_changed, rules.verify) {
            (true, false) => Ok(Verdict::Unchanged),
            (true, true) => Err(entry),
            (false, _) => Ok(Verdict::Modified),
        };
    }
    // Indexed under a larger limit: the index must drop it (lowering the limit is a change).
    if file.size > rules.max_file_size {
        return Ok(Verdict::Modified);
    }
    if same_stat && !entry.racy && !rules.verify {
        return Ok(Verdict::Unchanged);
    }
    Err(entry)
}

fn judge_by_content(vault: &Vault, entry: Entry<'_>, file: &ScannedFile) -> Verdict {
    let read_at = now_ns();
    match vault.read(&file.path) {
        // Under --verify a skipped file is read again: still skipped is still in sync.
        ReadNote::Skipped(_) if entry.skipped => Verdict::Unchanged,
        ReadNote::Read { hash, size, mtime_ns, identity, .. } if Some(hash.as_str()) == entry.hash => {
            let racy = is_racy(mtime_ns, read_at);
            let same = size as i64 == entry.size && mtime_ns == entry.mtime_ns && identity == entry.identity;
            if same && racy == entry.racy {
                Verdict::Unchanged
            } else {
                Verdict::Refresh(StatRefresh { path: file.path.clone(), size: size as i64, mtime_ns, identity, racy })
            }
        }
        // Gone since the scan: the next scan reports it deleted; say modified for now.
        _ => Verdict::Modified,
    }
}
