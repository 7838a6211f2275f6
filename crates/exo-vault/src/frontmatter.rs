//! The YAML block's text, read into JSON plus the keys exo knows.

use std::collections::HashMap;

use gray_matter::engine::{Engine, YAML};
use serde_json::Value;
use yaml_rust2::Event;
use yaml_rust2::parser::Parser;

use crate::note::{Warning, WarningKind};

/// Deepest nesting of lists and mappings read from a frontmatter. Loading YAML recurses once
/// per level (yaml-rust2's loader, gray_matter's conversion, serde, and dropping the value),
/// so a note of a few KB nested thousands deep overflowed the stack; the catalog also reads
/// the stored JSON back through serde_json, which refuses more than 128 levels. Real
/// frontmatter nests two or three deep.
const MAX_DEPTH: usize = 64;

/// Most values (scalars, lists and mappings) a frontmatter may stand for once every alias is
/// expanded. An alias (`*name`) is a full copy of its anchor's tree, so ten anchors each
/// repeating the last ten times stand for 10^10 values in about 550 bytes ("billion
/// laughs"): loading them took 13.5 GB. Real frontmatter holds tens of values; 10k is a few
/// MB of transient tree at worst.
const MAX_NODES: usize = 10_000;

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
    if let Err(over) = check_bounds(yaml) {
        warnings.push(Warning::new(WarningKind::InvalidFrontmatter, over.to_string()));
        return Frontmatter { invalid: true, ..Frontmatter::default() };
    }
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

/// A bound a frontmatter went over, worded as the note's warning.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
enum OverBound {
    #[error(
        "frontmatter nests lists or mappings more than {MAX_DEPTH} levels deep; read as plain text — flatten the YAML"
    )]
    TooDeep,
    #[error(
        "frontmatter stands for more than {MAX_NODES} values, counting each alias (*name) as a copy of its anchor; read as plain text — write it with fewer values or aliases"
    )]
    TooLarge,
}

/// What a complete node stands for once expanded: its count of values and how many levels of
/// lists and mappings it nests (a scalar nests none).
#[derive(Debug, Clone, Copy)]
struct Extent {
    nodes: usize,
    height: usize,
}

const SCALAR: Extent = Extent { nodes: 1, height: 0 };

/// A list or mapping whose end has not arrived yet.
struct OpenNode {
    anchor: usize,
    /// The running node count when it opened, itself included.
    nodes_at_start: usize,
    /// The greatest height among its children so far.
    child_height: usize,
}

/// Checks `yaml` against [`MAX_DEPTH`] and [`MAX_NODES`] before anything builds a tree from
/// it. yaml-rust2's event parser is a state machine with an explicit stack (its `load` and
/// everything after it recurse, this does not). It stops at the first bound crossed, so its
/// own work is bounded too. YAML that fails to parse passes: the loader then stops at the
/// same event with the same error, having built no more than was counted here.
fn check_bounds(yaml: &str) -> Result<(), OverBound> {
    let mut parser = Parser::new_from_str(yaml);
    let mut expansion = Expansion::default();
    while let Ok((event, _)) = parser.next_token() {
        if event == Event::StreamEnd {
            break;
        }
        expansion.on_event(event)?;
    }
    Ok(())
}

/// The size and depth the events so far stand for once every alias is expanded. Each
/// anchor's expanded extent is remembered, so an alias counts what its copy will.
#[derive(Default)]
struct Expansion {
    open: Vec<OpenNode>,
    anchors: HashMap<usize, Extent>,
    nodes: usize,
}

impl Expansion {
    fn on_event(&mut self, event: Event) -> Result<(), OverBound> {
        let complete = match event {
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                self.nodes += 1;
                self.open.push(OpenNode { anchor, nodes_at_start: self.nodes, child_height: 0 });
                None
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(),
            Event::Scalar(..) => {
                self.nodes += 1;
                Some(SCALAR)
            }
            // An alias of a scalar, or of a node still open (which the loader cannot copy),
            // is one value.
            Event::Alias(anchor) => {
                let extent = self.anchors.get(&anchor).copied().unwrap_or(SCALAR);
                self.nodes = self.nodes.saturating_add(extent.nodes);
                Some(extent)
            }
            _ => None,
        };
        if let Some(extent) = complete {
            self.add_child(extent);
        }
        self.within_bounds(complete)
    }

    /// Ends the innermost open list or mapping, remembering its extent if it is anchored.
    fn close(&mut self) -> Option<Extent> {
        let done = self.open.pop()?;
        let extent = Extent { nodes: self.nodes + 1 - done.nodes_at_start, height: done.child_height + 1 };
        if done.anchor != 0 {
            self.anchors.insert(done.anchor, extent);
        }
        Some(extent)
    }

    fn add_child(&mut self, extent: Extent) {
        if let Some(parent) = self.open.last_mut() {
            parent.child_height = parent.child_height.max(extent.height);
        }
    }

    /// `complete` is the node just finished, if one was: an alias's copy sits as deep as the
    /// alias plus its own height.
    fn within_bounds(&self, complete: Option<Extent>) -> Result<(), OverBound> {
        let height = complete.map_or(0, |extent| extent.height);
        if self.open.len() + height > MAX_DEPTH {
            return Err(OverBound::TooDeep);
        }
        if self.nodes > MAX_NODES {
            return Err(OverBound::TooLarge);
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn flow_list(depth: usize) -> String {
        format!("{}x{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn depth_bound_is_exact() {
        // The top-level mapping is one level.
        assert_eq!(check_bounds(&format!("k: {}", flow_list(MAX_DEPTH - 1))), Ok(()));
        assert_eq!(check_bounds(&format!("k: {}", flow_list(MAX_DEPTH))), Err(OverBound::TooDeep));
    }

    #[test]
    fn node_bound_counts_every_value_once_expanded() {
        // The mapping, key `a` and its list of n scalars are n + 3 values; key `b` and the
        // alias's copy of the list add n + 2: 2n + 5 in all, just within the bound.
        let n = (MAX_NODES - 5) / 2;
        let list = vec!["x"; n].join(", ");
        assert_eq!(check_bounds(&format!("a: &a [{list}]\nb: *a")), Ok(()));
        assert_eq!(check_bounds(&format!("a: &a [{list}, y]\nb: *a\nc: z")), Err(OverBound::TooLarge));
    }

    #[test]
    fn an_alias_of_a_scalar_or_an_open_node_is_one_value() {
        let yaml = "a: &s text\nb: *s\nc: &open [*open]\n";
        assert_eq!(check_bounds(yaml), Ok(()));
        // mapping, a, text, b, *s, c, the list, *open: each alias one value, not a copy.
        let mut parser = Parser::new_from_str(yaml);
        let mut expansion = Expansion::default();
        while let Ok((event, _)) = parser.next_token() {
            if event == Event::StreamEnd {
                break;
            }
            expansion.on_event(event).unwrap();
        }
        assert_eq!(expansion.nodes, 8);
    }

    #[test]
    fn bad_yaml_is_left_to_the_loader() {
        assert_eq!(check_bounds("a: [unclosed\nb: *nowhere"), Ok(()));
        let mut warnings = Vec::new();
        assert!(parse_frontmatter("a: [unclosed", &mut warnings).invalid);
        assert!(warnings[0].message.starts_with("invalid YAML frontmatter"), "{:?}", warnings);
    }
}
