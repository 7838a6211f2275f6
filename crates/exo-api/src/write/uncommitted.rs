//! A person's uncommitted work is not a write's to overwrite.
//!
//! A note whose working file differs from HEAD (modified, or untracked), or whose entry in
//! git's index does (staged), was changed by someone since the last commit. If that someone is this writer (the file's hash is what it last wrote
//! there: its own held work under `--no-commit`), the write goes ahead; otherwise it is refused
//! unless `force`. Outside git there is no HEAD to compare with, and nothing is refused.

use super::Writer;
use super::commit::{Repo, blob_id};
use crate::{ApiError, Result};

pub(crate) fn check(repo: Option<&Repo>, writer: &Writer, path: &str, bytes: &[u8], force: bool) -> Result<()> {
    let Some(repo) = repo else { return Ok(()) };
    if force || matches_head(repo, path, bytes) || writer.wrote(path, exo_vault::content_hash(bytes).as_str()) {
        return Ok(());
    }
    Err(ApiError::UncommittedChanges { path: path.to_string() })
}

fn matches_head(repo: &Repo, path: &str, bytes: &[u8]) -> bool {
    match (repo.head_blob(path), blob_id(bytes)) {
        (Some((head, _)), Some(working)) => head == working && repo.staged_blob(path).is_none_or(|s| s == head),
        _ => false,
    }
}
