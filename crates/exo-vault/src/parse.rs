//! Markdown in, [`Note`] out. Pure: no I/O, never panics on any input.
//!
//! One pulldown-cmark pass with byte offsets does the work, so whatever the CommonMark
//! parser treats as code, HTML comments or link syntax is exactly what exo treats as such.

use std::borrow::Cow;
use std::ops::Range;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};

use crate::chunk::chunk_sections;
use crate::config::{Config, LinkStyle};
use crate::frontmatter::{Frontmatter, parse_frontmatter};
use crate::note::{
    BlockId, Heading, Link, LinkKind, Note, Span, Tag as NoteTag, TagSource, TitleSource, Warning, WarningKind,
};
use crate::path::note_stem;
use crate::text::{LineIndex, block_id_at_end, inline_tags, slugify};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseOptions {
    pub link_style: LinkStyle,
    pub chunk_max_bytes: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions::from_config(&Config::default())
    }
}

impl ParseOptions {
    pub fn from_config(config: &Config) -> ParseOptions {
        ParseOptions { link_style: config.links.style, chunk_max_bytes: config.chunks.max_bytes }
    }
}

/// Text of a file, replacing invalid UTF-8 with U+FFFD and saying so.
pub fn decode(bytes: &[u8]) -> (Cow<'_, str>, Option<Warning>) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (Cow::Borrowed(text), None),
        Err(e) => (
            String::from_utf8_lossy(bytes),
            Some(Warning::new(
                WarningKind::NotUtf8,
                format!(
                    "not valid UTF-8 (first bad byte at offset {}); read with replacement characters — re-save the file as UTF-8",
                    e.valid_up_to()
                ),
            )),
        ),
    }
}

/// Parses raw file bytes. `path` is vault-relative and only used for the fallback title.
pub fn parse_bytes(path: &str, bytes: &[u8], options: &ParseOptions) -> Note {
    parse_bytes_with_text(path, bytes, options).0
}

/// Like [`parse_bytes`], also returning the decoded text that the note's spans index into.
pub fn parse_bytes_with_text<'b>(path: &str, bytes: &'b [u8], options: &ParseOptions) -> (Note, Cow<'b, str>) {
    let (text, warning) = decode(bytes);
    let mut note = parse_note(path, &text, options);
    if let Some(warning) = warning {
        note.warnings.insert(0, warning);
    }
    (note, text)
}

pub fn parse_note(path: &str, text: &str, options: &ParseOptions) -> Note {
    let mut events = MarkdownEvents::of(text);
    let shift = events.markdown_start;
    let mut walker = Walker::new(text, shift, options.link_style);
    if let Some(block) = events.leading_blank.take() {
        walker.frontmatter_span = Some(Span::new(shift - block.end, shift));
        walker.frontmatter = Some(block.frontmatter);
    }
    for (event, range) in events {
        walker.on_event(event, range);
    }
    walker.flush_text_run();
    walker.into_note(path, options)
}

/// What pulldown-cmark should parse of `text`, and how far into `text` that starts: past a
/// byte order mark, which pulldown-cmark reads as text (hiding a frontmatter behind it and
/// making its closing `---` underline a heading), and past a frontmatter whose first line is
/// blank, which it reads as a rule though Obsidian (and its Excalidraw plugin, which writes
/// every drawing so) reads a frontmatter. Every pass over a note's markdown starts here.
fn markdown_of(text: &str) -> (&str, usize, Option<BlankLineFrontmatter>) {
    let mut markdown = text.strip_prefix(BOM).unwrap_or(text);
    let mut shift = text.len() - markdown.len();
    let leading_blank = frontmatter_opening_with_blank_line(markdown);
    if let Some(block) = &leading_blank {
        markdown = &markdown[block.end..];
        shift += block.end;
    }
    (markdown, shift, leading_blank)
}

/// The events of a metadata block at the start of `markdown` (empty when there is none).
fn metadata_events(markdown: &str) -> Vec<(Event<'_>, Range<usize>)> {
    let options = body_options() | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    let mut events = Parser::new_ext(markdown, options).into_offset_iter();
    let mut block = Vec::new();
    if let Some((first @ Event::Start(Tag::MetadataBlock(_)), range)) = events.next() {
        block.push((first, range));
        for (event, range) in events {
            let end = matches!(event, Event::End(TagEnd::MetadataBlock(_)));
            block.push((event, range));
            if end {
                break;
            }
        }
    }
    block
}

/// The metadata block's events, for a note that opens with `---`. pulldown-cmark's first pass
/// reads all it is given: it gets the block up to the first line that could close it, not the
/// whole note, which the body's pass reads. When that prefix holds no block (pulldown-cmark
/// closes on a stricter line than this guess), the whole note is read.
fn frontmatter_events(markdown: &str) -> Vec<(Event<'_>, Range<usize>)> {
    let closing = possible_metadata_end(markdown);
    let events = metadata_events(&markdown[..closing]);
    if events.is_empty() && closing < markdown.len() { metadata_events(markdown) } else { events }
}

/// Where the line after the first line that could close a metadata block opened on the first
/// line ends (`---` or `...`, trailing blanks aside): all of `markdown` when none could.
fn possible_metadata_end(markdown: &str) -> usize {
    let mut at = 0;
    for (n, line) in markdown.split_inclusive('\n').enumerate() {
        at += line.len();
        if n > 0 && matches!(line.trim_end(), "---" | "...") {
            return at;
        }
    }
    markdown.len()
}

/// U+FEFF, which some editors (Notepad, older Windows tools) write at the start of a file.
const BOM: &str = "\u{feff}";

/// The Markdown extensions of a note's body, every pass over it (the relinker's too).
fn body_options() -> Options {
    Options::ENABLE_WIKILINKS
        | Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_MATH
}

/// The events of a note's text, ranges into the text: past what [`markdown_of`] skips, a
/// frontmatter only where Obsidian reads one, at the very start, then the body. pulldown-cmark
/// also takes a `---` … `---` stretch in the middle of a note for a metadata block (a list
/// between two rules, say), which hid its text and links and was reported as broken
/// frontmatter; the body is therefore parsed without metadata blocks. Every pass over a note's
/// markdown (the parser's, the relinker's) reads these, so both see the same links.
pub(crate) struct MarkdownEvents<'a> {
    frontmatter: std::vec::IntoIter<(Event<'a>, Range<usize>)>,
    body: pulldown_cmark::OffsetIter<'a>,
    /// Where pulldown-cmark's markdown starts in the text (past a BOM and a frontmatter
    /// opening with a blank line).
    pub markdown_start: usize,
    /// A frontmatter opening with a blank line, read before pulldown-cmark.
    pub leading_blank: Option<BlankLineFrontmatter>,
    /// Where the body starts in the text.
    body_start: usize,
}

impl<'a> MarkdownEvents<'a> {
    pub(crate) fn of(text: &'a str) -> MarkdownEvents<'a> {
        let (markdown, markdown_start, leading_blank) = markdown_of(text);
        let shift = |range: Range<usize>| range.start + markdown_start..range.end + markdown_start;
        let mut frontmatter = Vec::new();
        if markdown.starts_with("---") {
            frontmatter = frontmatter_events(markdown);
            for (_, range) in &mut frontmatter {
                *range = shift(range.clone());
            }
        }
        let body_start = frontmatter.last().map_or(markdown_start, |(_, range)| range.end);
        let body = Parser::new_ext(&text[body_start..], body_options()).into_offset_iter();
        MarkdownEvents { frontmatter: frontmatter.into_iter(), body, markdown_start, leading_blank, body_start }
    }

    /// Where the body's reference definition `id` is written in the text.
    pub(crate) fn definition_span(&self, id: &str) -> Option<Range<usize>> {
        self.body.reference_definitions().get(id).map(|def| self.in_text(&def.span))
    }

    /// Where each of the body's reference definitions is written in the text.
    pub(crate) fn definition_spans(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.body.reference_definitions().iter().map(|(_, def)| self.in_text(&def.span))
    }

    /// A body span (pulldown-cmark's, relative to the body) in the text.
    fn in_text(&self, span: &Range<usize>) -> Range<usize> {
        span.start + self.body_start..span.end + self.body_start
    }
}

impl<'a> Iterator for MarkdownEvents<'a> {
    type Item = (Event<'a>, Range<usize>);

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(event) = self.frontmatter.next() {
            return Some(event);
        }
        let (event, range) = self.body.next()?;
        Some((event, range.start + self.body_start..range.end + self.body_start))
    }
}

/// A link or embed whose end event has not arrived yet.
struct OpenLink {
    is_image: bool,
    link_type: LinkType,
    dest: String,
    start: usize,
    text: String,
}

/// Consecutive text events (pulldown splits text around would-be emphasis) merged back
/// into one run, so a tag such as `#snake_case` is seen whole.
struct TextRun {
    start: usize,
    end: usize,
    text: String,
    /// True while `text` is byte-for-byte the source slice, so offsets map exactly.
    verbatim: bool,
}

struct Walker<'a> {
    source: &'a str,
    /// Where the markdown starts in `source`: after any byte order mark.
    markdown_start: usize,
    lines: LineIndex,
    link_style: LinkStyle,
    in_metadata: bool,
    yaml: String,
    frontmatter_span: Option<Span>,
    /// Already read, when the block was taken before pulldown-cmark ([`markdown_of`]).
    frontmatter: Option<Frontmatter>,
    in_code_block: bool,
    heading: Option<(HeadingLevel, usize, String)>,
    headings: Vec<Heading>,
    open_links: Vec<OpenLink>,
    links: Vec<Link>,
    run: Option<TextRun>,
    tags: Vec<NoteTag>,
    blocks: Vec<BlockId>,
    word_count: usize,
    plain: String,
    prose: Vec<Span>,
}

impl<'a> Walker<'a> {
    fn new(source: &'a str, markdown_start: usize, link_style: LinkStyle) -> Walker<'a> {
        Walker {
            source,
            markdown_start,
            lines: LineIndex::new(source),
            link_style,
            in_metadata: false,
            yaml: String::new(),
            frontmatter_span: None,
            frontmatter: None,
            in_code_block: false,
            heading: None,
            headings: Vec::new(),
            open_links: Vec::new(),
            links: Vec::new(),
            run: None,
            tags: Vec::new(),
            blocks: Vec::new(),
            word_count: 0,
            plain: String::new(),
            prose: Vec::new(),
        }
    }

    fn on_event(&mut self, event: Event<'_>, range: Range<usize>) {
        if !matches!(event, Event::Text(_) | Event::SoftBreak) {
            self.flush_text_run();
        }
        match event {
            Event::Start(tag) => self.on_start(tag, range),
            Event::End(tag) => self.on_end(tag, range),
            Event::Text(text) => self.on_text(&text, range),
            Event::Code(code) => {
                self.push_inline_text(&code);
                self.plain.push_str(&code);
            }
            // Math is searchable text and counts as words, but is neither prose nor links
            // (Obsidian renders `$…$` and `$$…$$` with MathJax); a heading or a link label
            // keeps it as written.
            Event::InlineMath(math) => self.on_math(&math, "$"),
            Event::DisplayMath(math) => self.on_math(&math, "$$"),
            Event::SoftBreak => {
                self.plain.push('\n');
                self.continue_run_over(range);
            }
            Event::HardBreak => self.plain.push('\n'),
            Event::FootnoteReference(_)
            | Event::Html(_)
            | Event::InlineHtml(_)
            | Event::Rule
            | Event::TaskListMarker(_) => {}
        }
    }

    fn on_math(&mut self, math: &str, fence: &str) {
        self.push_inline_text(&format!("{fence}{math}{fence}"));
        self.plain.push_str(math);
        self.word_count += count_words(math);
    }

    fn on_start(&mut self, tag: Tag<'_>, range: Range<usize>) {
        match tag {
            Tag::MetadataBlock(_) => self.in_metadata = true,
            Tag::CodeBlock(kind) => {
                self.in_code_block = true;
                if let CodeBlockKind::Fenced(_) = kind {
                    self.end_block();
                }
            }
            Tag::Heading { level, .. } => self.heading = Some((level, range.start, String::new())),
            Tag::Link { link_type, dest_url, .. } => self.open_link(false, link_type, &dest_url, range.start),
            Tag::Image { link_type, dest_url, .. } => self.open_link(true, link_type, &dest_url, range.start),
            _ => {}
        }
    }

    fn on_end(&mut self, tag: TagEnd, range: Range<usize>) {
        match tag {
            TagEnd::MetadataBlock(_) => {
                self.in_metadata = false;
                self.frontmatter_span = Some(range.into());
            }
            TagEnd::CodeBlock => {
                self.in_code_block = false;
                self.end_block();
            }
            TagEnd::Heading(_) => {
                self.close_heading(range);
                self.end_block();
            }
            TagEnd::Link | TagEnd::Image => self.close_link(range),
            TagEnd::Paragraph | TagEnd::Item | TagEnd::TableRow | TagEnd::BlockQuote(_) => self.end_block(),
            TagEnd::TableCell => self.plain.push(' '),
            _ => {}
        }
    }

    fn end_block(&mut self) {
        if !self.plain.is_empty() && !self.plain.ends_with('\n') {
            self.plain.push('\n');
        }
    }

    fn on_text(&mut self, text: &str, range: Range<usize>) {
        if self.in_metadata {
            self.yaml.push_str(text);
            return;
        }
        self.plain.push_str(text);
        if self.in_code_block {
            return;
        }
        self.push_inline_text(text);
        if !self.open_links.is_empty() {
            // A link label is prose for counting, but never tags or block ids.
            self.flush_text_run();
            self.word_count += count_words(text);
            return;
        }
        let verbatim = self.source.get(range.clone()) == Some(text);
        match &mut self.run {
            Some(run) if run.end == range.start => {
                run.text.push_str(text);
                run.end = range.end;
                run.verbatim &= verbatim;
            }
            _ => {
                self.flush_text_run();
                self.run = Some(TextRun { start: range.start, end: range.end, text: text.to_string(), verbatim });
            }
        }
    }

    /// A soft line break inside a paragraph joins the text on both sides into one run, so a
    /// phrase wrapped across lines is still one stretch of prose.
    fn continue_run_over(&mut self, range: Range<usize>) {
        if let Some(run) = &mut self.run
            && run.end == range.start
            && let Some(newline) = self.source.get(range.clone())
        {
            run.text.push_str(newline);
            run.end = range.end;
        }
    }

    /// Text that belongs to an open heading or link label.
    fn push_inline_text(&mut self, text: &str) {
        if let Some((_, _, heading_text)) = &mut self.heading {
            heading_text.push_str(text);
        }
        if let Some(link) = self.open_links.last_mut() {
            link.text.push_str(text);
        }
    }

    fn flush_text_run(&mut self) {
        let Some(run) = self.run.take() else { return };
        self.word_count += count_words(&run.text);
        self.prose.push(Span::new(run.start, run.end));
        // A byte order mark is not prose, so a `#tag` right after it still starts the text.
        let before = self.source[self.markdown_start..run.start].chars().next_back();
        for (offset, name) in inline_tags(&run.text, before) {
            let at = if run.verbatim { run.start + offset } else { run.start };
            self.tags.push(NoteTag { name, source: TagSource::Inline, line: self.lines.line_of(at) });
        }
        // Only a run ending in `^id` can carry a block id; looking for the end of its line
        // (a scan of the rest of the line) is left until one does.
        let Some(id) = block_id_at_end(&run.text, before) else { return };
        let rest = &self.source.as_bytes()[run.end..];
        let line_end = memchr::memchr2(b'\n', b'\r', rest).unwrap_or(rest.len());
        let line_continues = !self.source[run.end..run.end + line_end].trim().is_empty();
        if !line_continues {
            self.blocks.push(BlockId { id, line: self.lines.line_of(run.end.saturating_sub(1)) });
        }
    }

    fn close_heading(&mut self, range: Range<usize>) {
        let Some((level, start, text)) = self.heading.take() else { return };
        let text = text.trim().to_string();
        self.headings.push(Heading {
            level: heading_level(level),
            slug: slugify(&text),
            line: self.lines.line_of(start),
            span: Span::new(start, range.end),
            text,
        });
    }

    fn open_link(&mut self, is_image: bool, link_type: LinkType, dest: &str, start: usize) {
        self.open_links.push(OpenLink { is_image, link_type, dest: dest.to_string(), start, text: String::new() });
    }

    fn close_link(&mut self, range: Range<usize>) {
        let Some(open) = self.open_links.pop() else { return };
        let span = Span::new(open.start.min(range.start), range.end);
        let line = self.lines.line_of(span.start);
        let link = match open.link_type {
            LinkType::WikiLink { has_pothole } => Some(self.wiki_link(&open, has_pothole, span, line)),
            LinkType::Autolink | LinkType::Email => None,
            _ => markdown_link(&open, span, line),
        };
        // A link's label is also text of any enclosing link (an image inside a link).
        if let Some(outer) = self.open_links.last_mut() {
            push_nested_label(&mut outer.text, &open.text);
        }
        self.links.extend(link);
    }

    /// The wikilinks written in the frontmatter's values (`parent: "[[Topic]]"`, a list of
    /// them under `related:`), as Obsidian reads its properties: only when the frontmatter is
    /// a mapping (else there are no properties), only where a value holds one (a comment holds
    /// none; of a text written both in a value and elsewhere, as many as the values hold),
    /// targets as in the body, the link style's order of label and target.
    fn property_links(&self, value: Option<&serde_json::Value>) -> Vec<Link> {
        let (Some(span), Some(serde_json::Value::Object(map))) = (self.frontmatter_span, value) else {
            return Vec::new();
        };
        // Most frontmatters hold no link: every note is parsed, so look no further.
        let Some(yaml) = self.source.get(span.start..span.end).filter(|yaml| yaml.contains("[[")) else {
            return Vec::new();
        };
        // How many times each link's inside stands in a value.
        let mut in_values: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        let mut values: Vec<&serde_json::Value> = map.values().collect();
        while let Some(value) = values.pop() {
            match value {
                serde_json::Value::String(text) => {
                    for (from, to) in crate::property::wikilinks_in(text) {
                        *in_values.entry(&text[from + 2..to - 2]).or_default() += 1;
                    }
                }
                serde_json::Value::Array(items) => values.extend(items),
                serde_json::Value::Object(fields) => values.extend(fields.values()),
                _ => {}
            }
        }
        let mut found = Vec::new();
        for raw in crate::property::raw_links(yaml) {
            let Some(left) = in_values.get_mut(raw.inner.as_str()).filter(|left| **left > 0) else { continue };
            *left -= 1;
            let (dest, label) = raw.inner.split_once('|').map_or((raw.inner.as_str(), None), |(d, l)| (d, Some(l)));
            let link_span = Span::new(span.start + raw.range.start, span.start + raw.range.end);
            let open = OpenLink {
                is_image: false,
                link_type: LinkType::WikiLink { has_pothole: label.is_some() },
                dest: dest.to_string(),
                start: link_span.start,
                text: label.unwrap_or("").to_string(),
            };
            let mut link = self.wiki_link(&open, label.is_some(), link_span, self.lines.line_of(link_span.start));
            link.kind = LinkKind::Property;
            found.push(link);
        }
        found
    }

    fn wiki_link(&self, open: &OpenLink, has_pothole: bool, span: Span, line: u32) -> Link {
        let label = has_pothole.then(|| open.text.trim().to_string());
        let (written_target, display) = match (self.link_style, label) {
            (LinkStyle::Dendron, Some(label)) => (label, Some(open.dest.clone())),
            (_, label) => (open.dest.clone(), label),
        };
        // In a table `[[a\|b]]` arrives with the escaping backslash still on the target.
        let mut written_target = written_target.trim().trim_end_matches('\\').trim_end();
        if self.link_style == LinkStyle::Dendron {
            written_target = strip_dendron_vault(written_target);
        }
        let written_target = written_target.to_string();
        let (target, heading, block) = split_fragment(&written_target);
        Link {
            kind: if open.is_image { LinkKind::Embed } else { LinkKind::Wiki },
            target,
            heading,
            block,
            display: display.filter(|d| !d.is_empty()),
            line,
            span,
        }
    }

    fn into_note(mut self, path: &str, options: &ParseOptions) -> Note {
        let mut warnings = Vec::new();
        let mut plain_text = std::mem::take(&mut self.plain);
        let frontmatter = match (self.frontmatter.take(), self.frontmatter_span) {
            (Some(read), _) => read,
            (None, Some(_)) => parse_frontmatter(&self.yaml, &mut warnings),
            (None, None) => {
                if starts_with_fence(self.source) {
                    warnings.push(Warning::new(
                        WarningKind::UnclosedFrontmatter,
                        "starts with --- but no frontmatter block was recognised (is the closing --- missing?); read as text",
                    ));
                }
                Frontmatter::default()
            }
        };
        if frontmatter.invalid {
            plain_text = format!("{}\n{}", self.yaml, plain_text);
        }
        // The properties' links come first: they are first in the text.
        let mut links = self.property_links(frontmatter.value.as_ref());
        links.extend(self.links);
        let mut tags: Vec<NoteTag> = frontmatter
            .tags
            .iter()
            .map(|name| NoteTag { name: name.clone(), source: TagSource::Frontmatter, line: 0 })
            .collect();
        tags.extend(self.tags);
        // An Excalidraw drawing's headings are the plugin's section markers ("# Text
        // Elements"), not a title: Obsidian shows its file name.
        let drawing = crate::note::is_drawing_frontmatter(frontmatter.value.as_ref());
        let headings: &[Heading] = if drawing { &[] } else { &self.headings };
        let (title, title_source) = choose_title(path, frontmatter.title.as_deref(), headings);
        let body_start = self.frontmatter_span.map_or(self.markdown_start, |s| s.end);
        let chunks = chunk_sections(self.source, body_start, &self.headings, options.chunk_max_bytes);
        Note {
            title,
            title_source,
            frontmatter: frontmatter.value,
            frontmatter_span: self.frontmatter_span,
            aliases: frontmatter.aliases,
            tags,
            note_type: frontmatter.note_type,
            summary: frontmatter.summary,
            created: frontmatter.created,
            updated: frontmatter.updated,
            headings: self.headings,
            blocks: self.blocks,
            links,
            chunks,
            word_count: self.word_count,
            plain_text,
            prose: self.prose,
            warnings,
        }
    }
}

/// Most bytes a link's label grows to by taking in the labels of links nested in it. Every
/// label was copied into each enclosing one, so in `[![a [![a …` nested 40k deep (760 KB) the
/// labels together grew with the square of the note: 13 s, and as many bytes held. A label's
/// own text is kept whole (all of those together are at most the note, and a Dendron label is
/// a target), and an image's alt text inside a link is short.
const MAX_NESTED_LABEL_BYTES: usize = 256;

/// Appends `inner` to `label` while `label` stays within [`MAX_NESTED_LABEL_BYTES`], cut on a
/// character boundary.
fn push_nested_label(label: &mut String, inner: &str) {
    let room = MAX_NESTED_LABEL_BYTES.saturating_sub(label.len());
    let mut end = room.min(inner.len());
    while !inner.is_char_boundary(end) {
        end -= 1;
    }
    label.push_str(&inner[..end]);
}

/// `dendron://vault-name/note` names a note in one of several vaults; exo sees one vault.
fn strip_dendron_vault(target: &str) -> &str {
    target.strip_prefix("dendron://").and_then(|rest| rest.split_once('/')).map_or(target, |(_, note)| note)
}

/// A frontmatter block that pulldown-cmark does not take: `---`, a blank line, keys (a YAML
/// mapping), then a line that is `---`; `frontmatter` its inside, read, `end` just past the
/// closing line.
pub(crate) struct BlankLineFrontmatter {
    frontmatter: Frontmatter,
    end: usize,
}

fn frontmatter_opening_with_blank_line(markdown: &str) -> Option<BlankLineFrontmatter> {
    let mut lines = markdown.split_inclusive('\n').scan(0, |at, line| {
        let start = *at;
        *at += line.len();
        Some((start, line))
    });
    let (_, first) = lines.next()?;
    let (second_start, second) = lines.next()?;
    if first.trim_end() != "---" || !second.trim().is_empty() {
        return None;
    }
    let (close_start, close) = lines.find(|(_, line)| line.trim_end() == "---")?;
    // Also how a note may open with a rule, a paragraph and another rule: only keys make it
    // a frontmatter, or the paragraph's links and tags would be lost to it. A `#` line is a
    // heading or tags to a reader but a comment to YAML, so it keeps the block markdown.
    let yaml = &markdown[second_start..close_start];
    if yaml.lines().any(|line| line.trim_start().starts_with('#')) {
        return None;
    }
    let frontmatter = parse_frontmatter(yaml, &mut Vec::new());
    if frontmatter.invalid || frontmatter.value.as_ref().and_then(|v| v.as_object()).is_none_or(|keys| keys.is_empty())
    {
        return None;
    }
    Some(BlankLineFrontmatter { frontmatter, end: close_start + close.len() })
}

fn starts_with_fence(source: &str) -> bool {
    let first = source.trim_start_matches(BOM).lines().next().unwrap_or("");
    first.trim_end() == "---"
}

fn heading_level(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

fn choose_title(path: &str, frontmatter_title: Option<&str>, headings: &[Heading]) -> (String, TitleSource) {
    if let Some(title) = frontmatter_title.map(str::trim).filter(|t| !t.is_empty()) {
        return (title.to_string(), TitleSource::Frontmatter);
    }
    if let Some(h1) = headings.iter().find(|h| h.level == 1 && !h.text.is_empty()) {
        return (h1.text.clone(), TitleSource::Heading);
    }
    (note_stem(path).to_string(), TitleSource::FileName)
}

/// `note#heading` -> (note, heading); `note#^block` -> (note, block); `#heading` -> self.
fn split_fragment(written: &str) -> (String, Option<String>, Option<String>) {
    let Some((target, fragment)) = written.split_once('#') else {
        return (written.to_string(), None, None);
    };
    let target = target.trim().to_string();
    let fragment = fragment.trim();
    if let Some(block) = fragment.strip_prefix('^') {
        return (target, None, Some(block.to_string()).filter(|b| !b.is_empty()));
    }
    (target, Some(fragment.to_string()).filter(|h| !h.is_empty()), None)
}

fn has_url_scheme(dest: &str) -> bool {
    if dest.starts_with("//") {
        return true;
    }
    let Some((scheme, _)) = dest.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// Markdown links count when they point at a note: `.md`, `.markdown`, or no extension.
fn markdown_link(open: &OpenLink, span: Span, line: u32) -> Option<Link> {
    let dest = open.dest.trim();
    if dest.is_empty() || has_url_scheme(dest) {
        return None;
    }
    let (path_part, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(f)),
        None => (dest, None),
    };
    let path_part = path_part.split('?').next().unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(path_part).decode_utf8_lossy().into_owned();
    if !decoded.is_empty() && !looks_like_note(&decoded) {
        return None;
    }
    let (heading, block) = match fragment.map(str::trim).filter(|f| !f.is_empty()) {
        Some(f) => match f.strip_prefix('^') {
            Some(block) => (None, Some(block.to_string())),
            None => (Some(percent_encoding::percent_decode_str(f).decode_utf8_lossy().into_owned()), None),
        },
        None => (None, None),
    };
    if decoded.is_empty() && heading.is_none() && block.is_none() {
        return None;
    }
    Some(Link {
        kind: if open.is_image { LinkKind::Embed } else { LinkKind::Markdown },
        target: decoded,
        heading,
        block,
        display: Some(open.text.trim().to_string()).filter(|d| !d.is_empty()),
        line,
        span,
    })
}

fn looks_like_note(path: &str) -> bool {
    if path.ends_with('/') {
        return false;
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".md") || lower.ends_with(".markdown") || !name.contains('.')
}

/// Words separated by whitespace, except that each Han, kana or Hangul character counts as a
/// word of its own (those scripts do not put spaces between words, and a character is the
/// usual unit for their length).
pub(crate) fn count_words(text: &str) -> usize {
    if text.is_ascii() {
        return count_ascii_words(text.as_bytes());
    }
    let mut words = 0;
    for token in text.split_whitespace() {
        if token.is_ascii() {
            words += 1;
            continue;
        }
        let ideographs = token.chars().filter(|c| is_cjk(*c)).count();
        let rest_is_word = token.chars().any(|c| !is_cjk(c) && c.is_alphanumeric());
        words += ideographs + usize::from(rest_is_word || ideographs == 0);
    }
    words
}

/// Word count is a fifth of parse time on real vaults, and most text is ASCII: count the starts
/// of whitespace-separated runs over bytes, with the same whitespace set as `char::is_whitespace`
/// (space and \t \n \x0B \x0C \r, which are 9..=13). Written over fixed blocks of byte pairs
/// with a small accumulator so the compiler turns it into vector compares.
fn count_ascii_words(bytes: &[u8]) -> usize {
    const BLOCK: usize = 128;
    let is_space = |byte: u8| byte == b' ' || byte.wrapping_sub(b'\t') < 5;
    let Some(&first) = bytes.first() else { return 0 };
    let (previous, current) = (&bytes[..bytes.len() - 1], &bytes[1..]);
    let mut starts = usize::from(!is_space(first));
    for (prev, cur) in previous.chunks(BLOCK).zip(current.chunks(BLOCK)) {
        let in_block: u32 = prev.iter().zip(cur).map(|(&p, &c)| u32::from(is_space(p) & !is_space(c))).sum();
        starts += in_block as usize;
    }
    starts
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

#[cfg(test)]
mod word_count_tests {
    use super::count_words;

    #[test]
    fn cjk_characters_count_as_words() {
        assert_eq!(count_words("two words"), 2);
        assert_eq!(count_words("间隔重复是一种学习方法"), 11);
        assert_eq!(count_words("SRS（间隔重复） works"), 6);
        assert_eq!(count_words("- item"), 2);
    }

    #[test]
    fn ascii_fast_path_agrees_with_split_whitespace() {
        for text in ["", "   ", "a", " a b\tc\n\nd\x0Be\x0Cf\r\ng ", "x\x1Fy", "--- | --- |", "word  "] {
            assert_eq!(count_words(text), text.split_whitespace().count(), "{text:?}");
        }
        assert_eq!(count_words("naïve café and 间隔 words"), 6);
        // Longer than one 128-byte block, with word starts on both sides of each boundary.
        let long = "ab  c\td\n".repeat(60);
        assert!(long.len() > 3 * 128);
        for cut in [127, 128, 129, 255, 256, 257, long.len()] {
            assert_eq!(count_words(&long[..cut]), long[..cut].split_whitespace().count(), "cut {cut}");
        }
    }
}

#[cfg(test)]
mod metadata_tests {
    use super::{frontmatter_events, metadata_events};

    /// The block read from the prefix is the block read from the whole note, whatever line
    /// closes it (or fails to), so the shortcut changes nothing but the time.
    #[test]
    fn the_metadata_block_of_the_prefix_is_the_whole_notes() {
        let notes = [
            "---\ntitle: A\n---\nbody\n---\nmore\n",
            "---\ntitle: A\n...\nbody\n",
            "---\ntitle: A\n---   \nb: 2\n---\nbody\n",
            "---\r\ntitle: A\r\n---\r\nbody\r\n",
            "---\ntitle: A\n",
            "---\n\ntitle: A\n---\n",
            "---\ntitle: A\n---",
            "---\na: |\n  ---\n  x\n---\nbody\n",
            "---\n---\n",
            "--- \ntitle: A\n---\n",
            // A tab after the dashes: no closing line for pulldown-cmark, which closes on the
            // next `---`: the prefix holds no block, and the whole note is read.
            "---\ntitle: A\n---\t\nb: 1\n---\n",
        ];
        for note in notes {
            let whole: Vec<_> = metadata_events(note).into_iter().map(|(e, r)| (format!("{e:?}"), r)).collect();
            let prefix: Vec<_> = frontmatter_events(note).into_iter().map(|(e, r)| (format!("{e:?}"), r)).collect();
            assert_eq!(prefix, whole, "{note:?}");
        }
    }
}
