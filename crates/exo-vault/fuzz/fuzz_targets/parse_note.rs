//! Any bytes at all, parsed as a note in both link styles: never a panic, and every span
//! the parser reports lies inside the text on character boundaries.
#![no_main]

use exo_vault::{LinkStyle, ParseOptions, Span, parse_bytes_with_text};
use libfuzzer_sys::fuzz_target;

fn assert_in_text(span: Span, text: &str) {
    assert!(span.start <= span.end && span.end <= text.len(), "{span:?} outside {} bytes", text.len());
    assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end), "{span:?} splits a character");
}

fuzz_target!(|data: &[u8]| {
    for link_style in [LinkStyle::Obsidian, LinkStyle::Dendron] {
        let options = ParseOptions { link_style, chunk_max_bytes: 200 };
        let (note, text) = parse_bytes_with_text("fuzz/note.md", data, &options);
        let spans = note.links.iter().map(|l| l.span).chain(note.headings.iter().map(|h| h.span));
        let spans = spans.chain(note.chunks.iter().map(|c| c.span)).chain(note.prose.iter().copied());
        for span in spans.chain(note.frontmatter_span) {
            assert_in_text(span, &text);
        }
    }
});
