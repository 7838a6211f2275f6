//! Every syntax and edge case the parser promises, through the public API.

use exo_vault::{
    LinkKind, LinkStyle, Note, ParseOptions, TagSource, TitleSource, WarningKind, parse_bytes, parse_note,
};

fn parse(text: &str) -> Note {
    parse_note("folder/My Note.md", text, &ParseOptions::default())
}

/// (kind, target, heading, block, display) of each link.
type LinkParts<'a> = (LinkKind, &'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);

fn targets(note: &Note) -> Vec<LinkParts<'_>> {
    note.links
        .iter()
        .map(|l| (l.kind, l.target.as_str(), l.heading.as_deref(), l.block.as_deref(), l.display.as_deref()))
        .collect()
}

fn tag_names(note: &Note) -> Vec<&str> {
    note.tags.iter().map(|t| t.name.as_str()).collect()
}

#[test]
fn every_wikilink_form() {
    let note = parse(
        "[[plain]] [[with|alias]] [[note#Some Heading]] [[note#^block-1]] [[#Local]] ![[embedded]] ![[pic.png]] [[dir/sub note]]\n",
    );
    use LinkKind::*;
    assert_eq!(
        targets(&note),
        vec![
            (Wiki, "plain", None, None, None),
            (Wiki, "with", None, None, Some("alias")),
            (Wiki, "note", Some("Some Heading"), None, None),
            (Wiki, "note", None, Some("block-1"), None),
            (Wiki, "", Some("Local"), None, None),
            (Embed, "embedded", None, None, None),
            (Embed, "pic.png", None, None, None),
            (Wiki, "dir/sub note", None, None, None),
        ]
    );
    assert!(note.links[4].is_self_link());
}

#[test]
fn markdown_links_to_notes_only() {
    let note = parse(
        "[a](other.md) [b](../up/x%20y.md#Anchor) [c](sub/page) [d](#here) [e](https://x.io/p.md) [f](mailto:a@b.c) [g](img.png) [h](<with space.md>) ![i](embedded.md) <https://auto.link>\n",
    );
    use LinkKind::*;
    assert_eq!(
        targets(&note),
        vec![
            (Markdown, "other.md", None, None, Some("a")),
            (Markdown, "../up/x y.md", Some("Anchor"), None, Some("b")),
            (Markdown, "sub/page", None, None, Some("c")),
            (Markdown, "", Some("here"), None, Some("d")),
            (Markdown, "with space.md", None, None, Some("h")),
            (Embed, "embedded.md", None, None, Some("i")),
        ]
    );
}

#[test]
fn reference_style_links_count() {
    let note = parse("See [the plan][p].\n\n[p]: plans/q3.md\n");
    assert_eq!(note.links.len(), 1);
    assert_eq!(note.links[0].target, "plans/q3.md");
}

#[test]
fn nothing_inside_code_or_comments_counts() {
    let text = "Real [[yes]].\n\nInline `[[no1]] #notag` here.\n\n```\n[[no2]] #notag\n```\n\n    [[no3]] #notag\n\n<!-- [[no4]] #notag -->\n\nText <!-- [[no5]] --> after.\n\n<!--\n[[no6]]\n-->\n\n~~~md\n[[no7]]\n~~~\n";
    let note = parse(text);
    assert_eq!(targets(&note), vec![(LinkKind::Wiki, "yes", None, None, None)]);
    assert!(tag_names(&note).is_empty(), "{:?}", tag_names(&note));
}

#[test]
fn escaped_pipe_in_a_table() {
    let note = parse("| a | b |\n|---|---|\n| [[target\\|shown]] | x |\n");
    assert_eq!(targets(&note), vec![(LinkKind::Wiki, "target", None, None, Some("shown"))]);
}

#[test]
fn link_lines_and_spans() {
    let text = "first\n\nsecond [[x]] and\n![[y]]\n";
    let note = parse(text);
    assert_eq!(note.links[0].line, 3);
    assert_eq!(&text[note.links[0].span.start..note.links[0].span.end], "[[x]]");
    assert_eq!(note.links[1].line, 4);
    assert_eq!(&text[note.links[1].span.start..note.links[1].span.end], "![[y]]");
}

#[test]
fn dendron_style_swaps_label_and_target() {
    let options = ParseOptions { link_style: LinkStyle::Dendron, ..ParseOptions::default() };
    let note = parse_note("a.md", "[[The Label|dendron.topic.cli]] [[dendron://vault/x.y]]", &options);
    assert_eq!(note.links[0].target, "dendron.topic.cli");
    assert_eq!(note.links[0].display.as_deref(), Some("The Label"));
    assert_eq!(note.links[1].target, "x.y");
}

#[test]
fn frontmatter_keys() {
    let text = "---\ntitle: The Title\naliases: [One, Two]\ntags: [Rust, area/Work]\ntype: concept\nsummary: Short.\ncreated: 2024-01-02\nupdated: 2024-02-03\nextra: {nested: 1}\n---\n# H1\nBody #inline\n";
    let note = parse(text);
    assert_eq!(note.title, "The Title");
    assert_eq!(note.title_source, TitleSource::Frontmatter);
    assert_eq!(note.aliases, vec!["One", "Two"]);
    assert_eq!(tag_names(&note), vec!["rust", "area/work", "inline"]);
    assert_eq!(note.tags[0].source, TagSource::Frontmatter);
    assert_eq!(note.tags[2].source, TagSource::Inline);
    assert_eq!(note.tags[2].line, 12);
    assert_eq!(note.note_type.as_deref(), Some("concept"));
    assert_eq!(note.summary.as_deref(), Some("Short."));
    assert_eq!(note.created.as_deref(), Some("2024-01-02"));
    assert_eq!(note.updated.as_deref(), Some("2024-02-03"));
    assert_eq!(note.frontmatter.as_ref().unwrap()["extra"]["nested"], 1);
    let span = note.frontmatter_span.unwrap();
    assert_eq!(span.start, 0);
    assert!(text[..span.end].ends_with("---\n") || text[..span.end].ends_with("---"));
    assert!(note.warnings.is_empty());
}

/// Obsidian reads a frontmatter whose first line is blank (the Excalidraw plugin writes every
/// drawing so); pulldown-cmark alone read `---` as a rule, the keys as a paragraph, and
/// warned of an unclosed frontmatter.
#[test]
fn a_frontmatter_may_open_with_a_blank_line() {
    for (text, body) in [
        ("---\n\nexcalidraw-plugin: parsed\ntags: [excalidraw]\n\n---\n# Text Elements\nIncus ^abc\n", "# Text"),
        ("\u{feff}---\r\n\r\ntitle: Drawn\r\n---\r\nBody #inline\r\n", "Body"),
    ] {
        let note = parse(text);
        assert!(note.warnings.is_empty(), "{text:?}: {:?}", note.warnings);
        let span = note.frontmatter_span.expect("a frontmatter");
        assert_eq!(span.start, text.len() - text.trim_start_matches('\u{feff}').len());
        assert!(text[span.end..].starts_with(body), "{text:?}: the body starts after the closing ---");
        assert!(note.frontmatter.is_some());
    }
    let drawing = parse_note(
        "Excalidraw/Virtualization.excalidraw.md",
        "---\n\nexcalidraw-plugin: parsed\ntags: [excalidraw]\n\n---\n# Text Elements\nIncus ^abc\n",
        &ParseOptions::default(),
    );
    assert_eq!(tag_names(&drawing), vec!["excalidraw"]);
    // Its "# Text Elements" is the plugin's section marker: titled as Obsidian shows it.
    assert_eq!(drawing.title, "Virtualization.excalidraw");
    assert_eq!(drawing.title_source, TitleSource::FileName);
    assert_eq!(drawing.frontmatter.as_ref().unwrap()["excalidraw-plugin"], "parsed");
    let titled = parse("\u{feff}---\r\n\r\ntitle: Drawn\r\n---\r\nBody #inline\r\n");
    assert_eq!(titled.title, "Drawn");
    assert_eq!(tag_names(&titled), vec!["inline"]);
    assert_eq!(titled.tags[0].line, 5);
    // A rule and then text, with no closing fence, is still a rule: no frontmatter.
    let rule = parse("---\n\nJust text\n");
    assert!(rule.frontmatter_span.is_none());
    // So is a rule, a paragraph and another rule: its link and tag are the note's.
    let ruled = parse("---\n\nSee [[Other]] #idea\n\n---\nMore\n");
    assert!(ruled.frontmatter_span.is_none());
    assert_eq!(targets(&ruled).len(), 1);
    assert_eq!(tag_names(&ruled), vec!["idea"]);
    // A heading and tags are comments to YAML (an empty document), not keys: still markdown.
    let headed = parse("---\n\n# Meeting\n#idea #rust\n\n---\nbody\n");
    assert!(headed.frontmatter_span.is_none());
    assert_eq!(headed.title, "Meeting");
    assert_eq!(tag_names(&headed), vec!["idea", "rust"]);
    let headed_with_a_key = parse("---\n\n# Meeting\nstatus: draft\n\n---\nbody\n");
    assert!(headed_with_a_key.frontmatter_span.is_none());
    assert_eq!(headed_with_a_key.title, "Meeting");
    // YAML that holds no key (`~`, `{}`) is no frontmatter either.
    for empty in ["---\n\n~\n---\nbody\n", "---\n\n{}\n---\nbody\n"] {
        assert!(parse(empty).frontmatter_span.is_none(), "{empty:?}");
    }
}

#[test]
fn tags_as_a_comma_string() {
    let note = parse("---\ntags: \"rust, performance #io\"\n---\nx");
    assert_eq!(tag_names(&note), vec!["rust", "performance", "io"]);
}

#[test]
fn title_falls_back_to_h1_then_stem() {
    let note = parse("intro\n\n## Sub\n\n# First H1\n\n# Second H1\n");
    assert_eq!((note.title.as_str(), note.title_source), ("First H1", TitleSource::Heading));
    let note = parse("no headings here");
    assert_eq!((note.title.as_str(), note.title_source), ("My Note", TitleSource::FileName));
    let note = parse("---\ntitle: \"\"\n---\nplain");
    assert_eq!(note.title, "My Note");
}

#[test]
fn invalid_yaml_is_a_warning_and_text() {
    let text = "---\ntitle: [unclosed\nsummary: x: y\n---\n# Still Here\nbody [[link]]\n";
    let note = parse(text);
    assert_eq!(note.warnings.len(), 1);
    assert_eq!(note.warnings[0].kind, WarningKind::InvalidFrontmatter);
    assert!(note.frontmatter.is_none());
    assert_eq!(note.title, "Still Here");
    assert_eq!(note.links.len(), 1);
    assert!(note.plain_text.contains("unclosed"), "the YAML stays searchable as text");
}

#[test]
fn unclosed_frontmatter_is_a_warning() {
    let note = parse("---\ntitle: x\n\nbody text\n");
    assert_eq!(note.warnings[0].kind, WarningKind::UnclosedFrontmatter);
}

#[test]
fn scalar_frontmatter_is_a_warning() {
    let note = parse("---\njust a string\n---\nbody");
    assert_eq!(note.warnings[0].kind, WarningKind::InvalidFrontmatter);
}

#[test]
fn non_utf8_is_read_lossily_with_a_warning() {
    let note = parse_bytes("x.md", b"caf\xe9 [[link]] #tag", &ParseOptions::default());
    assert_eq!(note.warnings[0].kind, WarningKind::NotUtf8);
    assert_eq!(note.links[0].target, "link");
    assert_eq!(tag_names(&note), vec!["tag"]);
}

#[test]
fn headings_with_slugs_and_lines() {
    let note = parse("# One\n\ntext\n\n## Two Words?\n\nSetext\n------\n");
    let h: Vec<_> = note.headings.iter().map(|h| (h.level, h.text.as_str(), h.slug.as_str(), h.line)).collect();
    assert_eq!(h, vec![(1, "One", "one", 1), (2, "Two Words?", "two-words", 5), (2, "Setext", "setext", 7)]);
}

#[test]
fn block_ids() {
    let note = parse("A claim worth citing. ^claim-1\n\n- list item ^item2\n\nNot one^x\n\nmid ^no more\n");
    let ids: Vec<_> = note.blocks.iter().map(|b| (b.id.as_str(), b.line)).collect();
    assert_eq!(ids, vec![("claim-1", 1), ("item2", 3)]);
}

#[test]
fn tags_not_in_headings_markers_urls_or_numbers() {
    let note = parse(
        "# Heading\n\n## About #rust\n\nSee #123, #nested/deep/tag and https://x.io/a#b and [x](#anchor).\n#start of line\n",
    );
    assert_eq!(tag_names(&note), vec!["rust", "nested/deep/tag", "start"]);
}

#[test]
fn chunks_follow_headings_and_respect_the_cap() {
    let long_para = "word ".repeat(100);
    let text =
        format!("---\ntitle: t\n---\nIntro text.\n\n# A\n\n{long_para}\n\n{long_para}\n\n## Empty\n## B\nshort\n");
    let options = ParseOptions { chunk_max_bytes: 300, ..ParseOptions::default() };
    let note = parse_note("x.md", &text, &options);
    let headings: Vec<_> = note.chunks.iter().map(|c| c.heading.as_deref()).collect();
    assert_eq!(headings.first(), Some(&None), "intro before the first heading");
    assert!(headings.iter().filter(|h| **h == Some("A")).count() >= 4, "{headings:?}");
    assert_eq!(headings.last(), Some(&Some("B")));
    assert!(!headings.contains(&Some("Empty")), "heading-only sections are not chunks");
    for chunk in &note.chunks {
        assert!(chunk.span.end - chunk.span.start <= 300);
        assert!(chunk.span.start >= note.frontmatter_span.unwrap().end);
    }
    for pair in note.chunks.windows(2) {
        assert!(pair[0].span.end <= pair[1].span.start, "chunks do not overlap");
    }
}

#[test]
fn word_count_skips_code_and_frontmatter() {
    let note = parse("---\ntitle: a b c\n---\none two [[three four|five]]\n\n```\nnot counted\n```\n");
    assert_eq!(note.word_count, 3);
}

#[test]
fn odd_input_does_not_panic() {
    for text in [
        "",
        "---",
        "---\n---",
        "[[",
        "]]",
        "[[]]",
        "![[]]",
        "[[|]]",
        "[[#]]",
        "[[#^]]",
        "#",
        "^",
        "\u{feff}# BOM title",
        "\r\n\r\n# crlf\r\n[[x]]\r\n",
    ] {
        let _ = parse(text);
    }
    let crlf = parse("---\r\ntitle: crlf\r\n---\r\nbody [[x]]\r\n");
    assert_eq!(crlf.title, "crlf");
    assert_eq!(crlf.links[0].target, "x");
}

fn prose_of<'t>(note: &Note, text: &'t str) -> Vec<&'t str> {
    note.prose.iter().map(|span| &text[span.start..span.end]).collect()
}

#[test]
fn prose_is_text_outside_code_links_and_frontmatter_and_runs_across_wrapped_lines() {
    let text = "---\ntitle: T\n---\nA phrase wrapped\nacross lines, `code` and [[link|label]] here.\n\n```\nfenced\n```\nLast  \nline\n";
    let note = parse(text);
    assert_eq!(prose_of(&note, text), ["A phrase wrapped\nacross lines, ", " and ", " here.", "Last", "line"]);
}

/// Only a block at the very start is a frontmatter (as Obsidian reads it). pulldown-cmark
/// also took a `---` … `---` stretch mid-note for one: a list between two rules lost its
/// text and links, the body was chunked from after it, and the note was said to have broken
/// frontmatter (a real vault's usual template: "Tags:", a link, a rule, the note, a rule).
#[test]
fn a_stretch_between_two_rules_mid_note_is_body_not_frontmatter() {
    let template = "Tags:\n- [[Tags/Databases|Databases]]\n---\n- Atomicity, see [[Transactions]]\n- Isolation: key: value\n---\n## References\n- [[Designing Data-Intensive Applications]]\n";
    let note = parse(template);
    assert!(note.frontmatter_span.is_none() && note.frontmatter.is_none(), "{:?}", note.frontmatter_span);
    assert!(note.warnings.is_empty(), "{:?}", note.warnings);
    let found: Vec<&str> = note.links.iter().map(|l| l.target.as_str()).collect();
    assert_eq!(found, ["Tags/Databases", "Transactions", "Designing Data-Intensive Applications"]);
    let chunked: String = note.chunks.iter().map(|c| &template[c.span.start..c.span.end]).collect();
    assert!(chunked.contains("Tags:") && chunked.contains("Atomicity"), "the body is chunked from its start");

    // With a frontmatter at the start, a later stretch between rules is body all the same.
    let both = parse("---\ntitle: Both\n---\nIntro\n\n---\n- see [[Later]] #tagged\n---\nEnd\n");
    assert_eq!(both.title, "Both");
    assert_eq!(both.frontmatter_span.map(|s| s.start), Some(0));
    assert!(both.warnings.is_empty(), "{:?}", both.warnings);
    assert_eq!(both.links.iter().map(|l| l.target.as_str()).collect::<Vec<_>>(), ["Later"]);
    assert_eq!(tag_names(&both), vec!["tagged"]);
}

/// Obsidian reads `[[…]]` in a property's value as a link (the graph, the backlinks, the
/// note's outgoing links): the same targets, fragments and labels as in the body, on the
/// lines they are on, before the body's links. A YAML comment and a bracket soup are none.
#[test]
fn wikilinks_in_frontmatter_values_are_property_links() {
    let text = "---\nparent:\n  - \"[[C++ Coroutines|Coroutines]]\"\nrelated: \"[[./A#Sec]] and [[B#^blk]]\"\n\
                # see [[Commented]]\nempty: \"[[ ]]\"\nsoup: \"[[a [b]] [[[[X]]\"\ntitle: Real\n---\n\nBody [[A]].\n";
    let note = parse(text);
    assert_eq!(
        targets(&note),
        [
            (LinkKind::Property, "C++ Coroutines", None, None, Some("Coroutines")),
            (LinkKind::Property, "./A", Some("Sec"), None, None),
            (LinkKind::Property, "B", None, Some("blk"), None),
            (LinkKind::Property, "X", None, None, None),
            (LinkKind::Wiki, "A", None, None, None),
        ]
    );
    let lines: Vec<u32> = note.links.iter().map(|l| l.line).collect();
    assert_eq!(lines, [3, 4, 4, 7, 11]);
    let spans: Vec<&str> = note.links.iter().map(|l| &text[l.span.start..l.span.end]).collect();
    assert_eq!(spans, ["[[C++ Coroutines|Coroutines]]", "[[./A#Sec]]", "[[B#^blk]]", "[[X]]", "[[A]]"]);
    assert_eq!(note.title, "Real", "the frontmatter is read as before");

    // Dendron writes the label first, in properties as in the body; a note without a
    // frontmatter has no property links, and a `---` stretch mid-note is body.
    let options = ParseOptions { link_style: LinkStyle::Dendron, ..ParseOptions::default() };
    let dendron = parse_note("a.md", "---\nsee: \"[[The Label|dendron.topic.cli]]\"\n---\n", &options);
    assert_eq!(targets(&dendron), [(LinkKind::Property, "dendron.topic.cli", None, None, Some("The Label"))]);
    let mid = parse("Intro\n\n---\nparent: [[P]]\n---\n");
    assert_eq!(targets(&mid), [(LinkKind::Wiki, "P", None, None, None)]);
    // Without properties there are no property links: a frontmatter that is one string, or
    // YAML that does not load (its text is read as the note's, not as links).
    assert!(parse("---\njust text with \"[[A]]\"\n---\nBody\n").links.is_empty());
    let invalid = parse("---\nparent: \"[[A]]\"\nbad: [unclosed\n---\nBody\n");
    assert!(invalid.links.is_empty() && !invalid.warnings.is_empty(), "{:?}", invalid.links);
}

/// Math is what Obsidian renders with MathJax: searchable text, but no prose for the garden
/// to find names in and no links. Dollar amounts stay prose.
#[test]
fn math_is_searchable_text_but_not_prose_or_links() {
    let text = "Cost $5 and $10 here, the $\\text{sum of squares}$ and\n\n$$\n[[Not A Link]] \\text{mean squared error}\n$$\n\nend [[Real]].\n";
    let note = parse(text);
    assert_eq!(targets(&note), [(LinkKind::Wiki, "Real", None, None, None)]);
    assert!(note.plain_text.contains("sum of squares") && note.plain_text.contains("mean squared error"));
    let prose: Vec<&str> = note.prose.iter().map(|s| &text[s.start..s.end]).collect();
    assert!(prose.iter().any(|p| p.contains("$5 and $10")), "{prose:?}");
    assert!(!prose.iter().any(|p| p.contains("squares") || p.contains("squared")), "{prose:?}");
    assert!(note.word_count >= 14, "math counts as words: {}", note.word_count);
    let heading = parse("# $\\LaTeX$ tips\n");
    assert_eq!(heading.title, "$\\LaTeX$ tips", "a heading keeps its math as written");
}
