//! `edit_note`: one of five edits to an existing note, refused when the note changed since the
//! caller read it (`base_hash`) or holds a person's uncommitted work.

use super::commit::Repo;
use super::edit_ops::{self, SectionError};
use super::land::Landing;
use super::lock::WriteLock;
use super::{EditNoteRequest, EditOperation, WriteAnswer, WriteOrigin, Writer, atomic, frontmatter_edit, uncommitted};
use crate::{ApiError, Exo, Result};

impl Exo {
    /// Applies one edit to a note and lands it as one commit.
    pub fn edit_note(&self, writer: &Writer, origin: &WriteOrigin, request: &EditNoteRequest) -> Result<WriteAnswer> {
        let vault = self.vault();
        let _lock = WriteLock::acquire(vault.root())?;
        let existing = self.existing_note(&request.note, request.base_hash.as_deref())?;
        let path = existing.path.clone();
        let repo = Repo::open(vault.root());
        uncommitted::check(repo.as_ref(), writer, &path, &existing.bytes, request.force)?;
        let text = String::from_utf8(existing.bytes)
            .map_err(|_| ApiError::Invalid(format!("{path} is not valid UTF-8; exo edits only UTF-8 notes")))?;
        let edited = apply_keeping_line_breaks(vault, &path, &text, request)?;
        let operation = operation_name(request.operation);
        if edited == text {
            return Ok(unchanged(path, existing.hash, operation));
        }
        let warnings = self.policy_gate(&[(path.clone(), Some(edited.clone()))])?;
        let abs = vault.root().join(&path);
        atomic::write(&abs, edited.as_bytes())
            .map_err(|source| ApiError::WriteFailed { path: path.clone(), source })?;
        let done = format!("edited {path} ({operation})");
        let message = format!("exo: edit {path} ({operation})");
        let landing = Landing::one_note(path, done, message, edited, warnings);
        self.land(writer, origin, repo.as_ref(), landing)
    }
}

/// A note written with `\r\n` line breaks throughout keeps them: the edit is made on its
/// `\n` form (the request's text included) and the result turned back. A note mixing both is
/// edited as it is.
fn apply_keeping_line_breaks(
    vault: &exo_vault::Vault,
    path: &str,
    text: &str,
    request: &EditNoteRequest,
) -> Result<String> {
    if !uses_crlf(text) {
        return apply(vault, path, text, request);
    }
    let lf = |s: &Option<String>| s.as_ref().map(|s| s.replace("\r\n", "\n"));
    let request = EditNoteRequest {
        text: lf(&request.text),
        find: lf(&request.find),
        replace: lf(&request.replace),
        ..request.clone()
    };
    let edited = apply(vault, path, &text.replace("\r\n", "\n"), &request)?;
    Ok(edited.replace('\n', "\r\n"))
}

/// Every line break is `\r\n` (and there is at least one).
fn uses_crlf(text: &str) -> bool {
    let breaks = text.matches('\n').count();
    breaks > 0 && text.matches("\r\n").count() == breaks
}

fn apply(vault: &exo_vault::Vault, path: &str, text: &str, request: &EditNoteRequest) -> Result<String> {
    let parse = |text: &str| exo_vault::parse_note(path, text, &vault.parse_options());
    let need = |field: &str, value: Option<&String>| {
        value
            .cloned()
            .ok_or_else(|| ApiError::Invalid(format!("{} needs `{field}`", operation_name(request.operation))))
    };
    match request.operation {
        EditOperation::Append => Ok(edit_ops::append(text, &need("text", request.text.as_ref())?)),
        EditOperation::Prepend => Ok(edit_ops::prepend(text, &parse(text), &need("text", request.text.as_ref())?)),
        EditOperation::ReplaceSection => {
            let heading = need("heading", request.heading.as_ref())?;
            let content = need("text", request.text.as_ref())?;
            edit_ops::replace_section(text, &parse(text), &heading, &content).map_err(|e| match e {
                SectionError::NotFound(headings) => {
                    ApiError::SectionNotFound { path: path.to_string(), heading: heading.clone(), headings }
                }
                SectionError::Ambiguous(lines) => ApiError::Invalid(format!(
                    "{path} has several headings {heading:?} (lines {}); make the heading unique or use find_replace",
                    lines.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
                )),
            })
        }
        EditOperation::FindReplace => {
            let find = need("find", request.find.as_ref())?;
            if find.is_empty() {
                return Err(ApiError::Invalid(format!(
                    "find_replace on {path} needs a non-empty `find`: the exact text to replace"
                )));
            }
            let replace = need("replace", request.replace.as_ref())?;
            let expected = request.expected_count.unwrap_or(1);
            edit_ops::find_replace(text, &find, &replace, expected).map_err(|found| ApiError::CountMismatch {
                path: path.to_string(),
                find: find.clone(),
                expected,
                found,
            })
        }
        EditOperation::SetFrontmatter => {
            let values = request.frontmatter.clone().ok_or_else(|| {
                ApiError::Invalid("set_frontmatter needs `frontmatter` (keys to set; null removes one)".into())
            })?;
            frontmatter_edit::set_keys(text, &parse(text), &values, parse)
                .map_err(|why| ApiError::Invalid(format!("cannot set the frontmatter of {path}: {why}")))
        }
    }
}

fn operation_name(operation: EditOperation) -> &'static str {
    match operation {
        EditOperation::Append => "append",
        EditOperation::Prepend => "prepend",
        EditOperation::ReplaceSection => "replace_section",
        EditOperation::FindReplace => "find_replace",
        EditOperation::SetFrontmatter => "set_frontmatter",
    }
}

/// The edit left the text as it was: nothing written, nothing committed.
fn unchanged(path: String, hash: String, operation: &str) -> WriteAnswer {
    WriteAnswer {
        done: format!("{path} unchanged ({operation} changed nothing)"),
        path,
        hash: Some(hash),
        touched: Vec::new(),
        committed: false,
        commit: None,
        not_committed: Some("nothing changed".into()),
        links_rewritten: None,
        notes_rewritten: None,
        own_links_rebased: None,
        linked_from: None,
        index_status: None,
        stale_notes: None,
        warnings: Vec::new(),
    }
}
