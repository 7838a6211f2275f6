//! Which changed paths can change the index: the vault's own rules (its notes folders,
//! `exo.toml`'s `ignore`, the root `.gitignore` and `.ignore`, the folders exo never reads,
//! hidden files) plus the scratch files editors write beside a note while saving it.
//!
//! A cheap pre-filter, not the walk: a path it lets through that the walk would skip costs
//! one reconcile that finds nothing (a nested `.gitignore` is not read here); a path it
//! drops that the walk would read is caught by the next rescan. So it errs towards letting
//! through, except for paths that can never hold a note.

use std::path::{Component, Path, PathBuf};

use exo_vault::config::{CONFIG_FILE, IGNORE_FILES};
use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// What one changed path means for the watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Nothing exo reads: `.git/`, `.exo/`, `.obsidian/`, a swap file, an ignored folder.
    Ignore,
    /// A note, an attachment or a folder of them.
    Content,
    /// `exo.toml` or an ignore file: what the walk reads changed, so the rules are reloaded.
    Settings,
}

/// The rules of one vault, as read when the watch started or its settings last changed.
pub(crate) struct Relevance {
    root: PathBuf,
    /// `exo.toml`'s `notes` folders, without a trailing `/`; empty means the whole vault.
    notes: Vec<String>,
    ignored: Gitignore,
}

impl Relevance {
    /// The rules for `vault`. An ignore file that cannot be read or parsed ignores nothing:
    /// the walk itself will say what is wrong with it.
    pub(crate) fn of(vault: &exo_vault::Vault) -> Relevance {
        let root = vault.root().to_path_buf();
        let mut builder = GitignoreBuilder::new(&root);
        for file in IGNORE_FILES {
            let path = root.join(file);
            if path.is_file() {
                let _ = builder.add(path);
            }
        }
        for glob in &vault.config().ignore {
            let _ = builder.add_line(None, glob.trim_start_matches('!'));
        }
        let ignored = builder.build().unwrap_or_else(|_| Gitignore::empty());
        let notes = vault.config().notes.iter().map(|f| f.trim_end_matches('/').to_string()).collect();
        Relevance { root, notes, ignored }
    }

    pub(crate) fn judge(&self, path: &Path) -> Verdict {
        let Ok(rel) = path.strip_prefix(&self.root) else { return Verdict::Ignore };
        let names: Vec<&str> = rel
            .components()
            .filter_map(|c| match c {
                Component::Normal(name) => Some(name.to_str().unwrap_or("\u{fffd}")),
                _ => None,
            })
            .collect();
        let Some((&name, folders)) = names.split_last() else { return Verdict::Ignore };
        if folders.iter().any(|folder| is_never_read(folder)) {
            return Verdict::Ignore;
        }
        if (folders.is_empty() && name == CONFIG_FILE) || IGNORE_FILES.contains(&name) {
            return Verdict::Settings;
        }
        if is_never_read(name) || is_editor_scratch(name) || !self.in_notes_folders(&names) {
            return Verdict::Ignore;
        }
        if self.ignored.matched_path_or_any_parents(path, path.is_dir()).is_ignore() {
            return Verdict::Ignore;
        }
        Verdict::Content
    }

    /// Inside a notes folder, or a folder on the way to one (renaming it moves the notes).
    fn in_notes_folders(&self, names: &[&str]) -> bool {
        if self.notes.is_empty() {
            return true;
        }
        let rel = names.join("/");
        self.notes.iter().any(|folder| {
            rel == *folder
                || rel.strip_prefix(folder.as_str()).is_some_and(|rest| rest.starts_with('/'))
                || folder.strip_prefix(rel.as_str()).is_some_and(|rest| rest.starts_with('/'))
        })
    }
}

/// `.git`, `.exo`, `.obsidian`, `node_modules`…, and every hidden name: the walk skips them.
fn is_never_read(name: &str) -> bool {
    exo_vault::config::never_walked(std::ffi::OsStr::new(name))
}

/// The files editors write while saving and delete right after: vim's write test (`4913`,
/// then +123 while taken) and backups (`note.md~`), swap files, emacs autosaves
/// (`#note.md#`), JetBrains' safe-write copies, temp files renamed over the note.
fn is_editor_scratch(name: &str) -> bool {
    const SUFFIXES: &[&str] = &["~", ".swp", ".swo", ".swx", ".tmp", "___jb_tmp___", "___jb_old___"];
    let vim_write_test =
        name.parse::<u32>().is_ok_and(|n| n >= 4913 && (n - 4913) % 123 == 0) && !name.starts_with('0');
    vim_write_test
        || SUFFIXES.iter().any(|suffix| name.ends_with(suffix))
        || (name.len() > 1 && name.starts_with('#') && name.ends_with('#'))
        || name.starts_with("~$")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(config: &str, gitignore: Option<&str>) -> (tempfile::TempDir, Relevance) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), config).unwrap();
        std::fs::create_dir_all(dir.path().join("notes/deep")).unwrap();
        if let Some(text) = gitignore {
            std::fs::write(dir.path().join(".gitignore"), text).unwrap();
        }
        let vault = exo_vault::Vault::open(dir.path()).unwrap();
        let relevance = Relevance::of(&vault);
        (dir, relevance)
    }

    fn judge(relevance: &Relevance, rel: &str) -> Verdict {
        relevance.judge(&relevance.root.join(rel))
    }

    #[test]
    fn notes_and_their_folders_matter() {
        let (_dir, r) = vault("", None);
        for rel in ["a.md", "notes/deep/b.md", "notes", "notes/deep", "img.png", "2024"] {
            assert_eq!(judge(&r, rel), Verdict::Content, "{rel}");
        }
    }

    #[test]
    fn what_exo_never_reads_is_ignored() {
        let (_dir, r) = vault("", None);
        for rel in [
            ".git/index",
            ".git/HEAD",
            ".exo/index.sqlite",
            ".obsidian/workspace.json",
            "notes/.obsidian/x.json",
            "node_modules/a.md",
            ".trash/old.md",
            "notes/.hidden.md",
            "",
        ] {
            assert_eq!(judge(&r, rel), Verdict::Ignore, "{rel}");
        }
    }

    #[test]
    fn editor_scratch_files_are_ignored() {
        let (_dir, r) = vault("", None);
        for rel in [
            "notes/4913",
            "notes/5036",
            "notes/a.md~",
            "notes/.a.md.swp",
            "notes/a.md.swp",
            "notes/#a.md#",
            "notes/a.md.tmp",
            "notes/a.md___jb_tmp___",
            "notes/~$report.docx",
        ] {
            assert_eq!(judge(&r, rel), Verdict::Ignore, "{rel}");
        }
        assert_eq!(judge(&r, "notes/4914"), Verdict::Content, "only vim's own numbers");
        assert_eq!(judge(&r, "notes/04913"), Verdict::Content);
    }

    #[test]
    fn settings_files_reload_the_rules() {
        let (_dir, r) = vault("", None);
        assert_eq!(judge(&r, "exo.toml"), Verdict::Settings);
        assert_eq!(judge(&r, ".gitignore"), Verdict::Settings);
        assert_eq!(judge(&r, "notes/.gitignore"), Verdict::Settings);
        assert_eq!(judge(&r, "notes/exo.toml"), Verdict::Content, "only the root's exo.toml is the vault's");
        assert_eq!(judge(&r, ".git/info/.gitignore"), Verdict::Ignore);
    }

    #[test]
    fn the_vaults_ignore_rules_apply() {
        let (_dir, r) = vault("ignore = [\"drafts/\", \"*.bak\"]\n", Some("build/\nsecret.md\n"));
        assert_eq!(judge(&r, "drafts/a.md"), Verdict::Ignore);
        assert_eq!(judge(&r, "notes/x.bak"), Verdict::Ignore);
        assert_eq!(judge(&r, "build/out.md"), Verdict::Ignore);
        assert_eq!(judge(&r, "notes/secret.md"), Verdict::Ignore);
        assert_eq!(judge(&r, "notes/public.md"), Verdict::Content);
    }

    #[test]
    fn only_the_notes_folders_matter_when_configured() {
        let (_dir, r) = vault("notes = [\"notes/deep\"]\n", None);
        assert_eq!(judge(&r, "notes/deep/a.md"), Verdict::Content);
        assert_eq!(judge(&r, "notes/deep"), Verdict::Content);
        assert_eq!(judge(&r, "notes"), Verdict::Content, "renaming a parent moves the notes");
        assert_eq!(judge(&r, "notes/other.md"), Verdict::Ignore);
        assert_eq!(judge(&r, "notes/deeper/a.md"), Verdict::Ignore);
        assert_eq!(judge(&r, "README.md"), Verdict::Ignore);
    }
}
