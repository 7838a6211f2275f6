//! The text edits of `edit_note`, each a pure function of the note's text (and its parse):
//! append, prepend, replace_section, find_replace. Sections come from the parser's headings and
//! spans, so a `#` in a code block or frontmatter is never taken for a heading.

use exo_vault::Note;

/// `text` with `addition` at the end, on lines of its own.
pub(crate) fn append(text: &str, addition: &str) -> String {
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(addition);
    end_line(&mut out);
    out
}

/// `text` with `addition` at the start of the body: after the frontmatter, if any.
pub(crate) fn prepend(text: &str, note: &Note, addition: &str) -> String {
    let bom = if text.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 };
    let at = note.frontmatter_span.map_or(bom, |span| span.end).min(text.len());
    let at = if at > 0 && !text[..at].ends_with('\n') { line_end(text, at) } else { at };
    let mut insert = addition.to_string();
    end_line(&mut insert);
    format!("{}{}{}", &text[..at], insert, &text[at..])
}

/// Why a section could not be replaced.
pub(crate) enum SectionError {
    /// No heading with that text; the headings there are.
    NotFound(Vec<String>),
    /// Several headings with that text, at these lines.
    Ambiguous(Vec<u32>),
}

/// `text` with everything under `heading` (to the next heading of the same or a higher level,
/// or the end) replaced by `content`. The heading is matched by its text, then its slug,
/// ignoring case and leading `#`s.
pub(crate) fn replace_section(text: &str, note: &Note, heading: &str, content: &str) -> Result<String, SectionError> {
    let wanted = heading.trim().trim_start_matches('#').trim();
    let by_text: Vec<usize> =
        (0..note.headings.len()).filter(|&i| note.headings[i].text.eq_ignore_ascii_case(wanted)).collect();
    let found = if by_text.is_empty() {
        let slug = exo_vault::slugify(wanted);
        (0..note.headings.len()).filter(|&i| note.headings[i].slug == slug).collect()
    } else {
        by_text
    };
    let index = match found.as_slice() {
        [one] => *one,
        [] => return Err(SectionError::NotFound(note.headings.iter().map(|h| h.text.clone()).collect())),
        many => return Err(SectionError::Ambiguous(many.iter().map(|&i| note.headings[i].line).collect())),
    };
    let own = &note.headings[index];
    let start = line_end(text, own.span.end.saturating_sub(1).max(own.span.start));
    let end = note.headings[index + 1..]
        .iter()
        .find(|h| h.level <= own.level)
        .map_or(text.len(), |h| line_start(text, h.span.start));
    let mut section = content.trim_matches('\n').to_string();
    section.push('\n');
    if end < text.len() {
        section.push('\n');
    }
    // A last heading with no line break after it gets one before its new content.
    let break_after_heading = if text[..start].ends_with('\n') { "" } else { "\n" };
    Ok(format!("{}{break_after_heading}{section}{}", &text[..start], &text[end..]))
}

/// `text` with each occurrence of `find` replaced, when there are exactly `expected`; else
/// how many there are.
pub(crate) fn find_replace(text: &str, find: &str, replace: &str, expected: usize) -> Result<String, usize> {
    let found = text.matches(find).count();
    if found != expected || find.is_empty() {
        return Err(found);
    }
    Ok(text.replace(find, replace))
}

fn end_line(text: &mut String) {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
}

/// The offset just past the line break at or after `at` (the text's end if none). Searches
/// bytes: `at` may fall inside a character (a heading's last byte), a `\n` never does.
fn line_end(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()[at..].iter().position(|&b| b == b'\n').map_or(text.len(), |i| at + i + 1)
}

/// The offset where the line holding `at` begins.
fn line_start(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Note {
        exo_vault::parse_note("n.md", text, &exo_vault::ParseOptions::default())
    }

    #[test]
    fn append_and_prepend_respect_lines_and_frontmatter() {
        assert_eq!(append("a", "b"), "a\nb\n");
        let text = "---\nx: 1\n---\nbody\n";
        assert_eq!(prepend(text, &parse(text), "top"), "---\nx: 1\n---\ntop\nbody\n");
        assert_eq!(prepend("body\n", &parse("body\n"), "top"), "top\nbody\n");
    }

    #[test]
    fn replaces_a_section_up_to_the_next_heading_of_its_level() {
        let text = "# T\n\n## A\nold\n```\n# not a heading\n```\n### A.1\nsub\n## B\nkeep\n";
        let out = replace_section(text, &parse(text), "a", "new").ok().unwrap();
        assert_eq!(out, "# T\n\n## A\nnew\n\n## B\nkeep\n");
        let out = replace_section(text, &parse(text), "B", "last").ok().unwrap();
        assert_eq!(out, "# T\n\n## A\nold\n```\n# not a heading\n```\n### A.1\nsub\n## B\nlast\n");
        assert!(
            matches!(replace_section(text, &parse(text), "Z", "x"), Err(SectionError::NotFound(h)) if h.len() == 4)
        );
    }

    #[test]
    fn find_replace_counts() {
        assert_eq!(find_replace("a b a", "a", "c", 2).unwrap(), "c b c");
        assert_eq!(find_replace("a b a", "a", "c", 1).unwrap_err(), 2);
    }
}
