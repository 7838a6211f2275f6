//! `exo hooks install|status`: git hooks as the reconciler. The scripts live in the vault's
//! `.githooks/` (so they are versioned with it) and `core.hooksPath` points git at them.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The hook scripts, as shipped in the repository's `githooks/` folder.
pub const HOOKS: &[(&str, &str)] = &[
    ("post-commit", include_str!("../../../githooks/post-commit")),
    ("post-merge", include_str!("../../../githooks/post-merge")),
    ("post-checkout", include_str!("../../../githooks/post-checkout")),
    ("post-rewrite", include_str!("../../../githooks/post-rewrite")),
];

pub const HOOKS_DIR: &str = ".githooks";

/// Every exo hook carries this line; it tells our scripts from a user's.
const MARKER: &str = "Installed by `exo hooks install`";

#[derive(Debug, thiserror::Error)]
pub enum HooksError {
    #[error("{path} is not inside a git repository — run `git init` there first")]
    NoRepository { path: PathBuf },
    #[error("{path} is a bare repository; exo needs a working tree")]
    Bare { path: PathBuf },
    #[error(
        "core.hooksPath is already {current:?}; exo's hooks were not activated — copy the scripts from {wanted} into it, or rerun with --force to point git at {wanted}"
    )]
    OtherHooksPath { current: String, wanted: String },
    #[error(
        "active hooks in .git/hooks ({names}) would stop running once core.hooksPath is set — move them into {wanted}/, or rerun with --force"
    )]
    WouldDisable { names: String, wanted: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}

#[derive(Debug, Clone, Serialize)]
pub struct HookState {
    pub name: String,
    pub present: bool,
    pub executable: bool,
    /// The file is exo's script (not a user's hook of the same name).
    pub from_exo: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HooksStatus {
    /// Hooks folder, relative to the repository's working tree, that git should use.
    pub hooks_path: String,
    /// What `core.hooksPath` is set to now.
    pub configured: Option<String>,
    pub active: bool,
    pub hooks: Vec<HookState>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InstallReport {
    pub hooks_path: String,
    pub written: Vec<String>,
    /// Hooks left as they were (already there, or a user's own file).
    pub kept: Vec<String>,
    pub status: HooksStatus,
}

struct Repo {
    repo: git2::Repository,
    hooks_dir: PathBuf,
    hooks_path: String,
}

fn open(vault_root: &Path) -> Result<Repo, HooksError> {
    let repo = git2::Repository::discover(vault_root)
        .map_err(|_| HooksError::NoRepository { path: vault_root.to_path_buf() })?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| HooksError::Bare { path: vault_root.to_path_buf() })?
        .canonicalize()
        .map_err(|source| HooksError::Io { path: vault_root.to_path_buf(), source })?;
    let hooks_dir = vault_root.join(HOOKS_DIR);
    let hooks_path = hooks_dir
        .strip_prefix(&workdir)
        .map(|rel| rel.to_string_lossy().replace('\\', "/"))
        .unwrap_or_else(|_| hooks_dir.to_string_lossy().into_owned());
    Ok(Repo { repo, hooks_dir, hooks_path })
}

pub fn status(vault_root: &Path) -> Result<HooksStatus, HooksError> {
    let repo = open(vault_root)?;
    status_of(&repo)
}

fn status_of(repo: &Repo) -> Result<HooksStatus, HooksError> {
    let configured = repo.repo.config()?.get_string("core.hooksPath").ok();
    let hooks: Vec<HookState> = HOOKS
        .iter()
        .map(|(name, _)| {
            let path = repo.hooks_dir.join(name);
            let text = fs::read_to_string(&path).ok();
            HookState {
                name: name.to_string(),
                present: text.is_some(),
                executable: is_executable(&path),
                from_exo: text.is_some_and(|t| t.contains(MARKER)),
            }
        })
        .collect();
    let points_here = configured.as_deref().map(|c| c.trim_end_matches('/')) == Some(repo.hooks_path.as_str());
    Ok(HooksStatus {
        active: points_here && hooks.iter().all(|h| h.present && h.executable),
        hooks_path: repo.hooks_path.clone(),
        configured,
        hooks,
    })
}

/// Writes the hooks that are missing (never overwriting a file) and sets `core.hooksPath`.
pub fn install(vault_root: &Path, force: bool) -> Result<InstallReport, HooksError> {
    let repo = open(vault_root)?;
    let configured = repo.repo.config()?.get_string("core.hooksPath").ok();
    if !force {
        refuse_to_disable_other_hooks(&repo, configured.as_deref())?;
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| HooksError::Io { path, source }
    };
    fs::create_dir_all(&repo.hooks_dir).map_err(io(&repo.hooks_dir))?;
    let (mut written, mut kept) = (Vec::new(), Vec::new());
    for (name, script) in HOOKS {
        let path = repo.hooks_dir.join(name);
        if path.exists() {
            kept.push(name.to_string());
            continue;
        }
        fs::write(&path, script).map_err(io(&path))?;
        make_executable(&path).map_err(io(&path))?;
        written.push(name.to_string());
    }
    repo.repo.config()?.open_level(git2::ConfigLevel::Local)?.set_str("core.hooksPath", &repo.hooks_path)?;
    Ok(InstallReport { hooks_path: repo.hooks_path.clone(), written, kept, status: status_of(&repo)? })
}

fn refuse_to_disable_other_hooks(repo: &Repo, configured: Option<&str>) -> Result<(), HooksError> {
    if let Some(current) = configured.filter(|c| c.trim_end_matches('/') != repo.hooks_path) {
        return Err(HooksError::OtherHooksPath { current: current.to_string(), wanted: repo.hooks_path.clone() });
    }
    if configured.is_some() {
        return Ok(());
    }
    let default_dir = repo.repo.path().join("hooks");
    let mut active: Vec<String> = fs::read_dir(&default_dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_none_or(|e| e != "sample") && p.is_file() && is_executable(p))
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    active.sort();
    if active.is_empty() {
        Ok(())
    } else {
        Err(HooksError::WouldDisable { names: active.join(", "), wanted: repo.hooks_path.clone() })
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(unix)]
fn make_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut permissions = fs::metadata(path)?.permissions();
    permissions.set_mode(0o755);
    fs::set_permissions(path, permissions)
}

#[cfg(not(unix))]
fn make_executable(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        git2::Repository::init(dir.path()).unwrap();
        dir
    }

    #[test]
    fn every_script_is_marked_and_never_fails_git() {
        for (name, script) in HOOKS {
            assert!(script.contains(MARKER), "{name}");
            assert!(script.trim_end().ends_with("exit 0"), "{name} must end with exit 0");
            assert!(script.contains("command -v exo"), "{name} must skip when exo is absent");
        }
    }

    #[test]
    fn install_writes_hooks_and_sets_hooks_path() {
        let dir = repo();
        let root = dir.path().canonicalize().unwrap();
        let report = install(&root, false).unwrap();
        assert_eq!(report.written.len(), 4);
        assert!(report.status.active, "{:?}", report.status);
        assert_eq!(report.status.configured.as_deref(), Some(".githooks"));
        let again = install(&root, false).unwrap();
        assert!(again.written.is_empty());
        assert_eq!(again.kept.len(), 4);
    }

    #[test]
    fn user_hook_files_are_never_overwritten() {
        let dir = repo();
        let root = dir.path().canonicalize().unwrap();
        fs::create_dir_all(root.join(HOOKS_DIR)).unwrap();
        fs::write(root.join(".githooks/post-commit"), "#!/bin/sh\necho mine\n").unwrap();
        let report = install(&root, false).unwrap();
        assert_eq!(fs::read_to_string(root.join(".githooks/post-commit")).unwrap(), "#!/bin/sh\necho mine\n");
        assert!(report.kept.contains(&"post-commit".to_string()));
        let state = report.status.hooks.iter().find(|h| h.name == "post-commit").unwrap();
        assert!(!state.from_exo);
    }

    #[test]
    fn refuses_to_silence_existing_hooks() {
        let dir = repo();
        let root = dir.path().canonicalize().unwrap();
        let hook = root.join(".git/hooks/pre-commit");
        fs::write(&hook, "#!/bin/sh\n").unwrap();
        make_executable(&hook).unwrap();
        let err = install(&root, false).unwrap_err();
        assert!(matches!(err, HooksError::WouldDisable { .. }), "{err}");
        assert!(install(&root, true).unwrap().status.active);
    }

    #[test]
    fn refuses_another_hooks_path() {
        let dir = repo();
        let root = dir.path().canonicalize().unwrap();
        let repo = git2::Repository::open(&root).unwrap();
        repo.config().unwrap().set_str("core.hooksPath", ".husky").unwrap();
        assert!(matches!(install(&root, false), Err(HooksError::OtherHooksPath { .. })));
    }

    #[test]
    fn vault_in_a_subfolder_gets_a_relative_path() {
        let dir = repo();
        let root = dir.path().canonicalize().unwrap();
        let vault = root.join("notes");
        fs::create_dir_all(&vault).unwrap();
        let report = install(&vault, false).unwrap();
        assert_eq!(report.hooks_path, "notes/.githooks");
        assert!(report.status.active);
    }
}
