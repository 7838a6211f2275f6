//! The git revision the vault is at, recorded with each index run.

use std::path::Path;

/// Full hex id of HEAD's commit; None outside a repository or before the first commit.
pub fn head_revision(root: &Path) -> Option<String> {
    let repo = git2::Repository::discover(root).ok()?;
    let head = repo.head().ok()?;
    Some(head.peel_to_commit().ok()?.id().to_string())
}
