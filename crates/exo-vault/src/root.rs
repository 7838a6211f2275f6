//! Where the vault is: `--vault`, else `$EXO_ROOT`, else the nearest `exo.toml`, else the git top level.

use std::path::{Path, PathBuf};

use crate::config::CONFIG_FILE;
use crate::error::{Result, VaultError};

/// Finds the vault root. `explicit` is `--vault`, `env_root` is `$EXO_ROOT`; both are
/// passed in rather than read here so callers and tests decide where they come from.
pub fn discover_root(explicit: Option<&Path>, env_root: Option<&Path>, cwd: &Path) -> Result<PathBuf> {
    if let Some(given) = explicit.or(env_root).filter(|p| !p.as_os_str().is_empty()) {
        return canonical_dir(&cwd.join(given));
    }
    let found = nearest_ancestor_with(cwd, |dir| dir.join(CONFIG_FILE).is_file())
        .or_else(|| nearest_ancestor_with(cwd, |dir| dir.join(".git").exists()));
    match found {
        Some(dir) => canonical_dir(&dir),
        None => {
            Err(VaultError::NotFound { start: cwd.to_path_buf(), above: cwd.ancestors().count().saturating_sub(1) })
        }
    }
}

fn nearest_ancestor_with(start: &Path, is_root: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    start.ancestors().find(|dir| is_root(dir)).map(Path::to_path_buf)
}

fn canonical_dir(path: &Path) -> Result<PathBuf> {
    let canonical = path.canonicalize().map_err(|e| VaultError::io(path, e))?;
    if canonical.is_dir() { Ok(canonical) } else { Err(VaultError::NotADirectory { path: canonical }) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn explicit_beats_env_and_ancestors() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        fs::write(b.path().join(CONFIG_FILE), "").unwrap();
        let root = discover_root(Some(a.path()), Some(b.path()), b.path()).unwrap();
        assert_eq!(root, a.path().canonicalize().unwrap());
        let root = discover_root(None, Some(a.path()), b.path()).unwrap();
        assert_eq!(root, a.path().canonicalize().unwrap());
    }

    #[test]
    fn nearest_exo_toml_wins_over_git() {
        let top = tempfile::tempdir().unwrap();
        fs::create_dir_all(top.path().join(".git")).unwrap();
        let vault = top.path().join("notes");
        let deep = vault.join("a/b");
        fs::create_dir_all(&deep).unwrap();
        fs::write(vault.join(CONFIG_FILE), "").unwrap();
        assert_eq!(discover_root(None, None, &deep).unwrap(), vault.canonicalize().unwrap());
    }

    #[test]
    fn git_top_level_is_the_fallback() {
        let top = tempfile::tempdir().unwrap();
        fs::create_dir_all(top.path().join(".git")).unwrap();
        let deep = top.path().join("x/y");
        fs::create_dir_all(&deep).unwrap();
        assert_eq!(discover_root(None, None, &deep).unwrap(), top.path().canonicalize().unwrap());
    }

    #[test]
    fn nothing_found_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = discover_root(None, None, dir.path()).unwrap_err();
        // A temp dir may sit under a git checkout on some machines; only assert when not.
        if let VaultError::NotFound { .. } = err {
            let message = err.to_string();
            assert!(message.contains("--vault") && message.contains("exo init"), "{message}");
            assert!(message.contains(&dir.path().display().to_string()), "names where it looked: {message}");
        }
    }

    #[test]
    fn explicit_file_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.md");
        fs::write(&file, "x").unwrap();
        assert!(matches!(discover_root(Some(&file), None, dir.path()), Err(VaultError::NotADirectory { .. })));
    }
}
