//! Link rewriting for a moved note: pure text edits, computed from the parser's links and the
//! caller's answers about resolution (exo-vault holds no index).
//!
//! Final public API (what `move_note` builds on):
//!
//! ```text
//! pub struct TextEdit { pub span: Span, pub text: String }
//!
//! // Edits that make every link in the note at `from` (text `text`, parsed `links`) that
//! // resolves to the moved note point at `new_path`, keeping each link's form.
//! pub fn retarget_links(
//!     text: &str,
//!     from: &str,
//!     links: &[Link],
//!     resolves_to_old: &dyn Fn(&Link) -> bool,
//!     new_path: &str,
//!     resolves_to_new: &dyn Fn(&str) -> bool,
//! ) -> Vec<TextEdit>;
//!
//! // Edits that keep the moved note's own relative links (markdown links and images, attachments
//! // and reference definitions included, and `./`/`../` wikilinks) pointing at the same files.
//! pub fn rebase_own_links(
//!     text: &str,
//!     links: &[Link],
//!     old_path: &str,
//!     new_path: &str,
//!     file_exists: &dyn Fn(&str) -> bool,
//! ) -> Vec<TextEdit>;
//!
//! // Applies edits in any order; an edit overlapping one earlier in the slice is dropped.
//! pub fn apply_edits(text: &str, edits: &[TextEdit]) -> String;
//! ```
//!
//! The callers' questions:
//! - `resolves_to_old(link)`: does this link, written in `from`, resolve to the moved note's old
//!   path as the vault is before the move?
//! - `resolves_to_new(target)`: would a wikilink `[[target]]` written in `from` resolve to
//!   `new_path` once the note has moved (old path gone, new path present, same aliases)? Asked
//!   with the link's own target first (an alias, or a stem that stays the same, needs no edit),
//!   then with the new bare name (`/name` if it was written rooted), and a `./`/`../` target
//!   with the new relative path; when none does, the link gets the vault path without `.md`.
//! - `file_exists(path)`: is there a file (note or attachment) at this vault path before the move?
//!   A relative link whose target is not there resolved some other way and is left alone.
//!
//! Built from two `LinkResolver`s, the vault before and after the move (`tests/relink.rs` does
//! exactly this): `resolves_to_old = |l| before.resolve(from, l).note() == Some(old)` and
//! `resolves_to_new = |t| after.resolve_target(from, t, LinkKind::Wiki).note() == Some(new)`.
//! Reference-style links sharing one definition get one edit (of the definition), so count
//! rewritten links from the links that resolved to the old path, not from the edits.
//!
//! For the moved note itself: take `rebase_own_links(text, links, old, new, exists)` first, then
//! `retarget_links(text, new, links, resolves_to_old, new, resolves_to_new)` (its links to
//! itself), and pass both to one `apply_edits` (a link both touch keeps the first edit).
//!
//! Only the target part of a link changes; its alias, `#heading`, `#^block`, embed `!`, label,
//! title, `.md` written or not, percent-encoding and `<…>` stay as written. Links in code are
//! never links (the parser does not report them), so they are never touched.

use std::collections::HashMap;
use std::ops::Range;

use pulldown_cmark::{Event, LinkType, Tag};

use crate::note::{Link, LinkKind, Span};
// The parser's own options: a rewrite must see exactly the links the index read.
use crate::path::{join_normalized, parent_dir, strip_note_extension};

/// One edit to a note's text: replace bytes `span` with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub span: Span,
    pub text: String,
}

/// See the module doc.
pub fn retarget_links(
    text: &str,
    from: &str,
    links: &[Link],
    resolves_to_old: &dyn Fn(&Link) -> bool,
    new_path: &str,
    resolves_to_new: &dyn Fn(&str) -> bool,
) -> Vec<TextEdit> {
    let syntax = LinkSyntax::scan(text);
    let mut edits: Vec<TextEdit> = Vec::new();
    for link in links.iter().filter(|l| !l.is_self_link() && resolves_to_old(l)) {
        if link.kind == LinkKind::Property {
            edits
                .extend(property_edit(text, link, |written| new_wiki_target(written, from, new_path, resolves_to_new)));
            continue;
        }
        for found in syntax.targets_of(text, link) {
            let written = &text[found.range.clone()];
            let replacement = match found.form {
                Form::Wiki => new_wiki_target(written, from, new_path, resolves_to_new),
                Form::Markdown => {
                    let new_file = with_extension_as(&link.target, new_path);
                    Some(new_markdown_path(written, parent_dir(from), &new_file, found.angle))
                }
            };
            push_edit(&mut edits, found.range, written, replacement);
        }
    }
    edits
}

/// See the module doc.
pub fn rebase_own_links(
    text: &str,
    links: &[Link],
    old_path: &str,
    new_path: &str,
    file_exists: &dyn Fn(&str) -> bool,
) -> Vec<TextEdit> {
    let syntax = LinkSyntax::scan(text);
    let (old_dir, new_dir) = (parent_dir(old_path), parent_dir(new_path));
    // The file a relative target names, as it will be named after the move (the note itself
    // moves), or None when nothing is there and the link resolved some other way.
    let rebased_file = |target: &str| -> Option<String> {
        let named = join_normalized(old_dir, target)?;
        let with_md = format!("{named}.md");
        let is_self = named == old_path || with_md == old_path;
        if is_self {
            return Some(with_extension_as(target, new_path));
        }
        (file_exists(&named) || file_exists(&with_md)).then_some(named)
    };
    let mut edits: Vec<TextEdit> = Vec::new();
    for destination in &syntax.markdown_destinations {
        let written = &text[destination.path.clone()];
        if written.is_empty() || written.starts_with('/') || has_url_scheme(written) {
            continue;
        }
        let decoded = percent_encoding::percent_decode_str(written).decode_utf8_lossy();
        let Some(file) = rebased_file(&decoded) else { continue };
        let replacement = new_markdown_path(written, new_dir, &file, destination.angle);
        push_edit(&mut edits, destination.path.clone(), written, Some(replacement));
    }
    for link in links.iter().filter(|l| matches!(l.kind, LinkKind::Wiki | LinkKind::Embed | LinkKind::Property)) {
        let relative = link.target.starts_with("./") || link.target.starts_with("../");
        if !relative {
            continue;
        }
        let Some(file) = rebased_file(&link.target) else { continue };
        if link.kind == LinkKind::Property {
            edits.extend(property_edit(text, link, |_| Some(relative_wiki_target(new_dir, &file))));
            continue;
        }
        for found in syntax.targets_of(text, link).into_iter().filter(|f| f.form == Form::Wiki) {
            let written = &text[found.range.clone()];
            push_edit(&mut edits, found.range, written, Some(relative_wiki_target(new_dir, &file)));
        }
    }
    edits
}

/// The edit of a link in a frontmatter value: its inside read as its YAML scalar writes it
/// (`'[[Don''t]]'` is `Don't`), the target side(s) replaced as in the body (`replace` gives
/// the new target for the written one, None to keep it), written back as the scalar needs.
/// None when nothing changes, or when the scalar cannot hold the new text (a plain scalar
/// cannot hold `: `): the YAML is never broken, the link is left as it is.
fn property_edit(text: &str, link: &Link, replace: impl Fn(&str) -> Option<String>) -> Option<TextEdit> {
    let inner_span = link.span.start + 2..link.span.end.checked_sub(2)?;
    let inner_written = text.get(inner_span.clone())?;
    let scalar = crate::property::scalar_at(text, link.span.start);
    let inner = crate::property::decode(scalar, inner_written)?;
    let read = format!("[[{inner}]]");
    let at_start = Link { span: Span::new(0, read.len()), ..link.clone() };
    let mut rewritten = read.clone();
    for range in wiki_target_ranges(&read, &at_start).into_iter().rev() {
        let written = &read[range.clone()];
        let new = replace(written).unwrap_or_else(|| written.to_string());
        rewritten.replace_range(range, &new);
    }
    let new_inner = rewritten.get(2..rewritten.len() - 2)?;
    let encoded = crate::property::encode(scalar, new_inner)?;
    (encoded != inner_written).then(|| TextEdit { span: Span::new(inner_span.start, inner_span.end), text: encoded })
}

/// A wikilink target naming vault path `file` relative to folder `dir`, visibly relative: a
/// wikilink is read from the vault root first, so `x` alone would not be relative.
fn relative_wiki_target(dir: &str, file: &str) -> String {
    let relative = relative_path(dir, file);
    if relative.starts_with("../") { relative } else { format!("./{relative}") }
}

/// Adds an edit replacing `range` (currently `written`) unless it changes nothing or the
/// same range is already edited (reference links sharing one definition).
fn push_edit(edits: &mut Vec<TextEdit>, range: Range<usize>, written: &str, replacement: Option<String>) {
    let Some(replacement) = replacement.filter(|r| r != written) else { return };
    let span = Span::new(range.start, range.end);
    if !edits.iter().any(|e| e.span == span) {
        edits.push(TextEdit { span, text: replacement });
    }
}

/// Applies edits given in any order. An edit overlapping one earlier in `edits` is dropped, as
/// is one whose span is out of range or not on character boundaries.
pub fn apply_edits(text: &str, edits: &[TextEdit]) -> String {
    let mut kept: Vec<&TextEdit> = Vec::new();
    for edit in edits {
        let Span { start, end } = edit.span;
        let valid = start <= end && end <= text.len() && text.is_char_boundary(start) && text.is_char_boundary(end);
        if valid && !kept.iter().any(|k| overlaps(k.span, edit.span)) {
            kept.push(edit);
        }
    }
    kept.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for edit in kept {
        out.push_str(&text[at..edit.span.start]);
        out.push_str(&edit.text);
        at = edit.span.end;
    }
    out.push_str(&text[at..]);
    out
}

/// Two spans share a byte, or are the same empty insertion point.
fn overlaps(a: Span, b: Span) -> bool {
    (a.start < b.end && b.start < a.end) || a == b
}

/// The new target of a wikilink written `written` (without `#fragment`) in note `from`, or
/// None to keep it. A relative target (`./`, `../`) stays relative when that resolves.
fn new_wiki_target(
    written: &str,
    from: &str,
    new_path: &str,
    resolves_to_new: &dyn Fn(&str) -> bool,
) -> Option<String> {
    if resolves_to_new(written) {
        return None;
    }
    let rooted = written.starts_with('/');
    let file = with_extension_as(written, new_path);
    if written.starts_with("./") || written.starts_with("../") {
        let relative = relative_wiki_target(parent_dir(from), &file);
        if resolves_to_new(&relative) {
            return Some(relative);
        }
    }
    let name = file.rsplit('/').next().unwrap_or(&file);
    let bare = if rooted { format!("/{name}") } else { name.to_string() };
    if !written.trim_start_matches('/').contains('/') && resolves_to_new(&bare) {
        return Some(bare);
    }
    Some(if rooted { format!("/{file}") } else { file })
}

/// `new_path` with its note extension written when `written` wrote one, else without.
fn with_extension_as(written: &str, new_path: &str) -> String {
    let wrote_extension = strip_note_extension(written.trim_end_matches('/')) != written.trim_end_matches('/');
    if wrote_extension { new_path.to_string() } else { strip_note_extension(new_path).to_string() }
}

/// A markdown destination's path part naming `file` (vault path) from a note in `dir`: rooted
/// if the original was, relative otherwise (keeping a leading `./`), encoded as the original.
fn new_markdown_path(written: &str, dir: &str, file: &str, angle: bool) -> String {
    let path = if written.starts_with('/') {
        format!("/{file}")
    } else {
        let relative = relative_path(dir, file);
        if written.starts_with("./") && !relative.starts_with("../") { format!("./{relative}") } else { relative }
    };
    encode_destination(&path, angle, encodes_non_ascii(written))
}

/// The path from folder `dir` to vault path `file`, both vault-relative.
fn relative_path(dir: &str, file: &str) -> String {
    let dir_parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    let file_parts: Vec<&str> = file.split('/').filter(|p| !p.is_empty()).collect();
    let common = dir_parts.iter().zip(&file_parts).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; dir_parts.len() - common];
    parts.extend(&file_parts[common..]);
    parts.join("/")
}

/// Whether the original percent-encoded a byte of a multi-byte character (`caf%C3%A9.md`).
fn encodes_non_ascii(written: &str) -> bool {
    let bytes = written.as_bytes();
    bytes
        .windows(3)
        .any(|w| w[0] == b'%' && matches!(w[1], b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F') && w[2].is_ascii_hexdigit())
}

/// A path written as a link destination's path part. Whatever the parser would read as
/// something else is encoded: `%` (it decodes), `#` and `?` (fragment, query), and in a bare
/// destination whitespace, `<`, `>`, `\` and unbalanced parentheses. Inside `<…>` spaces stay.
fn encode_destination(path: &str, angle: bool, non_ascii: bool) -> String {
    let balanced = parens_balanced(path);
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        let encode = match c {
            '%' | '#' | '?' | '<' | '>' => true,
            ' ' | '\\' => !angle,
            '(' | ')' => !angle && !balanced,
            c if c.is_control() => true,
            c if !c.is_ascii() => non_ascii,
            _ => false,
        };
        if encode {
            let mut buf = [0u8; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn parens_balanced(path: &str) -> bool {
    let mut depth: i32 = 0;
    for c in path.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

fn has_url_scheme(dest: &str) -> bool {
    if dest.starts_with("//") {
        return true;
    }
    let Some((scheme, _)) = dest.split_once(':') else { return false };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Wiki,
    Markdown,
}

/// Where a link's target is written: the bytes to replace.
struct FoundTarget {
    form: Form,
    /// The target without `#fragment` (wikilink) or the destination's path part (markdown).
    range: Range<usize>,
    angle: bool,
}

/// A markdown destination: its path part (before `#` or `?`), and whether it is in `<…>`.
struct Destination {
    path: Range<usize>,
    angle: bool,
}

/// The link syntax of a note, from one pulldown-cmark pass with the parser's options: for each
/// link's start offset (what `Link::span.start` is), its type and where its destination is.
struct LinkSyntax {
    by_start: HashMap<usize, FoundSyntax>,
    /// Every markdown link, image and reference definition destination, notes or not.
    markdown_destinations: Vec<Destination>,
}

enum FoundSyntax {
    Wiki,
    Markdown(Destination),
}

impl LinkSyntax {
    fn scan(text: &str) -> LinkSyntax {
        // The same events the parser reads, so both see the same links.
        let mut by_start = HashMap::new();
        let mut markdown_destinations = Vec::new();
        let mut definitions: HashMap<String, Range<usize>> = HashMap::new();
        let mut opened: Vec<(usize, LinkType, String)> = Vec::new();
        let mut label_end: Vec<usize> = Vec::new();
        let mut events = crate::parse::MarkdownEvents::of(text);
        for (event, range) in events.by_ref() {
            if let Some(end) = label_end.last_mut()
                && !matches!(event, Event::End(pulldown_cmark::TagEnd::Link | pulldown_cmark::TagEnd::Image))
            {
                *end = (*end).max(range.end);
            }
            match event {
                Event::Start(Tag::Link { link_type, id, .. } | Tag::Image { link_type, id, .. }) => {
                    opened.push((range.start, link_type, id.to_string()));
                    let bracket = text[range.start..].find('[').map_or(range.start, |i| range.start + i + 1);
                    label_end.push(bracket);
                }
                Event::End(pulldown_cmark::TagEnd::Link | pulldown_cmark::TagEnd::Image) => {
                    let (Some((start, link_type, id)), Some(inner_end)) = (opened.pop(), label_end.pop()) else {
                        continue;
                    };
                    if let Some(outer) = label_end.last_mut() {
                        *outer = (*outer).max(range.end);
                    }
                    let found = match link_type {
                        LinkType::WikiLink { .. } => Some(FoundSyntax::Wiki),
                        LinkType::Inline => inline_destination(text, inner_end, range.end).map(FoundSyntax::Markdown),
                        LinkType::Reference | LinkType::Collapsed | LinkType::Shortcut => {
                            definitions.insert(id, start..range.end);
                            None
                        }
                        _ => None,
                    };
                    if let Some(FoundSyntax::Markdown(d)) = &found {
                        markdown_destinations.push(Destination { path: d.path.clone(), angle: d.angle });
                    }
                    if let Some(found) = found {
                        by_start.insert(start, found);
                    }
                }
                _ => {}
            }
        }
        // Reference-style links point at their definition's destination.
        for (id, link) in definitions {
            let Some(def_range) = events.definition_span(&id) else { continue };
            if let Some(d) = definition_destination(text, def_range) {
                by_start.insert(link.start, FoundSyntax::Markdown(d));
            }
        }
        for def_range in events.definition_spans() {
            markdown_destinations.extend(definition_destination(text, def_range));
        }
        LinkSyntax { by_start, markdown_destinations }
    }

    /// Where `link`'s target is written: one place, but for a wikilink whose two sides name
    /// it alike (see [`wiki_target_ranges`]).
    fn targets_of(&self, text: &str, link: &Link) -> Vec<FoundTarget> {
        match self.by_start.get(&link.span.start) {
            Some(FoundSyntax::Wiki) => wiki_target_ranges(text, link)
                .into_iter()
                .map(|range| FoundTarget { form: Form::Wiki, range, angle: false })
                .collect(),
            Some(FoundSyntax::Markdown(d)) => {
                vec![FoundTarget { form: Form::Markdown, range: d.path.clone(), angle: d.angle }]
            }
            None => Vec::new(),
        }
    }
}

/// The bytes of a wikilink's target, without `#fragment`, surrounding spaces or a table's `\`:
/// in `[[target#h|alias]]` (or Dendron's `[[alias|target]]`), the side that names the target,
/// read as the parser reads it (its target, heading and block must all be the link's). When
/// both sides do (`[[old|old]]`), the link style would tell, and exo-vault's callers do not
/// say it: both are returned, so the link names the moved note whichever side is the label.
fn wiki_target_ranges(text: &str, link: &Link) -> Vec<Range<usize>> {
    let inner_range = || -> Option<(usize, &str)> {
        let whole = text.get(link.span.start..link.span.end)?;
        let open = whole.find("[[")? + 2;
        let close = whole.rfind("]]")?;
        let inner_start = link.span.start + open;
        Some((inner_start, text.get(inner_start..link.span.start + close)?))
    };
    let Some((inner_start, inner)) = inner_range() else { return Vec::new() };
    let sides = match inner.find('|') {
        Some(pipe) => vec![(0, pipe), (pipe + 1, inner.len())],
        None => vec![(0, inner.len())],
    };
    sides
        .into_iter()
        .filter_map(|(from, to)| {
            let side = &inner[from..to];
            let written = side.trim().trim_end_matches('\\').trim_end();
            let (before_fragment, fragment) = written.split_once('#').map_or((written, None), |(t, f)| (t, Some(f)));
            let (heading, block) = match fragment.map(str::trim) {
                Some(f) => match f.strip_prefix('^') {
                    Some(b) => (None, Some(b).filter(|b| !b.is_empty())),
                    None => (Some(f).filter(|h| !h.is_empty()), None),
                },
                None => (None, None),
            };
            if heading != link.heading.as_deref() || block != link.block.as_deref() {
                return None;
            }
            let target = before_fragment.trim();
            // Dendron's `dendron://vault/` prefix is not part of the target.
            let prefix = target.strip_suffix(link.target.as_str())?;
            if !(prefix.is_empty() || prefix.starts_with("dendron://") && prefix.ends_with('/')) {
                return None;
            }
            let start = inner_start + from + (side.len() - side.trim_start().len()) + prefix.len();
            Some(start..start + link.target.len())
        })
        .collect()
}

/// The destination of an inline link whose label's content ends at `label_end` and the link
/// at `link_end`: after `](` and any spaces.
fn inline_destination(text: &str, label_end: usize, link_end: usize) -> Option<Destination> {
    let rest = text.get(label_end..link_end)?;
    let open = rest.find("](")? + 2;
    destination_at(text, label_end + open, link_end)
}

/// The destination of a reference definition `[label]: dest "title"` spanning `def`.
fn definition_destination(text: &str, def: Range<usize>) -> Option<Destination> {
    let body = text.get(def.clone())?;
    let bytes = body.as_bytes();
    let mut i = 1;
    while i < bytes.len() && bytes[i] != b']' {
        i += if bytes[i] == b'\\' { 2 } else { 1 };
    }
    if bytes.get(i + 1) != Some(&b':') {
        return None;
    }
    destination_at(text, def.start + i + 2, def.end)
}

/// Scans a link destination starting at `at` (after leading whitespace), before `end`.
fn destination_at(text: &str, at: usize, end: usize) -> Option<Destination> {
    let rest = text.get(at..end)?;
    let start = at + (rest.len() - rest.trim_start().len());
    let dest = text.get(start..end)?;
    let (angle, inner_start, inner_len) = if let Some(inner) = dest.strip_prefix('<') {
        let close = angle_close(inner)?;
        (true, start + 1, close)
    } else {
        (false, start, bare_destination_len(dest))
    };
    let inner = text.get(inner_start..inner_start + inner_len)?;
    Some(Destination { path: inner_start..inner_start + path_part_len(inner), angle })
}

/// Length of a destination's path part: up to the `#` or `?` that starts its fragment or
/// query. The `#` of a character reference (`&#46;`, `&#x2E;`) is not one: the parser reads
/// the decoded destination, where it is a character of the path.
fn path_part_len(destination: &str) -> usize {
    let bytes = destination.as_bytes();
    let mut at = 0;
    while let Some(found) = destination[at..].find(['#', '?']).map(|i| at + i) {
        let in_reference = bytes[found] == b'#' && found > 0 && bytes[found - 1] == b'&' && {
            let rest = &destination[found + 1..];
            let (digits, radix) = match rest.strip_prefix(['x', 'X']) {
                Some(hex) => (hex, 16),
                None => (rest, 10),
            };
            let len = digits.bytes().take_while(|b| (*b as char).is_digit(radix)).count();
            len > 0 && digits.as_bytes().get(len) == Some(&b';')
        };
        if !in_reference {
            return found;
        }
        at = found + 1;
    }
    destination.len()
}

/// Length of `<…>`'s content: up to the first unescaped `>`.
fn angle_close(inner: &str) -> Option<usize> {
    let bytes = inner.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'>' => return Some(i),
            b'\n' | b'<' => return None,
            _ => i += 1,
        }
    }
    None
}

/// Length of a bare destination: up to whitespace or an unbalanced `)`.
fn bare_destination_len(dest: &str) -> usize {
    let bytes = dest.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if i + 1 < bytes.len() && bytes[i + 1].is_ascii_punctuation() => i += 2,
            b'(' => {
                depth += 1;
                i += 1;
            }
            b')' if depth == 0 => break,
            b')' => {
                depth -= 1;
                i += 1;
            }
            b if b.is_ascii_whitespace() || b.is_ascii_control() => break,
            _ => i += 1,
        }
    }
    i.min(dest.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_between_folders() {
        assert_eq!(relative_path("", "a/b.md"), "a/b.md");
        assert_eq!(relative_path("a", "a/b.md"), "b.md");
        assert_eq!(relative_path("a/x", "a/b.md"), "../b.md");
        assert_eq!(relative_path("x/y", "b.md"), "../../b.md");
        assert_eq!(relative_path("a", "ab/c.md"), "../ab/c.md");
    }

    #[test]
    fn encoding_follows_the_original() {
        assert_eq!(encode_destination("a b/café.md", false, false), "a%20b/café.md");
        assert_eq!(encode_destination("a b/café.md", false, true), "a%20b/caf%C3%A9.md");
        assert_eq!(encode_destination("a b/50%.md", true, false), "a b/50%25.md");
        assert_eq!(encode_destination("x (1).md", false, false), "x (1).md".replace(' ', "%20"));
        assert_eq!(encode_destination("x ).md", false, false), "x%20%29.md");
        assert!(encodes_non_ascii("caf%C3%A9.md"));
        assert!(!encodes_non_ascii("a%20b.md"));
    }
}
