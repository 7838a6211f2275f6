//! Is each hit's file still what was indexed? The same stat check as [`Index::freshness`]
//! (run beside every query), keeping *which* notes differ instead of only how many: a hit
//! on a note deleted or edited since `exo index` must say so itself, not only through the
//! warning at the end of the answer.

use serde::Serialize;

use crate::status::Drift;

/// How a hit's file differs from what the index holds of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Stale {
    /// Edited since it was indexed: the snippet and score are from the old text.
    Modified,
    /// Gone from disk (deleted or renamed) since it was indexed.
    Deleted,
}

/// How `path` differs from what the index holds, by the stat check beside the query.
pub(super) fn stale_of(drift: &Drift, path: &str) -> Option<Stale> {
    if drift.deleted.contains(path) {
        Some(Stale::Deleted)
    } else if drift.modified.contains(path) {
        Some(Stale::Modified)
    } else {
        None
    }
}
