//! Unlinked mentions: another note's title or alias written as whole words in a note's prose
//! (not in code, not in a link, not in frontmatter) by a note that never links to it. One
//! finding per (note, mentioned note), with the first mention as evidence.
//!
//! Names are matched as word sequences: a mention is the name's words in order, compared
//! case-insensitively (Unicode lowercase, so "Sönke" finds "SÖNKE"), with the same
//! punctuation between them and any run of whitespace standing for any other — a title
//! wrapped across two lines is still mentioned. Looking up each prose word in a map of first
//! words is one hash probe per word, where a thousands-pattern automaton walked every byte.

use std::collections::{BTreeMap, HashMap};

use exo_index::graph::Graph;
use exo_vault::{ReadNote, Vault};
use rayon::prelude::*;
use serde_json::json;

use crate::prose::{Prose, hash_word, push_lowercase};
use crate::report::{Finding, Kind, Severity};
use crate::settings::GardenSettings;

/// A title or alias split at word boundaries, lowercased.
struct Name {
    /// As written in the title or alias.
    text: String,
    words: Vec<String>,
    /// What stands between consecutive words, whitespace collapsed to one space.
    separators: Vec<String>,
    /// Punctuation before the first word and after the last ("C++" ends in "++").
    prefix: String,
    suffix: String,
    owner: usize,
}

/// Every name long enough to look for, and the one note it names, in a trie over words.
/// Names several notes share are left out: a mention of them cannot say which note is meant.
struct Names {
    names: Vec<Name>,
    /// A key is the hash of a lowercased word, below the root together with the collapsed
    /// separator before it; a node's values are the names ending there, the ones with more
    /// punctuation around them first. (Two different words sharing a 64-bit hash is not a
    /// risk worth a string compare.)
    trie: WordTrie,
    filter: Filter,
}

/// A trie over 64-bit word keys, node 0 the root, with the values (indices) that end at
/// each node: every prose word is hashed once, then following a name costs one probe per
/// word.
#[derive(Default)]
struct WordTrie {
    edges: HashMap<(u32, u64), u32, foldhash::fast::FixedState>,
    ends: Vec<Vec<usize>>,
}

impl WordTrie {
    fn insert(&mut self, keys: impl IntoIterator<Item = u64>, value: usize) {
        if self.ends.is_empty() {
            self.ends.push(Vec::new());
        }
        let mut node = 0u32;
        for key in keys {
            node = match self.edges.get(&(node, key)) {
                Some(&child) => child,
                None => {
                    self.ends.push(Vec::new());
                    let child = (self.ends.len() - 1) as u32;
                    self.edges.insert((node, key), child);
                    child
                }
            };
        }
        self.ends[node as usize].push(value);
    }

    fn child(&self, node: u32, key: u64) -> Option<u32> {
        self.edges.get(&(node, key)).copied()
    }

    fn ends(&self, node: u32) -> &[usize] {
        &self.ends[node as usize]
    }
}

/// A word of the prose and the two keys it can be looked up by.
#[derive(Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
    /// The word alone, as the first word of a name.
    first: u64,
    /// The separator before it and the word, as a later word of a name.
    next: u64,
}

impl Names {
    fn new(graph: &Graph, min_chars: usize) -> Names {
        let mut by_key: BTreeMap<String, (Name, Vec<usize>)> = BTreeMap::new();
        for (id, note) in graph.notes().iter().enumerate() {
            for name in std::iter::once(&note.title).chain(&note.aliases) {
                let name = name.trim();
                if name.chars().count() < min_chars.max(1) {
                    continue;
                }
                let Some(parsed) = split_name(name, id) else { continue };
                let key = format!(
                    "{}|{}|{}|{}",
                    parsed.prefix,
                    parsed.words.join(" "),
                    parsed.separators.join("|"),
                    parsed.suffix
                );
                let (_, owners) = by_key.entry(key).or_insert_with(|| (parsed, Vec::new()));
                if !owners.contains(&id) {
                    owners.push(id);
                }
            }
        }
        Names::from_names(by_key.into_values().filter(|(_, owners)| owners.len() == 1).map(|(name, _)| name).collect())
    }

    fn from_names(names: Vec<Name>) -> Names {
        let mut trie = WordTrie::default();
        for (i, name) in names.iter().enumerate() {
            let keys = name.words.iter().enumerate().map(|(k, word)| match k {
                0 => hash_word(word),
                _ => next_key(&name.separators[k - 1], word),
            });
            trie.insert(keys, i);
        }
        for ends in &mut trie.ends {
            ends.sort_by_key(|&i| std::cmp::Reverse(names[i].prefix.len() + names[i].suffix.len()));
        }
        let filter = Filter::new(&names);
        Names { names, trie, filter }
    }

    /// The longest name whose words start at `words[first]` in `run`: (name, byte range).
    fn longest_at(&self, run: &str, words: &[Word], first: usize) -> Option<(usize, usize, usize)> {
        let mut node = 0u32;
        let mut longest = None;
        for (k, word) in words.iter().enumerate().skip(first) {
            let key = if k == first { word.first } else { word.next };
            let Some(child) = self.trie.child(node, key) else { break };
            node = child;
            let ending = self.trie.ends(node).iter().find_map(|&i| {
                let (start, end) = self.bounds(&self.names[i], run, words[first].start, word.end)?;
                Some((i, start, end))
            });
            longest = ending.or(longest);
        }
        longest
    }

    /// The name's whole extent in `run` when its words span `first_start..last_end`: its
    /// punctuation must be there too, with no word character straight outside it.
    fn bounds(&self, name: &Name, run: &str, first_start: usize, last_end: usize) -> Option<(usize, usize)> {
        let start = first_start.checked_sub(name.prefix.len())?;
        let end = last_end + name.suffix.len();
        let (before, after) = (run.get(start..first_start)?, run.get(last_end..end)?);
        (before == name.prefix && after == name.suffix && whole_words(run, start, end)).then_some((start, end))
    }
}

/// `separator` is already collapsed and `word` lowercase.
fn next_key(separator: &str, word: &str) -> u64 {
    std::hash::BuildHasher::hash_one(&foldhash::fast::FixedState::default(), (separator, word))
}

/// Reused buffers for reading a run's words.
#[derive(Default)]
struct Scratch {
    ranges: Vec<(usize, usize)>,
    word: String,
    separator: String,
}

/// The words of `run` with their lookup keys, into `out`.
fn words_of(run: &str, out: &mut Vec<Word>, scratch: &mut Scratch) {
    runs(run, is_word, &mut scratch.ranges);
    out.clear();
    for (k, &(start, end)) in scratch.ranges.iter().enumerate() {
        scratch.word.clear();
        push_lowercase(&run[start..end], &mut scratch.word);
        let next = match k.checked_sub(1) {
            Some(previous) => {
                scratch.separator.clear();
                push_collapsed(&run[scratch.ranges[previous].1..start], &mut scratch.separator);
                next_key(&scratch.separator, &scratch.word)
            }
            None => 0,
        };
        out.push(Word { start, end, first: hash_word(&scratch.word), next });
    }
}

/// A cheap first look at a whole file, markdown unparsed: could any name of a note it does
/// not link to be mentioned in it? Names and text are both cut into runs of letters and
/// digits, and only the words are compared, so whatever the exact match finds in a prose
/// span this finds in the raw text too (a span is a slice of it, and what markdown cuts
/// away around a span never ends in a letter or digit). Most notes mention nothing new, and
/// for them parsing the markdown is skipped.
struct Filter {
    /// Letter-and-digit words of every name; a node's values are the notes named there.
    trie: WordTrie,
}

impl Filter {
    fn new(names: &[Name]) -> Filter {
        let mut trie = WordTrie::default();
        let mut keys = Vec::new();
        for name in names {
            alnum_keys(&name.text, &mut keys);
            if !keys.is_empty() {
                trie.insert(keys.iter().copied(), name.owner);
            }
        }
        Filter { trie }
    }

    /// True when `text` may mention a note `wanted` says yes to.
    fn may_mention(&self, text: &str, wanted: &dyn Fn(usize) -> bool) -> bool {
        let mut keys = Vec::new();
        alnum_keys(text, &mut keys);
        (0..keys.len()).any(|first| self.walk_finds(&keys[first..], wanted))
    }

    fn walk_finds(&self, keys: &[u64], wanted: &dyn Fn(usize) -> bool) -> bool {
        let mut node = 0u32;
        for &key in keys {
            let Some(child) = self.trie.child(node, key) else { return false };
            node = child;
            if self.trie.ends(node).iter().any(|&owner| wanted(owner)) {
                return true;
            }
        }
        false
    }
}

/// The hash of each lowercased run of letters and digits in `text`, into `keys`.
fn alnum_keys(text: &str, keys: &mut Vec<u64>) {
    let (mut ranges, mut scratch) = (Vec::new(), String::new());
    runs(text, char::is_alphanumeric, &mut ranges);
    keys.clear();
    keys.extend(ranges.iter().map(|&(start, end)| {
        scratch.clear();
        push_lowercase(&text[start..end], &mut scratch);
        hash_word(&scratch)
    }));
}

/// Byte ranges of the maximal runs of characters `is_part` accepts in `text`, into `out`.
fn runs(text: &str, is_part: impl Fn(char) -> bool, out: &mut Vec<(usize, usize)>) {
    out.clear();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (is_part(c), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
}

fn split_name(name: &str, owner: usize) -> Option<Name> {
    let mut ranges = Vec::new();
    runs(name, is_word, &mut ranges);
    let (first, last) = (ranges.first()?, ranges.last()?);
    let mut scratch = String::new();
    let words = ranges
        .iter()
        .map(|&(s, e)| {
            scratch.clear();
            push_lowercase(&name[s..e], &mut scratch);
            scratch.clone()
        })
        .collect();
    let separators = ranges
        .windows(2)
        .map(|w| {
            let mut collapsed = String::new();
            push_collapsed(&name[w[0].1..w[1].0], &mut collapsed);
            collapsed
        })
        .collect();
    Some(Name {
        text: name.to_string(),
        words,
        separators,
        prefix: name[..first.0].to_string(),
        suffix: name[last.1..].to_string(),
        owner,
    })
}

/// The separator with every run of whitespace written as one space.
fn push_collapsed(separator: &str, out: &mut String) {
    let mut in_space = false;
    for c in separator.chars() {
        if !c.is_whitespace() {
            out.push(c);
            in_space = false;
        } else if !in_space {
            out.push(' ');
            in_space = true;
        }
    }
}

pub fn detect(vault: &Vault, graph: &Graph, settings: &GardenSettings) -> Vec<Finding> {
    let names = Names::new(graph, settings.mention_min_chars);
    if names.names.is_empty() {
        return Vec::new();
    }
    (0..graph.notes().len()).into_par_iter().flat_map_iter(|id| in_note(vault, graph, &names, id)).collect()
}

struct Mention {
    line: usize,
    text: String,
    context: String,
    count: usize,
}

fn in_note(vault: &Vault, graph: &Graph, names: &Names, id: usize) -> Vec<Finding> {
    let path = &graph.note(id).path;
    let ReadNote::Read { bytes, .. } = vault.read(path) else { return Vec::new() };
    let unlinked = |other: usize| other != id && !graph.links_to(id, other);
    if !names.filter.may_mention(&String::from_utf8_lossy(&bytes), &unlinked) {
        return Vec::new();
    }
    let prose = Prose::parse(vault, path, &bytes);
    let source = prose.text.as_str();
    let mut mentions: BTreeMap<usize, Mention> = BTreeMap::new();
    let (mut words, mut scratch) = (Vec::new(), Scratch::default());
    for (offset, run) in prose.spans() {
        words_of(run, &mut words, &mut scratch);
        let mut next = 0;
        while next < words.len() {
            let Some((name, start, end)) = names.longest_at(run, &words, next) else {
                next += 1;
                continue;
            };
            let name = &names.names[name];
            next += name.words.len();
            let target = name.owner;
            if target == id || graph.links_to(id, target) {
                continue;
            }
            let at = offset + start;
            mentions.entry(target).and_modify(|m| m.count += 1).or_insert_with(|| Mention {
                line: source[..at].matches('\n').count() + 1,
                text: run[start..end].to_string(),
                context: context(source, at, offset + end),
                count: 1,
            });
        }
    }
    mentions.into_iter().map(|(target, mention)| finding(graph, id, target, mention)).collect()
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn whole_words(text: &str, start: usize, end: usize) -> bool {
    !text[..start].chars().next_back().is_some_and(is_word) && !text[end..].chars().next().is_some_and(is_word)
}

/// The sentence-ish stretch around a mention, on one line, at most ~160 characters.
fn context(source: &str, start: usize, end: usize) -> String {
    let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = source[end..].find('\n').map_or(source.len(), |i| end + i);
    let from = next_boundary(source, line_start.max(start.saturating_sub(80)));
    let to = prev_boundary(source, line_end.min(end + 80));
    let text = source[from..to].trim();
    let prefix = if from > line_start { "…" } else { "" };
    let suffix = if to < line_end { "…" } else { "" };
    format!("{prefix}{text}{suffix}")
}

/// `str::ceil_char_boundary` and `floor_char_boundary`, which need Rust 1.91 (MSRV 1.89).
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

    fn found(names: &[&str], run: &str) -> Vec<(String, String)> {
        let table = Names::from_names(names.iter().enumerate().filter_map(|(i, n)| split_name(n, i)).collect());
        let (mut words, mut scratch, mut out, mut next) = (Vec::new(), Scratch::default(), Vec::new(), 0);
        words_of(run, &mut words, &mut scratch);
        while next < words.len() {
            match table.longest_at(run, &words, next) {
                Some((i, start, end)) => {
                    out.push((names[table.names[i].owner].to_string(), run[start..end].to_string()));
                    next += table.names[i].words.len();
                }
                None => next += 1,
            }
        }
        out
    }

    #[test]
    fn names_match_as_words_in_any_case_and_across_line_breaks() {
        let names = ["Forgetting Curve", "Sönke Ahrens"];
        assert_eq!(
            found(&names, "the forgetting\n  curve is"),
            [("Forgetting Curve".into(), "forgetting\n  curve".into())]
        );
        assert_eq!(found(&names, "as SÖNKE AHRENS wrote"), [("Sönke Ahrens".into(), "SÖNKE AHRENS".into())]);
        assert!(found(&names, "forgetting curves and reforgetting curve").is_empty());
        assert!(found(&names, "forgetting. Curve").is_empty(), "punctuation between words must match the name's");
    }

    #[test]
    fn the_longest_name_wins_and_punctuation_around_names_counts() {
        let names = ["Spaced Repetition", "Spaced Repetition Systems", "C++ Tricks", "Decision: SQLite"];
        assert_eq!(
            found(&names, "spaced repetition systems beat spaced repetition"),
            [
                ("Spaced Repetition Systems".into(), "spaced repetition systems".into()),
                ("Spaced Repetition".into(), "spaced repetition".into())
            ]
        );
        assert_eq!(found(&names, "see c++ tricks"), [("C++ Tricks".into(), "c++ tricks".into())]);
        assert!(found(&names, "see c tricks").is_empty());
        assert_eq!(
            found(&names, "the decision:  sqlite one"),
            [("Decision: SQLite".into(), "decision:  sqlite".into())]
        );
        assert!(found(&names, "the decision sqlite one").is_empty());
    }

    /// Whatever the exact match finds in a note's prose, the raw-text filter must let through.
    #[test]
    fn the_filter_passes_every_note_with_a_mention() {
        let names = ["Forgetting Curve", "C++ Tricks", "Sönke Ahrens", "snake_case Names"];
        let table = Names::from_names(names.iter().enumerate().filter_map(|(i, n)| split_name(n, i)).collect());
        let notes = [
            "The _Forgetting Curve_ again.",
            "The **forgetting\ncurve** again.",
            "[[Elsewhere]]Forgetting Curve",
            "`code`c++ tricks and <!-- x -->SÖNKE AHRENS",
            "# Heading about snake_case names\n",
            "> quote: forgetting curve",
            "| table | Forgetting Curve |\n|---|---|\n| a | b |",
        ];
        let vault_dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(vault_dir.path()).unwrap();
        for text in notes {
            let prose = Prose::parse(&vault, "n.md", text.as_bytes());
            let exact = prose.spans().any(|(_, run)| !found(&names, run).is_empty());
            assert!(exact, "the exact match should find a name in {text:?}");
            assert!(table.filter.may_mention(text, &|_| true), "the filter dropped {text:?}");
        }
        assert!(!table.filter.may_mention("nothing to see: forgetting, curves", &|_| true));
        assert!(!table.filter.may_mention("Forgetting Curve", &|_| false), "linked or own names do not count");
    }

    #[test]
    fn context_is_one_line_and_bounded() {
        let long = format!("{}needle{}\nnext line", "a ".repeat(100), " b".repeat(100));
        let start = long.find("needle").unwrap();
        let got = context(&long, start, start + 6);
        assert!(got.contains("needle") && !got.contains('\n') && got.chars().count() < 180, "{got}");
        assert!(got.starts_with('…') && got.ends_with('…'));
        // Cuts land on character boundaries in non-ASCII text too.
        let wide = format!("{}needle{}", "é ".repeat(100), " 间".repeat(100));
        let start = wide.find("needle").unwrap();
        let got = context(&wide, start, start + 6);
        assert!(got.contains("needle") && got.starts_with('…') && got.ends_with('…'), "{got}");
    }
}
