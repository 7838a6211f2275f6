//! `delete_note`: only with `confirm`, and both the refusal and the answer name the notes
//! whose links to it become unresolved.

use super::commit::Repo;
use super::land::Landing;
use super::lock::WriteLock;
use super::{DeleteNoteRequest, WriteAnswer, WriteOrigin, Writer, atomic, uncommitted};
use crate::{ApiError, Exo, Result};

impl Exo {
    /// Deletes a note (with `confirm`) and lands the removal as one commit.
    pub fn delete_note(
        &self,
        writer: &Writer,
        origin: &WriteOrigin,
        request: &DeleteNoteRequest,
    ) -> Result<WriteAnswer> {
        let vault = self.vault();
        let _lock = WriteLock::acquire(vault.root())?;
        let existing = self.existing_note(&request.note, request.base_hash.as_deref())?;
        let path = existing.path.clone();
        let linked_from = self.linking_notes(&path)?;
        if !request.confirm {
            return Err(ApiError::ConfirmRequired { path, linked_from });
        }
        let repo = Repo::open(vault.root());
        uncommitted::check(repo.as_ref(), writer, &path, &existing.bytes, request.force)?;
        let warnings = self.policy_gate(&[(path.clone(), None)])?;
        atomic::remove(&vault.root().join(&path))
            .map_err(|source| ApiError::WriteFailed { path: path.clone(), source })?;
        let landing = Landing {
            done: match linked_from.len() {
                0 => format!("deleted {path}"),
                n => format!("deleted {path}; {n} note(s) linked to it"),
            },
            hash: None,
            message: format!("exo: delete {path}"),
            changes: vec![(path.clone(), None)],
            path,
            links_rewritten: None,
            notes_rewritten: None,
            own_links_rebased: None,
            linked_from: Some(linked_from),
            warnings,
        };
        self.land(writer, origin, repo.as_ref(), landing)
    }

    /// Other notes with a link resolving to `path`, sorted, from an index brought up to date.
    pub(crate) fn linking_notes(&self, path: &str) -> Result<Vec<String>> {
        self.refresh_index()?;
        let graph = self.index.graph()?;
        let Some(id) = graph.by_path(path) else { return Ok(Vec::new()) };
        let mut sources: Vec<String> =
            graph.incoming(id).map(|link| graph.note(link.src).path.clone()).filter(|source| source != path).collect();
        sources.sort();
        sources.dedup();
        Ok(sources)
    }
}
