//! The note an edit, move or delete is about: found by path, or by title or alias through the
//! index, then read, and checked against the caller's `base_hash`.

use super::target;
use crate::{ApiError, Exo, Result};

/// An existing note as the write found it.
pub(crate) struct Existing {
    pub path: String,
    pub bytes: Vec<u8>,
    pub hash: String,
}

impl Exo {
    /// The note `reference` names (a vault path, else a title or alias), read from disk.
    pub(crate) fn existing_note(&self, reference: &str, base_hash: Option<&str>) -> Result<Existing> {
        if let Some(refused) = target::escapes(reference) {
            return Err(refused);
        }
        let vault = self.vault();
        let path = match target::note_path(vault, reference) {
            Ok(path) if vault.root().join(&path).is_file() => path,
            _ => {
                self.refresh_index()?;
                let graph = self.index.graph()?;
                let id = graph.find(reference)?;
                target::note_path(vault, &graph.note(id).path)?
            }
        };
        let abs = vault.root().join(&path);
        let bytes = std::fs::read(&abs).map_err(|source| ApiError::CannotRead { path: abs, source })?;
        let hash = exo_vault::content_hash(&bytes).0;
        if let Some(base) = base_hash
            && !base.trim().eq_ignore_ascii_case(&hash)
        {
            return Err(ApiError::BaseHashMismatch { path, current: hash });
        }
        Ok(Existing { path, bytes, hash })
    }
}
