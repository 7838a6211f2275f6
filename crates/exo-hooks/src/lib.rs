//! exo-hooks: the triggers that keep the index in line with the files, apart from the garden's
//! detection: the git hooks (`exo hooks install|status|fill`), and next the watcher.
//!
//! It must never disable or rewrite a hook a user wrote (only exo's own scripts and its marked
//! blocks), never make git wait or fail (but for the pre-commit hook refusing a commit that
//! breaks an enforced `[check]` policy, which is what it is for), and never print.
//!
//! Where git runs hooks from decides where exo's go, and nobody else's hook is ever disabled:
//! with no hooks of the user's, exo's scripts live in the vault's `.githooks/` (versioned with
//! it) and `core.hooksPath` points there; when `core.hooksPath` already names a folder (husky,
//! lefthook, pre-commit) or `.git/hooks` holds active hooks, exo writes its script where that
//! folder has none and chains into the user's shell hooks with a marked block.

#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The hook scripts, as shipped in the repository's `githooks/` folder.
const HOOKS: &[(&str, &str)] = &[
    ("post-commit", include_str!("../../../githooks/post-commit")),
    ("post-merge", include_str!("../../../githooks/post-merge")),
    ("post-checkout", include_str!("../../../githooks/post-checkout")),
    ("post-rewrite", include_str!("../../../githooks/post-rewrite")),
    ("pre-commit", include_str!("../../../githooks/pre-commit")),
];

/// The one hook whose failure must reach git: it refuses commits (`exo check --staged`).
const REFUSING_HOOK: &str = "pre-commit";

const HOOKS_DIR: &str = ".githooks";

/// Every exo script carries this line; it tells our scripts from a user's.
const MARKER: &str = "Installed by `exo hooks install`";
/// exo's part of a user's hook sits between these two lines.
const BLOCK_START: &str = "# >>> exo >>>";
const BLOCK_END: &str = "# <<< exo <<<";
/// The template line that `install` rewrites to name the vault.
const VAULT_LINE: &str = "\nEXO_VAULT=. ";
/// Local git config key holding the exo that installed the hooks, for when `exo` is not on
/// PATH. Git config rather than the script: the scripts are versioned and shared between
/// machines, an absolute path is not.
const EXO_BIN_KEY: &str = "exo.bin";
/// Under `.exo/`: held by the one background fill that is running.
const FILL_LOCK: &str = "hook-fill.lock";
/// Under `.exo/`: left by every hook; the running fill takes another turn while it exists.
const FILL_WANTED: &str = "hook-fill.wanted";

#[derive(Debug, thiserror::Error)]
pub enum HooksError {
    #[error("{path} is not inside a git repository — run `git init` there first")]
    NoRepository { path: PathBuf },
    #[error("{path} is a bare repository; exo needs a working tree")]
    Bare { path: PathBuf },
    #[error(
        "core.hooksPath is {current:?} in your {level} git config, a folder every repository shares: exo will not install there. Set a hooks folder for this repository (`git config core.hooksPath .githooks`, calling your shared hooks from it), then rerun `exo hooks install`"
    )]
    SharedHooksPath { current: String, level: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("git: {0}")]
    Git(#[from] git2::Error),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> HooksError + use<> {
    let path = path.to_path_buf();
    move |source| HooksError::Io { path, source }
}

/// What one hook file in git's hooks folder does about exo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookKind {
    /// No file: git runs nothing for this hook.
    Missing,
    /// The whole file is exo's script.
    Exo,
    /// The user's shell hook with exo's marked block in it.
    Chained,
    /// The user's shell hook, without exo's block.
    Shell,
    /// The user's hook in another language, which names exo's script (`exo-<hook>`) beside it.
    CallsExo,
    /// The user's hook in another language that does not call exo.
    NotShell,
}

impl HookKind {
    fn runs_exo(self) -> bool {
        matches!(self, HookKind::Exo | HookKind::Chained | HookKind::CallsExo)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HookState {
    pub name: String,
    pub present: bool,
    pub executable: bool,
    pub kind: HookKind,
    /// exo's script or block is the one this exo writes (false: an older exo's, or edited).
    pub current: bool,
}

/// Can the hooks start exo: on PATH, or at the path recorded at install?
#[derive(Debug, Clone, Serialize)]
pub struct ExoLookup {
    pub on_path: bool,
    pub recorded: Option<String>,
    pub recorded_runs: bool,
    pub finds_exo: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct HooksStatus {
    /// The folder git runs hooks from (core.hooksPath, else .git/hooks), relative to the
    /// working tree when inside it.
    pub hooks_path: String,
    /// What `core.hooksPath` is set to now.
    pub configured: Option<String>,
    /// Every index-sync hook git runs from `hooks_path` runs exo (its script, or its block in
    /// yours). The pre-commit check (in `hooks`) is not counted.
    pub active: bool,
    pub hooks: Vec<HookState>,
    pub exo: ExoLookup,
}

impl HooksStatus {
    /// Whether the hooks will reconcile: git runs them and they can find exo.
    pub fn works(&self) -> bool {
        self.active && self.exo.finds_exo
    }
}

/// A hook exo could not chain into by itself, and the line that does it by hand.
#[derive(Debug, Clone, Serialize)]
pub struct ByHand {
    pub hook: String,
    pub line: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Placed {
    /// exo's script, written where there was no hook.
    pub written: Vec<String>,
    /// The user's shell hooks that now call exo in a marked block.
    pub chained: Vec<String>,
    /// exo's scripts or blocks rewritten with this exo's version (`--force`).
    pub updated: Vec<String>,
    /// exo's scripts or blocks already as this exo writes them.
    pub kept: Vec<String>,
    /// exo's scripts or blocks from another exo version (or edited): left; `--force` rewrites.
    pub outdated: Vec<String>,
    /// Hooks in other languages: left as they are; add the line to run exo's script.
    pub by_hand: Vec<ByHand>,
}

#[derive(Debug, Clone, Serialize)]
pub struct InstallReport {
    pub hooks_path: String,
    #[serde(flatten)]
    pub placed: Placed,
    pub status: HooksStatus,
}

struct Repo {
    repo: git2::Repository,
    workdir: PathBuf,
    /// The vault from the working tree's top, as the scripts' `EXO_VAULT` names it.
    vault_rel: String,
}

fn open(vault_root: &Path) -> Result<Repo, HooksError> {
    let repo = git2::Repository::discover(vault_root)
        .map_err(|_| HooksError::NoRepository { path: vault_root.to_path_buf() })?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| HooksError::Bare { path: vault_root.to_path_buf() })?
        .canonicalize()
        .map_err(io(vault_root))?;
    let vault = vault_root.canonicalize().map_err(io(vault_root))?;
    let vault_rel = relative(&workdir, &vault);
    Ok(Repo { repo, workdir, vault_rel })
}

/// `path` relative to `base` with forward slashes ("" for `base` itself), else absolute.
fn relative(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .map(|rel| rel.to_string_lossy().replace('\\', "/"))
        .unwrap_or_else(|_| path.to_string_lossy().into_owned())
}

impl Repo {
    fn vault_hooks_dir(&self) -> PathBuf {
        self.workdir.join(&self.vault_rel).join(HOOKS_DIR)
    }

    fn display(&self, dir: &Path) -> String {
        relative(&self.workdir, dir)
    }

    /// `core.hooksPath` as written, and the folder it names (relative to the working tree's
    /// top, where git runs hooks; `~/` expanded as git does).
    fn configured(&self) -> Result<Option<(String, PathBuf)>, HooksError> {
        let config = self.repo.config()?;
        let Ok(raw) = config.get_string("core.hooksPath") else {
            return Ok(None);
        };
        let path = config.get_path("core.hooksPath").unwrap_or_else(|_| PathBuf::from(&raw));
        let dir = if path.is_absolute() { path } else { self.workdir.join(path) };
        Ok(Some((raw, dir)))
    }

    /// Where git runs hooks from now.
    fn git_hooks_dir(&self) -> Result<PathBuf, HooksError> {
        Ok(match self.configured()? {
            Some((_, dir)) => dir,
            None => self.repo.commondir().join("hooks"),
        })
    }

    fn script(&self, template: &str) -> String {
        render(template, &self.vault_rel)
    }
}

/// The template with `EXO_VAULT` naming the vault (relative to the working tree's top).
fn render(template: &str, vault_rel: &str) -> String {
    let vault = if vault_rel.is_empty() || Path::new(vault_rel).is_absolute() {
        if vault_rel.is_empty() { ".".to_string() } else { vault_rel.to_string() }
    } else {
        // "./" so a folder named like an option is still a folder to `cd`.
        format!("./{vault_rel}")
    };
    template.replacen(VAULT_LINE, &format!("\nEXO_VAULT={} ", shell_quote(&vault)), 1)
}

/// `s` as one single-quoted shell word.
fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"./_-".contains(&b)) {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// exo's script as a block for a user's shell hook: in a subshell, so its `exit`s, variables
/// and failures stay its own (`|| true` keeps a hook running under `set -e`), except the
/// pre-commit check's refusal, which ends the user's hook with it.
fn block(name: &str, script: &str) -> String {
    let body = script.split_once('\n').map_or(script, |(_, rest)| rest);
    let (job, on_failure) = if name == REFUSING_HOOK {
        ("checks staged notes against exo.toml's [check]", "exit 1")
    } else {
        ("keeps exo's index in sync", "true")
    };
    format!(
        "{BLOCK_START} managed by `exo hooks install` (`--force` rewrites it): {job}\n(\n{body}) || {on_failure}\n{BLOCK_END}\n"
    )
}

/// exo's block in `text`, with the offsets it spans (end line included).
fn find_block(text: &str) -> Option<(usize, usize)> {
    let start = text.find(BLOCK_START)?;
    let end_at = start + text[start..].find(BLOCK_END)?;
    let end = text[end_at..].find('\n').map_or(text.len(), |n| end_at + n + 1);
    Some((start, end))
}

/// Whether git runs this hook with a POSIX-ish shell, where exo's block can go. A file with
/// no `#!` line counts: git runs it with `sh`.
fn is_shell(text: &str) -> bool {
    let Some(line) = text.lines().next().and_then(|l| l.strip_prefix("#!")) else {
        return true;
    };
    let mut words = line.split_whitespace();
    let mut program = words.next().unwrap_or("");
    if program.rsplit('/').next() == Some("env") {
        program = words.find(|w| !w.starts_with('-')).unwrap_or("");
    }
    let name = program.rsplit('/').next().unwrap_or(program);
    matches!(name, "sh" | "bash" | "dash" | "zsh" | "ksh" | "ash" | "mksh")
}

/// The user's hook with exo's block right after its `#!` line: before any `exit` or `exec`
/// of theirs could skip it, and it reads nothing from stdin (post-rewrite's list stays theirs).
fn with_block(text: &str, block: &str) -> String {
    if !text.starts_with("#!") {
        return format!("{block}{text}");
    }
    match text.split_once('\n') {
        Some((shebang, rest)) => format!("{shebang}\n{block}{rest}"),
        None => format!("{text}\n{block}"),
    }
}

fn sibling_name(hook: &str) -> String {
    format!("exo-{hook}")
}

pub fn status(vault_root: &Path) -> Result<HooksStatus, HooksError> {
    status_of(&open(vault_root)?)
}

fn status_of(repo: &Repo) -> Result<HooksStatus, HooksError> {
    let dir = repo.git_hooks_dir()?;
    let hooks: Vec<HookState> =
        HOOKS.iter().map(|(name, template)| inspect(&dir, name, &repo.script(template))).collect();
    Ok(HooksStatus {
        // The index-sync hooks. The pre-commit check is listed but does not count: it only
        // matters with a `[check]` policy, and hooks installed before it existed still sync.
        active: hooks.iter().filter(|h| h.name != REFUSING_HOOK).all(|h| h.kind.runs_exo() && h.executable),
        hooks_path: repo.display(&dir),
        configured: repo.configured()?.map(|(raw, _)| raw),
        hooks,
        exo: exo_lookup(&repo.repo, std::env::var_os("PATH").as_deref())?,
    })
}

fn inspect(dir: &Path, name: &str, script: &str) -> HookState {
    let path = dir.join(name);
    let text = fs::read(&path).ok();
    let (kind, current) = match text.as_deref().map(std::str::from_utf8) {
        None => (HookKind::Missing, false),
        Some(Ok(text)) => match find_block(text) {
            Some((start, end)) => (HookKind::Chained, text[start..end] == block(name, script)),
            None if text.contains(MARKER) => (HookKind::Exo, text == script),
            None if is_shell(text) => (HookKind::Shell, false),
            None if text.contains(&sibling_name(name)) => (HookKind::CallsExo, true),
            None => (HookKind::NotShell, false),
        },
        Some(Err(_)) => (HookKind::NotShell, false),
    };
    HookState { name: name.to_string(), present: text.is_some(), executable: is_executable(&path), kind, current }
}

fn exo_lookup(repo: &git2::Repository, path_var: Option<&std::ffi::OsStr>) -> Result<ExoLookup, HooksError> {
    let on_path = path_var.is_some_and(|paths| {
        std::env::split_paths(paths).any(|dir| is_executable(&dir.join(format!("exo{}", std::env::consts::EXE_SUFFIX))))
    });
    let recorded = repo.config()?.get_string(EXO_BIN_KEY).ok();
    let recorded_runs = recorded.as_deref().is_some_and(|p| is_executable(Path::new(p)));
    Ok(ExoLookup { on_path, recorded, recorded_runs, finds_exo: on_path || recorded_runs })
}

/// Puts exo's hooks where git runs hooks from, never disabling or overwriting anyone's:
/// with no hooks of the user's, into the vault's `.githooks/` with `core.hooksPath` pointing
/// there; otherwise into git's folder as it is (see [`place`]). `force` rewrites exo's own
/// scripts and blocks with this version. `exo_bin`, the running exo, is recorded for hooks
/// that find no `exo` on PATH.
pub fn install(vault_root: &Path, force: bool, exo_bin: Option<&Path>) -> Result<InstallReport, HooksError> {
    let repo = open(vault_root)?;
    let dir = choose_dir(&repo)?;
    fs::create_dir_all(&dir).map_err(io(&dir))?;
    let mut placed = Placed::default();
    for (name, template) in HOOKS {
        place(&dir, name, &repo.script(template), force, &repo.display(&dir), &mut placed)?;
    }
    let mut local = repo.repo.config()?.open_level(git2::ConfigLevel::Local)?;
    if dir == repo.vault_hooks_dir() {
        local.set_str("core.hooksPath", &repo.display(&dir))?;
    }
    if let Some(bin) = exo_bin.and_then(Path::to_str) {
        local.set_str(EXO_BIN_KEY, bin)?;
    }
    Ok(InstallReport { hooks_path: repo.display(&dir), placed, status: status_of(&repo)? })
}

/// The vault's `.githooks/` unless git already runs hooks from somewhere that holds some.
fn choose_dir(repo: &Repo) -> Result<PathBuf, HooksError> {
    let config = repo.repo.config()?;
    if let Ok(entry) = config.get_entry("core.hooksPath") {
        let level = entry.level();
        if !matches!(level, git2::ConfigLevel::Local | git2::ConfigLevel::Worktree | git2::ConfigLevel::App) {
            return Err(HooksError::SharedHooksPath {
                current: entry.value().unwrap_or_default().to_string(),
                level: format!("{level:?}").to_lowercase(),
            });
        }
    }
    if repo.configured()?.is_some() || !active_default_hooks(repo).is_empty() {
        return repo.git_hooks_dir();
    }
    Ok(repo.vault_hooks_dir())
}

/// Executable hooks in `.git/hooks`: pointing `core.hooksPath` elsewhere would silence them.
fn active_default_hooks(repo: &Repo) -> Vec<String> {
    let default_dir = repo.repo.commondir().join("hooks");
    fs::read_dir(&default_dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_none_or(|e| e != "sample") && p.is_file() && is_executable(p))
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect()
}

/// One hook in `dir`: exo's script where there is none; exo's block in a user's shell hook;
/// a user's hook in another language is left, with exo's script beside it (`exo-<hook>`)
/// and the line that runs it. `shown` is `dir` as the user sees it.
fn place(
    dir: &Path,
    name: &str,
    script: &str,
    force: bool,
    shown: &str,
    placed: &mut Placed,
) -> Result<(), HooksError> {
    let path = dir.join(name);
    let Some(bytes) = read_if_present(&path)? else {
        write_script(&path, script)?;
        placed.written.push(name.to_string());
        return Ok(());
    };
    let text = match String::from_utf8(bytes) {
        Ok(text) if is_shell(&text) || text.contains(MARKER) => text,
        other => {
            let sibling = dir.join(sibling_name(name));
            if force || !sibling.exists() {
                write_script(&sibling, script)?;
            }
            if other.is_ok_and(|text| text.contains(&sibling_name(name))) {
                placed.kept.push(name.to_string());
            } else {
                let line = format!("sh {}/{}", shell_quote(shown), sibling_name(name));
                placed.by_hand.push(ByHand { hook: name.to_string(), line });
            }
            return Ok(());
        }
    };
    let updated = match find_block(&text) {
        Some((start, end)) => {
            let wanted = block(name, script);
            (text[start..end] != wanted).then(|| format!("{}{wanted}{}", &text[..start], &text[end..]))
        }
        None if text.contains(MARKER) => (text != script).then(|| script.to_string()),
        None => {
            fs::write(&path, with_block(&text, &block(name, script))).map_err(io(&path))?;
            placed.chained.push(name.to_string());
            return Ok(());
        }
    };
    match updated {
        None => placed.kept.push(name.to_string()),
        Some(new_text) if force => {
            fs::write(&path, new_text).map_err(io(&path))?;
            placed.updated.push(name.to_string());
        }
        Some(_) => placed.outdated.push(name.to_string()),
    }
    Ok(())
}

fn read_if_present(path: &Path) -> Result<Option<Vec<u8>>, HooksError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(path)(e)),
    }
}

fn write_script(path: &Path, script: &str) -> Result<(), HooksError> {
    fs::write(path, script).map_err(io(path))?;
    make_executable(path).map_err(io(path))
}

/// Whether this process may fill vectors now. Hooks start a fill after every commit; only
/// one runs at a time, and it fills again while hooks keep asking, so the vectors catch up
/// with commits made during a fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillTurn {
    /// This process ran `fill` this many times.
    Ran(usize),
    /// Another process is filling; it has seen this request and will fill again.
    Queued,
}

/// Runs `fill` for the hooks, one process at a time (see [`FillTurn`]). The turn is an OS
/// file lock on `.exo/hook-fill.lock`, which a crashed fill never leaves behind.
pub fn fill_in_turn(vault_root: &Path, mut fill: impl FnMut()) -> Result<FillTurn, HooksError> {
    // Not created here: a fill for a vault that was never indexed (or is gone) has no work.
    let dir = vault_root.join(exo_index::INDEX_DIR);
    let wanted = dir.join(FILL_WANTED);
    let lock_path = dir.join(FILL_LOCK);
    // Ask first, then try for the turn: whoever holds it looks for requests after letting go.
    fs::write(&wanted, b"").map_err(io(&wanted))?;
    let mut lock =
        fs::OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(io(&lock_path))?;
    let mut runs = 0;
    loop {
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Ok(if runs == 0 { FillTurn::Queued } else { FillTurn::Ran(runs) });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
        }
        // For a person wondering what runs: the pid of the fill.
        let _ = lock.set_len(0).and_then(|()| writeln!(lock, "{}", std::process::id()));
        while take_request(&wanted)? {
            fill();
            runs += 1;
        }
        lock.unlock().map_err(io(&lock_path))?;
        if !wanted.exists() {
            return Ok(FillTurn::Ran(runs));
        }
    }
}

/// Removes the request file; false when there was none.
fn take_request(wanted: &Path) -> Result<bool, HooksError> {
    match fs::remove_file(wanted) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io(wanted)(e)),
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
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

    fn repo() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        git2::Repository::init(dir.path()).unwrap();
        let root = dir.path().canonicalize().unwrap();
        (dir, root)
    }

    fn set_hooks_path(root: &Path, value: &str) {
        let repo = git2::Repository::open(root).unwrap();
        repo.config().unwrap().open_level(git2::ConfigLevel::Local).unwrap().set_str("core.hooksPath", value).unwrap();
    }

    fn write_hook(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
        make_executable(path).unwrap();
    }

    fn kind(status: &HooksStatus, name: &str) -> HookKind {
        status.hooks.iter().find(|h| h.name == name).unwrap().kind
    }

    #[test]
    fn every_script_is_marked_and_never_fails_git() {
        for (name, script) in HOOKS {
            assert!(script.contains(MARKER), "{name}");
            assert!(script.contains(VAULT_LINE), "{name} must name the vault on a line install rewrites");
            assert!(script.trim_end().ends_with("exit 0"), "{name} must end with exit 0");
            assert!(script.contains("command -v exo"), "{name} must look for exo");
            if *name == REFUSING_HOOK {
                assert!(script.contains("check --staged"), "{name} checks what is staged");
                continue;
            }
            assert!(script.contains("index --no-vectors"), "{name} must leave vectors to the background");
            assert!(script.contains("hooks fill </dev/null >>"), "{name} must detach the fill from git's pipes");
        }
    }

    #[test]
    fn install_writes_hooks_and_sets_hooks_path() {
        let (_dir, root) = repo();
        let report = install(&root, false, None).unwrap();
        assert_eq!(report.placed.written.len(), HOOKS.len());
        assert!(report.status.active, "{:?}", report.status);
        assert_eq!(report.status.configured.as_deref(), Some(".githooks"));
        let again = install(&root, false, None).unwrap();
        assert!(again.placed.written.is_empty());
        assert_eq!(again.placed.kept.len(), HOOKS.len());
    }

    #[test]
    fn hooks_from_before_the_pre_commit_check_stay_active() {
        // Installed by an exo without pre-commit: the index is still kept in sync, so the
        // hooks are active; the missing check hook is listed for `exo hooks install` to add.
        let (_dir, root) = repo();
        install(&root, false, None).unwrap();
        fs::remove_file(root.join(HOOKS_DIR).join(REFUSING_HOOK)).unwrap();
        let status = status(&root).unwrap();
        assert!(status.active, "{status:?}");
        assert_eq!(kind(&status, REFUSING_HOOK), HookKind::Missing);
        let report = install(&root, false, None).unwrap();
        assert_eq!(report.placed.written, [REFUSING_HOOK]);
        assert_eq!(kind(&report.status, REFUSING_HOOK), HookKind::Exo);
    }

    #[test]
    fn a_users_hook_in_githooks_is_kept_and_chained() {
        let (_dir, root) = repo();
        write_hook(&root.join(".githooks/post-commit"), "#!/bin/sh\necho mine\n");
        let report = install(&root, false, None).unwrap();
        assert_eq!(report.placed.chained, ["post-commit"]);
        let text = fs::read_to_string(root.join(".githooks/post-commit")).unwrap();
        assert!(text.starts_with("#!/bin/sh\n# >>> exo >>>"), "{text}");
        assert!(text.ends_with("# <<< exo <<<\necho mine\n"), "{text}");
        assert_eq!(kind(&report.status, "post-commit"), HookKind::Chained);
        assert!(report.status.active);
    }

    #[test]
    fn active_hooks_in_dot_git_stay_active() {
        let (_dir, root) = repo();
        write_hook(&root.join(".git/hooks/pre-push"), "#!/bin/sh\nexit 1\n");
        write_hook(&root.join(".git/hooks/post-commit"), "#!/bin/bash\necho mine\n");
        let report = install(&root, false, None).unwrap();
        assert_eq!(report.status.configured, None, "core.hooksPath would silence .git/hooks");
        assert_eq!(report.hooks_path, ".git/hooks");
        assert_eq!(report.placed.chained, ["post-commit"]);
        assert_eq!(report.placed.written.len(), HOOKS.len() - 1);
        assert_eq!(fs::read_to_string(root.join(".git/hooks/pre-push")).unwrap(), "#!/bin/sh\nexit 1\n");
        assert!(report.status.active, "{:?}", report.status);
    }

    #[test]
    fn another_hooks_path_gets_exo_chained_in_not_replaced() {
        let (_dir, root) = repo();
        set_hooks_path(&root, ".husky");
        write_hook(&root.join(".husky/post-commit"), "#!/usr/bin/env sh\nset -e\nnpx lint-staged\n");
        write_hook(&root.join(".husky/post-merge"), "#!/usr/bin/env node\nconsole.log('mine')\n");
        let report = install(&root, false, None).unwrap();
        assert_eq!(report.status.configured.as_deref(), Some(".husky"), "their hooks path stays");
        assert_eq!(report.placed.chained, ["post-commit"]);
        assert_eq!(report.placed.written, ["post-checkout", "post-rewrite", "pre-commit"]);
        assert_eq!(report.placed.by_hand.len(), 1);
        assert_eq!(report.placed.by_hand[0].line, "sh .husky/exo-post-merge");
        assert_eq!(
            fs::read_to_string(root.join(".husky/post-merge")).unwrap(),
            "#!/usr/bin/env node\nconsole.log('mine')\n"
        );
        assert!(root.join(".husky/exo-post-merge").is_file());
        assert!(!root.join(HOOKS_DIR).exists());
        assert_eq!(kind(&report.status, "post-merge"), HookKind::NotShell);
        assert!(!report.status.active, "the node hook does not call exo yet");

        let before = fs::read_to_string(root.join(".husky/post-commit")).unwrap();
        let again = install(&root, false, None).unwrap();
        assert_eq!(fs::read_to_string(root.join(".husky/post-commit")).unwrap(), before, "idempotent");
        assert_eq!(before.matches(BLOCK_START).count(), 1);
        assert!(again.placed.chained.is_empty() && again.placed.written.is_empty());

        // Once the node hook calls exo's script, the hooks are active.
        fs::write(
            root.join(".husky/post-merge"),
            "#!/usr/bin/env node\nrequire('child_process').execSync('sh .husky/exo-post-merge')\n",
        )
        .unwrap();
        let status = status(&root).unwrap();
        assert_eq!(kind(&status, "post-merge"), HookKind::CallsExo);
        assert!(status.active, "{status:?}");
    }

    #[test]
    fn force_rewrites_only_exos_own_part() {
        let (_dir, root) = repo();
        set_hooks_path(&root, "hooks");
        write_hook(&root.join("hooks/post-commit"), "#!/bin/sh\necho mine\n");
        install(&root, false, None).unwrap();
        let chained = root.join("hooks/post-commit");
        let old = fs::read_to_string(&chained).unwrap().replace("--wait 10", "--wait 99");
        fs::write(&chained, &old).unwrap();
        fs::write(root.join("hooks/post-merge"), format!("#!/bin/sh\n# {MARKER}\nexo index\nexit 0\n")).unwrap();

        let report = install(&root, false, None).unwrap();
        assert_eq!(report.placed.outdated, ["post-commit", "post-merge"]);
        assert_eq!(fs::read_to_string(&chained).unwrap(), old, "kept without --force");
        assert!(!report.status.hooks[0].current);

        let report = install(&root, true, None).unwrap();
        assert_eq!(report.placed.updated, ["post-commit", "post-merge"]);
        let text = fs::read_to_string(&chained).unwrap();
        assert!(text.contains("--wait 10") && text.ends_with("echo mine\n"), "{text}");
        assert!(report.status.hooks.iter().all(|h| h.current), "{:?}", report.status);
    }

    #[test]
    fn vault_in_a_subfolder_gets_a_relative_path() {
        let (_dir, root) = repo();
        let vault = root.join("notes");
        fs::create_dir_all(&vault).unwrap();
        let report = install(&vault, false, None).unwrap();
        assert_eq!(report.hooks_path, "notes/.githooks");
        assert!(report.status.active);
        let script = fs::read_to_string(vault.join(".githooks/post-commit")).unwrap();
        assert!(script.contains("\nEXO_VAULT=./notes "), "{script}");
    }

    #[test]
    fn vault_paths_are_quoted_for_the_shell() {
        let script = render(HOOKS[0].1, "my notes/it's $HOME");
        let line = script.lines().find(|l| l.starts_with("EXO_VAULT=")).unwrap();
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{line}\nprintf %s \"$EXO_VAULT\""))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "./my notes/it's $HOME");
    }

    #[test]
    fn shells_are_told_from_other_languages() {
        for shell in [
            "#!/bin/sh\n",
            "#!/usr/bin/env bash\n",
            "#!/bin/zsh -e\n",
            "echo no shebang\n",
            "#!/usr/bin/env -S sh -e\n",
        ] {
            assert!(is_shell(shell), "{shell}");
        }
        for other in ["#!/usr/bin/env node\n", "#!/usr/bin/python3\n", "#!/usr/bin/env -S deno run\n"] {
            assert!(!is_shell(other), "{other}");
        }
    }

    #[test]
    fn records_the_exo_binary_and_says_when_it_is_gone() {
        let (_dir, root) = repo();
        let bin = root.join("bin dir/exo");
        write_hook(&bin, "#!/bin/sh\n");
        install(&root, false, Some(&bin)).unwrap();
        let repo = git2::Repository::open(&root).unwrap();
        let lookup = exo_lookup(&repo, Some(std::ffi::OsStr::new(""))).unwrap();
        assert_eq!(lookup.recorded.as_deref(), bin.to_str());
        assert!(lookup.recorded_runs && lookup.finds_exo && !lookup.on_path);
        fs::remove_file(&bin).unwrap();
        let lookup = exo_lookup(&repo, Some(std::ffi::OsStr::new(""))).unwrap();
        assert!(!lookup.finds_exo);
        let on_path = std::env::join_paths([root.join("elsewhere"), root.join("path dir")]).unwrap();
        write_hook(&root.join("path dir/exo"), "#!/bin/sh\n");
        assert!(exo_lookup(&repo, Some(&on_path)).unwrap().finds_exo);
    }

    #[test]
    fn one_fill_at_a_time_and_it_catches_up() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let exo = root.join(exo_index::INDEX_DIR);
        fs::create_dir_all(&exo).unwrap();
        // Another process holds the turn: this request is left for it.
        let other = fs::OpenOptions::new().create(true).truncate(false).write(true).open(exo.join(FILL_LOCK)).unwrap();
        other.try_lock().unwrap();
        let mut ran = false;
        assert_eq!(fill_in_turn(root, || ran = true).unwrap(), FillTurn::Queued);
        assert!(!ran && exo.join(FILL_WANTED).exists());
        other.unlock().unwrap();
        // A hook asking during a fill gets one more run, not a second process.
        let mut runs = 0;
        let turn = fill_in_turn(root, || {
            runs += 1;
            if runs == 1 {
                fs::write(exo.join(FILL_WANTED), b"").unwrap();
            }
        })
        .unwrap();
        assert_eq!(turn, FillTurn::Ran(2));
        assert!(!exo.join(FILL_WANTED).exists());
    }
}
