use std::path::PathBuf;

/// Everything that can go wrong while finding, configuring or reading a vault.
///
/// Each variant names the path involved so the binary can print one line that says
/// which file is at fault and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "no vault found: no exo.toml or .git in {start} or the {above} folders above it — run `exo init` to make {start} a vault, or pass --vault PATH (or set EXO_ROOT)"
    )]
    NotFound { start: PathBuf, above: usize },

    #[error("vault root {path} is not a directory")]
    NotADirectory { path: PathBuf },

    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// One of the two files `exo init` writes (exo.toml, .gitignore) could not be written.
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: invalid configuration: {message} (fix the file or delete it to use the defaults)")]
    Config { path: PathBuf, message: String },

    /// A `notes` folder that does not exist: walking around it would report an empty (or
    /// partial) vault as Synced.
    #[error("{config}: notes folder {folder:?} does not exist — create it, or fix `notes` in exo.toml")]
    MissingNotesFolder { config: PathBuf, folder: String },

    #[error("{path}: not a note inside the vault {root}")]
    OutsideVault { path: PathBuf, root: PathBuf },
}

impl VaultError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        VaultError::Io { path: path.into(), source }
    }
}

pub type Result<T, E = VaultError> = std::result::Result<T, E>;
