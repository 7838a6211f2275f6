//! exo-api: the one boundary under every face of exo — the `exo` CLI, the MCP server and the
//! watcher. A face finds the vault with [`Exo::open`], then makes one call per operation: each
//! takes a typed request (Deserialize + JsonSchema, unknown fields rejected, so clap's
//! arguments and an MCP tool's input fill the same struct) and returns a `Serialize` answer.
//! Every answer read from the index carries the same freshness envelope ([`Fresh`]).
//!
//! Must never: print, read the process environment (the face passes `$EXO_ROOT` in through
//! [`VaultChoice`]), speak in shell flags (a repair is a [`Repair`] the face renders), or hold
//! the index's writer lock between calls.

#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod check;
mod error;
mod fresh;
mod garden;
mod graph;
mod hooks;
mod note;
mod notify;
mod picture;
mod read;
mod recent;
mod search;
mod sync;
mod vault;
mod wander;
mod watch;
mod write;

pub use check::{CheckAnswer, CheckRequest, CheckSource};
pub use error::{ApiError, Result};
pub use exo_garden::check::{Rule as CheckRule, Violation};
pub use exo_vault::CheckMode;
pub use fresh::{Fresh, Freshness};
pub use garden::{Finding, GardenRequest, Kind, Report};
pub use graph::{
    Backlinks, GraphExport, LinkView, Links, NeighborView, Neighbors, NeighborsRequest, NoteRef, NoteView, Orphans,
    PathAnswer, PathRequest, Unresolved,
};
pub use hooks::{FillAnswer, HookKind, HookState, HooksInstallRequest, HooksStatus, InstallReport};
pub use note::{ChunkView, NoteReport, inspect_note};
pub use notify::{NotifyOutcome, NotifySource, NotifyStatus, NotifySummary};
pub use picture::GraphPicture;
pub use read::{HeadingView, ListNotesRequest, ListSort, NoteContent, NoteList, NoteSummary, ReadNoteRequest};
pub use recent::{Change, CommitRef, Recent, RecentNote, RecentRequest, UncommittedNote};
pub use search::{SearchMode, SearchQuery, SearchResults};
pub use sync::{StatusRequest, SyncAnswer, SyncProgress, SyncRequest};
pub use vault::VaultChoice;
pub use watch::{Reconciled, StopSignal, Trigger, WatchEvent, WatchMode, WatchOptions};
pub use write::{
    CommitIdentity, CommitPolicy, CommitView, CreateNoteRequest, DeleteNoteRequest, EditNoteRequest, EditOperation,
    FrontmatterValues, IndexState, MoveNoteRequest, WriteAnswer, WriteOrigin, Writer,
};

pub use exo_index::{CheckedBy, Health, IndexError, Progress, ReconcileReport, Remedy, Repair, Status, SyncState};

/// The types inside the answers, for faces that render them.
pub mod types {
    pub use exo_garden::GardenError;
    pub use exo_index::graph::{Backlink, Direction, Step, Wanted};
    pub use exo_index::search::{Hit, Mode, Snippet, Stale};
    pub use exo_index::vectors::EmbedReport;
}
pub use exo_vault::InitReport;

/// The built-in embedding model (name, dimensions, quantisation, version): what the vectors
/// of a vault that configures no other embedder are made with.
pub fn built_in_model() -> String {
    use exo_embed::Embedder;
    exo_embed::BuiltinMiniLm::new().id().to_string()
}

/// Makes `dir` a vault: writes a commented `exo.toml` and ignores `.exo/` in `.gitignore`,
/// each only when missing. Never touches a note.
pub fn init(dir: &std::path::Path) -> Result<InitReport> {
    Ok(exo_vault::init_vault(dir)?)
}
pub use wander::{Wander, WanderRequest};

use exo_index::Index;

/// An open vault: its settings read once, its index ready to be asked. Cheap to open; a
/// long-running face reopens it when `exo.toml` changes.
pub struct Exo {
    index: Index,
    garden: exo_garden::GardenSettings,
}

impl Exo {
    /// Finds the vault (`--vault`, else `$EXO_ROOT`, else the nearest `exo.toml`, else the git
    /// top level) and reads every settings section once, so a bad `exo.toml` fails here.
    pub fn open(choice: &VaultChoice) -> Result<Exo> {
        let vault = choice.discover()?;
        let garden = exo_garden::GardenSettings::from_vault(&vault)?;
        Ok(Exo { index: Index::new(vault), garden })
    }

    pub fn vault(&self) -> &exo_vault::Vault {
        self.index.vault()
    }
}
