//! The bearer token `exo mcp --http` requires: 32 random bytes as hex, kept in a file only
//! its owner can read (mode 0600) under the user's config folder, which the face passes in.
//! `EXO_MCP_TOKEN` (read by the face) takes precedence over the file.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The token file inside the config folder the face names (e.g. `~/.config/exo`).
pub fn token_path(config_dir: &Path) -> PathBuf {
    config_dir.join("mcp-token")
}

/// What `exo mcp token` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenFile {
    /// A new token was written there; it is shown this once.
    Created { path: PathBuf, token: String },
    /// A token file was already there (its token is not shown unless asked).
    Exists { path: PathBuf },
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("cannot write the token file {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the token file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the token file {path} is empty; delete it and run `exo mcp token` again")]
    Empty { path: PathBuf },
    #[error("no random bytes from the operating system for a token: {0}")]
    Random(String),
}

/// What `exo mcp token` answers: where the token is, whether it was made now, and the token
/// itself when it was made now or asked for.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenAnswer {
    pub path: PathBuf,
    pub created: bool,
    pub token: Option<String>,
}

/// Makes the token unless there is one; the token is in the answer when it was made now or
/// `show` asks for it.
pub fn ensure_token(config_dir: &Path, show: bool) -> Result<TokenAnswer, TokenError> {
    Ok(match create_token(config_dir)? {
        TokenFile::Created { path, token } => TokenAnswer { path, created: true, token: Some(token) },
        TokenFile::Exists { path } => {
            let token = if show { read_token(config_dir)? } else { None };
            TokenAnswer { path, created: false, token }
        }
    })
}

/// Creates the token file (and its folder) unless it exists. The file is created with mode
/// 0600 and never replaced, so a token already given to clients keeps working.
pub fn create_token(config_dir: &Path) -> Result<TokenFile, TokenError> {
    let path = token_path(config_dir);
    if path.exists() {
        return Ok(TokenFile::Exists { path });
    }
    let write_error = |source| TokenError::Write { path: path.clone(), source };
    std::fs::create_dir_all(config_dir).map_err(write_error)?;
    let token = new_token()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = match options.open(&path) {
        Ok(file) => file,
        // Another `exo mcp token` got there first: its token stands.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(TokenFile::Exists { path }),
        Err(e) => return Err(write_error(e)),
    };
    file.write_all(format!("{token}\n").as_bytes()).and_then(|()| file.sync_all()).map_err(write_error)?;
    Ok(TokenFile::Created { path, token })
}

/// The token in the file, if there is a file.
pub fn read_token(config_dir: &Path) -> Result<Option<String>, TokenError> {
    let path = token_path(config_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(TokenError::Read { path, source }),
    };
    match text.trim() {
        "" => Err(TokenError::Empty { path }),
        token => Ok(Some(token.to_string())),
    }
}

fn new_token() -> Result<String, TokenError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Compares a presented token with the real one in time that does not depend on where they
/// first differ (only on the length, which is not the secret).
pub fn tokens_match(presented: &[u8], real: &[u8]) -> bool {
    if presented.len() != real.len() {
        return false;
    }
    presented.iter().zip(real).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("exo");
        let TokenFile::Created { path, token } = create_token(&config).unwrap() else { panic!("not created") };
        assert_eq!(token.len(), 64);
        assert_eq!(read_token(&config).unwrap().as_deref(), Some(token.as_str()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(create_token(&config).unwrap(), TokenFile::Exists { path });
        assert_eq!(read_token(&config).unwrap().as_deref(), Some(token.as_str()));
    }

    #[test]
    fn tokens_match_only_when_equal() {
        assert!(tokens_match(b"abc", b"abc"));
        assert!(!tokens_match(b"abd", b"abc"));
        assert!(!tokens_match(b"ab", b"abc"));
        assert!(!tokens_match(b"", b"abc"));
    }
}
