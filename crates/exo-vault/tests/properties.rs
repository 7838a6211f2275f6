//! Property tests: the parser never panics, every span it reports lies inside the text on
//! char boundaries, and nothing inside code ever becomes a link.

use exo_vault::{LinkStyle, ParseOptions, Span, parse_bytes, parse_note};
use proptest::prelude::*;

/// Fragments that exercise markdown and link syntax, joined at random.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[[".to_string()),
        Just("]]".to_string()),
        Just("|".to_string()),
        Just("\\|".to_string()),
        Just("#".to_string()),
        Just("#tag".to_string()),
        Just("^".to_string()),
        Just(" ^id".to_string()),
        Just("![[".to_string()),
        Just("[x](y.md#h)".to_string()),
        Just("](".to_string()),
        Just("\n".to_string()),
        Just("\n\n".to_string()),
        Just("---\n".to_string()),
        Just("# ".to_string()),
        Just("    ".to_string()),
        Just("- ".to_string()),
        Just("> ".to_string()),
        Just("<!--".to_string()),
        Just("-->".to_string()),
        Just("*".to_string()),
        Just("_".to_string()),
        Just("\r\n".to_string()),
        Just("é".to_string()),
        Just("e\u{301}".to_string()),
        Just("🚀".to_string()),
        Just("日本".to_string()),
        Just("| a | b |\n|---|---|\n".to_string()),
        "[a-zA-Z0-9 ]{1,8}",
    ]
}

fn markdownish() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..60).prop_map(|parts| parts.concat())
}

/// Like `markdownish` but without backticks or tildes, so it cannot open or close code
/// that the test inserts.
fn fenceless() -> impl Strategy<Value = String> {
    markdownish().prop_map(|s| s.replace(['`', '~'], ""))
}

fn check_span(text: &str, span: Span, what: &str) {
    assert!(span.start <= span.end && span.end <= text.len(), "{what} span {span:?} out of bounds");
    assert!(
        text.is_char_boundary(span.start) && text.is_char_boundary(span.end),
        "{what} span {span:?} not on char boundaries"
    );
}

fn options(dendron: bool) -> ParseOptions {
    ParseOptions { link_style: if dendron { LinkStyle::Dendron } else { LinkStyle::Obsidian }, chunk_max_bytes: 64 }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn spans_are_in_bounds(text in markdownish(), dendron in any::<bool>()) {
        let note = parse_note("p.md", &text, &options(dendron));
        let lines = text.split('\n').count() as u32;
        for link in &note.links {
            check_span(&text, link.span, "link");
            prop_assert!(link.line >= 1 && link.line <= lines);
        }
        for heading in &note.headings {
            check_span(&text, heading.span, "heading");
        }
        for chunk in &note.chunks {
            check_span(&text, chunk.span, "chunk");
            prop_assert!(chunk.span.end - chunk.span.start <= 64 || text[chunk.span.start..chunk.span.end].chars().count() == 1);
        }
        if let Some(span) = note.frontmatter_span {
            check_span(&text, span, "frontmatter");
        }
        for tag in &note.tags {
            prop_assert!(!tag.name.is_empty() && !tag.name.starts_with('#'));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_bytes("b.md", &bytes, &options(false));
    }

    #[test]
    fn nothing_in_code_becomes_a_link(before in fenceless(), after in fenceless(), fence in prop_oneof![Just("```"), Just("~~~")]) {
        let text = format!(
            "{before}\n\n{fence}\n[[CODE_BLOCK]] ![[CODE_EMBED]] [x](CODE_MD.md)\n{fence}\n\ntext `[[CODE_SPAN]]` and `` [[CODE_DOUBLE]] ``\n\n{after}"
        );
        let note = parse_note("c.md", &text, &options(false));
        for link in &note.links {
            prop_assert!(!link.target.contains("CODE_"), "found {:?} in code", link.target);
        }
    }
}
