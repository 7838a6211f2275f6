#[derive(Debug, thiserror::Error)]
pub enum GardenError {
    #[error(transparent)]
    Index(#[from] exo_index::IndexError),
    #[error(transparent)]
    Vault(#[from] exo_vault::VaultError),
    #[error("{path}: [garden] {message}")]
    Config { path: std::path::PathBuf, message: String },
    /// A kind name no finding has, with the names there are.
    #[error("unknown finding kind {name:?} (kinds: {})", known.join(", "))]
    UnknownKind { name: String, known: Vec<&'static str> },
    #[error("git history: {0}")]
    Git(#[from] git2::Error),
}
