//! `check`: the `[check]` policy of `exo.toml` over the vault's notes, as they are in the
//! working tree or as they are staged for the next commit (what the pre-commit hook asks).
//!
//! Staged: the blobs in git's index, never the working files, so a fix made after `git add`
//! does not hide a bad staged note. Only notes whose staged blob differs from HEAD are reported
//! on (a commit is refused for what it adds, not for old notes it does not touch); links resolve
//! and titles collide across every staged note. Which files are notes follows the working
//! tree's scan (`notes` folders, `ignore`, `.gitignore`) and the working tree's `exo.toml`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use exo_garden::check::{CheckedNote, Violation, check_notes};
use exo_vault::{CheckMode, ReadNote, Vault};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{ApiError, Exo, Result};

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckRequest {
    /// Check the notes as staged in git's index (what the next commit will contain) instead of
    /// the working files; only staged notes that differ from HEAD are reported on.
    #[serde(default)]
    pub staged: bool,
    /// With `staged`: the index file to read instead of the repository's own. Git stages
    /// `git commit -a` and `git commit <path>` into a temporary index and names it to hooks in
    /// `GIT_INDEX_FILE`; the face passes that on (the library reads no environment). Not part
    /// of the MCP schema: only a git hook has such a file.
    #[serde(skip)]
    #[schemars(skip)]
    pub index_file: Option<PathBuf>,
}

/// What was read: the working files, or git's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CheckSource {
    WorkingTree,
    Staged,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CheckAnswer {
    /// False when `exo.toml` has no `[check]` section: nothing was checked.
    pub policy: bool,
    /// `audit` reports; `enforce` refuses (exit 1, and the pre-commit hook blocks the commit).
    pub mode: CheckMode,
    pub source: CheckSource,
    /// How many notes were checked.
    pub checked: usize,
    /// Every rule broken, sorted by path and line.
    pub violations: Vec<Violation>,
    /// The mode is `enforce` and a rule is broken: the commit (or write) must not go in.
    pub blocked: bool,
}

/// The notes a check reads: all of them (links resolve across them), which to report on, and
/// the other files links may name.
struct CheckInput {
    notes: Vec<CheckedNote>,
    report_on: HashSet<String>,
    attachments: Vec<String>,
}

impl Exo {
    /// Checks the notes against `[check]`. Without a `[check]` section nothing is read.
    pub fn check(&self, request: &CheckRequest) -> Result<CheckAnswer> {
        let vault = self.vault();
        let source = if request.staged { CheckSource::Staged } else { CheckSource::WorkingTree };
        let Some(policy) = vault.config().check.as_ref() else {
            return Ok(CheckAnswer::no_policy(source));
        };
        let input = if request.staged {
            // Only links and names are checked across notes: without those rules a commit
            // reads the notes it changes, not the whole vault.
            let across = policy.links_resolve || policy.unique_titles;
            staged_notes(vault, request.index_file.as_deref(), across)?
        } else {
            working_notes(vault)?
        };
        Ok(answer(policy, source, &input))
    }
}

impl Exo {
    /// The check a write must pass before it lands: the working files with `changes` applied
    /// (a vault path and its new text, or None for a note deleted), reporting on the changed
    /// notes only. A write that would leave `blocked` true breaks an enforced rule.
    pub fn check_changes(&self, changes: &[(String, Option<String>)]) -> Result<CheckAnswer> {
        let vault = self.vault();
        let Some(policy) = vault.config().check.as_ref() else {
            return Ok(CheckAnswer::no_policy(CheckSource::WorkingTree));
        };
        let mut input = working_notes(vault)?;
        input.notes.retain(|n| !changes.iter().any(|(path, _)| *path == n.path));
        input.report_on.clear();
        for (path, text) in changes {
            if let Some(text) = text {
                input.notes.push(parse(vault, path, text.as_bytes()));
                input.report_on.insert(path.clone());
            }
        }
        Ok(answer(policy, CheckSource::WorkingTree, &input))
    }
}

impl CheckAnswer {
    fn no_policy(source: CheckSource) -> CheckAnswer {
        CheckAnswer {
            policy: false,
            mode: CheckMode::Audit,
            source,
            checked: 0,
            violations: Vec::new(),
            blocked: false,
        }
    }
}

fn answer(policy: &exo_vault::CheckPolicy, source: CheckSource, input: &CheckInput) -> CheckAnswer {
    let violations = check_notes(policy, &input.notes, &input.attachments, &|p| input.report_on.contains(p));
    let blocked = policy.mode == CheckMode::Enforce && !violations.is_empty();
    CheckAnswer { policy: true, mode: policy.mode, source, checked: input.report_on.len(), violations, blocked }
}

fn parse(vault: &Vault, path: &str, bytes: &[u8]) -> CheckedNote {
    let (note, text) = exo_vault::parse_bytes_with_text(path, bytes, &vault.parse_options());
    CheckedNote { path: path.to_string(), note, text: text.into_owned() }
}

fn working_notes(vault: &Vault) -> Result<CheckInput> {
    let scan = exo_vault::scan(vault.root(), vault.config())?;
    let mut notes = Vec::with_capacity(scan.notes.len());
    for file in &scan.notes {
        if let ReadNote::Read { bytes, .. } = vault.read(&file.path) {
            notes.push(parse(vault, &file.path, &bytes));
        }
    }
    let report_on = notes.iter().map(|n| n.path.clone()).collect();
    Ok(CheckInput { notes, report_on, attachments: scan.attachments })
}

/// The staged notes: every one when `across` (links resolve and names collide across them),
/// else only those that differ from HEAD.
fn staged_notes(vault: &Vault, index_file: Option<&Path>, across: bool) -> Result<CheckInput> {
    let root = vault.root();
    let git_error = |e: git2::Error| {
        ApiError::Invalid(format!(
            "{}: cannot read git's index ({}); `exo check --staged` needs a git repository, drop --staged to check the working files",
            root.display(),
            e.message()
        ))
    };
    let repo = git2::Repository::discover(root).map_err(git_error)?;
    let prefix = vault_prefix(&repo, root)?;
    let index = match index_file {
        Some(file) => git2::Index::open(file).map_err(|e| {
            ApiError::Invalid(format!(
                "{}: cannot read this git index ({}); unset GIT_INDEX_FILE to check the repository's own index",
                file.display(),
                e.message()
            ))
        })?,
        None => repo.index().map_err(git_error)?,
    };
    let head = repo.head().ok().and_then(|head| head.peel_to_tree().ok());
    let scan = exo_vault::scan(root, vault.config())?;
    let scanned: HashSet<&str> = scan.notes.iter().map(|f| f.path.as_str()).collect();
    let config = vault.config();
    let mut input = CheckInput { notes: Vec::new(), report_on: HashSet::new(), attachments: Vec::new() };
    for entry in index.iter() {
        let Ok(full) = std::str::from_utf8(&entry.path) else { continue };
        let Some(path) = full.strip_prefix(&prefix) else { continue };
        // Conflicted entries (stage 1-3), symlinks and submodules are not notes to check, and
        // an intent-to-add entry (`git add -N`) is an empty placeholder a commit leaves out.
        let stage = (entry.flags >> 12) & 0x3;
        let regular = entry.mode & 0o170000 == 0o100000;
        let intent_to_add = git2::IndexEntryExtendedFlag::from_bits_truncate(entry.flags_extended).is_intent_to_add();
        if stage != 0 || !regular || intent_to_add {
            continue;
        }
        if !exo_vault::scan::is_note_path(path) {
            input.attachments.push(path.to_string());
            continue;
        }
        let deleted_from_disk = !root.join(path).exists();
        let is_note = scanned.contains(path) || (deleted_from_disk && in_note_folders(config, path));
        if !is_note {
            continue;
        }
        let changed =
            head.as_ref().and_then(|tree| tree.get_path(Path::new(full)).ok()).is_none_or(|e| e.id() != entry.id);
        if !changed && !across {
            continue;
        }
        let blob = repo.find_blob(entry.id).map_err(git_error)?;
        if blob.size() as u64 > config.max_file_size {
            continue;
        }
        if changed {
            input.report_on.insert(path.to_string());
        }
        input.notes.push(parse(vault, path, blob.content()));
    }
    Ok(input)
}

/// The vault's folder inside the repository's working tree, `/`-terminated ("" at the top).
fn vault_prefix(repo: &git2::Repository, root: &Path) -> Result<String> {
    let bare =
        || ApiError::Invalid(format!("{}: the git repository is bare; exo check needs a working tree", root.display()));
    let workdir = repo.workdir().ok_or_else(bare)?;
    let canonical =
        |p: &Path| p.canonicalize().map_err(|source| ApiError::CannotRead { path: p.to_path_buf(), source });
    let (workdir, root) = (canonical(workdir)?, canonical(root)?);
    let rel = exo_vault::path::rel_path_string(&workdir, &root).map_err(|lossy| {
        ApiError::Invalid(format!("{lossy}: the vault's folder name is not UTF-8; rename it to check staged notes"))
    })?;
    Ok(if rel.is_empty() { rel } else { format!("{rel}/") })
}

/// Whether `path` lies where the config keeps notes and outside the folders exo never reads
/// (for a staged note no longer on disk, which the scan cannot vouch for).
fn in_note_folders(config: &exo_vault::Config, path: &str) -> bool {
    let hidden = path.split('/').any(|part| exo_vault::config::ALWAYS_IGNORED.contains(&part));
    let in_folders = config.notes.is_empty()
        || config.notes.iter().any(|folder| {
            let folder = folder.trim_matches('/');
            path.strip_prefix(folder).is_some_and(|rest| rest.starts_with('/'))
        });
    !hidden && in_folders
}
