//! Heading-aware chunks with a size cap: the units that get vectors and snippets.

use crate::note::{Chunk, Heading, Span};

/// Splits `source[body_start..]` at headings, then splits sections above `max_bytes` at
/// paragraph, line or word breaks. Whitespace-only pieces and sections holding nothing but
/// their heading line are dropped.
pub(crate) fn chunk_sections(source: &str, body_start: usize, headings: &[Heading], max_bytes: usize) -> Vec<Chunk> {
    let body_start = body_start.min(source.len());
    let mut bounds: Vec<(usize, Option<&Heading>)> = vec![(body_start, None)];
    bounds.extend(headings.iter().filter(|h| h.span.start >= body_start).map(|h| (h.span.start, Some(h))));
    let mut chunks = Vec::new();
    for (i, &(start, heading)) in bounds.iter().enumerate() {
        let end = bounds.get(i + 1).map_or(source.len(), |&(next, _)| next);
        if start >= end {
            continue;
        }
        let content_start = heading.map_or(start, |h| h.span.end.min(end));
        if source[content_start..end].trim().is_empty() {
            continue;
        }
        let heading_text = heading.map(|h| h.text.clone());
        for span in split_to_cap(source, start, end, max_bytes) {
            chunks.push(Chunk { heading: heading_text.clone(), span });
        }
    }
    chunks
}

fn split_to_cap(source: &str, start: usize, end: usize, max_bytes: usize) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut pos = start;
    while pos < end {
        let piece_end = if end - pos <= max_bytes { end } else { break_point(source, pos, end, max_bytes) };
        if !source[pos..piece_end].trim().is_empty() {
            spans.push(Span::new(pos, piece_end));
        }
        pos = piece_end;
    }
    spans
}

/// Where to cut a piece starting at `pos`: the last paragraph break inside the cap, else
/// the last line break, else the last space, else the cap itself (on a char boundary).
/// Breaks in the first quarter are ignored so pieces do not come out tiny.
fn break_point(source: &str, pos: usize, end: usize, max_bytes: usize) -> usize {
    let mut cap = (pos + max_bytes).min(end);
    while !source.is_char_boundary(cap) {
        cap -= 1;
    }
    let window = &source[pos..cap];
    let min = max_bytes / 4;
    let after = |needle: &str| window.rfind(needle).map(|i| i + needle.len()).filter(|&i| i > min);
    let cut = after("\n\n").or_else(|| after("\n")).or_else(|| after(" "));
    match cut {
        Some(i) => pos + i,
        None if cap > pos => cap,
        // A single character wider than the cap: take it whole.
        None => pos + source[pos..].chars().next().map_or(1, char::len_utf8),
    }
}
