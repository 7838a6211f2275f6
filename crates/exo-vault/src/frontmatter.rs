//! The YAML block's text, read into JSON plus the keys exo knows.

use gray_matter::engine::{Engine, YAML};
use serde_json::Value;

use crate::note::{Warning, WarningKind};

#[derive(Debug, Default)]
pub(crate) struct Frontmatter {
    pub value: Option<Value>,
    pub invalid: bool,
    pub title: Option<String>,
    pub aliases: Vec<String>,
    pub tags: Vec<String>,
    pub note_type: Option<String>,
    pub summary: Option<String>,
    pub created: Option<String>,
    pub updated: Option<String>,
}

/// Reads the YAML text of a frontmatter block. Bad YAML never fails the note: it becomes
/// a warning and the note is read as if it had no frontmatter.
pub(crate) fn parse_frontmatter(yaml: &str, warnings: &mut Vec<Warning>) -> Frontmatter {
    let value = match YAML::parse(yaml).and_then(|pod| pod.deserialize::<Value>()) {
        Ok(value) => value,
        Err(e) => {
            warnings.push(Warning::new(
                WarningKind::InvalidFrontmatter,
                format!("invalid YAML frontmatter ({}); read as plain text — fix the YAML", one_line(&e.to_string())),
            ));
            return Frontmatter { invalid: true, ..Frontmatter::default() };
        }
    };
    let map = match value {
        Value::Object(map) => map,
        Value::Null => serde_json::Map::new(),
        other => {
            warnings.push(Warning::new(
                WarningKind::InvalidFrontmatter,
                format!("frontmatter is a {} rather than key: value pairs; ignored", json_kind(&other)),
            ));
            return Frontmatter { invalid: true, ..Frontmatter::default() };
        }
    };
    Frontmatter {
        title: scalar(map.get("title")),
        aliases: string_list(map.get("aliases").or_else(|| map.get("alias")), false),
        tags: string_list(map.get("tags").or_else(|| map.get("tag")), true)
            .into_iter()
            .filter_map(|t| normalise_tag(&t))
            .collect(),
        note_type: scalar(map.get("type")),
        summary: scalar(map.get("summary")),
        created: scalar(map.get("created")),
        updated: scalar(map.get("updated")),
        invalid: false,
        value: Some(Value::Object(map)),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "mapping",
    }
}

fn scalar(v: Option<&Value>) -> Option<String> {
    let s = match v? {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return None,
    };
    (!s.is_empty()).then_some(s)
}

/// A YAML list, or a single string. Tags also accept `a, b c` in one string.
fn string_list(v: Option<&Value>, split_words: bool) -> Vec<String> {
    let mut out = Vec::new();
    match v {
        Some(Value::Array(items)) => out.extend(items.iter().filter_map(|i| scalar(Some(i)))),
        Some(Value::String(s)) if split_words => out.extend(
            s.split(|c: char| c == ',' || c.is_whitespace()).map(str::trim).filter(|t| !t.is_empty()).map(String::from),
        ),
        Some(other) => out.extend(scalar(Some(other))),
        None => {}
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|s| seen.insert(s.clone()));
    out
}

/// `#Area/Work` -> `area/work`.
pub(crate) fn normalise_tag(raw: &str) -> Option<String> {
    let tag = raw.trim().trim_start_matches('#').trim_matches('/').to_lowercase();
    (!tag.is_empty()).then_some(tag)
}
