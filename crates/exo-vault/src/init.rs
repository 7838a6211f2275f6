//! `exo init`: make a folder a vault. The only files exo-vault ever writes, and never a note:
//! `exo.toml` when absent, and one line appended to `.gitignore` when `.exo/` is not ignored.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::config::{CONFIG_FILE, DEFAULT_CONFIG_TEXT};
use crate::error::{Result, VaultError};

#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    pub root: String,
    pub config_written: bool,
    pub gitignore_updated: bool,
}

/// Makes `dir` (created if absent) a vault; never clobbers a file.
pub fn init_vault(dir: &Path) -> Result<InitReport> {
    fs::create_dir_all(dir).map_err(|source| VaultError::Write { path: dir.to_path_buf(), source })?;
    let config_written = write_config_if_missing(dir)?;
    let gitignore_updated = ignore_exo_dir(dir)?;
    let root = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf()).display().to_string();
    Ok(InitReport { root, config_written, gitignore_updated })
}

fn write_config_if_missing(dir: &Path) -> Result<bool> {
    let path = dir.join(CONFIG_FILE);
    if path.exists() {
        return Ok(false);
    }
    fs::write(&path, DEFAULT_CONFIG_TEXT).map_err(|source| VaultError::Write { path, source })?;
    Ok(true)
}

/// Appends `.exo/` to `.gitignore` unless a line already ignores it; never rewrites the file.
fn ignore_exo_dir(dir: &Path) -> Result<bool> {
    let path = dir.join(".gitignore");
    let existing = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(VaultError::io(&path, e)),
    };
    let already = existing.lines().map(str::trim).any(|l| matches!(l, ".exo" | ".exo/" | "/.exo" | "/.exo/"));
    if already {
        return Ok(false);
    }
    let separator = if existing.is_empty() || existing.ends_with('\n') { "" } else { "\n" };
    let write = || -> std::io::Result<()> {
        let mut file = fs::OpenOptions::new().create(true).append(true).open(&path)?;
        write!(file, "{separator}# exo's derived index (rebuild with `exo index`)\n.exo/\n")
    };
    write().map_err(|source| VaultError::Write { path: path.clone(), source })?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_writes_what_is_missing_and_nothing_twice() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".gitignore"), "target/").unwrap();
        let first = init_vault(dir.path()).unwrap();
        assert!(first.config_written && first.gitignore_updated);
        assert_eq!(std::fs::read_to_string(dir.path().join(".gitignore")).unwrap().lines().next(), Some("target/"));
        let again = init_vault(dir.path()).unwrap();
        assert!(!again.config_written && !again.gitignore_updated);
        std::fs::write(dir.path().join(CONFIG_FILE), "# mine\n").unwrap();
        init_vault(dir.path()).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join(CONFIG_FILE)).unwrap(), "# mine\n", "never clobbered");
    }
}
