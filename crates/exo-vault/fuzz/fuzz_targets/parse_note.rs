//! Any bytes at all, parsed as a note in both link styles: never a panic, and every span
//! the parser reports lies inside the text on character boundaries.
#![no_main]

use exo_vault::{LinkStyle, ParseOptions, parse_bytes_with_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for link_style in [LinkStyle::Obsidian, LinkStyle::Dendron] {
        let options = ParseOptions { link_style, chunk_max_bytes: 200 };
        let (note, text) = parse_bytes_with_text("fuzz/note.md", data, &options);
        for link in &note.links {
            assert!(link.span.start <= link.span.end && link.span.end <= text.len());
            assert!(text.is_char_boundary(link.span.start) && text.is_char_boundary(link.span.end));
        }
        for chunk in &note.chunks {
            assert!(chunk.span.end <= text.len() && text.is_char_boundary(chunk.span.start));
        }
    }
});
