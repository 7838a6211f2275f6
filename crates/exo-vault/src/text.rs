//! Small text scanners over prose: lines, inline tags, block ids, heading slugs.

/// Byte offset -> 1-based line number.
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    pub fn line_of(&self, offset: usize) -> u32 {
        let line = self.starts.partition_point(|&s| s <= offset);
        u32::try_from(line.max(1)).unwrap_or(u32::MAX)
    }
}

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '/')
}

/// A `#` starts a tag only at the start of text or after whitespace or an opening
/// bracket: `page#anchor` and `https://x/#a` are not tags.
fn may_precede_tag(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => c.is_whitespace() || matches!(c, '(' | '[' | '{' | ',' | ';' | '"' | '\''),
    }
}

/// Inline `#tags` in a run of prose, as (byte offset of `#`, normalised name).
/// `before` is the character preceding the run in the file. `#123` is an issue number.
pub(crate) fn inline_tags(text: &str, before: Option<char>) -> Vec<(usize, String)> {
    let mut tags = Vec::new();
    // Most runs hold no `#` at all; jump from one to the next instead of walking every char.
    let mut consumed = 0;
    for i in memchr::memchr_iter(b'#', text.as_bytes()) {
        if i < consumed {
            continue;
        }
        let prev = if i == 0 { before } else { text[..i].chars().next_back() };
        if !may_precede_tag(prev) {
            continue;
        }
        let body_start = i + 1;
        let rest = &text[body_start..];
        let body_len = rest.char_indices().find(|&(_, d)| !is_tag_char(d)).map_or(rest.len(), |(j, _)| j);
        let body_end = body_start + body_len;
        let body = text[body_start..body_end].trim_end_matches(['/', '-']);
        if body.chars().any(|c| !c.is_numeric() && c != '/' && c != '-' && c != '_') {
            tags.push((i, body.to_lowercase()));
        }
        consumed = body_end;
    }
    tags
}

/// The `^block-id` a line of prose ends with, if any.
pub(crate) fn block_id_at_end(text: &str, before: Option<char>) -> Option<String> {
    let trimmed = text.trim_end();
    let caret = trimmed.rfind('^')?;
    let id = &trimmed[caret + 1..];
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return None;
    }
    let preceding = if caret == 0 { before } else { trimmed[..caret].chars().next_back() };
    match preceding {
        None => Some(id.to_string()),
        Some(c) if c.is_whitespace() => Some(id.to_string()),
        _ => None,
    }
}

/// GitHub-style heading slug: lower case, spaces to `-`, punctuation dropped.
pub fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.trim().chars() {
        if c.is_alphanumeric() || c == '_' || c == '-' {
            slug.extend(c.to_lowercase());
        } else if c.is_whitespace() {
            slug.push('-');
        }
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        inline_tags(text, None).into_iter().map(|(_, n)| n).collect()
    }

    #[test]
    fn tags_and_non_tags() {
        assert_eq!(names("#rust and #Area/Work."), vec!["rust", "area/work"]);
        assert_eq!(names("issue #123 and #2024"), Vec::<String>::new());
        assert_eq!(names("page#anchor https://x.io/#frag"), Vec::<String>::new());
        assert_eq!(names("(#inparens) #snake_case #kebab-case-"), vec!["inparens", "snake_case", "kebab-case"]);
        assert_eq!(names("#日本語 #café"), vec!["日本語", "café"]);
        assert_eq!(names("##double #"), Vec::<String>::new());
        assert_eq!(names("#v2"), vec!["v2"]);
    }

    #[test]
    fn tag_offsets_point_at_the_hash() {
        let text = "a #b c";
        assert_eq!(inline_tags(text, None), vec![(2, "b".to_string())]);
        assert_eq!(inline_tags("#x", Some('a')), vec![]);
    }

    #[test]
    fn block_ids() {
        assert_eq!(block_id_at_end("Some claim ^claim-1", None).as_deref(), Some("claim-1"));
        assert_eq!(block_id_at_end("^alone", None).as_deref(), Some("alone"));
        assert_eq!(block_id_at_end("x^notid", None), None);
        assert_eq!(block_id_at_end("2^10 is 1024", None), None);
        assert_eq!(block_id_at_end("^", None), None);
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Why We Chose SQLite?"), "why-we-chose-sqlite");
        assert_eq!(slugify("  Über & Co. "), "über--co");
    }

    #[test]
    fn line_numbers() {
        let idx = LineIndex::new("a\nb\n\nc");
        assert_eq!(idx.line_of(0), 1);
        assert_eq!(idx.line_of(2), 2);
        assert_eq!(idx.line_of(5), 4);
    }
}
