//! `inspect_note`: what exo sees in one note file (today's `exo parse`), with or without a
//! vault around it.

use std::path::Path;

use exo_vault::{Note, ParseOptions, Span, content_hash, parse_bytes};
use serde::Serialize;

use crate::{ApiError, Result, VaultChoice};

/// One chunk as the parser cut it, with its text.
#[derive(Debug, Clone, Serialize)]
pub struct ChunkView {
    pub heading: Option<String>,
    pub span: Span,
    pub text: String,
}

/// The parser's view of one note.
#[derive(Debug, Clone, Serialize)]
pub struct NoteReport {
    /// Vault-relative when the file is in a vault, else as given.
    pub path: String,
    /// blake3 of the file's bytes: what the index records and what a later edit is checked against.
    pub hash: String,
    pub size: usize,
    #[serde(flatten)]
    pub note: Note,
    pub chunk_texts: Vec<ChunkView>,
}

/// Parses the file at `file` (relative to `choice.cwd`) with the settings of the vault it
/// is in, if any (the defaults otherwise), exactly as indexing would.
pub fn inspect_note(choice: &VaultChoice, file: &Path) -> Result<NoteReport> {
    let absolute = choice.cwd.join(file);
    let bytes = std::fs::read(&absolute).map_err(|source| ApiError::CannotRead { path: file.to_path_buf(), source })?;
    let around = VaultChoice { cwd: absolute.parent().unwrap_or(&choice.cwd).to_path_buf(), ..choice.clone() };
    let (path, options) = match around.discover() {
        Ok(vault) => (
            vault.relative_path(&absolute, &choice.cwd).unwrap_or_else(|_| file.display().to_string()),
            vault.parse_options(),
        ),
        Err(exo_vault::VaultError::NotFound { .. }) => (file.display().to_string(), ParseOptions::default()),
        Err(e) => return Err(e.into()),
    };
    let note = parse_bytes(&path, &bytes, &options);
    let text = String::from_utf8_lossy(&bytes);
    let chunk_texts = note
        .chunks
        .iter()
        .map(|c| ChunkView {
            heading: c.heading.clone(),
            span: c.span,
            text: text.get(c.span.start..c.span.end).unwrap_or("").to_string(),
        })
        .collect();
    Ok(NoteReport { path, hash: content_hash(&bytes).0, size: bytes.len(), note, chunk_texts })
}
