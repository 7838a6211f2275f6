//! exo-index: the derived, disposable index of a vault — a SQLite catalog (notes, tags,
//! headings, the link graph, chunks), a tantivy text index, and the reconcile loop that keeps
//! them in line with the files, plus the status that says whether they are.
//!
//! It must never write to the vault's notes (only under `.exo/`), never report Synced while
//! the files differ from what it indexed, never print, and know nothing of MCP or the CLI.

mod catalog;
mod diff;
mod entries;
mod error;
mod flat;
mod git;
pub mod graph;
mod layout;
mod lock;
mod reconcile;
mod schema;
pub mod search;
mod settings;
mod status;
mod text;
mod tokenizer;
pub mod vectors;

use exo_vault::Vault;

pub use error::{IndexError, Result, StorageProblem};
pub use layout::{INDEX_DIR, Layout};
pub use reconcile::{Progress, ReconcileOptions, ReconcileReport, Renamed, Silent};
pub use settings::TextSettings;
pub use status::{Health, NoteWarning, REPAIR_INDEX, REPAIR_REBUILD, REPAIR_REEMBED, Status, SyncState};

/// A vault together with its derived index under `.exo/`.
pub struct Index {
    vault: Vault,
    layout: Layout,
}

impl Index {
    pub fn new(vault: Vault) -> Index {
        let layout = Layout::new(vault.root());
        Index { vault, layout }
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Compares the files with the index without writing anything.
    pub fn status(&self, verify: bool) -> Result<Status> {
        status::status(self, verify)
    }

    /// The notes on disk. Replays the last walk from `.exo/walk` when no folder, ignore
    /// file or setting has changed since (every note is still stat'ed), like git's untracked
    /// cache; walks the vault otherwise, and always under `verify`, which trusts no stat
    /// record, so not the walk's either.
    pub(crate) fn scan_vault(&self, verify: bool) -> Result<exo_vault::ScanReport> {
        if verify {
            return Ok(self.vault.scan()?);
        }
        let snapshot =
            std::fs::read(&self.layout.walk).ok().and_then(|bytes| exo_vault::WalkSnapshot::from_bytes(&bytes));
        Ok(self.vault.scan_with(snapshot)?)
    }

    /// Keeps a fresh walk for the next check, or drops a snapshot that no longer holds.
    /// Only the writer calls this (under `.exo/lock`). A snapshot that cannot be written
    /// costs the next check speed, never correctness, so failures are not errors.
    pub(crate) fn keep_walk(&self, scan: &exo_vault::ScanReport) {
        match &scan.walk {
            exo_vault::Walk::Replayed => {}
            exo_vault::Walk::Cacheable(snapshot) => {
                if write_replacing(&self.layout.walk, &snapshot.to_bytes()).is_err() {
                    let _ = std::fs::remove_file(&self.layout.walk);
                }
            }
            exo_vault::Walk::Uncacheable => {
                let _ = std::fs::remove_file(&self.layout.walk);
            }
        }
    }

    /// Synced or OutOfSync, and how many notes differ, by the stat fast path alone (no
    /// hashing): what queries check so they can say when their answer may be stale.
    pub fn freshness(&self) -> Result<(SyncState, usize)> {
        status::sync_state(self)
    }

    /// Runs `work` while [`Index::freshness`] walks the vault on another thread: a reader
    /// can say whether its answer may be stale for the cost of the slower of the two.
    pub fn beside_freshness<T>(&self, work: impl FnOnce() -> T) -> (T, Result<(SyncState, usize)>) {
        let (freshness, done) = beside(|| self.freshness(), work, "the check against the files");
        (done, freshness)
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

/// How notes are parsed: when this changes, every note must be parsed again.
pub fn parse_fingerprint(vault: &Vault) -> String {
    let options = vault.parse_options();
    format!("parser {}; links {:?}; chunks {}", exo_vault::PARSER_VERSION, options.link_style, options.chunk_max_bytes)
}

/// Replaces the file at `path` with `bytes` by writing a sibling and renaming it over, so a
/// reader sees the old file or the new one, never half of one.
pub(crate) fn write_replacing(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes).and_then(|()| std::fs::rename(&partial, path)).inspect_err(|_| {
        let _ = std::fs::remove_file(&partial);
    })
}

/// The first `N` bytes of the file at `path` (a header), None if it is shorter or unreadable.
pub(crate) fn read_prefix<const N: usize>(path: &std::path::Path) -> Option<[u8; N]> {
    use std::io::Read;
    let mut prefix = [0u8; N];
    std::fs::File::open(path).ok()?.read_exact(&mut prefix).ok()?;
    Some(prefix)
}

/// Runs `background` on another thread while `foreground` runs on this one. A panic in the
/// background is reported as an error naming `what`, not propagated.
pub(crate) fn beside<B: Send, F>(
    background: impl FnOnce() -> Result<B> + Send,
    foreground: impl FnOnce() -> F,
    what: &str,
) -> (Result<B>, F) {
    std::thread::scope(|scope| {
        let handle = scope.spawn(background);
        let done = foreground();
        let background =
            handle.join().unwrap_or_else(|_| Err(IndexError::Invalid(format!("{what} stopped unexpectedly"))));
        (background, done)
    })
}
