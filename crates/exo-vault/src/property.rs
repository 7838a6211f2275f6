//! Links in a frontmatter's values (`parent: "[[Topic]]"`), read from the YAML text itself so
//! that each has the span where it is written: which `[[…]]` stand in a value (not in a
//! comment), in which kind of scalar, and how that scalar writes their inside. The parser reads
//! them through here and the relinker writes them back through here, so a moved note's new
//! name goes into a quoted value escaped as that value needs (`'[[Don''t]]'`), never breaking
//! the YAML.
//!
//! Must never: decide what is a link on its own. The parser keeps a link found here only when
//! the loaded frontmatter holds its text in a value.

use std::ops::Range;

/// How the YAML scalar around a link is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scalar {
    /// `parent: see [[Topic]]`.
    Plain,
    /// `parent: '[[Topic]]'`: a quote inside is written twice.
    SingleQuoted,
    /// `parent: "[[Topic]]"`: a quote or a backslash inside is escaped with a backslash.
    DoubleQuoted,
}

/// One `[[…]]` in the YAML text of a frontmatter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawLink {
    /// The whole `[[…]]`, brackets included, in the YAML text.
    pub range: Range<usize>,
    pub scalar: Scalar,
    /// What is between the brackets, as the YAML value holds it (unescaped).
    pub inner: String,
}

/// The `[[…]]` of `yaml` (a frontmatter's text) outside comments, each inside one scalar and
/// readable as that scalar writes it, in the order they are written.
pub(crate) fn raw_links(yaml: &str) -> Vec<RawLink> {
    let mut found = Vec::new();
    let mut line_start = 0;
    for line in yaml.split_inclusive('\n') {
        let scalars = scalar_at_each_byte(line);
        let live = &line[..scalars.len()];
        for (from, to) in wikilinks_in(live) {
            let scalar = scalars[from];
            if scalars[to - 1] != scalar {
                continue;
            }
            let Some(inner) = decode(scalar, &live[from + 2..to - 2]) else { continue };
            if inner.trim().is_empty() || inner.contains(['[', ']', '\n']) {
                continue;
            }
            found.push(RawLink { range: line_start + from..line_start + to, scalar, inner });
        }
        line_start += line.len();
    }
    found
}

/// The byte ranges of the `[[…]]` in `text`, brackets included: something inside, on one
/// line, and no bracket (`[[a [b]]` is no link).
pub(crate) fn wikilinks_in(text: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(first_open) = text[at..].find("[[").map(|i| at + i) {
        let Some(close) = text[first_open + 2..].find("]]").map(|i| first_open + 2 + i) else { break };
        // The innermost opening before the close: `[[[[x]]` links x.
        let open = first_open + text[first_open..close].rfind("[[").unwrap_or(0);
        let inner = &text[open + 2..close];
        if !inner.trim().is_empty() && !inner.contains(['[', ']', '\n']) {
            found.push((open, close + 2));
        }
        at = close + 2;
    }
    found
}

/// The kind of scalar the byte at `at` of `text` is in, read from the start of its line (a
/// link's scalar, for writing its new target as that scalar needs).
pub(crate) fn scalar_at(text: &str, at: usize) -> Scalar {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    scalar_at_each_byte(&text[line_start..line_end]).get(at - line_start).copied().unwrap_or(Scalar::Plain)
}

/// The scalar each byte of `line` is in, up to a comment (or the end of the line). A quote
/// opens a quoted scalar only where a scalar starts (after `:`, `-`, `[`, `{`, `,` or at the
/// start of the line): in `it's` it is a letter.
fn scalar_at_each_byte(line: &str) -> Vec<Scalar> {
    let mut scalars = Vec::with_capacity(line.len());
    let mut state = Scalar::Plain;
    let mut previous_non_space: Option<char> = None;
    let mut previous: Option<char> = None;
    let mut chars = line.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        let mut width = c.len_utf8();
        let before = state;
        match state {
            Scalar::Plain => {
                if c == '#' && previous.is_none_or(char::is_whitespace) {
                    break;
                }
                let starts_scalar = previous_non_space.is_none_or(|p| matches!(p, ':' | '-' | '[' | '{' | ',' | '?'));
                if starts_scalar && c == '\'' {
                    state = Scalar::SingleQuoted;
                } else if starts_scalar && c == '"' {
                    state = Scalar::DoubleQuoted;
                }
            }
            Scalar::SingleQuoted => {
                if c == '\'' {
                    if chars.peek().is_some_and(|&(_, n)| n == '\'') {
                        chars.next();
                        width += 1;
                    } else {
                        state = Scalar::Plain;
                    }
                }
            }
            Scalar::DoubleQuoted => {
                if c == '\\' {
                    if let Some((_, escaped)) = chars.next() {
                        width += escaped.len_utf8();
                    }
                } else if c == '"' {
                    state = Scalar::Plain;
                }
            }
        }
        // Quotes belong to their scalar: the opening one takes the new state, the closing one
        // the state it ends.
        let this = if before == Scalar::Plain { state } else { before };
        scalars.extend(std::iter::repeat_n(this, width));
        if !c.is_whitespace() {
            previous_non_space = Some(c);
        }
        previous = Some(c);
    }
    scalars
}

/// The text `raw` (written inside a scalar of kind `scalar`) stands for; None when it holds an
/// escape this reader does not know.
pub(crate) fn decode(scalar: Scalar, raw: &str) -> Option<String> {
    match scalar {
        Scalar::Plain => Some(raw.to_string()),
        Scalar::SingleQuoted => Some(raw.replace("''", "'")),
        Scalar::DoubleQuoted => {
            let mut out = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    out.push(c);
                    continue;
                }
                let escaped = chars.next()?;
                let hex = |digits: usize, chars: &mut std::str::Chars| -> Option<char> {
                    let code: String = chars.by_ref().take(digits).collect();
                    if code.len() != digits {
                        return None;
                    }
                    u32::from_str_radix(&code, 16).ok().and_then(char::from_u32)
                };
                out.push(match escaped {
                    '\\' | '"' | '/' | ' ' => escaped,
                    't' => '\t',
                    'x' => hex(2, &mut chars)?,
                    'u' => hex(4, &mut chars)?,
                    'U' => hex(8, &mut chars)?,
                    _ => return None,
                });
            }
            Some(out)
        }
    }
}

/// How a scalar of kind `scalar` writes `text`; None when it cannot hold it (a plain scalar
/// cannot hold `: ` or ` #`, which would end it).
pub(crate) fn encode(scalar: Scalar, text: &str) -> Option<String> {
    match scalar {
        Scalar::Plain => {
            (!text.contains(": ") && !text.contains(" #") && !text.contains('\n')).then(|| text.to_string())
        }
        Scalar::SingleQuoted => Some(text.replace('\'', "''")),
        Scalar::DoubleQuoted => Some(text.replace('\\', "\\\\").replace('"', "\\\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(yaml: &str) -> Vec<(Scalar, String, &str)> {
        raw_links(yaml).into_iter().map(|l| (l.scalar, l.inner, &yaml[l.range])).collect()
    }

    #[test]
    fn links_in_each_kind_of_scalar_and_none_in_comments() {
        let yaml = "a: \"[[One]]\"\nb: '[[Don''t]]' # was [[Old]]\nc: see [[Plain]] and it's [[Two]]\n\
                    # [[Commented]]\nd: [\"[[Caf\\u00e9]]\", '[[X]]']\ne: \"[[Bad\\q]]\"\n";
        assert_eq!(
            links(yaml),
            [
                (Scalar::DoubleQuoted, "One".to_string(), "[[One]]"),
                (Scalar::SingleQuoted, "Don't".to_string(), "[[Don''t]]"),
                (Scalar::Plain, "Plain".to_string(), "[[Plain]]"),
                (Scalar::Plain, "Two".to_string(), "[[Two]]"),
                (Scalar::DoubleQuoted, "Café".to_string(), "[[Caf\\u00e9]]"),
                (Scalar::SingleQuoted, "X".to_string(), "[[X]]"),
            ]
        );
    }

    #[test]
    fn a_quoted_hash_is_no_comment_and_a_quote_in_a_word_opens_nothing() {
        let yaml = "a: \"# [[In]]\"\nb: it's \"[[Plain too]]\"\n";
        assert_eq!(
            links(yaml),
            [
                (Scalar::DoubleQuoted, "In".to_string(), "[[In]]"),
                (Scalar::Plain, "Plain too".to_string(), "[[Plain too]]"),
            ]
        );
    }

    #[test]
    fn encoding_then_decoding_gives_the_text_back() {
        for scalar in [Scalar::SingleQuoted, Scalar::DoubleQuoted, Scalar::Plain] {
            for text in ["Don't", "a \"quoted\" \\ name", "Café|label", "plain"] {
                if let Some(written) = encode(scalar, text) {
                    assert_eq!(decode(scalar, &written).as_deref(), Some(text), "{scalar:?} {written}");
                }
            }
        }
        assert_eq!(encode(Scalar::Plain, "a: b"), None);
        assert_eq!(encode(Scalar::SingleQuoted, "Don't").as_deref(), Some("Don''t"));
    }
}
