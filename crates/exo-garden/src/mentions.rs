//! Unlinked mentions: another note's title or alias written as whole words in a note's prose
//! (not in code, not in a link, not in frontmatter) by a note that never links to it. One
//! finding per (note, mentioned note), with the first mention in the best spot (running
//! prose before a bold label, a heading, a table cell; a line that does not already link the
//! thing) as evidence, and a confidence weighed from how the vault uses the name (how many
//! notes write it, how many of those link it), how specific it is (words, alias, capitals),
//! where it stands, whether the text around it is near the named note (the chunk's stored
//! vector), and whether the named note is above this one in the hierarchy.
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

use crate::finding::{Finding, Kind, Severity};
use crate::prose::{Prose, hash_word, link_targets, push_lowercase};
use crate::settings::GardenSettings;

/// A title or alias split at word boundaries, lowercased.
#[derive(Clone)]
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
    /// An alias (given on purpose to be found), not the title.
    alias: bool,
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
            // A note without a word is no place to send a reader (an empty tag page, a
            // placeholder): its name is not a missing link. Judged so on every labelled vault
            // (5 of 5 in the tuning part, 33 of 33 in held5: none worth a link).
            if note.word_count == 0 {
                continue;
            }
            let names = std::iter::once((&note.title, false)).chain(note.aliases.iter().map(|a| (a, true)));
            for (name, alias) in names {
                let name = name.trim();
                // A name starting with `#` (a tag given as an alias, `aliases:
                // ["#tools/obsidian"]`) matches only that tag where it is written, and a tag is
                // no place for a link.
                if name.chars().count() < min_chars.max(1) || name.starts_with('#') {
                    continue;
                }
                let Some(mut parsed) = split_name(name, id) else { continue };
                parsed.alias = alias && !name.eq_ignore_ascii_case(note.title.trim());
                let key = format!(
                    "{}|{}|{}|{}",
                    parsed.prefix,
                    parsed.words.join(" "),
                    parsed.separators.join("|"),
                    parsed.suffix
                );
                let (kept, owners) = by_key.entry(key).or_insert_with(|| (parsed.clone(), Vec::new()));
                kept.alias &= parsed.alias;
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
    /// Letter-and-digit words of every name; a node's values are the names ending there.
    trie: WordTrie,
}

impl Filter {
    fn new(names: &[Name]) -> Filter {
        let mut trie = WordTrie::default();
        let mut keys = Vec::new();
        for (i, name) in names.iter().enumerate() {
            alnum_keys(&name.text, &mut keys);
            if !keys.is_empty() {
                trie.insert(keys.iter().copied(), i);
            }
        }
        Filter { trie }
    }

    /// Every name whose letter-and-digit words occur in `text`, sorted, each once.
    fn names_in(&self, text: &str) -> Vec<usize> {
        let mut keys = Vec::new();
        alnum_keys(text, &mut keys);
        let mut found = Vec::new();
        for first in 0..keys.len() {
            let mut node = 0u32;
            for &key in &keys[first..] {
                let Some(child) = self.trie.child(node, key) else { break };
                node = child;
                found.extend_from_slice(self.trie.ends(node));
            }
        }
        found.sort_unstable();
        found.dedup();
        found
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
        alias: false,
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

/// How a name is used across the vault: in how many notes (other than its own) its words
/// occur, and how many of those link to its note. A name most notes use without linking is a
/// word of the vault's language ("Search", "Markdown"); one usually linked where it occurs is
/// a missing link where it is not (Mihalcea and Csomai's "keyphraseness").
#[derive(Debug, Default, Clone, Copy)]
struct Usage {
    notes: usize,
    linking: usize,
}

/// Every unlinked mention found, before it is weighed, and what weighing it needs.
#[derive(Default)]
pub(crate) struct Candidates {
    found: Vec<Candidate>,
    usage: Vec<Usage>,
    names: Vec<NameFacts>,
    notes: usize,
    /// `[garden] stub_words`: a target shorter than this has little to link to.
    stub_words: usize,
}

/// What the weighing needs of a name once the trie is gone.
#[derive(Clone)]
struct NameFacts {
    words: usize,
    alias: bool,
    /// The name as written starts with a capital (a proper noun if written so mid-sentence).
    capitalised: bool,
}

struct Candidate {
    id: usize,
    target: usize,
    mention: Mention,
    /// The vector key of the chunk the mention is in (see `exo_index::vectors::embed_key`).
    chunk_key: Option<String>,
}

/// Where in the note a mention stands, best place for a link first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Place {
    Prose,
    /// The whole of a bold or italic run: a UI label or a list item's lead word.
    Label,
    /// A callout's title (`> [!warning] Live preview`): set like a heading, though writers
    /// often put a sentence there.
    Callout,
    /// The words of an app's interface: a step of a menu path (`File > Preferences > Keyboard
    /// Shortcuts`, `Settings → Core plugins`) or a bold label in a numbered step (`2. Under
    /// **Core plugins**, enable…`). What the reader clicks, not a concept to read about.
    Interface,
    Heading,
    /// A caption: a line that is one emphasis run under an image (`*Example report*`), which
    /// names the picture, not the thing.
    Caption,
    /// A table cell (option tables, command tables).
    Table,
    /// Under a heading that is the name, or that heading itself: the section is about the
    /// thing (its own copy on a compiled page, a changelog entry), not a passing mention.
    Section,
}

impl Place {
    fn name(self) -> &'static str {
        match self {
            Place::Prose => "prose",
            Place::Label => "label",
            Place::Callout => "callout title",
            Place::Interface => "interface label",
            Place::Heading => "heading",
            Place::Caption => "image caption",
            Place::Table => "table",
            Place::Section => "section of its own",
        }
    }
}

impl Place {
    /// What the place takes from the confidence, in log-odds.
    fn weight(self) -> f32 {
        match self {
            Place::Prose => 0.0,
            Place::Label => -0.5,
            Place::Callout => -1.0,
            Place::Interface => -1.5,
            // Headings were judged worth a link 4 times in 26 on the labelled vaults; a
            // caption and a table cell are no better places.
            Place::Heading | Place::Caption | Place::Table => -2.0,
            Place::Section => -3.0,
        }
    }
}

/// Where a mention stands: its place, whether its line already links a page about it, and
/// whether its words are part of a longer name written there.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Spot {
    place: Place,
    /// The line holds a link whose target is named with the name's words (`new Lookup View
    /// ([[docs|…workbench#lookup-view]])`): the writer already linked the thing, to another
    /// page or a section of one, and a second link beside it is noise.
    line_linked: bool,
    /// The words are part of a longer name written there (`in_longer_name`): another thing's.
    in_longer_name: bool,
}

/// What a line that already links the thing takes from the confidence, in log-odds.
const LINE_LINKED_WEIGHT: f32 = -5.0;

impl Spot {
    /// What the spot takes from the confidence (0 for plain prose), in log-odds.
    fn weight(self) -> f32 {
        self.place.weight()
            + if self.line_linked { LINE_LINKED_WEIGHT } else { 0.0 }
            + if self.in_longer_name { LONGER_NAME_WEIGHT } else { 0.0 }
    }
}

/// Whether the line around `at` holds a link (`[[…]]` or `](…)`) whose target has the name's
/// words: at least half of them, and for a one-word name that word in the target's last part
/// (after its last `/` or `.`) or its anchor, as a vault's own prefix (`dendron.` in every
/// Dendron name) says nothing. A web address (`https://github.com/…`) is no such target: it
/// leads out of the vault, not to its page about the thing, and its host and path name a site,
/// so "GitHub Pages" beside a link to a repository on github.com is still a missing link.
fn line_links_name(source: &str, at: usize, name: &Name) -> bool {
    let line_from = source[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_to = source[at..].find('\n').map_or(source.len(), |i| at + i);
    let line = &source[line_from..line_to];
    if !line.contains("[[") && !line.contains("](") {
        return false;
    }
    link_targets(line).iter().filter(|target| !is_web_address(target)).any(|target| {
        let target = target.trim_end_matches(".md").trim_end_matches(".html");
        let (path, anchor) = target.split_once('#').unwrap_or((target, ""));
        let part = match name.words.len() {
            1 => format!("{} {anchor}", path.rsplit(['/', '.']).next().unwrap_or(path)),
            _ => target.to_string(),
        };
        let words: Vec<&str> = crate::prose::words_in(&part).collect();
        let present = name.words.iter().filter(|w| words.contains(&w.as_str())).count();
        2 * present >= name.words.len() && present > 0
    })
}

/// Whether a (lowercase) link target leads out of the vault to the web or a mailbox. Other
/// schemes stay vault links (Dendron's `dendron://vault/note`).
fn is_web_address(target: &str) -> bool {
    let target = target.trim_start_matches('<');
    ["http://", "https://", "ftp://", "mailto:", "www."].iter().any(|scheme| target.starts_with(scheme))
}

pub(crate) fn detect(vault: &Vault, graph: &Graph, settings: &GardenSettings) -> Candidates {
    let names = Names::new(graph, settings.mention_min_chars);
    if names.names.is_empty() {
        return Candidates::default();
    }
    let present: Vec<(Vec<usize>, Option<Vec<u8>>)> =
        (0..graph.notes().len()).into_par_iter().map(|id| names_in_note(vault, graph, &names, id)).collect();
    let mut usage = vec![Usage::default(); names.names.len()];
    for (id, (found, _)) in present.iter().enumerate() {
        for &name in found {
            let owner = names.names[name].owner;
            if owner != id {
                usage[name].notes += 1;
                usage[name].linking += usize::from(graph.links_to(id, owner));
            }
        }
    }
    let found = present
        .into_par_iter()
        .enumerate()
        .filter_map(|(id, (_, bytes))| Some((id, bytes?)))
        .flat_map_iter(|(id, bytes)| in_note(vault, graph, &names, id, &bytes))
        .collect();
    let facts = names
        .names
        .iter()
        .map(|n| NameFacts {
            words: n.words.len(),
            alias: n.alias,
            capitalised: n.text.chars().next().is_some_and(char::is_uppercase),
        })
        .collect();
    Candidates { found, usage, names: facts, notes: graph.notes().len(), stub_words: settings.stub_words }
}

/// The names whose words occur anywhere in the note's raw text, and the text itself when one
/// of them is of a note it does not link to (only those notes are parsed). Most notes mention
/// nothing new, and for them parsing the markdown is skipped.
fn names_in_note(vault: &Vault, graph: &Graph, names: &Names, id: usize) -> (Vec<usize>, Option<Vec<u8>>) {
    let ReadNote::Read { bytes, .. } = vault.read(&graph.note(id).path) else { return (Vec::new(), None) };
    let found = names.filter.names_in(&String::from_utf8_lossy(&bytes));
    let wanted = found.iter().any(|&name| may_mention(graph, names, id, name));
    (found, wanted.then_some(bytes))
}

/// Whether note `id` may mention `name` at all: the name is another note's, which `id` does
/// not link, and that note is not filed under `id`'s own file name (a copy to merge, which the
/// similarity checks report, not a missing link). Asked before a note is parsed, so a note
/// whose only names are these is never read as Markdown.
fn may_mention(graph: &Graph, names: &Names, id: usize, name: usize) -> bool {
    let target = names.names[name].owner;
    let stem = |note: usize| exo_vault::path::note_stem(&graph.note(note).path);
    target != id && !graph.links_to(id, target) && !same_name(stem(target), stem(id))
}

struct Mention {
    name: usize,
    line: usize,
    text: String,
    context: String,
    count: usize,
    spot: Spot,
    /// Written with a capital where a sentence does not start.
    capital_mid_sentence: bool,
}

fn in_note(vault: &Vault, graph: &Graph, names: &Names, id: usize, bytes: &[u8]) -> Vec<Candidate> {
    let path = &graph.note(id).path;
    let prose = Prose::parse(vault, path, bytes);
    // A drawing's text is its labels, which the Excalidraw plugin rewrites on every save: a
    // link written there would not stay.
    if prose.note.is_drawing() {
        return Vec::new();
    }
    let source = prose.text.as_str();
    let own_name = exo_vault::path::note_stem(path);
    // Per target: the best-placed mention (the first of them) and how many there are.
    let mut mentions: BTreeMap<usize, (usize, Mention)> = BTreeMap::new();
    let (mut words, mut scratch) = (Vec::new(), Scratch::default());
    for (offset, run) in prose.spans() {
        words_of(run, &mut words, &mut scratch);
        let mut next = 0;
        while next < words.len() {
            let Some((name, start, end)) = names.longest_at(run, &words, next) else {
                next += 1;
                continue;
            };
            next += names.names[name].words.len();
            let target = names.names[name].owner;
            if !may_mention(graph, names, id, name) {
                continue;
            }
            let (at, to) = (offset + start, offset + end);
            // A note's own file name is the note itself ("Gravitational potential energy is…"
            // in `Gravitational Potential energy.md`, whose title is a template's "Definition").
            if same_name(&source[at..to], own_name) {
                continue;
            }
            if in_token(source, at) {
                continue;
            }
            let spot = Spot {
                place: place(&prose, at, to),
                line_linked: line_links_name(source, at, &names.names[name]),
                in_longer_name: in_longer_name(source, at, to),
            };
            let (count, mention) =
                mentions.entry(target).or_insert_with(|| (0, mention_at(source, name, at, to, spot)));
            *count += 1;
            // Report the first mention in the best spot: a link belongs in running prose
            // more than in a heading or a table cell, on a line that already links there, or
            // inside another thing's longer name.
            if spot.weight() > mention.spot.weight() {
                *mention = mention_at(source, name, at, to, spot);
            }
        }
    }
    mentions
        .into_iter()
        .map(|(target, (count, mut mention))| {
            mention.count = count;
            let chunk_key = chunk_key(&prose, source, &mention);
            Candidate { id, target, mention, chunk_key }
        })
        .collect()
}

/// What a mention inside another thing's longer name takes from the confidence, in log-odds.
const LONGER_NAME_WEIGHT: f32 = -1.2;

/// The two names are the same words, whatever their case and spacing (asked of every match,
/// so it compares in place).
fn same_name(a: &str, b: &str) -> bool {
    let (mut a, mut b) = (a.split_whitespace(), b.split_whitespace());
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.chars().flat_map(char::to_lowercase).eq(y.chars().flat_map(char::to_lowercase)) => {
            }
            _ => return false,
        }
    }
}

fn mention_at(source: &str, name: usize, at: usize, to: usize, spot: Spot) -> Mention {
    Mention {
        name,
        line: source[..at].matches('\n').count() + 1,
        text: source[at..to].to_string(),
        context: context(source, at, to),
        count: 0,
        spot,
        capital_mid_sentence: capital_mid_sentence(source, at),
    }
}

/// Whether the mention at `at..to` is part of a longer name written there, so that it names
/// something else: a name written with a capital joined to a capitalised word ("Database
/// Systems", "Secure Sockets Layer", "Graph Neural Networks": a course, a protocol, a kind of
/// network, not the database, the socket or neural networks in general), or words right after a
/// link or a bold run, which say what kind of thing that named thing is ("the [[Command
/// palette]] core plugin", "the **Publish** core plugin").
fn in_longer_name(source: &str, at: usize, to: usize) -> bool {
    let spaced = |s: &str| s.trim_end_matches([' ', '\u{a0}']).len();
    let before = &source[..at];
    let before_word = &before[..spaced(before)];
    // A link, or a bold run that closes there on a name (not one that opens on the mention,
    // not a lead-in such as `**Note:**`), its `**` counted on this line only.
    let line_before = &before_word[before_word.rfind('\n').map_or(0, |i| i + 1)..];
    let closes_a_name = before_word.ends_with("]]")
        || line_before.strip_suffix("**").is_some_and(|bold| {
            line_before.matches("**").count().is_multiple_of(2) && bold.ends_with(char::is_alphanumeric)
        });
    if before_word.len() < before.len() && closes_a_name {
        return true;
    }
    let text = &source[at..to];
    if !text.chars().any(char::is_uppercase) {
        return false;
    }
    // A word of letters and digits only: "I've" or "I'd" is no name.
    let capitalised_word = |word: &str| {
        let word = word.trim_end_matches(|c: char| !c.is_alphanumeric());
        word.chars().count() >= 2 && word.starts_with(char::is_uppercase) && word.chars().all(char::is_alphanumeric)
    };
    let next = source[to..].strip_prefix(' ').and_then(|rest| rest.split(char::is_whitespace).next());
    if next.is_some_and(capitalised_word) {
        return true;
    }
    // The word before counts only when it is capitalised mid-sentence: at a sentence's start
    // every word has a capital ("Database Systems is…" says nothing of "Systems").
    let Some(previous) = before.strip_suffix(' ') else { return false };
    let previous_at =
        previous.rfind(char::is_whitespace).map_or(0, |i| i + previous[i..].chars().next().map_or(1, char::len_utf8));
    let previous_word = previous[previous_at..].trim_start_matches(['*', '_']);
    let previous_at = previous.len() - previous_word.len();
    previous_word.ends_with(char::is_alphanumeric)
        && capitalised_word(previous_word)
        && capital_mid_sentence(source, previous_at)
}

/// The key of the stored vector of the chunk holding the mention's line.
fn chunk_key(prose: &Prose, source: &str, mention: &Mention) -> Option<String> {
    let at = line_start(source, mention.line);
    let chunk = prose.note.chunks.iter().find(|c| c.span.start <= at && at < c.span.end.max(c.span.start + 1))?;
    let text = source.get(chunk.span.start..chunk.span.end)?;
    Some(exo_index::vectors::embed_key(&prose.note.title, text))
}

/// Byte offset of the start of 1-based `line`.
fn line_start(source: &str, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    source.match_indices('\n').nth(line - 2).map_or(source.len(), |(i, _)| i + 1)
}

/// Where the mention at `at..to` stands: a heading, a table row, the whole of an emphasis
/// run, or running prose.
fn place(prose: &Prose, at: usize, to: usize) -> Place {
    let source = prose.text.as_str();
    let name = source[at..to].trim();
    // The section the mention is in (the last heading that starts before it).
    let section = prose.note.headings.iter().filter(|h| h.span.start <= at).max_by_key(|h| h.span.start);
    if let Some(heading) = section {
        if heading.text.trim().trim_matches(['*', '_']).eq_ignore_ascii_case(name) {
            return Place::Section;
        }
        if at < heading.span.end {
            return Place::Heading;
        }
    }
    let line_from = source[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_to = source[at..].find('\n').map_or(source.len(), |i| at + i);
    let line = source[line_from..line_to].trim();
    if is_callout_title(line) {
        return Place::Callout;
    }
    if line.starts_with('|') || (line.ends_with('|') && line.contains(" | ")) {
        return Place::Table;
    }
    if is_caption(source, line_from, line_to, at) {
        return Place::Caption;
    }
    // Bold only: italics are how many vaults write the names of things (a spell, a book),
    // while a bold run that is nothing but the name is a UI label or a list item's lead.
    // A name may wrap onto the next line (prose joins a soft break into a space), so what
    // follows it runs to the end of the line the name ends on, not the one it starts on.
    let after_to = source[to..].find('\n').map_or(source.len(), |i| to + i);
    let (before, after) = (&source[line_from..at], &source[to..after_to]);
    if is_menu_step(before, after) {
        return Place::Interface;
    }
    if ["**", "__"].iter().any(|m| before.ends_with(m) && after.starts_with(m)) {
        return if is_numbered_step(&before[..before.len() - 2]) { Place::Interface } else { Place::Label };
    }
    Place::Prose
}

/// Whether the line before a bold label is a numbered step that leads to it (`2. Under `,
/// `1. While in the `): the label is what the step has the reader click. A numbered list of
/// names (`1. **Docker**: a container runtime`) is no such step.
fn is_numbered_step(before_label: &str) -> bool {
    let line = before_label.trim_start();
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    let Some(lead) = line[digits..].strip_prefix(['.', ')']) else { return false };
    digits > 0 && lead.chars().any(char::is_alphanumeric)
}

/// Whether a (trimmed) line opens a callout: `> [!type]` then its title, quotes nested or not.
fn is_callout_title(line: &str) -> bool {
    line.starts_with('>') && line.trim_start_matches(['>', ' ', '\t']).starts_with("[!")
}

/// Whether the words between `before` and `after` on their line are a step of a menu path:
/// a `>` or `→` joins them to the step before or after (emphasis around the path aside). A
/// `>` at the start of the line is a quote, not a step.
fn is_menu_step(before: &str, after: &str) -> bool {
    let before = before.trim_end_matches(['*', '_']);
    let after = after.trim_start_matches(['*', '_']);
    // `Settings > ` or `Settings → `: a step before, spaced as menu paths are written; not an
    // arrow (`->`, `=>`), not the end of an HTML tag (`<br> `), not a quote's `>`.
    let joined_before = ["> ", "→ "].iter().any(|arrow| {
        before.strip_suffix(arrow).is_some_and(|rest| {
            let rest = rest.trim_end_matches(['*', '_']);
            rest.ends_with(char::is_whitespace)
                && rest.trim_end().trim_end_matches(['*', '_']).ends_with(char::is_alphanumeric)
                && rest.rfind('<').is_none_or(|open| rest.rfind('>').is_some_and(|close| close > open))
        })
    });
    // ` > Keyboard Shortcuts` after: a step that starts with a letter (`> 5` compares).
    let joined_after = [" > ", " → "].iter().any(|arrow| {
        after
            .strip_prefix(arrow)
            .is_some_and(|rest| rest.trim_start_matches(['*', '_']).starts_with(char::is_alphabetic))
    });
    joined_before || joined_after
}

/// Whether the mention at `at`, on the line `line_from..line_to`, is in a caption: one
/// emphasis run after an image on its line (`![…](…) *Search results*`), or a line that is
/// one emphasis run and whose nearest non-blank line above holds an image
/// (`![…](…)<br>` then `*Example statuses report*`). A whole line in italics elsewhere is an
/// aside in prose and stays prose.
fn is_caption(source: &str, line_from: usize, line_to: usize, at: usize) -> bool {
    let emphasised = |text: &str| {
        ["**", "__", "*", "_"].iter().any(|m| {
            text.len() > 2 * m.len()
                && text.starts_with(m)
                && text.ends_with(m)
                && !text[m.len()..text.len() - m.len()].contains(m)
        })
    };
    let line = &source[line_from..line_to];
    if let Some(image) = line.rfind("![") {
        let image = &line[image..];
        let end = if image.starts_with("![[") {
            image.find("]]").map(|i| i + 2)
        } else {
            image.find("](").and_then(|i| image[i..].find(')').map(|j| i + j + 1))
        };
        let Some(caption_from) = end.map(|end| line_to - (image.len() - end)) else { return false };
        let caption = source[caption_from..line_to].trim_start().trim_start_matches("<br>").trim();
        return at >= caption_from && emphasised(caption);
    }
    let above = source[..line_from].trim_end_matches(['\n', '\r', ' ']);
    let previous = above.rsplit('\n').next().unwrap_or("");
    emphasised(line.trim()) && previous.contains("![")
}

/// The words are part of a token that is not prose: a tag (`#role.taxonomist`) or a call or
/// scope (`enhance(views)`, a commit message's), where a link cannot go.
fn in_token(source: &str, at: usize) -> bool {
    // After the whitespace character, whatever its width (a no-break space is two bytes).
    let token_start =
        source[..at].char_indices().rev().find(|(_, c)| c.is_whitespace()).map_or(0, |(i, c)| i + c.len_utf8());
    let token = &source[token_start..at];
    let mut before = token.chars().rev();
    token.starts_with('#') || (before.next() == Some('(') && before.next().is_some_and(char::is_alphanumeric))
}

/// The mention starts with a capital letter and a sentence does not start there: the writer
/// meant the name, not the word.
fn capital_mid_sentence(source: &str, at: usize) -> bool {
    if !source[at..].chars().next().is_some_and(char::is_uppercase) {
        return false;
    }
    let before = source[..at].trim_end_matches(['*', '_', '"', '(', ' ']);
    !matches!(before.chars().next_back(), None | Some('\n' | '.' | '!' | '?' | ':' | '-' | '#' | '>' | '|'))
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

/// Vectors the weighing reads: every note's mean vector, and the store of chunk vectors.
pub(crate) struct Vectors<'a> {
    pub notes: &'a BTreeMap<String, Vec<f32>>,
    pub chunks: Option<&'a exo_index::vectors::VectorStore>,
}

/// Notes the context of a mention is ranked against: the target should be nearer to the
/// mention's chunk than most notes are. A fixed, evenly spread sample keeps this cheap on
/// large vaults and the same from run to run.
const REFERENCE_NOTES: usize = 256;

/// The findings, each with its confidence.
pub(crate) fn weigh(candidates: Candidates, graph: &Graph, vectors: Option<&Vectors>) -> Vec<Finding> {
    let reference = vectors.map(|v| reference_notes(v.notes)).unwrap_or_default();
    let chunk_vectors = chunk_vectors(&candidates, vectors);
    // The note vectors only: the chunk store (a database connection) stays on this thread.
    let notes = vectors.map(|v| v.notes);
    let mut signals: Vec<Signals> = candidates
        .found
        .par_iter()
        .map(|c| {
            let usage = candidates.usage[c.mention.name];
            let facts = &candidates.names[c.mention.name];
            let context = notes.and_then(|notes| {
                let chunk = chunk_vectors.get(c.chunk_key.as_ref()?)?;
                let target = notes.get(&graph.note(c.target).path)?;
                Some((context_fit(chunk, target, &reference), dot(chunk, target)))
            });
            Signals {
                document_share: usage.notes as f32 / candidates.notes.saturating_sub(1).max(1) as f32,
                linked_share: if usage.notes == 0 { 0.0 } else { usage.linking as f32 / usage.notes as f32 },
                words: facts.words,
                alias: facts.alias,
                proper: facts.capitalised && c.mention.capital_mid_sentence,
                lowercased: facts.words == 1 && facts.capitalised && !c.mention.text.chars().any(char::is_uppercase),
                target_stub: graph.note(c.target).word_count < candidates.stub_words,
                target_ancestor: crate::hierarchy::is_ancestor(&graph.note(c.target).path, &graph.note(c.id).path),
                spot: c.mention.spot,
                context: context.map(|c| c.0),
                copy: context.map(|c| c.1),
                place_among_mentions: 1,
            }
        })
        .collect();
    let targets: Vec<(usize, usize)> = candidates.found.iter().map(|c| (c.target, c.id)).collect();
    rank_among_mentions(&mut signals, &targets);
    candidates.found.iter().zip(&signals).map(|(c, signals)| finding(graph, c, signals)).collect()
}

/// Sets each mention's place among the mentions of the same note across the vault, by
/// confidence (ties by the mentioning note): the report's first two for a note stand as they
/// are, and later ones weigh less. `targets` holds each mention's (named note, mentioning note).
/// Linking the first two lifts the next ones on the next run: the vault's habit has changed.
fn rank_among_mentions(signals: &mut [Signals], targets: &[(usize, usize)]) {
    let mut by_target: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, &(target, _)) in targets.iter().enumerate() {
        by_target.entry(target).or_default().push(i);
    }
    // A note mentioned fewer times than that keeps every place's weight: no need to rank.
    for group in by_target.into_values().filter(|group| group.len() >= REPEATED_FROM) {
        let mut ranked: Vec<(f32, usize, usize)> =
            group.into_iter().map(|i| (signals[i].confidence().0, targets[i].1, i)).collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (place, &(_, _, i)) in ranked.iter().enumerate() {
            signals[i].place_among_mentions = place + 1;
        }
    }
}

/// Up to REFERENCE_NOTES note vectors, evenly spaced in path order.
fn reference_notes(notes: &BTreeMap<String, Vec<f32>>) -> Vec<&[f32]> {
    let step = notes.len().div_ceil(REFERENCE_NOTES).max(1);
    notes.values().step_by(step).map(Vec::as_slice).collect()
}

/// The stored vectors of the chunks the mentions are in, read once each.
fn chunk_vectors(candidates: &Candidates, vectors: Option<&Vectors>) -> HashMap<String, Vec<f32>> {
    let Some(store) = vectors.and_then(|v| v.chunks) else { return HashMap::new() };
    let mut out = HashMap::new();
    for key in candidates.found.iter().filter_map(|c| c.chunk_key.as_ref()) {
        if !out.contains_key(key) {
            // A chunk whose vector cannot be read is weighed without its context.
            if let Ok(Some(vector)) = store.vector(key) {
                out.insert(key.clone(), vector);
            }
        }
    }
    out
}

/// How well the mention's surroundings fit the target: the share of reference notes less
/// similar to the mention's chunk than the target is (1 = nothing is nearer). A rank, not a
/// cosine, so it needs no threshold tuned to one model or one vault.
fn context_fit(chunk: &[f32], target: &[f32], reference: &[&[f32]]) -> f32 {
    let to_target = dot(chunk, target);
    if reference.is_empty() {
        return 0.5;
    }
    let below = reference.iter().filter(|r| dot(chunk, r) < to_target).count();
    below as f32 / reference.len() as f32
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// A mention's chunk this close to the named note is a copy of it (a compiled page, an
/// embedded excerpt), where a link leads to what the reader is already reading. On the
/// labelled vaults (MiniLM vectors) copies scored 0.83–0.98 and true mentions under 0.8.
const COPY_COSINE: f32 = 0.85;

/// From which place among a note's unlinked mentions (by confidence) a mention weighs less,
/// and by how much, in log-odds. On the labelled vaults, before this rule, between confidence
/// 0.5 and 0.95 the third and later mentions of one note were worth a link 60% of the time (87
/// of 144) against 82% (201 of 244) for the first.
const REPEATED_FROM: usize = 3;
const REPEATED_WEIGHT: f32 = -1.0;

/// What the confidence of an unlinked mention is made of.
struct Signals {
    /// Share of the other notes whose text has the name's words.
    document_share: f32,
    /// Share of those that link to the named note.
    linked_share: f32,
    words: usize,
    alias: bool,
    /// Written capitalised mid-sentence, as the name is.
    proper: bool,
    /// A one-word name written in lower case where the title has a capital: the word, not
    /// the name ("sharing" for the note "Sharing").
    lowercased: bool,
    /// The named note is a stub: little for a reader to follow the link to.
    target_stub: bool,
    /// The named note is above this one in the hierarchy (`hierarchy::is_ancestor`): the
    /// tree and the breadcrumbs already lead there.
    target_ancestor: bool,
    spot: Spot,
    /// `context_fit`, when there are vectors.
    context: Option<f32>,
    /// Cosine of the mention's chunk with the named note.
    copy: Option<f32>,
    /// 1 for the most confident mention of the named note in the vault, 2 for the next
    /// (`rank_among_mentions`).
    place_among_mentions: usize,
}

impl Signals {
    /// The confidence and the reasons for it, in log-odds added up from the signals.
    fn confidence(&self) -> (f32, Vec<String>) {
        let mut reasons = Vec::new();
        let mut z = -1.0f32;
        let mut add = |weight: f32, reason: String| {
            if weight != 0.0 {
                z += weight;
                reasons.push(format!("{weight:+.1} {reason}"));
            }
        };
        if self.words >= 2 {
            add(1.2, format!("a {}-word name", self.words));
        }
        if self.alias {
            add(0.5, "an alias given on purpose".into());
        }
        if self.proper {
            add(1.0, "written as a name (capitalised mid-sentence)".into());
        }
        if self.lowercased {
            add(-1.0, "a one-word name written as an ordinary word".into());
        }
        if self.spot.in_longer_name {
            add(LONGER_NAME_WEIGHT, "part of a longer name written there".into());
        }
        // Common is what many notes write without linking: a name most notes link where
        // they use it is the vault's vocabulary of concepts, not a word.
        let unlinked_share = self.document_share * (1.0 - self.linked_share);
        if unlinked_share > 0.05 {
            let weight = -1.5 * (unlinked_share / 0.05).log2().min(3.0);
            add(weight, format!("a common word here: unlinked in {:.0}% of notes", unlinked_share * 100.0));
        }
        if self.linked_share > 0.0 {
            add(2.5 * self.linked_share, format!("linked where used in {:.0}% of notes", self.linked_share * 100.0));
        }
        if self.target_stub {
            add(-1.0, "the named note is a stub".into());
        }
        if self.target_ancestor {
            add(-5.0, "the named note is above this one in the hierarchy, which already leads there".into());
        }
        let name = self.spot.place.name();
        let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        add(self.spot.place.weight(), format!("only in {article} {name}"));
        if self.spot.line_linked {
            add(LINE_LINKED_WEIGHT, "its line already links a page about it".into());
        }
        if self.copy.is_some_and(|cosine| cosine >= COPY_COSINE) {
            add(-2.5, "the passage reads like the named note itself (a copy)".into());
        }
        if self.place_among_mentions >= REPEATED_FROM {
            add(
                REPEATED_WEIGHT,
                format!(
                    "ranked {} by confidence among this note's unlinked mentions in the vault: a name left unlinked in many notes is more often a word",
                    self.place_among_mentions
                ),
            );
        }
        if let Some(fit) = self.context {
            // Lists and stat blocks are poor context (their chunk is about everything in
            // them), so the context weighs less than the name's own signals.
            add(3.0 * (fit - 0.7), format!("context nearer the target than {:.0}% of notes", fit * 100.0));
        }
        (crate::finding::round3(1.0 / (1.0 + (-z).exp())), reasons)
    }
}

fn finding(graph: &Graph, candidate: &Candidate, signals: &Signals) -> Finding {
    let (id, target, mention) = (candidate.id, candidate.target, &candidate.mention);
    let (note, other) = (graph.note(id), graph.note(target));
    let (confidence, reasons) = signals.confidence();
    Finding {
        kind: Kind::UnlinkedMention,
        severity: Severity::Low,
        confidence,
        path: note.path.clone(),
        related: vec![other.path.clone()],
        message: format!("mentions {:?} on line {} without linking to {}", mention.text, mention.line, other.path),
        evidence: json!({
            "target": other.path,
            "name": mention.text,
            "line": mention.line,
            "context": mention.context,
            "mentions": mention.count,
            "place": mention.spot.place.name(),
            "line_linked": mention.spot.line_linked,
            "document_share": crate::finding::round3(signals.document_share),
            "linked_share": crate::finding::round3(signals.linked_share),
            "context_fit": signals.context.map(crate::finding::round3),
            "context_cosine": signals.copy.map(crate::finding::round3),
            "confidence_reasons": reasons,
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
            assert!(!table.filter.names_in(text).is_empty(), "the filter dropped {text:?}");
        }
        assert!(table.filter.names_in("nothing to see: forgetting, curves").is_empty());
    }

    fn places(text: &str, needle: &str) -> Vec<Place> {
        let vault_dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(vault_dir.path()).unwrap();
        let prose = Prose::parse(&vault, "n.md", text.as_bytes());
        text.match_indices(needle).map(|(at, _)| place(&prose, at, at + needle.len())).collect()
    }

    #[test]
    fn places_tell_headings_tables_and_labels_from_prose() {
        let text = "# Search tips\n\nUse search here.\n\n| flag | Search |\n|---|---|\n\n- **Search** - the panel\n\n## Search\n\nCast *Search* now.\n\n### Other\n\nSearch on.\n";
        assert_eq!(
            places(text, "Search"),
            [Place::Heading, Place::Table, Place::Label, Place::Section, Place::Section, Place::Prose],
            "each capitalised occurrence in its place; italics are prose"
        );
        assert_eq!(places(text, "search here"), [Place::Prose]);
        let order = [
            Place::Prose,
            Place::Label,
            Place::Callout,
            Place::Interface,
            Place::Heading,
            Place::Caption,
            Place::Table,
            Place::Section,
        ];
        assert!(order.windows(2).all(|w| w[0].weight() >= w[1].weight()), "the report prefers the earlier places");
        assert!(Place::Prose.weight() > Place::Label.weight() && Place::Callout.weight() > Place::Interface.weight());
    }

    #[test]
    fn callout_titles_and_interface_words_are_not_prose() {
        let text = "> [!warning] Live preview warning\n> Live preview is on.\n\n\
                    1. **Go to File > Preferences > Keyboard Shortcuts**\n\
                    2. Under **Core plugins**, enable it.\n\
                    3. **Core plugins**: the ones that ship\n\n\
                    Open Settings → Core plugins now. Core plugins > 5 is no path at all.\n\n\
                    > Core plugins quoted.\n\nA <br> Core plugins, and x -> Core plugins.\n";
        assert_eq!(places(text, "Live preview"), [Place::Callout, Place::Prose], "the title line only");
        assert_eq!(places(text, "Preferences"), [Place::Interface], "a step between two others");
        assert_eq!(places(text, "Keyboard Shortcuts"), [Place::Interface], "the last step, bold around the path");
        assert_eq!(
            places(text, "Core plugins"),
            [Place::Interface, Place::Label, Place::Interface, Place::Prose, Place::Prose, Place::Prose, Place::Prose],
            "a bold label a step leads to; a numbered list of names is a label; after an arrow; a comparison, \
             a quote's `>`, an HTML tag's end and an arrow `->` are no steps"
        );
    }

    #[test]
    fn a_name_inside_a_longer_name_is_another_thing() {
        let at = |text: &str, needle: &str| {
            let at = text.find(needle).unwrap();
            in_longer_name(text, at, at + needle.len())
        };
        assert!(at("but did not take Database Systems.", "Database"), "a capitalised word after");
        assert!(at("SSL: Secure Sockets Layer", "Sockets"), "inside an expansion");
        assert!(at("the Sync Database here", "Database"), "a capitalised word before, mid-sentence");
        assert!(at("the [[Command palette]] core plugin", "core plugin"), "the kind of a linked thing");
        assert!(at("the **Publish** core plugin", "core plugin"), "the kind of a bold name");
        assert!(!at("Under **Core plugins**, enable", "Core plugins"), "a bold run that opens on the name");
        assert!(!at("Use the Database. It works", "Database"), "the next sentence");
        assert!(!at("In Database I trust", "Database"), "a one-letter word");
        assert!(!at("Database Systems is a course", "Systems"), "a sentence's first word is no capital");
        assert!(!at("the core plugin list", "core plugin"), "ordinary words around");
        assert!(at("the robustness of Graph Neural Networks (GNNs)", "Neural Networks"), "a kind of network");
        assert!(at("handled by a **Generalised linear Model** that", "linear Model"), "inside a bold name");
        assert!(!at("the neural networks of Graph theory", "neural networks"), "written as words, not a name");
        assert!(!at("the Tree View, Backlinks Panel and", "Backlinks Panel"), "a list of names");
        assert!(!at("after Database I've switched", "Database"), "a contraction is no name");
        assert!(!at("**Note:** Docker runs it", "Docker"), "a bold lead-in is no name");
        assert!(at("x**2 here\nthe **Publish** core plugin", "core plugin"), "bold counted on its own line");
    }

    #[test]
    fn image_captions_are_not_prose() {
        let text = "![panel](img/search.png)<br>\n*The Search panel*\n\n![[panel.png]] _Search results_\n\n\
                    ![shot](a.png)\n\nSearch again, *Search is fast* as an aside.\n\n*Search alone*\n\n\
                    - _Every screenshot assumes Search_\n";
        assert_eq!(
            places(text, "Search"),
            [Place::Caption, Place::Caption, Place::Prose, Place::Prose, Place::Prose, Place::Prose],
            "a caption under (or beside) an image; prose, asides and list items in italics stay prose"
        );
        let beside = "Open Search ![i](s.png) *new*\n\n![[a (1).png]] *Search (draft)*\n";
        assert_eq!(places(beside, "Search"), [Place::Prose, Place::Caption], "before the image is prose");
    }

    #[test]
    fn tags_and_call_scopes_are_not_mentions() {
        let text = "- #role.taxonomist and enhance(views) but (views) and views";
        assert!(in_token(text, text.find("taxonomist").unwrap()));
        assert!(in_token(text, text.find("views)").unwrap()));
        assert!(!in_token(text, text.find("(views) and").unwrap() + 1));
        assert!(!in_token(text, text.rfind("views").unwrap()));
    }

    /// A wide whitespace character (the no-break space Obsidian's help writes before a unit or
    /// a key) ends a token like a space does, and the token starts after all of its bytes.
    #[test]
    fn a_token_after_a_no_break_space_is_read_whole() {
        let text = "press\u{a0}#tag and 10\u{a0}views";
        assert!(in_token(text, text.find("tag").unwrap()));
        assert!(!in_token(text, text.find("views").unwrap()));
    }

    #[test]
    fn capitals_count_only_mid_sentence() {
        let text = "Search is here. Use Search. And the Search panel. - Search\n**Search**";
        let at: Vec<usize> = text.match_indices("Search").map(|(i, _)| i).collect();
        let got: Vec<bool> = at.iter().map(|&i| capital_mid_sentence(text, i)).collect();
        assert_eq!(got, [false, true, true, false, false]);
        assert!(!capital_mid_sentence("use search", 4));
    }

    fn signals() -> Signals {
        Signals {
            document_share: 0.01,
            linked_share: 0.0,
            words: 1,
            alias: false,
            proper: false,
            lowercased: false,
            target_stub: false,
            target_ancestor: false,
            spot: Spot { place: Place::Prose, line_linked: false, in_longer_name: false },
            context: Some(0.9),
            copy: Some(0.5),
            place_among_mentions: 1,
        }
    }

    /// Each signal moves the confidence the way the labelled sample says it should.
    #[test]
    fn confidence_follows_the_signals() {
        let base = signals().confidence().0;
        let more = |s: Signals| s.confidence().0 > base;
        let less = |s: Signals| s.confidence().0 < base;
        assert!(more(Signals { words: 2, ..signals() }));
        assert!(less(Signals { spot: Spot { in_longer_name: true, ..signals().spot }, ..signals() }));
        assert!(more(Signals { alias: true, ..signals() }));
        assert!(more(Signals { proper: true, ..signals() }));
        assert!(more(Signals { linked_share: 0.5, ..signals() }));
        assert!(less(Signals { document_share: 0.3, ..signals() }), "a word most notes use is not a name");
        let (used, linked) = (
            Signals { document_share: 0.3, ..signals() },
            Signals { document_share: 0.3, linked_share: 0.9, ..signals() },
        );
        assert!(linked.confidence().0 > used.confidence().0 + 0.3, "unless most of them link it");
        assert!(less(Signals { lowercased: true, ..signals() }));
        assert!(less(Signals { target_stub: true, ..signals() }));
        assert!(less(Signals {
            spot: Spot { place: Place::Heading, line_linked: false, in_longer_name: false },
            ..signals()
        }));
        assert!(less(Signals { context: Some(0.3), ..signals() }), "another sense of the word");
        assert!(less(Signals { copy: Some(0.95), ..signals() }), "a copy of the note itself");
        let table = Spot { place: Place::Table, line_linked: false, in_longer_name: false };
        let (confidence, reasons) = Signals { words: 3, spot: table, ..signals() }.confidence();
        let in_prose = Signals { words: 3, ..signals() }.confidence().0;
        assert!(confidence < in_prose, "a table cell weighs a name down: {confidence} vs {in_prose}");
        assert!(
            reasons.iter().any(|r| r.contains("3-word")) && reasons.iter().any(|r| r.contains("table")),
            "{reasons:?}"
        );
    }

    /// A mention of a note above this one in the hierarchy, or on a line that already links
    /// a page about the name, is not worth a link: with every other signal strong, either
    /// takes the finding under the default minimum confidence.
    #[test]
    fn ancestors_and_lines_already_linked_fall_under_the_default() {
        let strong = Signals { words: 3, proper: true, linked_share: 0.8, context: Some(1.0), ..signals() };
        let cut = GardenSettings::default().min_confidence;
        assert!(strong.confidence().0 > 0.95);
        let ancestor = Signals { target_ancestor: true, ..strong };
        let (confidence, reasons) = ancestor.confidence();
        assert!(confidence < cut, "{confidence}");
        assert!(reasons.iter().any(|r| r.contains("hierarchy")), "{reasons:?}");
        let linked_line =
            Signals { spot: Spot { place: Place::Prose, line_linked: true, in_longer_name: false }, ..strong };
        let (confidence, reasons) = linked_line.confidence();
        assert!(confidence < cut, "{confidence}");
        assert!(reasons.iter().any(|r| r.contains("already links")), "{reasons:?}");
    }

    /// A note's mentions are placed by confidence, ties by the mentioning note, and from the
    /// third on each weighs less; another note's mentions are placed apart.
    #[test]
    fn later_mentions_of_one_note_weigh_less() {
        let with_context = |fit: f32| Signals { context: Some(fit), ..signals() };
        let mut all =
            vec![with_context(0.9), with_context(0.95), with_context(0.9), with_context(0.5), with_context(0.9)];
        // (named note, mentioning note): four mentions of note 7, one of note 8.
        let targets = [(7, 3), (7, 1), (7, 2), (7, 0), (8, 4)];
        let before: Vec<f32> = all.iter().map(|s| s.confidence().0).collect();
        rank_among_mentions(&mut all, &targets);
        let places: Vec<usize> = all.iter().map(|s| s.place_among_mentions).collect();
        assert_eq!(places, [3, 1, 2, 4, 1]);
        let after: Vec<f32> = all.iter().map(|s| s.confidence().0).collect();
        assert_eq!((after[1], after[2], after[4]), (before[1], before[2], before[4]), "the first two stand");
        assert!(after[0] < before[0] && after[3] < before[3], "{before:?} {after:?}");
        assert!(all[0].confidence().1.iter().any(|r| r.contains("ranked 3 by confidence")));
    }

    fn name(text: &str) -> Name {
        split_name(text, 0).unwrap()
    }

    #[test]
    fn a_line_already_links_the_name_when_a_target_there_has_its_words() {
        let line = "- feat(lookup): new Lookup View ([[docs|dendron://v/dendron.topic.workbench#lookup-view]])";
        assert!(line_links_name(line, line.find("Lookup").unwrap(), &name("Lookup View")));
        let line = "- Airtable export pod is idempotent ([[docs|dendron.topic.pod.builtin.airtable.export#x]])";
        assert!(line_links_name(line, 2, &name("Airtable Export Pod")));
        let line = "publish using GitHub Pages ([[docs|dendron.topic.publishing-next.cook.github#summary]])";
        assert!(line_links_name(line, 14, &name("GitHub Pages")), "half of the words is enough");
        let line = "Exporting notes to GitHub Pages [Tutorial](https://wiki.dendron.so/notes/yg3EL1x9.html)";
        assert!(!line_links_name(line, 19, &name("GitHub Pages")), "a link to something else");
        let line = "GitHub Pages\n[[dendron.topic.publish.cook.github]]";
        assert!(!line_links_name(line, 0, &name("GitHub Pages")), "only the mention's own line");
        let line = "Dendron lets you [[publish|dendron.topic.publish]] notes";
        assert!(!line_links_name(line, 0, &name("Dendron")), "a one-word name must be the target's own last part");
        let line = "the Graph View ([[graph|dendron.topic.graph-view]])";
        assert!(line_links_name(line, 4, &name("Graph")));
    }

    /// A web address is not a page of the vault: neither its host nor its path says the line
    /// already links the vault's note on the name.
    #[test]
    fn a_web_address_on_the_line_is_not_a_link_to_the_name() {
        let line = "Host it on GitHub Pages ([template](https://github.com/foambubble/foam-template)).";
        let at = line.find("GitHub").unwrap();
        assert!(!line_links_name(line, at, &name("GitHub Pages")), "a host is not a page about the name");
        let line = "Host it on GitHub Pages ([docs](<https://docs.github.com/en/pages>)).";
        assert!(!line_links_name(line, at, &name("GitHub Pages")), "nor is a web page's path");
        let line = "Host it on GitHub Pages ([how](publishing/github-pages.md)).";
        assert!(line_links_name(line, at, &name("GitHub Pages")), "a relative link is a vault page");
    }

    /// The reported mention is the one in the best spot: prose before a heading, and a line
    /// without a link to the thing before one that has it.
    #[test]
    fn the_reported_mention_is_the_best_spot_in_the_note() {
        let vault_dir = tempfile::tempdir().unwrap();
        std::fs::write(vault_dir.path().join("lookup view.md"), "# Lookup View\n\nThe view.\n").unwrap();
        let text = "Intro.\n\n## Lookup View tips\n\n- new Lookup View ([[docs|workbench#lookup-view]])\n- the Lookup View again\n";
        std::fs::write(vault_dir.path().join("n.md"), text).unwrap();
        let vault = Vault::open(vault_dir.path()).unwrap();
        let index = exo_index::Index::new(vault.clone());
        index.reconcile(&exo_index::ReconcileOptions::default(), &exo_index::Silent).unwrap();
        let graph = index.graph().unwrap();
        let candidates = detect(&vault, &graph, &GardenSettings::default());
        let found: Vec<&Candidate> = candidates.found.iter().filter(|c| graph.note(c.id).path == "n.md").collect();
        assert_eq!(found.len(), 1, "one finding per target per note");
        assert_eq!((found[0].mention.line, found[0].mention.count), (6, 3));
        assert_eq!(found[0].mention.spot, Spot { place: Place::Prose, line_linked: false, in_longer_name: false });
    }

    #[test]
    fn context_fit_is_the_share_of_reference_notes_farther_away() {
        let (chunk, target) = (vec![1.0, 0.0], vec![0.8, 0.6]);
        let (near, far) = (vec![0.9, 0.436], vec![0.0, 1.0]);
        assert_eq!(context_fit(&chunk, &target, &[&far, &far, &near, &far]), 0.75);
        assert_eq!(context_fit(&chunk, &target, &[]), 0.5);
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
