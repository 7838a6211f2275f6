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
