//! Unlinked mentions: another note's title or alias written as whole words in a note's prose
//! (not in code, not in a link, not in frontmatter) by a note that never links to it. One
//! finding per (note, mentioned note), with the first mention as evidence.

use std::collections::BTreeMap;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use exo_index::graph::Graph;
use exo_vault::Vault;
use rayon::prelude::*;
use serde_json::json;

use crate::prose::Prose;
use crate::report::{Finding, Kind, Severity};
use crate::settings::GardenSettings;

/// Every name (title or alias) long enough to look for, and the one note it names. Names
/// several notes share are left out: a mention of them cannot say which note is meant.
struct Names {
    patterns: Vec<String>,
    owners: Vec<usize>,
}

fn names(graph: &Graph, min_chars: usize) -> Names {
    let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (id, note) in graph.notes().iter().enumerate() {
        for name in std::iter::once(&note.title).chain(&note.aliases) {
            let name = name.trim();
            if name.chars().count() < min_chars.max(1) {
                continue;
            }
            let owners = by_name.entry(name.to_lowercase()).or_default();
            if !owners.contains(&id) {
                owners.push(id);
            }
        }
    }
    let (patterns, owners) =
        by_name.into_iter().filter(|(_, ids)| ids.len() == 1).map(|(name, ids)| (name, ids[0])).unzip();
    Names { patterns, owners }
}

pub fn detect(vault: &Vault, graph: &Graph, settings: &GardenSettings) -> Vec<Finding> {
    let names = names(graph, settings.mention_min_chars);
    if names.patterns.is_empty() {
        return Vec::new();
    }
    let Ok(matcher) = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::LeftmostLongest)
        // Thousands of names: a DFA costs a moment to build and searches several times
        // faster than the NFA the builder would pick.
        .kind(Some(AhoCorasickKind::ContiguousNFA))
        .build(&names.patterns)
    else {
        return Vec::new();
    };
    (0..graph.notes().len()).into_par_iter().flat_map_iter(|id| in_note(vault, graph, &matcher, &names, id)).collect()
}

struct Mention {
    line: usize,
    text: String,
    context: String,
    count: usize,
}

fn in_note(vault: &Vault, graph: &Graph, matcher: &AhoCorasick, names: &Names, id: usize) -> Vec<Finding> {
    let Some(prose) = Prose::read(vault, &graph.note(id).path) else { return Vec::new() };
    let source = prose.text.as_str();
    let mut mentions: BTreeMap<usize, Mention> = BTreeMap::new();
    for (offset, run) in prose.spans() {
        for found in matcher.find_iter(run) {
            let target = names.owners[found.pattern().as_usize()];
            if target == id || !whole_words(run, found.start(), found.end()) || graph.links_to(id, target) {
                continue;
            }
            let at = offset + found.start();
            mentions.entry(target).and_modify(|m| m.count += 1).or_insert_with(|| Mention {
                line: source[..at].matches('\n').count() + 1,
                text: run[found.start()..found.end()].to_string(),
                context: context(source, at, at + found.len()),
                count: 1,
            });
        }
    }
    mentions.into_iter().map(|(target, mention)| finding(graph, id, target, mention)).collect()
}

fn whole_words(text: &str, start: usize, end: usize) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    !text[..start].chars().next_back().is_some_and(is_word) && !text[end..].chars().next().is_some_and(is_word)
}

/// The sentence-ish stretch around a mention, on one line, at most ~160 characters.
fn context(source: &str, start: usize, end: usize) -> String {
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[end..].find('\n').map_or(source.len(), |i| end + i);
    let mut from = line_start;
    while start - from > 80 {
        from = next_boundary(source, from + 1);
    }
    let mut to = line_end;
    while to - end > 80 {
        to = prev_boundary(source, to - 1);
    }
    let text = source[from..to].trim();
    let prefix = if from > line_start { "…" } else { "" };
    let suffix = if to < line_end { "…" } else { "" };
    format!("{prefix}{text}{suffix}")
}

fn next_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

fn prev_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn finding(graph: &Graph, id: usize, target: usize, mention: Mention) -> Finding {
    let (note, other) = (graph.note(id), graph.note(target));
    Finding {
        kind: Kind::UnlinkedMention,
        severity: Severity::Low,
        path: note.path.clone(),
        related: vec![other.path.clone()],
        message: format!("mentions {:?} on line {} without linking to {}", mention.text, mention.line, other.path),
        evidence: json!({
            "target": other.path,
            "name": mention.text,
            "line": mention.line,
            "context": mention.context,
            "mentions": mention.count,
        }),
        fix: format!(
            "link the mention on line {} of {}: write [[{}]] (or [[{}|{}]]) where it says {:?}",
            mention.line, note.path, other.title, other.title, mention.text, mention.text
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_only() {
        assert!(whole_words("the forgetting curve is", 4, 20));
        assert!(!whole_words("xforgetting curve", 1, 17));
        assert!(!whole_words("forgetting curves", 0, 16));
        assert!(whole_words("(Forgetting Curve)", 1, 17));
    }

    #[test]
    fn context_is_one_line_and_bounded() {
        let long = format!("{}needle{}\nnext line", "a ".repeat(100), " b".repeat(100));
        let start = long.find("needle").unwrap();
        let got = context(&long, start, start + 6);
        assert!(got.contains("needle") && !got.contains('\n') && got.chars().count() < 180, "{got}");
        assert!(got.starts_with('…') && got.ends_with('…'));
    }
}
