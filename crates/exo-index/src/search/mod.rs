//! Ranked, explained search: bm25 (tantivy), vector (chunk cosine) and graph (neighbours
//! of strong hits) signals, fused by normalised score fusion, filtered by tag, type, path
//! and frontmatter, each hit carrying why it ranked and a highlighted snippet.

mod bm25;
mod filter;
mod fresh;
mod fuse;
mod graph;
mod snippet;
#[doc(hidden)]
pub mod vector_bench;
mod vectors;

use serde::Serialize;

use crate::error::{IndexError, Result};
use crate::status::SyncState;
use crate::store::Index;
use crate::store::catalog::Catalog;
use crate::store::settings::TextSettings;
use crate::store::text::TextIndex;

pub use bm25::Boosts;
pub use filter::Filters;
pub use fresh::Stale;
pub use fuse::Weights;
pub use snippet::Snippet;

/// Which signals rank the hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Bm25,
    Vector,
    Hybrid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Signal {
    Bm25,
    Vector,
    Graph,
}

#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: String,
    pub mode: Mode,
    /// At most this many hits (0: none, like `git log -n 0`); more than there are notes is
    /// the same as all of them.
    pub limit: usize,
    pub filters: Filters,
}

/// One signal's view of a hit: its raw score and 1-based rank in that signal's list.
#[derive(Debug, Clone, Copy, Serialize, schemars::JsonSchema)]
pub struct SignalScore {
    pub rank: usize,
    pub score: f32,
    /// The score after normalisation to 0..1, as fused.
    pub normalized: f32,
}

#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct SignalScores {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bm25: Option<SignalScore>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<SignalScore>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph: Option<SignalScore>,
}

impl SignalScores {
    fn get_mut(&mut self, signal: Signal) -> &mut Option<SignalScore> {
        match signal {
            Signal::Bm25 => &mut self.bm25,
            Signal::Vector => &mut self.vector,
            Signal::Graph => &mut self.graph,
        }
    }

    pub fn matched_on(&self) -> Vec<Signal> {
        let mut signals = Vec::new();
        if self.bm25.is_some() {
            signals.push(Signal::Bm25);
        }
        if self.vector.is_some() {
            signals.push(Signal::Vector);
        }
        if self.graph.is_some() {
            signals.push(Signal::Graph);
        }
        signals
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Hit {
    pub path: String,
    pub title: String,
    #[serde(rename = "type")]
    pub note_type: Option<String>,
    pub score: f32,
    pub matched_on: Vec<Signal>,
    pub signals: SignalScores,
    /// The heading of the chunk the snippet comes from (None: before the first heading).
    pub heading: Option<String>,
    pub snippet: Snippet,
    /// Whether the note's file changed (`modified`) or went away (`deleted`) since it was
    /// indexed; null when it is as indexed (or the check could not run).
    pub stale: Option<Stale>,
}

/// How many of the index's chunks have a vector: the vector signal cannot find a note whose
/// chunks have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct VectorCoverage {
    pub embedded: usize,
    pub total: usize,
}

impl VectorCoverage {
    pub fn complete(&self) -> bool {
        self.embedded >= self.total
    }
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SearchResults {
    pub query: String,
    pub mode: Mode,
    /// The signals that actually contributed (hybrid without vectors: bm25 and graph).
    pub signals_used: Vec<Signal>,
    pub hits: Vec<Hit>,
    /// Whether the index matched the files when the query ran (a stat check, no hashing);
    /// None when the check failed (`notes` says why): an unchecked answer never says Synced.
    pub index_status: Option<SyncState>,
    /// How many notes differ from the index, when it is OutOfSync; None when unchecked.
    pub stale_notes: Option<usize>,
    /// Chunk coverage by vectors, for the modes that use them (None: bm25 mode, or vectors
    /// off in exo.toml).
    pub vector_coverage: Option<VectorCoverage>,
    /// Things the reader should know about how this answer was made.
    pub notes: Vec<String>,
}

/// Vectors for the vector signal: the query's embedding and the stored chunk vectors.
pub trait VectorSearch {
    /// Up to `k` notes by their best chunk's cosine with the query, best first:
    /// (note path, cosine, chunk index of the best chunk).
    fn nearest(&self, query: &str, k: usize) -> Result<Vec<(String, f32, usize)>>;
}

/// Candidates each signal contributes before fusion and filtering.
const CANDIDATES: usize = 100;
const CANDIDATES_FILTERED: usize = 2000;

pub fn search(index: &Index, request: &SearchRequest) -> Result<SearchResults> {
    let query = request.query.trim();
    if query.is_empty() {
        return Err(IndexError::EmptyQuery);
    }
    let layout = index.layout();
    let catalog = Catalog::open_required(&layout.catalog)?;
    let settings = TextSettings::from_config(index.vault().root(), index.vault().config())?;
    let ranking = RankSettings::from_config(index.vault().root(), index.vault().config())?;

    // The staleness check walks the vault; it runs beside the query, not before it.
    let (drift, ranked) = crate::store::beside(
        || crate::status::drift(index),
        || {
            let coverage = match request.mode {
                Mode::Bm25 => None,
                Mode::Vector | Mode::Hybrid => vector_coverage(index, &catalog)?,
            };
            with_vectors(index, &catalog, request.mode, query, |vectors, note| {
                let mut results = rank(index, &catalog, &settings, &ranking, request, query, vectors)?;
                results.notes.extend(note);
                results.vector_coverage = coverage;
                Ok(results)
            })
        },
        "the check against the files",
    );
    let mut results = ranked?;
    match drift {
        Ok(drift) => {
            results.index_status = Some(drift.state);
            results.stale_notes = Some(drift.count);
            for hit in &mut results.hits {
                hit.stale = fresh::stale_of(&drift, &hit.path);
            }
        }
        Err(e) => results.notes.push(format!("could not check the index against the files: {e}")),
    }
    Ok(results)
}

/// The configured embedder's coverage of the chunks; None when vectors are off.
fn vector_coverage(index: &Index, catalog: &Catalog) -> Result<Option<VectorCoverage>> {
    let embedder = crate::store::vector_store::configured_embedder(index.vault())?;
    let coverage = crate::vectors::coverage(index, catalog, embedder.as_deref())?;
    Ok(coverage.map(|c| VectorCoverage { embedded: c.embedded.min(c.chunks), total: c.chunks }))
}

/// Runs `f` with the vector signal when the mode wants it and the index can give it, with a
/// note for the reader when it cannot (no vectors, another embedder, partial coverage).
fn with_vectors<T>(
    index: &Index,
    catalog: &Catalog,
    mode: Mode,
    query: &str,
    f: impl FnOnce(Option<&dyn VectorSearch>, Option<String>) -> Result<T>,
) -> Result<T> {
    if mode == Mode::Bm25 {
        return f(None, None);
    }
    match crate::vectors::ready_embedder(index, catalog)? {
        Err(reason) => f(None, Some(format!("{reason}: ranked by bm25 and graph"))),
        Ok(embedder) => std::thread::scope(|scope| {
            // The model loads and embeds the query while bm25 runs and the vectors are read.
            let query = query.to_string();
            let handle = scope.spawn(move || embedder.embed(&[query.as_str()]));
            let stored = vectors::StoredVectors {
                catalog,
                query_vector: std::cell::RefCell::new(Some(handle)),
                flat_path: index.layout().flat_vectors.clone(),
            };
            f(Some(&stored), None)
        }),
    }
}

fn rank(
    index: &Index,
    catalog: &Catalog,
    text_settings: &TextSettings,
    settings: &RankSettings,
    request: &SearchRequest,
    query: &str,
    vectors: Option<&dyn VectorSearch>,
) -> Result<SearchResults> {
    let weights = &settings.weights;
    let text = TextIndex::open(&index.layout().text, text_settings)?;
    // No list is longer than there are notes, so neither is a limit: sizing anything by
    // the limit asked for (`--limit 1500000000`) would reserve memory for hits that cannot
    // exist.
    let notes_indexed = catalog.note_count()?;
    let limit = request.limit.min(notes_indexed);
    let depth = if request.filters.is_empty() { CANDIDATES } else { CANDIDATES_FILTERED };
    let depth = depth.max(limit).min(notes_indexed.max(1));
    let mut notes = Vec::new();
    let mut lists: Vec<(Signal, Vec<(String, f32)>)> = Vec::new();
    let mut best_chunk: std::collections::HashMap<String, usize> = std::collections::HashMap::new();

    let (bm25_hits, parse_errors) = bm25::search(&text, query, depth, &settings.boosts)?;
    if parse_errors {
        notes.push("the query had syntax errors; it was searched as plain words".into());
    }
    if request.mode != Mode::Vector {
        lists.push((Signal::Bm25, bm25_hits));
    }
    if request.mode != Mode::Bm25 {
        match vectors {
            Some(vectors) => {
                let nearest = vectors.nearest(query, depth)?;
                let mut list = Vec::with_capacity(nearest.len());
                for (path, cosine, chunk) in
                    nearest.into_iter().filter(|(_, cosine, _)| *cosine >= settings.min_similarity)
                {
                    best_chunk.insert(path.clone(), chunk);
                    list.push((path, cosine));
                }
                lists.push((Signal::Vector, list));
            }
            None if request.mode == Mode::Vector => {
                return Err(IndexError::NoVectors);
            }
            None => {}
        }
    }
    let filter = filter::Compiled::new(catalog, &request.filters)?;
    for (_, list) in &mut lists {
        list.retain(|(path, _)| filter.admits(path));
    }
    if request.mode != Mode::Vector || vectors.is_some() {
        let seeds = fuse::fuse(&lists, weights);
        let graph_list = graph::neighbours(catalog, &seeds, depth)?;
        let graph_list: Vec<(String, f32)> = graph_list.into_iter().filter(|(p, _)| filter.admits(p)).collect();
        if !graph_list.is_empty() && weights.graph > 0.0 {
            lists.push((Signal::Graph, graph_list));
        }
    }
    let signals_used: Vec<Signal> = lists.iter().filter(|(_, l)| !l.is_empty()).map(|(s, _)| *s).collect();
    let fused = fuse::fuse(&lists, weights);
    let terms = snippet::query_terms(&text, query);
    let mut hits = Vec::new();
    for candidate in fused.into_iter().take(limit) {
        let Some(meta) = filter.meta(&candidate.path)? else {
            continue;
        };
        let chunk = best_chunk.get(&candidate.path).copied();
        let (heading, snippet) = snippet::best(catalog, &text, meta.id, &terms, chunk)?;
        hits.push(Hit {
            path: candidate.path,
            title: meta.title,
            note_type: meta.note_type,
            score: candidate.score,
            matched_on: candidate.signals.matched_on(),
            signals: candidate.signals,
            heading,
            snippet,
            stale: None,
        });
    }
    Ok(SearchResults {
        query: query.to_string(),
        mode: request.mode,
        signals_used,
        hits,
        index_status: None,
        stale_notes: None,
        vector_coverage: None,
        notes,
    })
}

/// The ranker's part of `[search]` in exo.toml: `[search.weights]` and `[search.boosts]`.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(default)]
pub struct RankSettings {
    pub weights: Weights,
    pub boosts: Boosts,
    /// Chunks less similar to the query than this (cosine) are no vector hit: every note has
    /// some cosine with every query, and below ~0.2 MiniLM's similarity is noise.
    pub min_similarity: f32,
}

impl Default for RankSettings {
    fn default() -> Self {
        RankSettings { weights: Weights::default(), boosts: Boosts::default(), min_similarity: 0.2 }
    }
}

impl RankSettings {
    pub fn from_config(root: &std::path::Path, config: &exo_vault::Config) -> Result<RankSettings> {
        let mut table = toml::Table::new();
        for key in ["weights", "boosts", "min_similarity"] {
            if let Some(value) = config.search.get(key) {
                table.insert(key.to_string(), value.clone());
            }
        }
        toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| {
            exo_vault::VaultError::Config {
                path: root.join(exo_vault::CONFIG_FILE),
                message: format!("[search]: {}", e.message()),
            }
            .into()
        })
    }
}
