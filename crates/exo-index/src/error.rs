use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Vault(#[from] exo_vault::VaultError),

    #[error("index catalog {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("text index {path}: {source}")]
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

    #[error("another exo process is writing the index ({path} is locked); waited {waited_secs} s")]
    Locked { path: PathBuf, waited_secs: u64 },

    #[error("no index yet at {path}")]
    Missing { path: PathBuf },

    #[error("the index is unusable: {reason}")]
    Degraded { reason: String },

    /// The machine, not the index, is at fault: rebuilding would not help, so this is
    /// never mistaken for damage (a full disk used to trigger a full rebuild).
    #[error("{path}: {problem}")]
    Storage { path: PathBuf, problem: StorageProblem },

    /// A note name (path, title or alias) that no note has.
    #[error("no note named {name:?} in the index (a path, title or alias)")]
    NoteNotFound { name: String },

    /// A name several notes answer to, at the same stage of the lookup.
    #[error("{name:?} names {} notes: {} — pass the path", candidates.len(), candidates.join(", "))]
    AmbiguousNote { name: String, candidates: Vec<String> },

    #[error("empty query: give some words to search for")]
    EmptyQuery,

    /// Vector search asked of an index with no vectors.
    #[error("this index has no vectors yet")]
    NoVectors,

    #[error("cannot embed the query: {0}")]
    QueryEmbedding(String),

    /// A worker thread died (a bug): said, never unwrapped.
    #[error("{0} stopped unexpectedly")]
    Internal(String),
}

/// What stops exo from writing its index, each with the fix a user can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StorageProblem {
    #[error("the disk is full — free some space")]
    DiskFull,
    #[error("permission denied — exo needs to write its index in .exo/ (e.g. `chmod -R u+w .exo`)")]
    NoPermission,
    #[error("the file system is read-only — exo cannot keep its index here")]
    ReadOnly,
    #[error("is not a folder — exo keeps its index in the folder .exo/; move this file away")]
    NotAFolder,
}

impl StorageProblem {
    /// The problem behind an OS error, if it is one of these.
    pub fn of_io(error: &std::io::Error) -> Option<StorageProblem> {
        use std::io::ErrorKind;
        match error.kind() {
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded => Some(StorageProblem::DiskFull),
            ErrorKind::PermissionDenied => Some(StorageProblem::NoPermission),
            ErrorKind::ReadOnlyFilesystem => Some(StorageProblem::ReadOnly),
            ErrorKind::NotADirectory => Some(StorageProblem::NotAFolder),
            _ => None,
        }
    }

    /// SQLite's own codes for the same problems. "Cannot open" is ambiguous, so the
    /// folder the file is in is looked at.
    fn of_sqlite(error: &rusqlite::Error, path: &std::path::Path) -> Option<StorageProblem> {
        use rusqlite::ErrorCode;
        let rusqlite::Error::SqliteFailure(failure, _) = error else { return None };
        match failure.code {
            ErrorCode::DiskFull => Some(StorageProblem::DiskFull),
            ErrorCode::ReadOnly | ErrorCode::PermissionDenied => Some(StorageProblem::NoPermission),
            ErrorCode::CannotOpen => StorageProblem::of_folder(path.parent()?),
            ErrorCode::SystemIoFailure => no_space_left(path.parent()?).then_some(StorageProblem::DiskFull),
            _ => None,
        }
    }

    fn of_tantivy(error: &tantivy::TantivyError) -> Option<StorageProblem> {
        use tantivy::TantivyError;
        use tantivy::directory::error::{OpenDirectoryError, OpenReadError, OpenWriteError};
        match error {
            TantivyError::IoError(io)
            | TantivyError::OpenWriteError(OpenWriteError::IoError { io_error: io, .. })
            | TantivyError::OpenReadError(OpenReadError::IoError { io_error: io, .. })
            | TantivyError::OpenDirectoryError(OpenDirectoryError::IoError { io_error: io, .. }) => {
                StorageProblem::of_io(io)
            }
            TantivyError::OpenDirectoryError(OpenDirectoryError::NotADirectory(_)) => Some(StorageProblem::NotAFolder),
            _ => None,
        }
    }

    /// A folder exo must write in that is a file, or that it may not write to.
    pub fn of_folder(dir: &std::path::Path) -> Option<StorageProblem> {
        let meta = std::fs::metadata(dir).ok()?;
        if !meta.is_dir() {
            return Some(StorageProblem::NotAFolder);
        }
        meta.permissions().readonly().then_some(StorageProblem::NoPermission)
    }
}

pub type Result<T, E = IndexError> = std::result::Result<T, E>;

/// Attaches the catalog path to rusqlite errors.
pub(crate) trait SqlContext<T> {
    fn at(self, path: &std::path::Path) -> Result<T>;
}

impl<T> SqlContext<T> for rusqlite::Result<T> {
    fn at(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|source| match StorageProblem::of_sqlite(&source, path) {
            Some(problem) => IndexError::Storage { path: path.to_path_buf(), problem },
            None => IndexError::Sqlite { path: path.to_path_buf(), source },
        })
    }
}

impl<T> SqlContext<T> for tantivy::Result<T> {
    fn at(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|source| match StorageProblem::of_tantivy(&source) {
            Some(problem) => IndexError::Storage { path: path.to_path_buf(), problem },
            None => IndexError::Text { path: path.to_path_buf(), source },
        })
    }
}

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> IndexError {
    let path = path.into();
    move |source| match StorageProblem::of_io(&source) {
        Some(problem) => IndexError::Storage { path, problem },
        None => IndexError::Io { path, source },
    }
}

/// Whether the file system holding `dir` has (next to) no room left.
#[cfg(unix)]
fn no_space_left(dir: &std::path::Path) -> bool {
    const ROOM_FOR_A_FEW_PAGES: u64 = 64 * 1024;
    rustix::fs::statvfs(dir).is_ok_and(|fs| fs.f_bavail.saturating_mul(fs.f_frsize) < ROOM_FOR_A_FEW_PAGES)
}

#[cfg(not(unix))]
fn no_space_left(_dir: &std::path::Path) -> bool {
    false
}

/// What a user (or an agent) can do about an error, as a value: each face says it in its
/// own terms (the CLI as a command line, an MCP server as a tool call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remedy {
    /// Build the index: there is none yet.
    Index,
    /// Run the index again once the problem named is fixed.
    IndexAgain,
    /// Throw the derived index away and build it again.
    Rebuild,
    /// Another writer holds the lock: try again, or wait longer for it.
    WaitLonger,
    /// Embed the notes, or search by words only meanwhile.
    EmbedOrSearchWords,
    /// Look the name up by search: it may be spelt otherwise.
    SearchFor(String),
}

impl IndexError {
    /// What fixes this error, when something does.
    pub fn remedy(&self) -> Option<Remedy> {
        match self {
            IndexError::Sqlite { .. } | IndexError::Text { .. } | IndexError::Degraded { .. } => Some(Remedy::Rebuild),
            IndexError::Missing { .. } => Some(Remedy::Index),
            IndexError::Locked { .. } => Some(Remedy::WaitLonger),
            IndexError::NoVectors => Some(Remedy::EmbedOrSearchWords),
            IndexError::NoteNotFound { name } => Some(Remedy::SearchFor(name.clone())),
            IndexError::Storage { problem: StorageProblem::DiskFull | StorageProblem::NotAFolder, .. } => {
                Some(Remedy::IndexAgain)
            }
            _ => None,
        }
    }

    /// Whether this error is evidence that the index itself is damaged, so that rebuilding
    /// it (deleting it first) is the repair: a corrupt or foreign file, a catalog missing its
    /// tables (a first build killed half-way), a broken text index. An I/O failure, a busy
    /// database or a folder exo may not write is not: rebuilding would throw away a good
    /// index and fail half-way for the same reason.
    pub fn is_damage(&self) -> bool {
        use rusqlite::ErrorCode;
        match self {
            IndexError::Sqlite { source: rusqlite::Error::SqliteFailure(failure, _), .. } => !matches!(
                failure.code,
                ErrorCode::SystemIoFailure
                    | ErrorCode::DatabaseBusy
                    | ErrorCode::DatabaseLocked
                    | ErrorCode::OutOfMemory
                    | ErrorCode::CannotOpen
                    | ErrorCode::ReadOnly
                    | ErrorCode::PermissionDenied
                    | ErrorCode::DiskFull
                    | ErrorCode::OperationInterrupted
            ),
            IndexError::Sqlite { .. } | IndexError::Text { .. } | IndexError::Degraded { .. } => true,
            _ => false,
        }
    }
}

/// Creates the folder `dir` (and its parents) for exo's own files, saying plainly when a
/// file stands in its place (`create_dir_all` only says "File exists").
pub(crate) fn create_folder(dir: &std::path::Path) -> Result<()> {
    match std::fs::create_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let at = dir.ancestors().find(|a| a.is_file()).unwrap_or(dir);
            Err(IndexError::Storage { path: at.to_path_buf(), problem: StorageProblem::NotAFolder })
        }
        Err(e) => Err(io_err(dir)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: i32, message: &str) -> IndexError {
        let source = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some(message.into()));
        IndexError::Sqlite { path: PathBuf::from("index.sqlite"), source }
    }

    #[test]
    fn only_damage_rebuilds() {
        // A first build killed before its tables existed leaves "no such table: meta".
        assert!(sqlite(rusqlite::ffi::SQLITE_ERROR, "no such table: meta").is_damage());
        assert!(sqlite(rusqlite::ffi::SQLITE_NOTADB, "file is not a database").is_damage());
        assert!(sqlite(rusqlite::ffi::SQLITE_CORRUPT, "malformed").is_damage());
        // The machine's problems: rebuilding would delete a good index.
        assert!(!sqlite(rusqlite::ffi::SQLITE_IOERR, "disk I/O error").is_damage());
        assert!(!sqlite(rusqlite::ffi::SQLITE_BUSY, "busy").is_damage());
        assert!(!sqlite(rusqlite::ffi::SQLITE_FULL, "full").is_damage());
        let storage = IndexError::Storage { path: PathBuf::from(".exo"), problem: StorageProblem::DiskFull };
        assert!(!storage.is_damage());
    }

    #[test]
    fn os_errors_name_the_problem_and_its_fix() {
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert_eq!(StorageProblem::of_io(&full), Some(StorageProblem::DiskFull));
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(StorageProblem::of_io(&denied), Some(StorageProblem::NoPermission));
        assert_eq!(StorageProblem::of_io(&std::io::Error::other("x")), None);
        let folder = tempfile::tempdir().unwrap();
        let file = folder.path().join(".exo");
        std::fs::write(&file, "").unwrap();
        assert!(matches!(
            create_folder(&file.join("text")),
            Err(IndexError::Storage { problem: StorageProblem::NotAFolder, .. })
        ));
    }
}
