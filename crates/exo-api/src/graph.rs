//! The link graph's answers: links, backlinks, neighbours, paths, orphans, wanted notes and
//! the whole graph, each read from the index beside a freshness check.

use exo_index::graph::{Backlink, Graph, ResolvedLink, Step, Wanted};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::fresh::{Fresh, beside};
use crate::{Exo, Result};

pub use exo_index::graph::GraphExport;

/// One note, by vault-relative path (with or without `.md`), title or alias, any case.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRef {
    /// The note: vault-relative path (with or without `.md`), title or alias, any case.
    pub note: String,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NeighborsRequest {
    /// Path, title or alias.
    pub note: String,
    /// How many links away, in either direction (0 finds none: a note is not its own neighbour).
    #[serde(default = "one")]
    pub depth: usize,
}

fn one() -> usize {
    1
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathRequest {
    /// Path, title or alias of the first note.
    pub from: String,
    /// Path, title or alias of the last note.
    pub to: String,
    /// Follow links only in the direction they are written.
    #[serde(default)]
    pub directed: bool,
}

/// A link as written in a note, and where it resolves.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LinkView {
    pub line: u32,
    pub kind: String,
    pub target: String,
    pub heading: Option<String>,
    pub block: Option<String>,
    pub display: Option<String>,
    /// The note it resolves to.
    pub path: Option<String>,
    /// The attachment it resolves to, when not a note.
    pub attachment: Option<String>,
    pub resolved: bool,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Links {
    pub note: String,
    pub links: Vec<LinkView>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Backlinks {
    pub note: String,
    pub backlinks: Vec<Backlink>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct NeighborView {
    pub path: String,
    pub title: String,
    pub distance: usize,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Neighbors {
    pub note: String,
    pub depth: usize,
    pub neighbors: Vec<NeighborView>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PathAnswer {
    pub from: String,
    pub to: String,
    pub directed: bool,
    /// Links on the way; None when no path exists.
    pub hops: Option<usize>,
    /// The notes on the way, first to last; None when no path exists.
    pub path: Option<Vec<Step>>,
}

impl PathAnswer {
    pub fn found(&self) -> bool {
        self.path.is_some()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct NoteView {
    pub path: String,
    pub title: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Orphans {
    /// Notes that link to everything (an index, a home page) and so do not count as links in.
    pub roots: Vec<String>,
    pub orphans: Vec<NoteView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Unresolved {
    pub unresolved: Vec<Wanted>,
}

impl Exo {
    /// Reads the graph while checking freshness, then answers from it.
    fn answer_from_graph<T>(&self, answer: impl FnOnce(&Graph) -> Result<T>) -> Result<Fresh<T>> {
        let index = &self.index;
        let (graph, freshness) = beside(index, || index.graph());
        Ok(Fresh { answer: answer(&graph?)?, freshness })
    }

    /// Links written in a note, with where each resolves: indexed queries on this note's
    /// rows, not the whole graph.
    pub fn links(&self, request: &NoteRef) -> Result<Fresh<Links>> {
        let index = &self.index;
        let (answer, freshness) = beside(index, || -> Result<Links> {
            let links = index.note_links()?;
            let note = links.find(&request.note)?;
            let views = links.outgoing(&note)?.iter().map(resolved_view).collect();
            Ok(Links { note: note.path, links: views })
        });
        Ok(Fresh { answer: answer?, freshness })
    }

    /// Links into a note from others, each with its line as the file reads now.
    pub fn backlinks(&self, request: &NoteRef) -> Result<Fresh<Backlinks>> {
        let index = &self.index;
        let (answer, freshness) = beside(index, || -> Result<Backlinks> {
            let links = index.note_links()?;
            let note = links.find(&request.note)?;
            let backlinks = links.backlinks(&note, self.vault().root())?;
            Ok(Backlinks { note: note.path, backlinks })
        });
        Ok(Fresh { answer: answer?, freshness })
    }

    /// Notes within `depth` links, nearest first.
    pub fn neighbors(&self, request: &NeighborsRequest) -> Result<Fresh<Neighbors>> {
        self.answer_from_graph(|graph| {
            let id = graph.find(&request.note)?;
            let neighbors = graph
                .neighbors(id, request.depth)
                .into_iter()
                .map(|(n, distance)| NeighborView {
                    path: graph.note(n).path.clone(),
                    title: graph.note(n).title.clone(),
                    distance,
                })
                .collect();
            Ok(Neighbors { note: graph.note(id).path.clone(), depth: request.depth, neighbors })
        })
    }

    /// A shortest chain of links between two notes.
    pub fn path(&self, request: &PathRequest) -> Result<Fresh<PathAnswer>> {
        self.answer_from_graph(|graph| {
            let (a, b) = (graph.find(&request.from)?, graph.find(&request.to)?);
            let path = graph.shortest_path(a, b, request.directed);
            Ok(PathAnswer {
                from: graph.note(a).path.clone(),
                to: graph.note(b).path.clone(),
                directed: request.directed,
                hops: path.as_ref().map(|steps| steps.len().saturating_sub(1)),
                path,
            })
        })
    }

    /// Notes nothing links to, the garden's roots aside.
    pub fn orphans(&self) -> Result<Fresh<Orphans>> {
        let roots = self.garden.roots.clone();
        self.answer_from_graph(|graph| {
            let orphans = graph
                .orphans(&roots)
                .into_iter()
                .map(|id| NoteView { path: graph.note(id).path.clone(), title: graph.note(id).title.clone() })
                .collect();
            Ok(Orphans { roots, orphans })
        })
    }

    /// Link targets no note answers to, with who wants them.
    pub fn unresolved(&self) -> Result<Fresh<Unresolved>> {
        self.answer_from_graph(|graph| Ok(Unresolved { unresolved: graph.wanted() }))
    }

    /// Every note and link, with degrees.
    pub fn graph_export(&self) -> Result<Fresh<GraphExport>> {
        self.answer_from_graph(|graph| Ok(graph.export()))
    }
}

/// A link as written in a note and where it resolves (a self-link, `[[#Heading]]`, to its
/// own note).
pub(crate) fn resolved_view(link: &ResolvedLink) -> LinkView {
    let written = &link.written;
    LinkView {
        line: written.line,
        kind: written.kind.as_str().to_string(),
        target: written.target.clone(),
        heading: written.heading.clone(),
        block: written.block.clone(),
        display: written.display.clone(),
        path: link.path.clone(),
        attachment: link.attachment.clone(),
        resolved: link.resolved,
    }
}
