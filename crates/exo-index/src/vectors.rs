//! Chunk vectors: filled in after text and graph (so search works at once), in batches that
//! each commit (so an interrupted run resumes), reused by content key (so editing one
//! paragraph re-embeds one chunk), and kept in their own file `.exo/vectors.sqlite` (so a
//! catalog rebuild does not throw away minutes of embedding).

use std::time::{Duration, Instant};

use exo_embed::Embedder;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::error::{Result, SqlContext};
use crate::store::Index;
use crate::store::catalog::Catalog;
use crate::store::lock::WriterLock;
use crate::store::progress::Progress;
use crate::store::vector_store::{COVERAGE_KEY, EMBEDDER_KEY, ERROR_KEY, attach, bump_version, configured_embedder};

pub use crate::store::chunk_key::{embed_key, embed_text};
pub use crate::store::vector_store::{VectorStore, decode, encode};

/// Chunks embedded per call and per commit.
const BATCH: usize = 256;

/// How far the vectors cover the chunks.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Coverage {
    /// Distinct chunks (by content key) in the catalog.
    pub chunks: usize,
    /// Of those, how many have a vector from the configured embedder.
    pub embedded: usize,
    /// The embedder the vectors came from.
    pub embedder: Option<String>,
    /// The embedder exo.toml asks for now.
    pub configured: Option<String>,
    /// Why the last attempt to embed failed, if it did.
    pub error: Option<String>,
}

impl Coverage {
    pub fn complete(&self) -> bool {
        self.embedded >= self.chunks
    }

    pub fn embedder_changed(&self) -> bool {
        matches!((&self.embedder, &self.configured), (Some(a), Some(b)) if a != b)
    }
}

/// Coverage of the catalog's chunks by the vector store; None when vectors are off.
pub fn coverage(index: &Index, catalog: &Catalog, configured: Option<&dyn Embedder>) -> Result<Option<Coverage>> {
    let Some(embedder) = configured else {
        return Ok(None);
    };
    let configured = Some(embedder.id().to_string());
    let Some(store) = VectorStore::open_existing(&index.layout().vectors)? else {
        return Ok(Some(Coverage {
            chunks: count_chunks(catalog)?,
            embedded: 0,
            embedder: None,
            configured,
            error: None,
        }));
    };
    attach(catalog, &index.layout().vectors)?;
    let (chunks, embedded) = match counted_at(catalog, &store)? {
        Some(counts) => counts,
        None => count_coverage(catalog)?,
    };
    let stored = store.embedder()?;
    let embedded = if stored == configured { embedded } else { 0 };
    Ok(Some(Coverage { chunks, embedded, embedder: stored, configured, error: store.error()? }))
}

/// Chunks and how many of them have a vector, by two counts over every chunk.
fn count_coverage(catalog: &Catalog) -> Result<(usize, usize)> {
    let embedded: i64 = catalog
        .conn
        .query_row(
            "SELECT count(*) FROM (SELECT DISTINCT embed_hash FROM chunks) c JOIN vec.vectors v ON v.embed_hash = c.embed_hash",
            [],
            |r| r.get(0),
        )
        .at(&catalog.path)?;
    Ok((count_chunks(catalog)?, embedded as usize))
}

fn count_chunks(catalog: &Catalog) -> Result<usize> {
    let chunks: i64 =
        catalog.conn.query_row("SELECT count(DISTINCT embed_hash) FROM chunks", [], |r| r.get(0)).at(&catalog.path)?;
    Ok(chunks as usize)
}

/// The counts the last fill recorded, if the catalog and the vectors are still in the state
/// it recorded them in: every status reports coverage, and counting joins every chunk with
/// its vector (0.4 s at 100k notes).
fn counted_at(catalog: &Catalog, store: &VectorStore) -> Result<Option<(usize, usize)>> {
    let stamp = crate::store::flat::current_stamp(catalog)?;
    let recorded = store.meta(COVERAGE_KEY)?.unwrap_or_default();
    let fields: Vec<&str> = recorded.split(':').collect();
    let number = |i: usize| fields.get(i).and_then(|f| f.parse::<i64>().ok());
    Ok(match (number(0), number(1), number(2), number(3)) {
        (Some(indexed_at), Some(version), Some(chunks), Some(embedded)) if (indexed_at, version) == stamp => {
            Some((chunks as usize, embedded as usize))
        }
        _ => None,
    })
}

/// Records the coverage counts with the state they hold for (called by the writer), unless
/// they are recorded already: a run that changed nothing does not count again.
fn record_coverage(catalog: &Catalog, store: &VectorStore) -> Result<()> {
    if counted_at(catalog, store)?.is_some() {
        return Ok(());
    }
    let (indexed_at, version) = crate::store::flat::current_stamp(catalog)?;
    let (chunks, embedded) = count_coverage(catalog)?;
    store.set_meta(COVERAGE_KEY, Some(&format!("{indexed_at}:{version}:{chunks}:{embedded}")))
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct EmbedReport {
    /// Chunks embedded in this run.
    pub embedded: usize,
    /// Chunks still without a vector (after an error, or when the embedder changed).
    pub missing: usize,
    pub chunks: usize,
    pub embedder: Option<String>,
    /// Why embedding stopped early; text and graph are unaffected.
    pub error: Option<String>,
    pub elapsed_ms: u64,
}

/// Embeds every chunk without a vector. Errors from the embedder (a server that is down)
/// are recorded and reported, not returned: the text and graph index stays usable.
pub fn fill(index: &Index, reembed: bool, wait: Duration, progress: &dyn Progress) -> Result<EmbedReport> {
    let started = Instant::now();
    let Some(embedder) = configured_embedder(index.vault())? else {
        return Ok(EmbedReport::default());
    };
    let id = embedder.id().to_string();
    let layout = index.layout();
    let catalog = Catalog::open_required(&layout.catalog)?;
    let store = VectorStore::open(&layout.vectors)?;
    {
        let _lock = WriterLock::acquire(&layout.lock, wait)?;
        let stored = store.embedder()?;
        if reembed || stored.is_none() {
            let tx = store.conn.unchecked_transaction().at(&store.path)?;
            tx.execute("DELETE FROM vectors", []).at(&store.path)?;
            bump_version(&tx, "main", &store.path)?;
            tx.commit().at(&store.path)?;
            crate::store::flat::forget(&layout.flat_vectors);
            store.set_meta(EMBEDDER_KEY, Some(&id))?;
        } else if stored.as_deref() != Some(id.as_str()) {
            let chunks = coverage(index, &catalog, Some(embedder.as_ref()))?.map_or(0, |c| c.chunks);
            return Ok(EmbedReport {
                missing: chunks,
                chunks,
                embedder: Some(id),
                error: Some(format!(
                    "the embedder changed (vectors are from {}): run `exo index --reembed`",
                    stored.unwrap_or_default()
                )),
                ..EmbedReport::default()
            });
        }
    }
    attach(&catalog, &layout.vectors)?;
    let missing = missing_chunks(&catalog)?;
    let mut report = EmbedReport { chunks: count_chunks(&catalog)?, embedder: Some(id), ..EmbedReport::default() };
    progress.start(missing.len() as u64);
    for batch in missing.chunks(BATCH) {
        let texts: Vec<&str> = batch.iter().map(|(_, text)| text.as_str()).collect();
        let vectors = match embedder.embed(&texts) {
            Ok(vectors) => vectors,
            Err(e) => {
                report.error = Some(e.to_string());
                break;
            }
        };
        // Held per batch only: hooks and other writers interleave with a long embedding run.
        let _lock = WriterLock::acquire(&layout.lock, wait)?;
        let tx = store.conn.unchecked_transaction().at(&store.path)?;
        {
            let mut insert = tx
                .prepare_cached("INSERT OR REPLACE INTO vectors(embed_hash, vector) VALUES (?1, ?2)")
                .at(&store.path)?;
            for ((key, _), vector) in batch.iter().zip(&vectors) {
                insert.execute(params![key, encode(vector)]).at(&store.path)?;
            }
        }
        bump_version(&tx, "main", &store.path)?;
        tx.commit().at(&store.path)?;
        report.embedded += batch.len();
        progress.advance(batch.len() as u64);
    }
    progress.finish();
    report.missing = missing.len() - report.embedded;
    store.set_meta(ERROR_KEY, report.error.as_deref())?;
    let _lock = WriterLock::acquire(&layout.lock, wait)?;
    if report.error.is_none() {
        // Vectors of chunks that no longer exist: gone once everything is embedded.
        let tx = catalog.conn.unchecked_transaction().at(&catalog.path)?;
        let removed = tx
            .execute("DELETE FROM vec.vectors WHERE embed_hash NOT IN (SELECT embed_hash FROM main.chunks)", [])
            .at(&catalog.path)?;
        if removed > 0 {
            bump_version(&tx, "vec", &catalog.path)?;
        }
        tx.commit().at(&catalog.path)?;
    }
    // Like the vectors' other copies, the flat file costs search speed, never an answer.
    if crate::store::flat::refresh(&catalog, &layout.flat_vectors).is_err() {
        crate::store::flat::forget(&layout.flat_vectors);
    }
    record_coverage(&catalog, &store)?;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// (content key, text to embed) of every chunk without a vector, ordered by key so runs
/// are deterministic.
fn missing_chunks(catalog: &Catalog) -> Result<Vec<(String, String)>> {
    let mut stmt = catalog
        .conn
        .prepare(
            "SELECT c.embed_hash, n.title, c.text FROM chunks c JOIN notes n ON n.id = c.note_id
             WHERE NOT EXISTS (SELECT 1 FROM vec.vectors v WHERE v.embed_hash = c.embed_hash)
             GROUP BY c.embed_hash ORDER BY c.embed_hash",
        )
        .at(&catalog.path)?;
    let rows = stmt
        .query_map([], |r| {
            let title: String = r.get(1)?;
            let text: String = r.get(2)?;
            Ok((r.get::<_, String>(0)?, embed_text(&title, &text)))
        })
        .at(&catalog.path)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().at(&catalog.path)
}

/// The configured embedder when the store holds vectors from it (cheap: no counting), or
/// why the vectors cannot be used, as a sentence for the reader: the one place search and
/// the garden learn whether vectors are there.
pub(crate) fn ready_embedder(index: &Index, catalog: &Catalog) -> Result<Result<Box<dyn Embedder>, String>> {
    let Some(embedder) = configured_embedder(index.vault())? else {
        return Ok(Err("vectors are off in exo.toml ([embed] provider = \"none\")".into()));
    };
    let Some(store) = VectorStore::open_existing(&index.layout().vectors)? else {
        return Ok(Err("no vectors in this index yet (run `exo index`)".into()));
    };
    let stored = store.embedder()?;
    if stored.is_some() && stored != Some(embedder.id().to_string()) {
        return Ok(Err("the vectors are from another embedder (run `exo index --reembed`)".into()));
    }
    attach(catalog, &index.layout().vectors)?;
    let any: Option<i64> =
        catalog.conn.query_row("SELECT 1 FROM vec.vectors LIMIT 1", [], |r| r.get(0)).optional().at(&catalog.path)?;
    Ok(if any.is_some() { Ok(embedder) } else { Err("no vectors in this index yet (run `exo index`)".into()) })
}

/// One vector per note for comparing notes with each other: the normalised mean of its chunk
/// vectors. `Unavailable` says why there are none (vectors off, not embedded yet, another
/// embedder), so callers can report the check as skipped rather than clean.
pub enum NoteVectors {
    Unavailable(String),
    /// Notes by path, those with at least one embedded chunk.
    Ready(std::collections::BTreeMap<String, Vec<f32>>),
}

pub fn note_vectors(index: &Index) -> Result<NoteVectors> {
    let layout = index.layout();
    let catalog = Catalog::open_required(&layout.catalog)?;
    if let Err(reason) = ready_embedder(index, &catalog)? {
        return Ok(NoteVectors::Unavailable(reason));
    }
    let path = &catalog.path;
    let mut stmt = catalog
        .conn
        .prepare(
            "SELECT n.path, v.vector FROM chunks c JOIN notes n ON n.id = c.note_id
               JOIN vec.vectors v ON v.embed_hash = c.embed_hash ORDER BY c.note_id, c.seq",
        )
        .at(path)?;
    let mut sums: std::collections::BTreeMap<String, Vec<f32>> = std::collections::BTreeMap::new();
    let mut rows = stmt.query([]).at(path)?;
    while let Some(row) = rows.next().at(path)? {
        let note: String = row.get(0).at(path)?;
        let vector = decode(row.get_ref(1).at(path)?.as_blob().unwrap_or(&[]));
        let sum = sums.entry(note).or_insert_with(|| vec![0.0; vector.len()]);
        if sum.len() == vector.len() {
            sum.iter_mut().zip(&vector).for_each(|(s, v)| *s += v);
        }
    }
    sums.values_mut().for_each(|sum| exo_embed::normalize(sum));
    Ok(NoteVectors::Ready(sums))
}
