//! `recent`: which notes changed lately, read from git history (the commits of the last N days,
//! or the last N commits) with the subjects of the commits that changed them, plus the notes
//! changed in the work tree and not committed yet. The index is not consulted: git is the
//! record of what happened.
//!
//! Never writes to the repository (no index refresh, no lock); outside git it says so and
//! lists nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use git2::{Delta, DiffFindOptions, DiffOptions, Repository, Sort, Status, StatusOptions};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::read::rfc3339;
use crate::{ApiError, Exo, Result};

/// However wide the window, at most this many commits are read.
const MAX_COMMITS: usize = 5000;
/// Commits listed per note (the newest).
const COMMITS_PER_NOTE: usize = 5;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecentRequest {
    /// Notes changed in commits of the last this many days (default 7).
    #[serde(default)]
    pub days: Option<u32>,
    /// Instead of days: notes changed in the last this many commits.
    #[serde(default)]
    pub commits: Option<usize>,
    /// At most this many notes, most recently changed first (default 50).
    #[serde(default = "fifty")]
    pub limit: usize,
}

fn fifty() -> usize {
    50
}

impl Default for RecentRequest {
    fn default() -> RecentRequest {
        RecentRequest { days: None, commits: None, limit: 50 }
    }
}

/// What a commit did to a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Modified,
    Deleted,
    Renamed,
}

/// A commit, in brief.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CommitRef {
    /// Abbreviated commit id (12 hex digits).
    pub id: String,
    /// The first line of the commit message.
    pub subject: String,
    pub author: String,
    /// Commit time, RFC 3339 UTC.
    pub time: String,
}

/// A note changed by the commits in the window.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RecentNote {
    /// Vault-relative path (the new path, for a rename).
    pub path: String,
    /// What the newest commit in the window did to it.
    pub change: Change,
    /// The path before a rename, when the newest change was one.
    pub renamed_from: Option<String>,
    /// When it last changed (the newest commit's time, RFC 3339 UTC).
    pub changed_at: String,
    /// How many commits in the window touched it.
    pub commit_count: usize,
    /// The newest of those commits (at most 5), newest first.
    pub commits: Vec<CommitRef>,
}

/// A note changed in the work tree since the last commit.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UncommittedNote {
    pub path: String,
    /// "new" (untracked or newly staged), "modified" or "deleted".
    pub change: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Recent {
    /// The window read, e.g. "7 days" or "10 commits".
    pub window: String,
    /// How many commits were read.
    pub commits_read: usize,
    /// How many notes changed in the window (before the limit).
    pub total: usize,
    /// The notes, most recently changed first.
    pub notes: Vec<RecentNote>,
    /// Notes changed in the work tree and not committed.
    pub uncommitted: Vec<UncommittedNote>,
    /// Why there is no history: the vault is not in a git repository, or HEAD has no commits.
    pub no_history: Option<String>,
}

impl Exo {
    /// Notes changed in the last `days` days (or `commits` commits), newest first, with the
    /// commit subjects, and the notes changed and not committed.
    pub fn recent(&self, request: &RecentRequest) -> Result<Recent> {
        let window = match (request.commits, request.days) {
            (Some(n), _) => Window::Commits(n),
            (None, days) => Window::Days(days.unwrap_or(7)),
        };
        let Some((repo, prefix)) = open_repo(self.vault().root()) else {
            return Ok(Recent {
                window: window.describe(),
                commits_read: 0,
                total: 0,
                notes: Vec::new(),
                uncommitted: Vec::new(),
                no_history: Some("the vault is not in a git repository".into()),
            });
        };
        let notes_filter = NoteFilter {
            prefix,
            folders: self.vault().config().notes.clone(),
            ignored: config_ignores(self.vault())?,
            root: self.vault().root().to_path_buf(),
        };
        let git_error = |e: git2::Error| ApiError::Invalid(format!("cannot read git history: {}", e.message()));
        let uncommitted = uncommitted(&repo, &notes_filter).map_err(git_error)?;
        let history = match repo.head() {
            Ok(head) => Some(head.peel_to_commit().map_err(git_error)?.id()),
            Err(e) if matches!(e.code(), git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound) => None,
            Err(e) => return Err(git_error(e)),
        };
        let (mut notes, commits_read) = match history {
            Some(head) => changed_notes(&repo, head, window, &notes_filter).map_err(git_error)?,
            None => (Vec::new(), 0),
        };
        let total = notes.len();
        notes.truncate(request.limit);
        Ok(Recent {
            window: window.describe(),
            commits_read,
            total,
            notes,
            uncommitted,
            no_history: history.is_none().then(|| "the repository has no commits yet".into()),
        })
    }
}

#[derive(Debug, Clone, Copy)]
enum Window {
    Days(u32),
    Commits(usize),
}

impl Window {
    fn describe(self) -> String {
        match self {
            Window::Days(1) => "1 day".into(),
            Window::Days(n) => format!("{n} days"),
            Window::Commits(1) => "1 commit".into(),
            Window::Commits(n) => format!("{n} commits"),
        }
    }
}

/// The repository whose work tree holds the vault, and the vault's folder inside it.
fn open_repo(vault_root: &Path) -> Option<(Repository, PathBuf)> {
    let repo = Repository::discover(vault_root).ok()?;
    let workdir = repo.workdir()?.canonicalize().ok()?;
    let prefix = vault_root.canonicalize().ok()?.strip_prefix(&workdir).ok()?.to_path_buf();
    Some((repo, prefix))
}

/// Which repository paths are notes of this vault, and their vault paths.
struct NoteFilter {
    prefix: PathBuf,
    folders: Vec<String>,
    /// exo.toml's `ignore` globs, as the scan applies them (a match is "ignore").
    ignored: ignore::overrides::Override,
    root: PathBuf,
}

impl NoteFilter {
    fn vault_path(&self, repo_path: &Path) -> Option<String> {
        let inside = repo_path.strip_prefix(&self.prefix).ok()?;
        let path = inside.to_str()?.replace('\\', "/");
        let is_note = path.ends_with(".md") || path.ends_with(".markdown");
        let ignored = path.split('/').any(|part| exo_vault::config::ALWAYS_IGNORED.contains(&part));
        let in_folders = self.folders.is_empty()
            || self.folders.iter().any(|f| path.starts_with(&format!("{}/", f.trim_matches('/'))));
        (is_note && !ignored && in_folders && !self.ignored_by_config(&path)).then_some(path)
    }

    /// Whether exo.toml's `ignore` leaves out the path or a folder above it.
    fn ignored_by_config(&self, path: &str) -> bool {
        let mut end = 0;
        path.split('/').any(|part| {
            end += part.len();
            let is_dir = end < path.len();
            let hit = self.ignored.matched(self.root.join(&path[..end]), is_dir).is_ignore();
            end += 1;
            hit
        })
    }

    fn pathspec(&self) -> Option<String> {
        let prefix = self.prefix.to_str()?.replace('\\', "/");
        (!prefix.is_empty()).then(|| format!("{prefix}/"))
    }
}

/// exo.toml's `ignore` globs as the scan builds them (an override "!glob" is an ignore).
fn config_ignores(vault: &exo_vault::Vault) -> Result<ignore::overrides::Override> {
    let mut overrides = ignore::overrides::OverrideBuilder::new(vault.root());
    let bad = |e: ignore::Error| ApiError::Invalid(format!("exo.toml ignore: {e}"));
    for glob in &vault.config().ignore {
        overrides.add(&format!("!{}", glob.trim_start_matches('!'))).map_err(bad)?;
    }
    overrides.build().map_err(bad)
}

fn changed_notes(
    repo: &Repository,
    head: git2::Oid,
    window: Window,
    filter: &NoteFilter,
) -> std::result::Result<(Vec<RecentNote>, usize), git2::Error> {
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TIME)?;
    walk.push(head)?;
    let cutoff = match window {
        Window::Days(days) => Some(SystemTime::now() - Duration::from_secs(u64::from(days) * 86_400)),
        Window::Commits(_) => None,
    };
    let limit = match window {
        Window::Commits(n) => n.min(MAX_COMMITS),
        Window::Days(_) => MAX_COMMITS,
    };
    let mut notes: Vec<RecentNote> = Vec::new();
    let mut by_path: HashMap<String, usize> = HashMap::new();
    let mut read = 0;
    for oid in walk {
        if read >= limit {
            break;
        }
        let commit = repo.find_commit(oid?)?;
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(commit.time().seconds().max(0) as u64);
        if cutoff.is_some_and(|cutoff| time < cutoff) {
            break;
        }
        read += 1;
        let reference = CommitRef {
            id: oid_short(commit.id()),
            subject: commit.summary().ok().flatten().unwrap_or("").to_string(),
            author: commit.author().name().ok().unwrap_or("").to_string(),
            time: rfc3339(time),
        };
        for (path, change, from) in commit_changes(repo, &commit, filter)? {
            match by_path.get(&path) {
                Some(&i) => {
                    let note = &mut notes[i];
                    note.commit_count += 1;
                    if note.commits.len() < COMMITS_PER_NOTE {
                        note.commits.push(reference.clone());
                    }
                }
                None => {
                    by_path.insert(path.clone(), notes.len());
                    notes.push(RecentNote {
                        path,
                        change,
                        renamed_from: from,
                        changed_at: reference.time.clone(),
                        commit_count: 1,
                        commits: vec![reference.clone()],
                    });
                }
            }
        }
    }
    Ok((notes, read))
}

/// The notes a commit changed against its first parent (all of them for a root commit).
fn commit_changes(
    repo: &Repository,
    commit: &git2::Commit,
    filter: &NoteFilter,
) -> std::result::Result<Vec<(String, Change, Option<String>)>, git2::Error> {
    let tree = commit.tree()?;
    let parent_tree = match commit.parent(0) {
        Ok(parent) => Some(parent.tree()?),
        Err(_) => None,
    };
    let mut options = DiffOptions::new();
    if let Some(spec) = filter.pathspec() {
        options.pathspec(spec);
    }
    let mut diff = repo.diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut options))?;
    diff.find_similar(Some(DiffFindOptions::new().renames(true)))?;
    let mut changes = Vec::new();
    for delta in diff.deltas() {
        let change = match delta.status() {
            Delta::Added | Delta::Copied => Change::Added,
            Delta::Deleted => Change::Deleted,
            Delta::Renamed => Change::Renamed,
            _ => Change::Modified,
        };
        let file = if change == Change::Deleted { delta.old_file() } else { delta.new_file() };
        let Some(path) = file.path().and_then(|p| filter.vault_path(p)) else { continue };
        let from = match change {
            Change::Renamed => delta.old_file().path().and_then(|p| filter.vault_path(p)),
            _ => None,
        };
        changes.push((path, change, from));
    }
    Ok(changes)
}

fn uncommitted(repo: &Repository, filter: &NoteFilter) -> std::result::Result<Vec<UncommittedNote>, git2::Error> {
    let mut options = StatusOptions::new();
    options.include_untracked(true).recurse_untracked_dirs(true).include_ignored(false);
    if let Some(spec) = filter.pathspec() {
        options.pathspec(spec);
    }
    let mut notes = Vec::new();
    for entry in repo.statuses(Some(&mut options))?.iter() {
        let Some(path) = entry.path().ok().and_then(|p| filter.vault_path(Path::new(p))) else { continue };
        let status = entry.status();
        let change = if status.intersects(Status::WT_DELETED | Status::INDEX_DELETED) {
            "deleted"
        } else if status.intersects(Status::WT_NEW | Status::INDEX_NEW) {
            "new"
        } else if status.is_empty() || status.is_ignored() {
            continue;
        } else {
            "modified"
        };
        notes.push(UncommittedNote { path, change: change.to_string() });
    }
    notes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(notes)
}

fn oid_short(oid: git2::Oid) -> String {
    let hex = oid.to_string();
    hex.get(..12).unwrap_or(&hex).to_string()
}
