//! Before a note is created: does the vault already hold it? First by name (the new note's
//! title, file stem and aliases, found the way links and `exo graph` find notes), then by
//! meaning (the new text against every note's chunk vectors, when the vault has vectors).

use exo_index::graph::NoteLinks;
use exo_index::search::{Filters, Mode, SearchRequest};
use exo_index::{Index, IndexError};
use exo_vault::Note;

/// Cosine of the new text with a note's best chunk at or above which the note is a candidate.
/// Planted duplicates score above 0.95; topical neighbours sit below 0.85.
const SIMILAR: f32 = 0.9;
/// Shorter texts match too much by meaning to tell anything.
const MIN_WORDS: usize = 12;
/// The text embedded for the comparison (the model reads its first 256 tokens anyway).
const MAX_QUERY_BYTES: usize = 2000;

/// Paths of existing notes the new note at `path` may duplicate, sorted, without repeats.
pub(crate) fn near_duplicates(index: &Index, names: &NoteLinks, path: &str, note: &Note) -> Vec<String> {
    let mut found = by_name(names, path, note);
    found.extend(by_meaning(index, note));
    found.sort();
    found.dedup();
    found
}

/// By name through the catalog's indexes (the way `read_note` finds a note), not the whole
/// link graph: loading that was most of a create's cost at 10k notes.
fn by_name(catalog: &NoteLinks, path: &str, note: &Note) -> Vec<String> {
    let stem = exo_vault::path::note_stem(path).to_string();
    let names = std::iter::once(&note.title).chain(std::iter::once(&stem)).chain(&note.aliases);
    let mut found = Vec::new();
    for name in names.filter(|n| !n.trim().is_empty()) {
        match catalog.find(name) {
            Ok(existing) => found.push(existing.path),
            Err(IndexError::AmbiguousNote { candidates, .. }) => found.extend(candidates),
            Err(_) => {}
        }
    }
    found
}

/// Notes whose best chunk is nearly the new text. No vectors (none yet, turned off, another
/// embedder) means no candidates by meaning, not an error.
fn by_meaning(index: &Index, note: &Note) -> Vec<String> {
    if note.word_count < MIN_WORDS {
        return Vec::new();
    }
    let mut end = note.plain_text.len().min(MAX_QUERY_BYTES);
    while !note.plain_text.is_char_boundary(end) {
        end -= 1;
    }
    let request = SearchRequest {
        query: note.plain_text[..end].to_string(),
        mode: Mode::Vector,
        limit: 5,
        filters: Filters::default(),
    };
    let Ok(results) = index.search(&request) else { return Vec::new() };
    results
        .hits
        .into_iter()
        .filter(|hit| hit.signals.vector.is_some_and(|v| v.score >= SIMILAR))
        .map(|hit| hit.path)
        .collect()
}
