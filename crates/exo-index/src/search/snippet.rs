//! Snippets: the chunk of a note that holds most of the query's terms (or the chunk the
//! vector signal matched), cut to a window around the first match, with the matches marked
//! as byte ranges so a terminal can colour them and a script can find them.

use std::collections::HashSet;

use serde::Serialize;
use tantivy::tokenizer::TextAnalyzer;

use crate::error::{Result, SqlContext};
use crate::store::catalog::Catalog;
use crate::store::text::{ANALYZER, TextIndex};

const WINDOW_BYTES: usize = 240;
const LEAD_BYTES: usize = 60;

#[derive(Debug, Clone, Default, Serialize, PartialEq, schemars::JsonSchema)]
pub struct Snippet {
    pub text: String,
    /// Byte ranges of `text` that match query terms, in order.
    pub highlights: Vec<(usize, usize)>,
}

/// The analysed terms of the query, as the index stores them (lower-cased, stemmed).
pub fn query_terms(text: &TextIndex, query: &str) -> HashSet<String> {
    let Some(mut analyzer) = text.index.tokenizers().get(ANALYZER) else {
        return HashSet::new();
    };
    let mut terms = HashSet::new();
    let mut stream = analyzer.token_stream(query);
    while let Some(token) = stream.next() {
        terms.insert(token.text.clone());
    }
    terms
}

/// (heading, snippet) for note `note_id`; `preferred` is a chunk chosen by another signal.
pub fn best(
    catalog: &Catalog,
    text: &TextIndex,
    note_id: i64,
    terms: &HashSet<String>,
    preferred: Option<usize>,
) -> Result<(Option<String>, Snippet)> {
    let mut stmt = catalog
        .conn
        .prepare_cached("SELECT seq, heading, text FROM chunks WHERE note_id = ?1 ORDER BY seq")
        .at(&catalog.path)?;
    let chunks = stmt
        .query_map([note_id], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, String>(2)?)))
        .at(&catalog.path)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .at(&catalog.path)?;
    let Some(mut analyzer) = text.index.tokenizers().get(ANALYZER) else {
        return Ok((None, Snippet::default()));
    };
    // The vector signal's chunk wins when there is one; otherwise the chunk with the most
    // distinct query terms, the earliest on ties.
    let mut best: Option<Candidate> = None;
    for (seq, heading, chunk_text) in chunks {
        let found = matches(&mut analyzer, &chunk_text, terms);
        let rank = if preferred == Some(seq as usize) {
            usize::MAX
        } else {
            distinct_terms(&mut analyzer, &chunk_text, &found)
        };
        if best.as_ref().is_none_or(|(current, ..)| rank > *current) {
            best = Some((rank, heading, chunk_text, found));
        }
    }
    Ok(match best {
        Some((_, heading, chunk_text, found)) => (heading, window(&chunk_text, &found)),
        None => (None, Snippet::default()),
    })
}

/// (rank, heading, chunk text, match ranges) of a chunk in the running.
type Candidate = (usize, Option<String>, String, Vec<(usize, usize)>);

fn matches(analyzer: &mut TextAnalyzer, text: &str, terms: &HashSet<String>) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(token) = stream.next() {
        if terms.contains(&token.text) {
            found.push((token.offset_from, token.offset_to));
        }
    }
    found
}

fn distinct_terms(analyzer: &mut TextAnalyzer, text: &str, matches: &[(usize, usize)]) -> usize {
    let mut seen = HashSet::new();
    for &(from, to) in matches {
        let mut stream = analyzer.token_stream(&text[from..to]);
        if let Some(token) = stream.next() {
            seen.insert(token.text.clone());
        }
    }
    seen.len()
}

/// A window of about [`WINDOW_BYTES`] starting a little before the first match, on char
/// and word boundaries, with whitespace runs shown as single-byte spaces (offsets kept).
fn window(text: &str, matches: &[(usize, usize)]) -> Snippet {
    let first = matches.first().map_or(0, |m| m.0);
    let mut start = floor_boundary(text, first.saturating_sub(LEAD_BYTES));
    if start > 0
        && let Some(space) = text[start..first].find(char::is_whitespace)
    {
        start += space + 1;
    }
    let mut end = floor_boundary(text, (start + WINDOW_BYTES).min(text.len()));
    if end < text.len()
        && let Some(space) = text[start..end].rfind(char::is_whitespace)
        && space > 0
    {
        end = start + space;
    }
    let mut shown: String =
        text[start..end].chars().map(|c| if c == '\n' || c == '\t' || c == '\r' { ' ' } else { c }).collect();
    let trimmed_start = shown.len() - shown.trim_start().len();
    shown.drain(..trimmed_start);
    let offset = start + trimmed_start;
    let highlights = matches
        .iter()
        .filter(|(from, to)| *from >= offset && *to <= offset + shown.len())
        .map(|(from, to)| (from - offset, to - offset))
        .collect();
    Snippet { text: shown.trim_end().to_string(), highlights }
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_keeps_highlights_aligned() {
        let text = format!("{} spaced repetition beats\ncramming. {}", "filler ".repeat(30), "tail ".repeat(60));
        let at = text.find("spaced").unwrap();
        let snippet = window(&text, &[(at, at + 6), (at + 7, at + 17)]);
        assert!(snippet.text.len() <= WINDOW_BYTES);
        assert!(!snippet.text.contains('\n'));
        let words: Vec<&str> = snippet.highlights.iter().map(|&(a, b)| &snippet.text[a..b]).collect();
        assert_eq!(words, ["spaced", "repetition"]);
        assert!(snippet.text.starts_with("filler"), "{}", snippet.text);
    }

    #[test]
    fn window_respects_multibyte_boundaries() {
        let text = "知识管理 ".repeat(40) + "间隔重复";
        let at = text.find("间隔").unwrap();
        let snippet = window(&text, &[(at, at + 6)]);
        assert_eq!(&snippet.text[snippet.highlights[0].0..snippet.highlights[0].1], "间隔");
    }
}
