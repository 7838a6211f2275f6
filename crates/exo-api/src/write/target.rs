//! Where a write may go: a requested path made into a vault path, or refused with the reason.
//!
//! Refused: an absolute path, `..`, a path under a folder exo never reads (`.git/`, `.exo/`,
//! `.obsidian/`, …), a file that is not a note by the vault's own rules (extension, `notes`
//! folders, `ignore` globs, `.gitignore`), and a symlink anywhere along the path that leads
//! out of the vault or into such a folder. Nothing is created here.

use std::path::{Path, PathBuf};

use exo_vault::Vault;
use exo_vault::config::ALWAYS_IGNORED;
use exo_vault::scan::is_note_path;

use crate::{ApiError, Result};

/// The vault path `requested` names, when a note may be written there. A name without any
/// extension gets `.md`.
pub(crate) fn note_path(vault: &Vault, requested: &str) -> Result<String> {
    let refuse = |reason: &str| ApiError::PathRefused { path: requested.to_string(), reason: reason.to_string() };
    let path = normalize(requested).map_err(|reason| refuse(&reason))?;
    let path = with_note_extension(path).map_err(|reason| refuse(&reason))?;
    not_hidden(&path).map_err(|reason| refuse(&reason))?;
    in_notes_folders(vault, &path).map_err(|reason| refuse(&reason))?;
    not_ignored(vault, &path).map_err(|reason| refuse(&reason))?;
    no_escaping_symlink(vault.root(), &path).map_err(|reason| refuse(&reason))?;
    Ok(path)
}

/// The vault path for a new note (create, a move's destination): [`note_path`], and a name a
/// wikilink can hold, so `[[name]]` (and a move's rewritten links) can reach it.
pub(crate) fn new_note_path(vault: &Vault, requested: &str) -> Result<String> {
    if requested.trim().ends_with('/') {
        return Err(ApiError::PathRefused {
            path: requested.to_string(),
            reason: "it ends in / so it names a folder; add the note's file name (inbox/idea.md)".into(),
        });
    }
    let path = note_path(vault, requested)?;
    if let Some(c) = path.chars().find(|c| LINK_SYNTAX.contains(c)) {
        return Err(ApiError::PathRefused {
            path: requested.to_string(),
            reason: format!("{c:?} cannot appear in a note name, as no [[link]] could reach it; leave it out"),
        });
    }
    Ok(path)
}

/// Characters that end or split a wikilink's target: `|` alias, `#` heading, `^` block, `[ ]`.
const LINK_SYNTAX: &[char] = &['|', '#', '^', '[', ']'];

/// Why `requested` could never be a path inside the vault (absolute, `..`, `.git/`, …), when
/// it could not: such a reference is refused outright, never looked up as a title.
pub(crate) fn escapes(requested: &str) -> Option<ApiError> {
    normalize(requested).err().map(|reason| ApiError::PathRefused { path: requested.to_string(), reason })
}

/// A relative `/`-separated path with no `.`, `..` or empty parts, or why not.
fn normalize(requested: &str) -> Result<String, String> {
    let trimmed = requested.trim();
    if trimmed.is_empty() {
        return Err("the path is empty".into());
    }
    if trimmed.starts_with('/') || trimmed.starts_with('\\') || Path::new(trimmed).is_absolute() || has_drive(trimmed) {
        return Err("absolute paths are not allowed; give a path relative to the vault root".into());
    }
    if trimmed.contains('\\') {
        return Err("use `/` to separate folders".into());
    }
    if trimmed.chars().any(|c| c.is_control()) {
        return Err("the path contains control characters".into());
    }
    let mut parts = Vec::new();
    for part in trimmed.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("`..` is not allowed; give a path inside the vault".into()),
            part if ALWAYS_IGNORED.contains(&part) => {
                return Err(format!("exo never writes under {part}/ (it is not part of the notes)"));
            }
            part => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err("the path names no file".into());
    }
    Ok(parts.join("/"))
}

fn has_drive(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

fn with_note_extension(path: String) -> Result<String, String> {
    if is_note_path(&path) {
        return Ok(path);
    }
    let name = path.rsplit('/').next().unwrap_or(&path);
    if !name.contains('.') {
        return Ok(format!("{path}.md"));
    }
    Err(format!("{name} is not a note: notes end in .md or .markdown"))
}

/// exo's scan skips hidden files and folders: a note written there would never be read.
fn not_hidden(path: &str) -> Result<(), String> {
    match path.split('/').find(|part| part.starts_with('.')) {
        Some(part) => Err(format!(
            "{part} is hidden (starts with `.`) and exo does not read hidden files or folders; leave the dot out"
        )),
        None => Ok(()),
    }
}

fn in_notes_folders(vault: &Vault, path: &str) -> Result<(), String> {
    let folders = &vault.config().notes;
    let inside = |folder: &String| {
        let folder = folder.trim_matches('/');
        folder.is_empty() || folder == "." || path.starts_with(&format!("{folder}/"))
    };
    if folders.is_empty() || folders.iter().any(inside) {
        return Ok(());
    }
    Err(format!("it is outside the notes folders ({}) that exo.toml names", folders.join(", ")))
}

/// Ignored by exo.toml's `ignore` globs or by git: exo would not index the note.
fn not_ignored(vault: &Vault, path: &str) -> Result<(), String> {
    let root = vault.root();
    let mut overrides = ignore::overrides::OverrideBuilder::new(root);
    for glob in &vault.config().ignore {
        overrides.add(&format!("!{}", glob.trim_start_matches('!'))).map_err(|e| format!("exo.toml ignore: {e}"))?;
    }
    let overrides = overrides.build().map_err(|e| format!("exo.toml ignore: {e}"))?;
    let mut prefix = String::new();
    for (i, part) in path.split('/').enumerate() {
        if i > 0 {
            prefix.push('/');
        }
        prefix.push_str(part);
        let is_dir = prefix.len() < path.len();
        if overrides.matched(root.join(&prefix), is_dir).is_ignore() {
            return Err(format!("exo.toml ignores {prefix}, so exo would not read the note"));
        }
    }
    if let Ok(repo) = git2::Repository::discover(root)
        && let Some(workdir) = repo.workdir()
        && let Ok(workdir) = workdir.canonicalize()
        && let Ok(prefix) = root.strip_prefix(&workdir)
        && repo.is_path_ignored(prefix.join(path)).unwrap_or(false)
    {
        return Err("git ignores it (.gitignore), so exo would not read the note".into());
    }
    Ok(())
}

/// Every part of the path that exists, followed through symlinks, stays inside the vault and
/// out of folders exo never reads. The file itself may not be a symlink.
fn no_escaping_symlink(root: &Path, path: &str) -> Result<(), String> {
    let canonical_root = root.canonicalize().map_err(|e| format!("cannot read the vault root: {e}"))?;
    let mut at = PathBuf::from(root);
    let parts: Vec<&str> = path.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        at.push(part);
        let meta = match std::fs::symlink_metadata(&at) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(format!("cannot check {}: {e}", at.display())),
        };
        let last = i + 1 == parts.len();
        if meta.file_type().is_symlink() {
            if last {
                return Err("it is a symlink; exo writes only regular files".into());
            }
            let target = at.canonicalize().map_err(|_| "a folder on the way is a broken symlink".to_string())?;
            let Ok(inside) = target.strip_prefix(&canonical_root) else {
                return Err(format!("{} is a symlink leading outside the vault", parts[..=i].join("/")));
            };
            if inside.components().any(|c| ALWAYS_IGNORED.iter().any(|ignored| c.as_os_str() == *ignored)) {
                return Err(format!("{} is a symlink into a folder exo never reads", parts[..=i].join("/")));
            }
        } else if !last && !meta.is_dir() {
            return Err(format!("{} is a file, not a folder", parts[..=i].join("/")));
        } else if last && meta.is_dir() {
            return Err("it is a folder".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_and_refuses_escapes() {
        assert_eq!(normalize("./a//b.md").unwrap(), "a/b.md");
        for bad in ["../x.md", "a/../../x.md", "/etc/x.md", ".git/config", "a/.exo/x.md", "", "C:/x.md", "a\\b.md"] {
            assert!(normalize(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn extension_rules() {
        assert_eq!(with_note_extension("inbox/x".into()).unwrap(), "inbox/x.md");
        assert_eq!(with_note_extension("x.Markdown".into()).unwrap(), "x.Markdown");
        assert!(with_note_extension("x.txt".into()).is_err());
    }
}
