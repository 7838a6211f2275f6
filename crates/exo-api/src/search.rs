//! `search`: ranked, explained search with structured filters.

use std::collections::BTreeMap;

use exo_index::search::{Filters, Mode, SearchRequest};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::{Exo, Result};

pub use exo_index::search::SearchResults;

/// Which signals rank the hits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    /// Words (BM25 over title, aliases, headings, tags, body).
    Bm25,
    /// Meaning (cosine over chunk vectors).
    Vector,
    /// Both, plus the link graph around strong hits.
    #[default]
    Hybrid,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// What to look for: words, a phrase or a question.
    pub query: String,
    #[serde(default)]
    pub mode: SearchMode,
    /// At most this many hits (0: none; with it the answer still says whether the index is fresh).
    #[serde(default = "ten")]
    pub limit: usize,
    /// Every tag must be present (`memory` also admits `memory/spaced`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Any of these note types.
    #[serde(default)]
    pub types: Vec<String>,
    /// Only notes under this path prefix.
    #[serde(default)]
    pub path: Option<String>,
    /// Frontmatter keys that must hold these values (a list holding the value counts).
    #[serde(default, rename = "where")]
    pub where_: BTreeMap<String, String>,
}

fn ten() -> usize {
    10
}

impl Exo {
    /// Ranked hits with the signals behind each, snippets, and the freshness of the index
    /// (hits whose file changed or vanished since indexing are marked).
    pub fn search(&self, query: &SearchQuery) -> Result<SearchResults> {
        let filters = Filters {
            tags: query.tags.clone(),
            types: query.types.clone(),
            path_prefix: query.path.clone(),
            fields: query.where_.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        };
        let mode = match query.mode {
            SearchMode::Bm25 => Mode::Bm25,
            SearchMode::Vector => Mode::Vector,
            SearchMode::Hybrid => Mode::Hybrid,
        };
        let request = SearchRequest { query: query.query.clone(), mode, limit: query.limit, filters };
        Ok(self.index.search(&request)?)
    }
}
