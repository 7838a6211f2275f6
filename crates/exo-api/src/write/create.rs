//! `create_note`: a new file, never over an existing one, and not a second copy of a note the
//! vault already has unless the caller insists.

use serde_json::Value;

use super::commit::Repo;
use super::land::Landing;
use super::lock::WriteLock;
use super::{CreateNoteRequest, WriteAnswer, WriteOrigin, Writer, atomic, duplicates, frontmatter_edit, target};
use crate::{ApiError, Exo, Result};

impl Exo {
    /// Creates a note at `path` (or `<folder>/<title>.md`) with the frontmatter and body given.
    /// Refused when the file exists or, unless `force`, when notes with the same name or nearly
    /// the same text exist.
    pub fn create_note(
        &self,
        writer: &Writer,
        origin: &WriteOrigin,
        request: &CreateNoteRequest,
    ) -> Result<WriteAnswer> {
        let vault = self.vault();
        let requested = requested_path(vault, request)?;
        let path = target::new_note_path(vault, &requested)?;
        let _lock = WriteLock::acquire(vault.root())?;
        let abs = vault.root().join(&path);
        if std::fs::symlink_metadata(&abs).is_ok() {
            return Err(ApiError::NoteExists { path });
        }
        let text = note_text(vault, &path, request)?;
        if !request.force {
            self.refresh_index()?;
            let names = self.index.note_links()?;
            let note = vault.parse(&path, text.as_bytes());
            let candidates = duplicates::near_duplicates(&self.index, &names, &path, &note);
            if !candidates.is_empty() {
                return Err(ApiError::NearDuplicates { path, candidates });
            }
        }
        let warnings = self.policy_gate(&[(path.clone(), Some(text.clone()))])?;
        atomic::write(&abs, text.as_bytes()).map_err(|source| ApiError::WriteFailed { path: path.clone(), source })?;
        let repo = Repo::open(vault.root());
        let landing =
            Landing::one_note(path.clone(), format!("created {path}"), format!("exo: create {path}"), text, warnings);
        self.land(writer, origin, repo.as_ref(), landing)
    }
}

/// `path` as given, else `<folder>/<title>.md` with the title made a file name.
fn requested_path(vault: &exo_vault::Vault, request: &CreateNoteRequest) -> Result<String> {
    let title = request.title.as_deref().map(str::trim).filter(|t| !t.is_empty());
    // An empty path beside a title is a path left out (models send "" for optional fields).
    if let Some(path) = request.path.as_deref().filter(|p| !p.trim().is_empty() || title.is_none()) {
        return Ok(path.to_string());
    }
    let Some(title) = title else {
        return Err(ApiError::Invalid("give the new note a path or a title".into()));
    };
    let name = file_name(title);
    if name.is_empty() {
        return Err(ApiError::Invalid(format!("the title {title:?} leaves no file name; give a path")));
    }
    let default_folder = vault.config().notes.first().cloned().unwrap_or_default();
    let folder = request.folder.clone().unwrap_or(default_folder);
    let folder = folder.trim().trim_end_matches('/');
    Ok(if folder.is_empty() { format!("{name}.md") } else { format!("{folder}/{name}.md") })
}

/// A title as a file name: characters no file system or link syntax tolerates become spaces.
fn file_name(title: &str) -> String {
    let replaced: String =
        title.chars().map(|c| if c.is_control() || "/\\:*?\"<>|#^[]".contains(c) { ' ' } else { c }).collect();
    let words: Vec<&str> = replaced.split_whitespace().collect();
    words.join(" ").trim_start_matches('.').trim().to_string()
}

/// The new file's text: the body with the frontmatter merged in (with `title` when the file
/// name does not say it), ending in a line break. The frontmatter must read back as given.
fn note_text(vault: &exo_vault::Vault, path: &str, request: &CreateNoteRequest) -> Result<String> {
    let mut frontmatter = request.frontmatter.clone();
    if let Some(title) = request.title.as_deref().map(str::trim).filter(|t| !t.is_empty())
        && exo_vault::path::note_stem(path) != title
        && !frontmatter.contains_key("title")
    {
        frontmatter.shift_insert(0, "title".into(), Value::String(title.to_string()));
    }
    let mut text = request.body.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    if frontmatter.is_empty() {
        return Ok(text);
    }
    let parse = |text: &str| exo_vault::parse_note(path, text, &vault.parse_options());
    frontmatter_edit::set_keys(&text, &parse(&text), &frontmatter, parse)
        .map_err(|why| ApiError::Invalid(format!("cannot write the frontmatter of {path}: {why}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_become_file_names() {
        assert_eq!(file_name("A/B: c?"), "A B c");
        assert_eq!(file_name("..hidden"), "hidden");
        assert_eq!(file_name("[[x]]"), "x");
    }
}
