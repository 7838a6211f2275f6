//! Note writes: `create_note`, `edit_note`, `move_note`, `delete_note` — the one code path that
//! changes a user's notes, shared by the CLI (`exo new/mv/rm`) and the MCP server's write tools.
//!
//! NOTE FOR FACES (engineer M): the four methods and their request types follow
//! `notes/contract-writes.md` exactly. Additions, all optional: `Writer::as_git_user` (the CLI
//! commits as the person's git identity instead of "<client> via exo"), `WriteOrigin::client`
//! (a constructor), and `CommitIdentity`.
//!
//! Every write, in this order, under `.exo/write.lock` (held across read-check-write-commit, so
//! two processes writing at once both land, one after the other):
//! 1. the requested path is made safe ([`target`]): inside the vault, no `..`, no absolute
//!    path, nothing under `.git/` or `.exo/`, no symlink leading out, a note extension, inside
//!    the notes folders, not ignored;
//! 2. the index is brought up to date (text and graph only) when the write needs it: to find a
//!    note by title, its backlinks, or near-duplicates;
//! 3. refusals: the file exists (create), `base_hash` differs, a person's uncommitted work
//!    ([`uncommitted`]), near-duplicates ([`duplicates`]), delete without `confirm`, and a
//!    rule `exo.toml`'s `[check]` enforces ([`policy`]; in audit mode the violations are
//!    warnings);
//! 4. the new bytes are written atomically ([`atomic`]): temp file in the same folder, fsync,
//!    rename, fsync the folder;
//! 5. reindex (the same `sync` as `exo index`, vectors included), so the touched notes are
//!    Synced in the answer;
//! 6. exactly one git commit with only the touched paths ([`commit`]), unless the writer holds
//!    commits or the vault is not in git — the answer says which.
//!
//! Never: builds a commit from the git index (a person's staged work is never swept in),
//! rewrites a note it was not asked to touch, or leaves a half-written file.

mod atomic;
mod author;
mod commit;
mod create;
mod delete;
mod duplicates;
mod edit;
mod edit_ops;
mod existing;
mod frontmatter_edit;
mod land;
mod lock;
mod move_note;
mod policy;
mod request;
mod target;
mod uncommitted;

use std::collections::HashMap;
use std::sync::Mutex;

use schemars::JsonSchema;
use serde::Serialize;

pub use request::{
    CreateNoteRequest, DeleteNoteRequest, EditNoteRequest, EditOperation, FrontmatterValues, MoveNoteRequest,
};

/// Whether a write ends in a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitPolicy {
    /// Each write is one git commit.
    Commit,
    /// Write and reindex, but leave committing to the caller (`exo mcp --no-commit`, the
    /// gardener's night that lands as one commit).
    Hold,
}

/// A name and an email for a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitIdentity {
    pub name: String,
    pub email: String,
}

/// Held by a long-running face (the MCP server) or made per command (the CLI). Remembers the
/// content hash of every file this writer last wrote, so that under [`CommitPolicy::Hold`] a
/// note whose uncommitted content is exactly what this writer wrote counts as its own work,
/// not a person's.
pub struct Writer {
    policy: CommitPolicy,
    /// Commit as this person (the CLI), instead of "<client> via exo".
    person: Option<PersonAuthor>,
    /// Vault path -> blake3 hex of the bytes this writer last wrote there.
    written: Mutex<HashMap<String, String>>,
}

#[derive(Debug, Clone)]
enum PersonAuthor {
    /// The repository's git config (`user.name`, `user.email`).
    GitConfig,
    /// Given by the face (`GIT_AUTHOR_NAME`/`GIT_AUTHOR_EMAIL`).
    Given(CommitIdentity),
}

impl Writer {
    pub fn new(policy: CommitPolicy) -> Writer {
        Writer { policy, person: None, written: Mutex::new(HashMap::new()) }
    }

    /// Commits as a person, not an agent: `explicit` when the face has one (the CLI reads
    /// `GIT_AUTHOR_NAME`/`GIT_AUTHOR_EMAIL`), else the repository's `user.name`/`user.email`,
    /// else "exo" <exo@localhost>.
    pub fn as_git_user(mut self, explicit: Option<CommitIdentity>) -> Writer {
        self.person = Some(match explicit {
            Some(identity) => PersonAuthor::Given(identity),
            None => PersonAuthor::GitConfig,
        });
        self
    }

    pub fn policy(&self) -> CommitPolicy {
        self.policy
    }

    fn remember(&self, path: &str, hash: &str) {
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        written.insert(path.to_string(), hash.to_string());
    }

    fn forget(&self, path: &str) {
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        written.remove(path);
    }

    /// True when `hash` is what this writer last wrote at `path`.
    fn wrote(&self, path: &str, hash: &str) -> bool {
        let written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        written.get(path).is_some_and(|h| h == hash)
    }
}

/// Who asked for a write: names the commit author "<client> via exo".
#[derive(Debug, Clone, Default)]
pub struct WriteOrigin {
    /// The MCP client's name (from its client info); None: "MCP client via exo".
    pub client: Option<String>,
}

impl WriteOrigin {
    pub fn client(name: impl Into<String>) -> WriteOrigin {
        WriteOrigin { client: Some(name.into()) }
    }
}

/// What a write did.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WriteAnswer {
    /// One line: what was done ("created inbox/x.md").
    pub done: String,
    /// The note's vault path after the write (the new path for a move, the deleted path for a
    /// delete).
    pub path: String,
    /// blake3 of the note's new bytes: pass it back as `base_hash` on the next edit. Null after
    /// a delete.
    pub hash: Option<String>,
    /// Every vault path the write changed, created or removed (what the commit contains).
    pub touched: Vec<String>,
    /// Whether the write landed as a git commit.
    pub committed: bool,
    /// The commit, when committed.
    pub commit: Option<CommitView>,
    /// Why not committed: held for the caller, not a git repository, nothing changed, or the
    /// commit failed (the files are written either way).
    pub not_committed: Option<String>,
    /// Move: links in other notes rewritten to point at the new path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links_rewritten: Option<usize>,
    /// Move: notes (other than the moved one) whose links were rewritten.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes_rewritten: Option<usize>,
    /// Move: the moved note's own links changed (relative links rebased to its new folder,
    /// links to itself retargeted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub own_links_rebased: Option<usize>,
    /// Delete: notes that linked to the deleted note (their links are now unresolved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_from: Option<Vec<String>>,
    /// Whether the index matched the files after the reindex.
    pub index_status: Option<IndexState>,
    /// How many notes differ from the index after the reindex.
    pub stale_notes: Option<usize>,
    /// Rules of `exo.toml`'s `[check]` the write breaks (audit mode; enforce mode refuses), and
    /// what went wrong after the files were written (the reindex, the git index).
    pub warnings: Vec<String>,
}

/// A commit a write made.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CommitView {
    /// The full commit id.
    pub id: String,
    /// "Name <email>".
    pub author: String,
    pub message: String,
}

/// The index's state against the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum IndexState {
    Synced,
    OutOfSync,
    Missing,
    Degraded,
}

impl From<exo_index::SyncState> for IndexState {
    fn from(state: exo_index::SyncState) -> IndexState {
        match state {
            exo_index::SyncState::Synced => IndexState::Synced,
            exo_index::SyncState::OutOfSync => IndexState::OutOfSync,
            exo_index::SyncState::Missing => IndexState::Missing,
            exo_index::SyncState::Degraded => IndexState::Degraded,
        }
    }
}
