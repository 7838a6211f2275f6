//! `graph_picture`: everything a drawing of the link graph needs, read in one pass — the
//! export (notes, links, degrees), which notes are orphans (the garden's roots aside) and the
//! link targets no note answers to, so a face draws them without asking three times.

use exo_index::graph::{GraphExport, Wanted};
use serde::Serialize;

use crate::fresh::{Fresh, beside};
use crate::{Exo, Result};

#[derive(Debug, Clone, Serialize)]
pub struct GraphPicture {
    #[serde(flatten)]
    pub graph: GraphExport,
    /// Paths of notes with no links in or out (the `[garden] roots` excepted).
    pub orphans: Vec<String>,
    /// Link targets no note answers to, most wanted first, with who wants them.
    pub unresolved: Vec<Wanted>,
}

impl Exo {
    /// The graph export plus orphans and wanted notes, from one read of the index.
    pub fn graph_picture(&self) -> Result<Fresh<GraphPicture>> {
        let index = &self.index;
        let (graph, freshness) = beside(index, || index.graph());
        let graph = graph?;
        let orphans = graph.orphans(&self.garden.roots).into_iter().map(|id| graph.note(id).path.clone()).collect();
        let answer = GraphPicture { graph: graph.export(), orphans, unresolved: graph.wanted() };
        Ok(Fresh { answer, freshness })
    }
}
