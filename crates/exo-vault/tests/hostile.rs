//! Hostile notes: a vault is often cloned from others, and one small note must never take exo
//! down. Each note here once crashed, exhausted memory or was misread; each must now parse into
//! a note, with a warning where exo had to give up on part of it.

use std::time::Instant;

use exo_vault::{Note, ParseOptions, TitleSource, WarningKind, parse_note};

fn parse(text: &str) -> Note {
    parse_note("hostile.md", text, &ParseOptions::default())
}

/// Parses on a thread with a small stack (rayon's workers and the main thread have more), so
/// a parse that recurses per level of nesting fails here rather than only on deeper input.
fn parse_on_small_stack(text: String) -> Note {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || parse(&text))
        .expect("spawn a parsing thread")
        .join()
        .expect("the parse must not panic")
}

/// The frontmatter of `tests/fixtures/hostile/billion-laughs.yaml` (shared with the e2e test):
/// ten billion strings once its aliases are expanded.
fn billion_laughs() -> String {
    let yaml = include_str!("../../../tests/fixtures/hostile/billion-laughs.yaml");
    format!("---\n{yaml}---\n# Laughs\n\nBody with [[a link]] and #inline.\n")
}

fn frontmatter_warning(note: &Note) -> &str {
    let warning = note.warnings.iter().find(|w| w.kind == WarningKind::InvalidFrontmatter);
    let warning = warning.unwrap_or_else(|| panic!("an InvalidFrontmatter warning, got {:?}", note.warnings));
    &warning.message
}

/// The frontmatter was given up on, and the rest of the note read as usual.
fn assert_read_as_text(note: &Note, bound: &str) {
    assert!(frontmatter_warning(note).contains(bound), "{:?}", note.warnings);
    assert!(note.frontmatter.is_none());
    assert!(note.tags.iter().all(|t| t.name != "lol"), "no tag came from the frontmatter");
}

#[test]
fn alias_expansion_is_bounded() {
    let text = billion_laughs();
    assert!(text.len() < 700, "{}", text.len());
    let note = parse_on_small_stack(text.clone());
    assert_read_as_text(&note, "alias (*name)");
    assert!(frontmatter_warning(&note).contains("10000"), "the warning names the bound");
    assert_eq!(note.title, "Laughs");
    assert_eq!(note.links.len(), 1);
    assert!(note.tags.iter().any(|t| t.name == "inline"));
    assert!(note.plain_text.contains("a9: &a9"), "the YAML stays searchable as text");
}

#[test]
fn ordinary_aliases_still_read() {
    let note = parse("---\nbase: &base {kind: paper, year: 2020}\ncopy: *base\ntags: &t [a, b]\naliases: *t\n---\nx\n");
    assert!(note.warnings.is_empty(), "{:?}", note.warnings);
    let frontmatter = note.frontmatter.expect("frontmatter read");
    assert_eq!(frontmatter["copy"]["year"], 2020);
    assert_eq!(note.aliases, vec!["a", "b"]);
}

#[test]
fn deep_block_sequence_is_bounded() {
    let text = format!("---\n{}a\n---\n# Deep\nbody\n", "- ".repeat(5_000));
    let note = parse_on_small_stack(text);
    assert_read_as_text(&note, "levels deep");
    assert_eq!(note.title, "Deep");
}

#[test]
fn deep_indentation_is_bounded() {
    let mut yaml = String::new();
    for level in 0..2_400 {
        yaml.push_str(&format!("{}k{level}:\n", "  ".repeat(level)));
    }
    let note = parse_on_small_stack(format!("---\n{yaml}---\nbody\n"));
    assert_read_as_text(&note, "levels deep");
}

#[test]
fn deep_flow_nesting_is_bounded() {
    // yaml-rust2 itself refuses more than 255 levels of brackets; below that exo's own bound
    // applies.
    for depth in [200, 5_000] {
        let note = parse_on_small_stack(format!("---\ntags: {}a{}\n---\nbody\n", "[".repeat(depth), "]".repeat(depth)));
        assert!(note.frontmatter.is_none(), "depth {depth}");
        assert!(!frontmatter_warning(&note).is_empty());
    }
}

#[test]
fn an_alias_adds_the_depth_of_its_anchor() {
    // Each part is 40 deep, within the bound; the alias puts one inside the other, 80 deep.
    let nested = format!("{}x{}", "[".repeat(40), "]".repeat(40));
    let shell = format!("{}*deep{}", "[".repeat(40), "]".repeat(40));
    let note = parse_on_small_stack(format!("---\ndeep: &deep {nested}\nouter: {shell}\n---\nbody\n"));
    assert_read_as_text(&note, "levels deep");
}

#[test]
fn byte_order_mark_before_frontmatter() {
    let text = "\u{feff}---\ntitle: Marked\ntags: [bom]\n---\n# Heading\n\n#inline and [[target]] ^block\n";
    let note = parse(text);
    assert!(note.warnings.is_empty(), "{:?}", note.warnings);
    assert_eq!((note.title.as_str(), note.title_source), ("Marked", TitleSource::Frontmatter));
    let tags: Vec<&str> = note.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tags, vec!["bom", "inline"]);
    assert_eq!(note.tags[1].line, 7);
    assert_eq!(note.headings.len(), 1, "the closing --- is no heading underline: {:?}", note.headings);
    assert_eq!(note.headings[0].text, "Heading");
    let frontmatter = note.frontmatter_span.expect("frontmatter found");
    assert_eq!(&text[frontmatter.start..frontmatter.start + 3], "---");
    assert_eq!(&text[note.headings[0].span.start..note.headings[0].span.end], "# Heading\n");
    let link = &note.links[0];
    assert_eq!(&text[link.span.start..link.span.end], "[[target]]");
    assert_eq!(note.blocks[0].id, "block");
    assert_spans_in_bounds(&note, text);
    assert!(note.chunks.iter().all(|c| !text[c.span.start..c.span.end].contains('\u{feff}')));
}

#[test]
fn byte_order_mark_before_plain_text() {
    let text = "\u{feff}#first tag [[x]]\n";
    let note = parse(text);
    assert!(note.warnings.is_empty(), "{:?}", note.warnings);
    let tags: Vec<&str> = note.tags.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tags, ["first"], "a tag right after the mark starts the text");
    assert_eq!(&text[note.links[0].span.start..note.links[0].span.end], "[[x]]");
    assert_eq!(note.prose[0].start, 3);
    assert_spans_in_bounds(&note, text);
    // Only one mark is taken off; a second is text, and says the fence was not recognised.
    let note = parse("\u{feff}\u{feff}---\ntitle: x\n---\n");
    assert!(note.frontmatter.is_none());
    assert_eq!(note.warnings[0].kind, WarningKind::UnclosedFrontmatter);
}

fn assert_spans_in_bounds(note: &Note, text: &str) {
    let spans = note
        .links
        .iter()
        .map(|l| l.span)
        .chain(note.headings.iter().map(|h| h.span))
        .chain(note.chunks.iter().map(|c| c.span))
        .chain(note.prose.iter().copied())
        .chain(note.frontmatter_span);
    for span in spans {
        assert!(span.start <= span.end && span.end <= text.len(), "{span:?}");
        assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end), "{span:?}");
    }
}

/// Deep or wide markdown. pulldown-cmark keeps its own stacks on the heap; this checks that
/// nothing exo does per event recurses or goes quadratic on them. It asserts only that a note
/// comes back (on a small stack); the times are printed for a human.
#[test]
fn hostile_markdown_parses() {
    let mut indented_list = String::new();
    for level in 0..2_000 {
        indented_list.push_str(&format!("{}- item {level}\n", "  ".repeat(level)));
    }
    let mut table = format!("|{}\n|{}\n", "h|".repeat(20_000), "-|".repeat(20_000));
    table.push_str(&"x\n".repeat(2_000));
    let cases: Vec<(&str, String)> = vec![
        ("blockquotes", format!("{} deep #tag [[link]]\n", ">".repeat(50_000))),
        ("blockquote lines", (0..5_000).map(|i| format!("{} line {i}\n", ">".repeat(i))).collect()),
        ("inline list", format!("{}x\n", "- ".repeat(50_000))),
        ("indented list", indented_list),
        ("emphasis", (0..20_000).map(|i| format!("{}w{i} ", "*".repeat(i % 3 + 1))).collect()),
        ("open brackets", "[".repeat(100_000)),
        ("wiki brackets", "[[".repeat(50_000) + &"]]".repeat(50_000)),
        ("nested links", "[a ".repeat(20_000) + &"](b.md)".repeat(20_000)),
        ("nested images", "![a ".repeat(20_000) + &"](b.md)".repeat(20_000)),
        ("html", "<div>".repeat(50_000) + &"</div>".repeat(50_000)),
        ("inline html", format!("x {} y", "<span>".repeat(50_000))),
        ("wide table", table),
        ("headings", "# h\n".repeat(50_000)),
        ("footnotes", (0..20_000).map(|i| format!("[^{i}]: [^{}]\n", i + 1)).collect()),
    ];
    for (name, text) in cases {
        let started = Instant::now();
        let len = text.len();
        let note = parse_on_small_stack(text);
        eprintln!("{name}: {len} bytes in {:?}, {} chunks", started.elapsed(), note.chunks.len());
    }
}

#[test]
fn nested_link_labels_stay_small() {
    // A link holding an image holding a link…: each label used to hold every label inside
    // it, so the labels together grew with the square of the note (13 s at 760 KB).
    let depth = 10_000;
    let text = "[![a ".repeat(depth) + &"](b.md)".repeat(2 * depth);
    let note = parse_on_small_stack(text);
    assert!(note.links.len() > depth, "{}", note.links.len());
    let longest = note.links.iter().filter_map(|l| l.display.as_ref()).map(String::len).max();
    assert!(longest.is_some_and(|len| len <= 300), "{longest:?}");
    // A short image label inside a link still counts as the link's text.
    let note = parse("[![logo](logo.png) home](home.md)");
    assert_eq!(note.links[0].display.as_deref(), Some("logo home"));
}

/// Large frontmatter of other shapes, read by yaml-rust2 before any bound applies: its
/// scanner must stay linear on them. Only that a note comes back is asserted.
#[test]
fn large_yaml_parses() {
    let n = 200_000;
    let cases: Vec<(&str, String)> = vec![
        ("folded plain scalar", format!("k: {}", "a\n  ".repeat(n))),
        ("single-quoted scalar", format!("k: '{}'", "a\n  ".repeat(n))),
        ("block scalar", format!("k: |\n{}", "  line\n".repeat(n))),
        ("flow mapping", format!("{{{}}}", "a: b, ".repeat(n))),
        ("open brackets", "[".repeat(n)),
        ("explicit keys", "? ".repeat(n)),
        ("blank lines", format!("k:{}v", "\n".repeat(n))),
    ];
    for (name, yaml) in cases {
        let started = Instant::now();
        let note = parse_on_small_stack(format!("---\n{yaml}\n---\nbody\n"));
        eprintln!("{name}: {} bytes in {:?}, {:?}", yaml.len(), started.elapsed(), note.warnings);
    }
}
