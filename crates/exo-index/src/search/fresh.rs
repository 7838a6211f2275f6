//! Is each hit's file still what was indexed? The same stat check as [`Index::freshness`]
//! (run beside every query), keeping *which* notes differ instead of only how many: a hit
//! on a note deleted or edited since `exo index` must say so itself, not only through the
//! warning at the end of the answer.

use std::collections::HashSet;

use serde::Serialize;

use crate::error::Result;
use crate::status::SyncState;
use crate::store::Index;
use crate::store::catalog::Catalog;

/// How a hit's file differs from what the index holds of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stale {
    /// Edited since it was indexed: the snippet and score are from the old text.
    Modified,
    /// Gone from disk (deleted or renamed) since it was indexed.
    Deleted,
}

/// The notes on disk that differ from the index.
#[derive(Debug)]
pub(super) struct Drift {
    pub state: SyncState,
    /// New, modified and deleted notes: what `stale_notes` counts.
    pub count: usize,
    modified: HashSet<String>,
    deleted: HashSet<String>,
}

impl Drift {
    pub fn of(&self, path: &str) -> Option<Stale> {
        if self.deleted.contains(path) {
            Some(Stale::Deleted)
        } else if self.modified.contains(path) {
            Some(Stale::Modified)
        } else {
            None
        }
    }
}

/// Scans the vault (stat only, no hashing) and compares it with the catalog's entries.
pub(super) fn drift(index: &Index) -> Result<Drift> {
    let layout = index.layout();
    let Some(catalog) = Catalog::open(&layout.catalog)? else {
        let nothing = HashSet::new;
        return Ok(Drift { state: SyncState::Missing, count: 0, modified: nothing(), deleted: nothing() });
    };
    let (scan, entries) = crate::store::beside(
        || index.scan_vault(false),
        || crate::store::entries_copy::read_entries(&catalog, &layout.entries),
        "the scan of the vault",
    );
    let diff = crate::diff::compute(index.vault(), &entries?, &scan?, false);
    let count = diff.new.len() + diff.modified.len() + diff.deleted.len();
    Ok(Drift {
        state: if count == 0 { SyncState::Synced } else { SyncState::OutOfSync },
        count,
        modified: diff.modified.into_iter().collect(),
        deleted: diff.deleted.into_iter().collect(),
    })
}
