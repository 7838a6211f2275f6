//! The storage floor: everything exo keeps under `.exo/` and the small tools to keep it —
//! the SQLite catalog and its packed entries (and their copy), the text index, the vector
//! store and its flat copy, chunk keys, the lock, progress, the health check, and where each
//! file lives. Reconcile, fill, status, search and graph sit on it; nothing here imports
//! anything above it.

pub(crate) mod catalog;
pub(crate) mod chunk_key;
pub(crate) mod coarse;
pub(crate) mod entries;
pub(crate) mod entries_copy;
pub(crate) mod flat;
pub(crate) mod git;
pub(crate) mod health;
pub(crate) mod layout;
pub(crate) mod lock;
pub(crate) mod progress;
pub(crate) mod schema;
pub(crate) mod settings;
pub(crate) mod text;
pub(crate) mod tokenizer;
pub(crate) mod vector_store;

use exo_vault::Vault;

use crate::error::{IndexError, Result};
use layout::Layout;

/// A vault together with its derived index under `.exo/`. The operations on it (status,
/// reconcile, search, …) are in the crate's façade; here is only what the floor needs.
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

    /// The notes on disk. Replays the last walk from `.exo/walk` when no folder, ignore
    /// file or setting has changed since (every note is still stat'ed), like git's untracked
    /// cache; walks the vault otherwise, and always under `verify`, which trusts no stat
    /// record, so not the walk's either.
    pub(crate) fn scan_vault(&self, verify: bool) -> Result<exo_vault::ScanReport> {
        if verify {
            return Ok(self.vault.scan()?);
        }
        Ok(self.vault.scan_with(self.walk_snapshot())?)
    }

    /// The last walk's record in `.exo/walk`, if there is one this version can read.
    pub(crate) fn walk_snapshot(&self) -> Option<exo_vault::WalkSnapshot> {
        std::fs::read(&self.layout.walk).ok().and_then(|bytes| exo_vault::WalkSnapshot::from_bytes(&bytes))
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
        let background = handle.join().unwrap_or_else(|_| Err(IndexError::Internal(what.to_string())));
        (background, done)
    })
}
