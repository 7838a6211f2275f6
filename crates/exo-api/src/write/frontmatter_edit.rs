//! `set_frontmatter` (and a new note's frontmatter) by editing the YAML text minimally: a key
//! that is set replaces only its own lines, a new key is added at the end, a null removes the
//! key's lines; every other line — other keys, their order, comments, blank lines, quoting —
//! stays byte for byte. Values are written in YAML flow style on one line (`[a, b]`,
//! `{k: v}`), strings plain when YAML would read them back as the same string, else
//! double-quoted. The result is parsed again and must hold exactly the values asked for, or
//! the edit is refused: a note is never written with a meaning nobody asked for.

use exo_vault::{Note, WarningKind};
use serde_json::{Map, Value};

use super::request::FrontmatterValues;

/// `text` with `values` merged into its frontmatter (created when there is none).
pub(crate) fn set_keys(
    text: &str,
    note: &Note,
    values: &FrontmatterValues,
    reparse: impl Fn(&str) -> Note,
) -> Result<String, String> {
    let edited = match (note.frontmatter_span, empty_block_end(text)) {
        // `---` straight after `---`: the parser sees no block (nothing between the fences),
        // but it is one, and an empty one to fill.
        (None, Some(end)) => format!("{}{}{}", &text[..bom_len(text)], block(values), &text[end..]),
        (None, None) if note.warnings.iter().any(|w| w.kind == WarningKind::UnclosedFrontmatter) => {
            return Err("its frontmatter has no closing ---; fix it by hand first".into());
        }
        (None, None) => prepend_block(text, values),
        (Some(_), _) if note.frontmatter.is_none() => {
            return Err("its frontmatter is not valid YAML; fix it by hand first".into());
        }
        (Some(span), _) => edit_block(text, span.start, span.end, values)?,
    };
    verify(&reparse(&edited), note, values)?;
    Ok(edited)
}

/// A frontmatter block holding `values` (nulls left out), fences included.
fn block(values: &FrontmatterValues) -> String {
    let mut out = String::from("---\n");
    for (key, value) in values.iter().filter(|(_, v)| !v.is_null()) {
        out.push_str(&entry(key, value));
    }
    out.push_str("---\n");
    out
}

fn prepend_block(text: &str, values: &FrontmatterValues) -> String {
    if values.values().all(Value::is_null) {
        return text.to_string();
    }
    let bom = bom_len(text);
    format!("{}{}{}", &text[..bom], block(values), &text[bom..])
}

fn bom_len(text: &str) -> usize {
    if text.starts_with('\u{feff}') { '\u{feff}'.len_utf8() } else { 0 }
}

/// Where the text after an empty frontmatter block (`---` then `---` or `...`) begins.
fn empty_block_end(text: &str) -> Option<usize> {
    let bom = bom_len(text);
    let rest = text[bom..].strip_prefix("---\n")?;
    let close = ["---\n", "...\n", "---", "..."]
        .into_iter()
        .find(|close| rest.strip_prefix(close).is_some_and(|after| close.ends_with('\n') || after.is_empty()))?;
    Some(text.len() - rest.len() + close.len())
}

/// One top-level `key: value` of the YAML, as byte offsets into the note's text.
struct Entry {
    key: String,
    start: usize,
    end: usize,
}

fn edit_block(text: &str, start: usize, end: usize, values: &FrontmatterValues) -> Result<String, String> {
    let block = &text[start..end];
    let yaml_start = start + block.find('\n').map_or(block.len(), |i| i + 1);
    let yaml_end = start + closing_fence(block).ok_or("its frontmatter has no closing ---")?;
    let yaml_end = yaml_end.max(yaml_start);
    let entries = entries(text, yaml_start, yaml_end)?;
    let mut out = String::with_capacity(text.len() + 64);
    out.push_str(&text[..yaml_start]);
    let mut at = yaml_start;
    for entry in &entries {
        if let Some(value) = values.get(&entry.key) {
            out.push_str(&text[at..entry.start]);
            if !value.is_null() {
                out.push_str(&self::entry(&entry.key, value));
            }
            at = entry.end;
        }
    }
    out.push_str(&text[at..yaml_end]);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    for (key, value) in values {
        if !value.is_null() && !entries.iter().any(|e| &e.key == key) {
            out.push_str(&entry(key, value));
        }
    }
    out.push_str(&text[yaml_end..]);
    Ok(out)
}

/// Where the closing `---` (or `...`) line of a fenced block starts.
fn closing_fence(block: &str) -> Option<usize> {
    let body = block.strip_suffix('\n').unwrap_or(block);
    let body = body.strip_suffix('\r').unwrap_or(body);
    let start = body.rfind('\n').map_or(0, |i| i + 1);
    matches!(body[start..].trim_end(), "---" | "...").then_some(start).filter(|&s| s > 0)
}

/// The top-level entries between `start` and `end`: a key line and the lines that continue it
/// (indented, a `- ` item, blank lines between them). Comments at column 0 belong to no entry.
fn entries(text: &str, start: usize, end: usize) -> Result<Vec<Entry>, String> {
    let mut entries: Vec<Entry> = Vec::new();
    let mut open: Option<Entry> = None;
    let mut at = start;
    for line in text[start..end].split_inclusive('\n') {
        let line_end = at + line.len();
        let bare = line.trim_end_matches(['\n', '\r']);
        let continues = bare.trim().is_empty() || bare.starts_with([' ', '\t']) || bare.starts_with('-');
        if continues {
            if let Some(entry) = open.as_mut()
                && !bare.trim().is_empty()
            {
                entry.end = line_end;
            }
        } else {
            entries.extend(open.take());
            if !bare.starts_with('#') {
                let key = top_level_key(bare).ok_or_else(|| {
                    format!("its frontmatter line {bare:?} is not a plain `key: value`; edit it by hand")
                })?;
                open = Some(Entry { key, start: at, end: line_end });
            }
        }
        at = line_end;
    }
    entries.extend(open);
    Ok(entries)
}

/// The key of a `key: value` line (plain, "double" or 'single' quoted).
fn top_level_key(line: &str) -> Option<String> {
    if let Some(rest) = line.strip_prefix('"') {
        let close = rest.find('"')?;
        let after = &rest[close + 1..];
        return after.starts_with(':').then(|| serde_json::from_str(&format!("\"{}\"", &rest[..close])).ok())?;
    }
    if let Some(rest) = line.strip_prefix('\'') {
        let close = rest.find('\'')?;
        return rest[close + 1..].starts_with(':').then(|| rest[..close].to_string());
    }
    if line.starts_with(['{', '[', '?', '&', '*', '!', '|', '>', '%', '@', '`']) {
        return None;
    }
    let colon = line.find(": ").or_else(|| line.strip_suffix(':').map(str::len))?;
    Some(line[..colon].trim_end().to_string())
}

fn entry(key: &str, value: &Value) -> String {
    format!("{}: {}\n", scalar_string(key, false), render(value, false))
}

/// A value in YAML flow style, on one line.
fn render(value: &Value, in_flow: bool) -> String {
    match value {
        Value::String(s) => scalar_string(s, in_flow),
        Value::Array(items) => format!("[{}]", items.iter().map(|v| render(v, true)).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", scalar_string(k, true), render(v, true)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// Plain when YAML reads the text back as this same string; otherwise JSON's double-quoted
/// form, which is also YAML's.
fn scalar_string(s: &str, in_flow: bool) -> String {
    if plain_is_safe(s, in_flow) { s.to_string() } else { serde_json::to_string(s).unwrap_or_default() }
}

fn plain_is_safe(s: &str, in_flow: bool) -> bool {
    let Some(first) = s.chars().next() else { return false };
    let reserved = ["true", "false", "null", "~", "yes", "no", "on", "off", "y", "n"];
    !(s.trim() != s
        || reserved.iter().any(|r| s.eq_ignore_ascii_case(r))
        || s.parse::<f64>().is_ok()
        || first.is_ascii_digit()
        || "-?:,[]{}#&*!|>'\"%@`.+".contains(first)
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.chars().any(|c| c.is_control())
        || (in_flow && s.contains([',', '[', ']', '{', '}'])))
}

/// The edited note must hold the asked values and every other key as before.
fn verify(edited: &Note, before: &Note, values: &FrontmatterValues) -> Result<(), String> {
    let unreadable = || "the edited frontmatter would not read back as YAML; edit it by hand".to_string();
    let after = edited.frontmatter.as_ref().and_then(Value::as_object).ok_or_else(unreadable)?;
    let empty = Map::new();
    let before = before.frontmatter.as_ref().and_then(Value::as_object).unwrap_or(&empty);
    for (key, value) in values {
        let ok = match value {
            Value::Null => !after.contains_key(key),
            value => after.get(key) == Some(value),
        };
        if !ok {
            return Err(format!("key {key:?} would not read back as the value given; edit it by hand"));
        }
    }
    for (key, value) in before.iter().filter(|(k, _)| !values.contains_key(*k)) {
        if after.get(key) != Some(value) {
            return Err(format!("setting these keys would change {key:?}; edit the frontmatter by hand"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Note {
        exo_vault::parse_note("n.md", text, &exo_vault::ParseOptions::default())
    }

    fn set(text: &str, values: Value) -> Result<String, String> {
        let values: FrontmatterValues = values.as_object().unwrap().clone().into_iter().collect();
        set_keys(text, &parse(text), &values, parse)
    }

    #[test]
    fn replaces_one_key_and_keeps_the_rest_byte_for_byte() {
        let text = "---\n# a comment\ntitle: \"Old\"  # trailing\ntags:\n  - a\n  - b\n\nz: 1\n---\nbody\n";
        let out = set(text, serde_json::json!({"tags": ["x", "y z"], "new": "v", "z": null})).unwrap();
        assert_eq!(out, "---\n# a comment\ntitle: \"Old\"  # trailing\ntags: [x, y z]\n\nnew: v\n---\nbody\n");
    }

    #[test]
    fn adds_a_block_when_there_is_none_and_quotes_what_yaml_would_misread() {
        let out = set("# T\n", serde_json::json!({"a": "yes", "b": "1.5", "c": "x: y", "d": true})).unwrap();
        assert_eq!(out, "---\na: \"yes\"\nb: \"1.5\"\nc: \"x: y\"\nd: true\n---\n# T\n");
    }

    #[test]
    fn refuses_invalid_frontmatter() {
        assert!(set("---\na: [\n---\nx\n", serde_json::json!({"a": 1})).is_err());
    }
}
