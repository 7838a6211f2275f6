use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Vault(#[from] exo_vault::VaultError),

    #[error("index catalog {path}: {source} (repair: exo index --rebuild)")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("text index {path}: {source} (repair: exo index --rebuild)")]
    Text {
        path: PathBuf,
        #[source]
        source: tantivy::TantivyError,
    },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "another exo process is writing the index ({path} is locked); waited {waited_secs} s — try again, or pass --wait SECONDS"
    )]
    Locked { path: PathBuf, waited_secs: u64 },

    #[error("no index yet at {path} — run `exo index` first")]
    Missing { path: PathBuf },

    #[error("the index is unusable: {reason} — run `exo index --rebuild`")]
    Degraded { reason: String },

    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = IndexError> = std::result::Result<T, E>;

/// Attaches the catalog path to rusqlite errors.
pub(crate) trait SqlContext<T> {
    fn at(self, path: &std::path::Path) -> Result<T>;
}

impl<T> SqlContext<T> for rusqlite::Result<T> {
    fn at(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|source| IndexError::Sqlite { path: path.to_path_buf(), source })
    }
}

impl<T> SqlContext<T> for tantivy::Result<T> {
    fn at(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|source| IndexError::Text { path: path.to_path_buf(), source })
    }
}

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> IndexError {
    let path = path.into();
    move |source| IndexError::Io { path, source }
}
