//! A note as the garden reads it: from disk through the vault (size and binary checks
//! included), parsed, with the text its spans index into. Every detector that looks at words
//! goes through here, so "prose" means the same thing in all of them.

use std::collections::HashMap;

use exo_index::graph::Graph;
use exo_vault::{Note, ReadNote, Vault};

pub(crate) struct Prose {
    pub note: Note,
    /// The decoded file text; the note's spans are byte ranges into it.
    pub text: String,
}

impl Prose {
    /// The note at `path` as it is on disk now; None when it is gone or unreadable.
    pub fn read(vault: &Vault, path: &str) -> Option<Prose> {
        match vault.read(path) {
            ReadNote::Read { bytes, .. } => Some(Prose::parse(vault, path, &bytes)),
            ReadNote::Skipped(_) | ReadNote::Gone => None,
        }
    }

    /// The note held in `bytes` (a file, or a blob from git history).
    pub fn parse(vault: &Vault, path: &str, bytes: &[u8]) -> Prose {
        let (note, text) = exo_vault::parse_bytes_with_text(path, bytes, &vault.parse_options());
        Prose { note, text: text.into_owned() }
    }

    /// Runs of prose with their byte offset in the text: outside frontmatter, code, HTML and
    /// link labels.
    pub fn spans(&self) -> impl Iterator<Item = (usize, &str)> {
        self.note.prose.iter().filter_map(|span| Some((span.start, self.text.get(span.start..span.end)?)))
    }

    /// The words of the prose (`words_in`), as written.
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.spans().flat_map(|(_, prose)| words_in(prose))
    }

    /// Everything after the frontmatter.
    pub fn body(&self) -> &str {
        self.text.get(self.note.frontmatter_span.map_or(0, |s| s.end)..).unwrap_or("")
    }
}

/// The words of a text: runs of letters and digits, as written.
pub(crate) fn words_in(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty())
}

/// The insides of `[[…]]` and the targets of `](…)`, lowercase.
pub(crate) fn link_targets(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (open, close) in [("[[", "]]"), ("](", ")")] {
        let mut rest = text;
        while let Some(start) = rest.find(open) {
            rest = &rest[start + open.len()..];
            let Some(end) = rest.find(close) else { break };
            if end <= 500 && !rest[..end].contains('\n') {
                out.push(rest[..end].to_lowercase());
            }
            rest = &rest[end..];
        }
    }
    out
}

/// Appends `word` in lower case (ASCII without the Unicode tables).
pub(crate) fn push_lowercase(word: &str, out: &mut String) {
    if word.is_ascii() {
        out.extend(word.bytes().map(|b| b.to_ascii_lowercase() as char));
    } else {
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
}

/// A word's identity when notes are compared word by word: a hash of its lowercase form,
/// with a fixed seed so two runs agree.
pub(crate) fn hash_word(lowercase: &str) -> u64 {
    std::hash::BuildHasher::hash_one(&foldhash::fast::FixedState::default(), lowercase)
}

/// Something derived from each note's prose, read from its file on first use: the notes a
/// detector compares in pairs are each read once however many pairs they are in.
pub(crate) struct PerNote<'a, T> {
    vault: &'a Vault,
    graph: &'a Graph,
    derive: fn(&Prose) -> T,
    cache: HashMap<usize, T>,
}

impl<'a, T: Default> PerNote<'a, T> {
    pub fn new(vault: &'a Vault, graph: &'a Graph, derive: fn(&Prose) -> T) -> PerNote<'a, T> {
        PerNote { vault, graph, derive, cache: HashMap::new() }
    }

    /// Both notes' values (the default for a note that cannot be read).
    pub fn pair(&mut self, a: usize, b: usize) -> (&T, &T) {
        for id in [a, b] {
            let (vault, graph, derive) = (self.vault, self.graph, self.derive);
            self.cache
                .entry(id)
                .or_insert_with(|| Prose::read(vault, &graph.note(id).path).map_or_else(T::default, |p| derive(&p)));
        }
        (&self.cache[&a], &self.cache[&b])
    }
}
