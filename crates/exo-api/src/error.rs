//! What can go wrong behind the boundary, as values a face can act on: an MCP server turns a
//! `NoteNotFound` into a tool error listing names, the CLI into one line and exit code 2.

/// Every error an operation returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Vault(#[from] exo_vault::VaultError),
    #[error(transparent)]
    Index(#[from] exo_index::IndexError),
    #[error(transparent)]
    Garden(#[from] exo_garden::GardenError),
    #[error(transparent)]
    Hooks(#[from] exo_hooks::HooksError),
    /// A file named in the request that cannot be read.
    #[error("cannot read {path}")]
    CannotRead {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A request a face let through that the operation cannot answer.
    #[error("{0}")]
    Invalid(String),
    /// The watched vault's folder was moved or deleted: the watch cannot follow it.
    #[error("the vault folder {} was moved or deleted while it was watched; start watching it again where it is now", path.display())]
    VaultGone { path: std::path::PathBuf },
    // The note writes (`write/`): each says what to do next.
    /// create: the file is already there.
    #[error("{path} already exists; change it with edit_note (exo: edit it), or pick another path")]
    NoteExists { path: String },
    /// move: the destination is already there.
    #[error("cannot move to {path}: it already exists; pick another path")]
    DestinationExists { path: String },
    /// create: notes with the same name or nearly the same text exist.
    #[error("{path} looks like a note that exists: {}; read it and edit it instead, or pass force: true (exo new --force) to create it anyway", candidates.join(", "))]
    NearDuplicates { path: String, candidates: Vec<String> },
    /// The note changed since the caller read it.
    #[error(
        "{path} changed since you read it (its hash is now {current}); read it again, then retry with base_hash {current}"
    )]
    BaseHashMismatch { path: String, current: String },
    /// A person's uncommitted work on a note the write would touch.
    #[error(
        "{path} has uncommitted changes made by a person; commit them first, or pass force: true (exo --force) to write over them"
    )]
    UncommittedChanges { path: String },
    /// A path the writer will not write.
    #[error("refused path {path:?}: {reason}")]
    PathRefused { path: String, reason: String },
    /// replace_section: no such heading.
    #[error("{path} has no heading {heading:?}; its headings: {}", if headings.is_empty() { "(none)".to_string() } else { headings.join(", ") })]
    SectionNotFound { path: String, heading: String, headings: Vec<String> },
    /// find_replace: the text occurs another number of times than expected.
    #[error(
        "{path} contains {find:?} {found} time(s), not {expected}; set expected_count to {found} to replace them all, or make find more specific"
    )]
    CountMismatch { path: String, find: String, expected: usize, found: usize },
    /// delete without confirm.
    #[error("deleting {path} needs confirm: true (exo rm --yes); {}", linked_note_list(linked_from))]
    ConfirmRequired { path: String, linked_from: Vec<String> },
    /// Writing a file failed.
    #[error("cannot write {path}: {source}; check that its folder is writable and the disk has room, then retry")]
    WriteFailed {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Another writer held `.exo/write.lock` for too long.
    #[error("another exo write is running on this vault ({path}); retry in a moment")]
    WriteLocked { path: std::path::PathBuf },
    /// The write would break a rule `exo.toml`'s `[check]` enforces: nothing was written.
    #[error("{}", policy_refusal(violations))]
    PolicyViolation { violations: Vec<exo_garden::check::Violation> },
}

fn policy_refusal(violations: &[exo_garden::check::Violation]) -> String {
    let Some(first) = violations.first() else { return "the write breaks the [check] policy".to_string() };
    let more = match violations.len() {
        1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    format!(
        "{}:{}: {}: {}{more}; exo.toml's [check] enforces this rule, so nothing was written: change the write so the note follows it",
        first.path,
        first.line,
        first.rule.name(),
        first.message
    )
}

fn linked_note_list(linked_from: &[String]) -> String {
    match linked_from.len() {
        0 => "no note links to it".to_string(),
        n => format!("{n} note(s) link to it and would be left with unresolved links: {}", linked_from.join(", ")),
    }
}

impl ApiError {
    /// What fixes this error, when something does, wherever below the boundary it arose (an
    /// index error reached through the garden included).
    pub fn remedy(&self) -> Option<exo_index::Remedy> {
        match self {
            ApiError::Index(e) | ApiError::Garden(exo_garden::GardenError::Index(e)) => e.remedy(),
            _ => None,
        }
    }
}

pub type Result<T, E = ApiError> = std::result::Result<T, E>;
