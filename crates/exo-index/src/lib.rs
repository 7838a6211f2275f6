//! exo-index: the derived, disposable index of a vault — a SQLite catalog (notes, tags,
//! headings, the link graph, chunks), a tantivy text index, and the reconcile loop that keeps
//! them in line with the files, plus the status that says whether they are.
//!
//! It must never write to the vault's notes (only under `.exo/`), never report Synced while
//! the files differ from what it indexed, never print, and know nothing of MCP or the CLI.

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod diff;
mod error;
pub mod graph;
mod reconcile;
pub mod search;
mod status;
mod store;
pub mod vectors;
pub mod vouch;

pub use error::{IndexError, Remedy, Result, StorageProblem};
pub use reconcile::{ReconcileOptions, ReconcileReport, Renamed};
pub use status::{CheckedBy, Health, NoteWarning, Repair, Status, SyncState, Trust};
pub use store::Index;
pub use store::health::parse_fingerprint;
pub use store::layout::{INDEX_DIR, Layout};
pub use store::progress::{Progress, Silent};
pub use store::settings::TextSettings;

use store::beside;

/// The operations on an index: each lives in its own module above the storage floor.
impl Index {
    /// Compares the files with the index without writing anything.
    pub fn status(&self, verify: bool) -> Result<Status> {
        status::status(self, verify, status::Trust::Watcher, None)
    }

    /// [`Index::status`] right after `run`: a run that found nothing to do walked the files
    /// and compared them with this very index a moment ago, so that walk is the check while
    /// it is a moment old (150 ms) and no other writer has committed since; anything else is
    /// checked afresh.
    pub fn status_after(&self, run: &ReconcileReport) -> Result<Status> {
        status::status(self, false, status::Trust::Watcher, run.in_line.as_ref())
    }

    /// [`Index::status`] by a walk of the files alone, never a watch's word: what a watch
    /// runs itself, so it never vouches for itself.
    pub fn status_by_files(&self) -> Result<Status> {
        status::status(self, false, status::Trust::Files, None)
    }

    /// Synced or OutOfSync, and how many notes differ, by the stat fast path alone (no
    /// hashing): what queries check so they can say when their answer may be stale.
    pub fn freshness(&self) -> Result<(SyncState, usize)> {
        status::sync_state(self, status::Trust::Watcher)
    }

    /// [`Index::freshness`] by a walk of the files alone, never a watch's word: what the
    /// watch itself checks with.
    pub fn freshness_by_files(&self) -> Result<(SyncState, usize)> {
        status::sync_state(self, status::Trust::Files)
    }

    /// The word for this index that a watch vouches for ([`vouch`]); None without an index
    /// or while paths are pending.
    pub fn vouch_token(&self) -> Result<Option<String>> {
        match store::catalog::Catalog::open(&self.layout().catalog)? {
            Some(catalog) => vouch::token_of(&catalog),
            None => Ok(None),
        }
    }

    /// Runs `work` while [`Index::freshness`] walks the vault on another thread: a reader
    /// can say whether its answer may be stale for the cost of the slower of the two.
    pub fn beside_freshness<T>(&self, work: impl FnOnce() -> T) -> (T, Result<(SyncState, usize)>) {
        let (freshness, done) = beside(|| self.freshness(), work, "the check against the files");
        (done, freshness)
    }

    /// The content hash (blake3 hex) the index holds for the note at vault path `path`; None
    /// when it holds no such note. A reader compares it with the file's hash to say whether
    /// its answer is about the version on disk (`read_note`'s `indexed`).
    pub fn indexed_hash(&self, path: &str) -> Result<Option<String>> {
        use error::SqlContext;
        use rusqlite::OptionalExtension;
        let catalog = store::catalog::Catalog::open_required(&self.layout().catalog)?;
        let sql = "SELECT hash FROM notes WHERE path = ?1";
        catalog.conn.query_row(sql, [path], |r| r.get(0)).optional().at(&catalog.path)
    }

    /// Ranked, explained search. Without vectors (none yet, or another embedder) hybrid
    /// ranks by bm25 and graph and the results say so.
    pub fn search(&self, request: &search::SearchRequest) -> Result<search::SearchResults> {
        search::search(self, request)
    }

    /// Embeds every chunk that has no vector yet (after `reconcile`); `reembed` discards all
    /// vectors first. Embedder failures are reported in the result, not as errors.
    pub fn embed(
        &self,
        reembed: bool,
        wait: std::time::Duration,
        progress: &dyn Progress,
    ) -> Result<vectors::EmbedReport> {
        vectors::fill(self, reembed, wait, progress)
    }

    /// Brings the index in line with the files (the only writer; takes `.exo/lock`).
    pub fn reconcile(&self, options: &ReconcileOptions, progress: &dyn Progress) -> Result<ReconcileReport> {
        reconcile::reconcile(self, options, progress)
    }
}
