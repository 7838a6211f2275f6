#[derive(Debug, thiserror::Error)]
pub enum GardenError {
    #[error(transparent)]
    Index(#[from] exo_index::IndexError),
    #[error(transparent)]
    Vault(#[from] exo_vault::VaultError),
    #[error("{path}: [garden] {message}")]
    Config { path: std::path::PathBuf, message: String },
    #[error("unknown finding kind {0:?} (kinds: {kinds})", kinds = crate::Kind::names().join(", "))]
    UnknownKind(String),
    #[error("git history: {0}")]
    Git(#[from] git2::Error),
}
