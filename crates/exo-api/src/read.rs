//! `read_note` and `list_notes`: one note as it reads on disk now, with what the index knows of
//! it, and the vault's notes as a filtered, paged list. Built for agents (the MCP server) and
//! for any face that shows a note: each answer carries the freshness envelope, and a note says
//! whether the index holds exactly the version on disk.
//!
//! Never writes; never trusts a request's path to stay in the vault without checking it.

use std::path::Path;
use std::time::SystemTime;

use exo_index::IndexError;
use exo_index::graph::{Backlink, FoundNote, NoteInfo, NoteLinks};
use exo_vault::resolve::fold;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::fresh::{Fresh, beside};
use crate::graph::{LinkView, resolved_view};
use crate::{ApiError, Exo, Result};

/// One note, by vault-relative path (with or without `.md`), title or alias, any case.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadNoteRequest {
    /// The note: vault-relative path (e.g. "projects/alpha.md"), title or alias, any case.
    pub note: String,
}

/// A heading as written in the note.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HeadingView {
    /// 1 for `#`, 6 for `######`.
    pub level: u8,
    pub text: String,
    /// 1-based line.
    pub line: u32,
}

/// One note as its file reads now.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NoteContent {
    /// Vault-relative path.
    pub path: String,
    pub title: String,
    /// Frontmatter `type`.
    #[serde(rename = "type")]
    pub note_type: Option<String>,
    pub aliases: Vec<String>,
    /// Frontmatter and inline tags, lower-cased, without `#`.
    pub tags: Vec<String>,
    /// The frontmatter as a JSON object; null when the note has none (or it is not valid YAML).
    pub frontmatter: Option<serde_json::Map<String, serde_json::Value>>,
    /// The Markdown after the frontmatter.
    pub body: String,
    pub headings: Vec<HeadingView>,
    /// Links written in the note, with the note each resolves to.
    pub outlinks: Vec<LinkView>,
    /// Links into this note from other notes, with their lines.
    pub backlinks: Vec<Backlink>,
    /// blake3 of the file's bytes: pass it to edit_note as `base_hash`, so an edit is refused
    /// if someone changed the note since you read it.
    pub hash: String,
    /// True when the index holds exactly this version of the file (so search, links and
    /// backlinks agree with it); false when the file changed since it was indexed, or is not
    /// indexed yet (its links are then resolved by name, without heading checks).
    pub indexed: bool,
    /// Problems the parser found (bad YAML, not UTF-8).
    pub warnings: Vec<String>,
}

/// How `list_notes` orders the notes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListSort {
    /// By vault path, A to Z.
    #[default]
    Path,
    /// By the file's modification time, newest first.
    Modified,
}

/// The vault's notes, filtered and paged.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListNotesRequest {
    /// Only notes under this folder (vault-relative, e.g. "projects" or "projects/").
    #[serde(default)]
    pub folder: Option<String>,
    /// Only notes with this tag, without `#` (`memory` also admits `memory/spaced`).
    #[serde(default)]
    pub tag: Option<String>,
    /// Only notes whose frontmatter `type` is this.
    #[serde(default, rename = "type")]
    pub note_type: Option<String>,
    /// "path" (A to Z, the default) or "modified" (newest first).
    #[serde(default)]
    pub sort: ListSort,
    /// At most this many notes (default 50).
    #[serde(default = "fifty")]
    pub limit: usize,
    /// Skip this many notes first: pass the answer's `next_offset` to get the next page.
    #[serde(default)]
    pub offset: usize,
}

fn fifty() -> usize {
    50
}

impl Default for ListNotesRequest {
    fn default() -> ListNotesRequest {
        ListNotesRequest { folder: None, tag: None, note_type: None, sort: ListSort::Path, limit: 50, offset: 0 }
    }
}

/// One note in a list.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NoteSummary {
    pub path: String,
    pub title: String,
    #[serde(rename = "type")]
    pub note_type: Option<String>,
    pub tags: Vec<String>,
    pub aliases: Vec<String>,
    pub word_count: usize,
    /// The file's modification time (RFC 3339, UTC); null when the file is gone.
    pub modified: Option<String>,
}

/// A page of notes.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NoteList {
    /// How many notes match the filters (all pages).
    pub total: usize,
    pub offset: usize,
    pub notes: Vec<NoteSummary>,
    /// The `offset` of the next page; null on the last page.
    pub next_offset: Option<usize>,
}

impl Exo {
    /// A note as its file reads now: frontmatter, body, headings, links both ways, its
    /// content hash and whether the index holds this version. A note not indexed yet is
    /// still read when named by its path.
    pub fn read_note(&self, request: &ReadNoteRequest) -> Result<Fresh<NoteContent>> {
        let index = &self.index;
        let (content, freshness) = beside(index, || self.read_one_note(&request.note));
        Ok(Fresh { answer: content?, freshness })
    }

    /// The note, its links and backlinks from indexed queries on its own rows: the cost does
    /// not grow with the vault.
    fn read_one_note(&self, reference: &str) -> Result<NoteContent> {
        let links = self.index.note_links()?;
        let found = match links.find(reference) {
            Ok(note) => Some(note),
            Err(IndexError::NoteNotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let path = match &found {
            Some(note) => note.path.clone(),
            None => self.unindexed_path(reference)?,
        };
        let bytes = std::fs::read(self.vault().root().join(&path))
            .map_err(|source| ApiError::CannotRead { path: path.clone().into(), source })?;
        let hash = exo_vault::content_hash(&bytes).0;
        let indexed = links.indexed_hash(&path)?.is_some_and(|h| h == hash);
        self.note_content(&links, found.as_ref(), path, &bytes, hash, indexed)
    }

    /// A note the index does not know, named by its vault path: read from disk if it is
    /// there and inside the vault.
    fn unindexed_path(&self, reference: &str) -> Result<String> {
        let not_found = || ApiError::Index(IndexError::NoteNotFound { name: reference.to_string() });
        let wanted = reference.trim().trim_start_matches("./");
        let candidate = if wanted.ends_with(".md") || wanted.ends_with(".markdown") {
            wanted.to_string()
        } else {
            format!("{wanted}.md")
        };
        let safe = Path::new(&candidate)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(part) if part != ".git" && part != ".exo"));
        if !safe {
            return Err(not_found());
        }
        let absolute = self.vault().root().join(&candidate);
        let inside = absolute.canonicalize().is_ok_and(|real| real.starts_with(self.vault().root()) && real.is_file());
        if inside { Ok(candidate) } else { Err(not_found()) }
    }

    fn note_content(
        &self,
        links: &NoteLinks,
        found: Option<&FoundNote>,
        path: String,
        bytes: &[u8],
        hash: String,
        indexed: bool,
    ) -> Result<NoteContent> {
        let (note, text) = exo_vault::parse_bytes_with_text(&path, bytes, &self.vault().parse_options());
        let body_start = note.frontmatter_span.map_or(0, |span| span.end);
        let body = text.get(body_start..).unwrap_or("").trim_start_matches(['\r', '\n']).to_string();
        let outlinks = match (found, indexed) {
            (Some(found), true) => links.outgoing(found)?.iter().map(resolved_view).collect(),
            _ => note.links.iter().map(|link| link_by_name(links, &path, link)).collect::<Result<_>>()?,
        };
        let backlinks = match found {
            Some(found) => links.backlinks(found, self.vault().root())?,
            None => Vec::new(),
        };
        let mut tags: Vec<String> = note.tags.iter().map(|t| t.name.clone()).collect();
        tags.dedup();
        Ok(NoteContent {
            title: note.title.clone(),
            note_type: note.note_type.clone(),
            aliases: note.aliases.clone(),
            tags,
            frontmatter: match note.frontmatter {
                Some(serde_json::Value::Object(map)) => Some(map),
                _ => None,
            },
            body,
            headings: note
                .headings
                .iter()
                .map(|h| HeadingView { level: h.level, text: h.text.clone(), line: h.line })
                .collect(),
            outlinks,
            backlinks,
            hash,
            indexed,
            warnings: note.warnings.iter().map(|w| w.message.clone()).collect(),
            path,
        })
    }

    /// The vault's notes as the index holds them, filtered by folder, tag and type, sorted
    /// and paged.
    pub fn list_notes(&self, request: &ListNotesRequest) -> Result<Fresh<NoteList>> {
        let index = &self.index;
        let (graph, freshness) = beside(index, || index.graph());
        let graph = graph?;
        let folder = request.folder.as_deref().map(folder_prefix).filter(|f| !f.is_empty());
        let tag = request.tag.as_deref().map(|t| t.trim().trim_start_matches('#').to_lowercase());
        let wanted_type = request.note_type.as_deref().map(fold);
        let matching: Vec<&NoteInfo> = graph
            .notes()
            .iter()
            .filter(|n| folder.as_ref().is_none_or(|f| n.path.starts_with(f.as_str())))
            .filter(|n| tag.as_ref().is_none_or(|t| n.tags.iter().any(|have| tag_admits(t, have))))
            .filter(|n| wanted_type.as_ref().is_none_or(|t| n.note_type.as_deref().map(fold).as_ref() == Some(t)))
            .collect();
        let total = matching.len();
        let root = self.vault().root();
        let page: Vec<(&NoteInfo, Option<SystemTime>)> = match request.sort {
            // Notes come from the index sorted by path; only the page's files are stat'ed.
            ListSort::Path => {
                matching.into_iter().skip(request.offset).take(request.limit).map(|n| (n, modified(root, n))).collect()
            }
            ListSort::Modified => {
                let mut all: Vec<_> = matching.into_iter().map(|n| (n, modified(root, n))).collect();
                all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.path.cmp(&b.0.path)));
                all.into_iter().skip(request.offset).take(request.limit).collect()
            }
        };
        let end = request.offset.saturating_add(page.len());
        let notes = page.into_iter().map(|(n, time)| summary(n, time)).collect();
        let next_offset = (end < total && request.limit > 0).then_some(end);
        Ok(Fresh { answer: NoteList { total, offset: request.offset, notes, next_offset }, freshness })
    }

    /// Up to `limit` notes whose path, title or an alias is closest to `name`, best first:
    /// what a face offers when a name matches no note.
    pub fn closest_notes(&self, name: &str, limit: usize) -> Result<Vec<String>> {
        let graph = self.index.graph()?;
        let wanted = fold(exo_vault::path::strip_note_extension(name.trim()));
        let mut scored: Vec<(f32, &str)> = graph
            .notes()
            .iter()
            .map(|n| {
                let names = std::iter::once(fold(exo_vault::path::strip_note_extension(&n.path)))
                    .chain(std::iter::once(fold(exo_vault::path::note_stem(&n.path))))
                    .chain(std::iter::once(fold(&n.title)))
                    .chain(n.aliases.iter().map(|a| fold(a)));
                let best = names.map(|candidate| likeness(&wanted, &candidate)).fold(0.0, f32::max);
                (best, n.path.as_str())
            })
            .filter(|(score, _)| *score >= 0.3)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        Ok(scored.into_iter().take(limit).map(|(_, path)| path.to_string()).collect())
    }
}

/// A link in a note the index does not hold in this version, resolved by name alone. A name
/// that matches several notes, or none, leaves the link unresolved.
fn link_by_name(links: &NoteLinks, from: &str, link: &exo_vault::Link) -> Result<LinkView> {
    let path = match link.is_self_link() {
        true => Some(from.to_string()),
        false => match links.find(&link.target) {
            Ok(note) => Some(note.path),
            Err(IndexError::NoteNotFound { .. } | IndexError::AmbiguousNote { .. }) => None,
            Err(e) => return Err(e.into()),
        },
    };
    Ok(LinkView {
        line: link.line,
        kind: link.kind.as_str().to_string(),
        target: link.target.clone(),
        heading: link.heading.clone(),
        block: link.block.clone(),
        display: link.display.clone(),
        resolved: path.is_some(),
        path,
        attachment: None,
    })
}

/// "projects", "./projects/" and "projects/" all mean the folder prefix "projects/".
fn folder_prefix(folder: &str) -> String {
    let trimmed = folder.trim().trim_start_matches("./").trim_matches('/');
    if trimmed.is_empty() { String::new() } else { format!("{trimmed}/") }
}

/// `memory` admits `memory` and `memory/spaced`.
fn tag_admits(wanted: &str, have: &str) -> bool {
    have == wanted || have.strip_prefix(wanted).is_some_and(|rest| rest.starts_with('/'))
}

fn modified(root: &Path, note: &NoteInfo) -> Option<SystemTime> {
    std::fs::metadata(root.join(&note.path)).and_then(|m| m.modified()).ok()
}

fn summary(note: &NoteInfo, modified: Option<SystemTime>) -> NoteSummary {
    NoteSummary {
        path: note.path.clone(),
        title: note.title.clone(),
        note_type: note.note_type.clone(),
        tags: note.tags.clone(),
        aliases: note.aliases.clone(),
        word_count: note.word_count,
        modified: modified.map(rfc3339),
    }
}

pub(crate) fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

/// How alike two folded names are, 0 to 1: the Dice coefficient of their character bigrams,
/// raised when one contains the other (a partial name).
fn likeness(a: &str, b: &str) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    let bigrams = |s: &str| -> Vec<(char, char)> {
        let chars: Vec<char> = s.chars().collect();
        chars.windows(2).map(|w| (w[0], w[1])).collect()
    };
    let (x, mut y) = (bigrams(a), bigrams(b));
    let total = x.len() + y.len();
    let mut shared = 0;
    for pair in &x {
        if let Some(i) = y.iter().position(|other| other == pair) {
            y.swap_remove(i);
            shared += 1;
        }
    }
    let dice = if total == 0 { 0.0 } else { 2.0 * shared as f32 / total as f32 };
    let contains = a.len() >= 3 && b.len() >= 3 && (a.contains(b) || b.contains(a));
    if contains { dice.max(0.6) } else { dice }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn likeness_prefers_close_names() {
        assert!(likeness("zettelkasten", "zettelkasen") > 0.7);
        assert!(likeness("spaced", "spaced repetition") >= 0.6);
        assert!(likeness("alpha", "omega") < 0.3);
    }

    #[test]
    fn a_tag_admits_its_children_only() {
        assert!(tag_admits("memory", "memory/spaced"));
        assert!(tag_admits("memory", "memory"));
        assert!(!tag_admits("memory", "memoryless"));
    }

    #[test]
    fn folders_are_prefixes_with_a_slash() {
        assert_eq!(folder_prefix("./projects/"), "projects/");
        assert_eq!(folder_prefix("projects"), "projects/");
        assert_eq!(folder_prefix("/"), "");
    }
}
