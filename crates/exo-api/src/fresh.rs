//! The freshness envelope every answer read from the index carries, built in one place.

use exo_index::{Index, SyncState};
use serde::Serialize;

/// Whether the index matched the files while it answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Freshness {
    /// Synced or OutOfSync; null when the check itself failed (see `unchecked`).
    pub index_status: Option<SyncState>,
    /// How many notes differ from the index; null when not checked.
    pub stale_notes: Option<usize>,
    /// Why the check could not be made. Not part of the JSON answer: the face says it
    /// (the CLI as a warning on stderr).
    #[serde(skip)]
    pub unchecked: Option<String>,
}

impl Freshness {
    fn from_check(check: exo_index::Result<(SyncState, usize)>) -> Freshness {
        match check {
            Ok((state, stale)) => Freshness { index_status: Some(state), stale_notes: Some(stale), unchecked: None },
            Err(e) => Freshness { unchecked: Some(e.to_string()), ..Freshness::default() },
        }
    }
}

/// An answer and the freshness of the index it came from, flattened into one JSON object.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Fresh<T> {
    #[serde(flatten)]
    pub answer: T,
    #[serde(flatten)]
    pub freshness: Freshness,
}

/// Runs `work` (a read of the index) while the files are compared with the index on another
/// thread: the answer costs the slower of the two, not their sum.
pub(crate) fn beside<T>(index: &Index, work: impl FnOnce() -> T) -> (T, Freshness) {
    let (answer, check) = index.beside_freshness(work);
    (answer, Freshness::from_check(check))
}
