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
use crate::store::vector_store::{COVERAGE_KEY, EMBEDDER_KEY, ERROR_KEY, attach, configured_embedder};

pub use crate::store::chunk_key::{embed_key, embed_text};
pub use crate::store::vector_store::{VectorStore, decode, encode};

/// Chunks embedded per call and per commit.
const BATCH: usize = 256;

/// How far the vectors cover the chunks.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
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

/// Catalog meta key: the state the last fill that left every chunk embedded recorded,
/// "store id:store version:flat state (two numbers):distinct chunks". While it holds (same
/// store, at that version), every chunk and vector not in `chunk_log` is as that fill left
/// it: each chunk has its vector, each vector its chunk, and the flat files on disk in that
/// state have their rows.
const SETTLED_KEY: &str = "vectors_settled";

/// What a fill found when it started, under the lock.
struct Start {
    /// The chunk log can be trusted: only logged chunks may lack a vector, only logged
    /// vectors may have lost their chunk.
    trusted: bool,
    settled: Option<Settled>,
    store_id: String,
    version: i64,
}

#[derive(Debug, Clone, PartialEq)]
struct Settled {
    store_id: String,
    version: i64,
    flat: crate::store::flat::Stamp,
    chunks: usize,
}

impl Settled {
    fn parse(text: &str) -> Option<Settled> {
        let mut fields = text.split(':');
        let store_id = fields.next()?.to_string();
        let mut number = || fields.next()?.parse::<i64>().ok();
        let (version, at, flat_version, chunks) = (number()?, number()?, number()?, number()?);
        Some(Settled { store_id, version, flat: (at, flat_version), chunks: usize::try_from(chunks).ok()? })
    }

    fn render(&self) -> String {
        format!("{}:{}:{}:{}:{}", self.store_id, self.version, self.flat.0, self.flat.1, self.chunks)
    }
}

/// Embeds every chunk without a vector. Errors from the embedder (a server that is down)
/// are recorded and reported, not returned: the text and graph index stays usable.
///
/// A small change costs what it changed: the chunks written or removed since the last fill
/// are in `chunk_log` (kept by triggers), so once a fill has left everything embedded,
/// the next one looks only at those (which lack a vector, which vectors lost their chunk,
/// which notes' flat rows to lay out again) instead of passing over every chunk and
/// vector. Without that record (the first fill, a rebuilt catalog, an error, another
/// writer of vectors) it passes over everything once. Either way only content keys are
/// held across the run; a chunk's text is read when its batch is embedded.
pub fn fill(index: &Index, reembed: bool, wait: Duration, progress: &dyn Progress) -> Result<EmbedReport> {
    let started = Instant::now();
    let layout = index.layout();
    let Some(embedder) = configured_embedder(index.vault())? else {
        drop_chunk_log(index, wait)?;
        return Ok(EmbedReport::default());
    };
    let id = embedder.id().to_string();
    let catalog = Catalog::open_required(&layout.catalog)?;
    let store = VectorStore::open(&layout.vectors)?;
    let start = {
        let _lock = WriterLock::acquire(&layout.lock, wait)?;
        let stored = store.embedder()?;
        if reembed || stored.is_none() {
            // The triggers move the version: no reader takes the old flat rows for current.
            store.conn.execute("DELETE FROM vectors", []).at(&store.path)?;
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
        start(&catalog, &store)?
    };
    attach(&catalog, &layout.vectors)?;
    // The writer reads vectors one at a time: through SQLite's small page cache, not a map
    // of the whole store (which a full pass would leave resident, 500 MB at 100k notes).
    catalog.conn.pragma_update(Some("vec"), "mmap_size", 0).at(&catalog.path)?;
    let missing = if start.trusted { logged_missing(&catalog)? } else { all_missing(&catalog)? };
    let mut report = EmbedReport { embedder: Some(id), ..EmbedReport::default() };
    progress.start(missing.len() as u64);
    for batch in missing.chunks(BATCH) {
        let texts = texts_of(&catalog, batch)?;
        let (keys, texts): (Vec<&String>, Vec<&str>) =
            batch.iter().zip(&texts).filter_map(|(key, text)| Some((key, text.as_deref()?))).unzip();
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
            for (key, vector) in keys.iter().zip(&vectors) {
                insert.execute(params![key, encode(vector)]).at(&store.path)?;
            }
        }
        tx.commit().at(&store.path)?;
        report.embedded += keys.len();
        progress.advance(batch.len() as u64);
    }
    progress.finish();
    report.missing = missing.len() - report.embedded;
    store.set_meta(ERROR_KEY, report.error.as_deref())?;
    let _lock = WriterLock::acquire(&layout.lock, wait)?;
    report.chunks = settle(&catalog, &store, &layout.flat_vectors, &start, &report)?;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// Puts the chunk log in place and reads what the last fill left, under the lock.
fn start(catalog: &Catalog, store: &VectorStore) -> Result<Start> {
    let logged: bool = catalog
        .conn
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'chunk_log'", [], |r| {
            r.get::<_, i64>(0)
        })
        .at(&catalog.path)?
        > 0;
    if !logged {
        let tx = catalog.conn.unchecked_transaction().at(&catalog.path)?;
        tx.execute_batch(crate::store::schema::CHUNK_LOG).at(&catalog.path)?;
        tx.commit().at(&catalog.path)?;
    }
    let store_id = store.id()?;
    let version = store.version()?;
    let settled = catalog.meta(SETTLED_KEY)?.as_deref().and_then(Settled::parse);
    let trusted = logged && settled.as_ref().is_some_and(|s| s.store_id == store_id && s.version == version);
    Ok(Start { trusted, settled, store_id, version })
}

/// With vectors off nobody reads the log: it goes, with its triggers and the mark it backs.
fn drop_chunk_log(index: &Index, wait: Duration) -> Result<()> {
    let Some(catalog) = Catalog::open(&index.layout().catalog)? else { return Ok(()) };
    let logged: i64 = catalog
        .conn
        .query_row("SELECT count(*) FROM sqlite_master WHERE name = 'chunk_log'", [], |r| r.get(0))
        .at(&catalog.path)?;
    if logged == 0 {
        return Ok(());
    }
    let _lock = WriterLock::acquire(&index.layout().lock, wait)?;
    let tx = catalog.conn.unchecked_transaction().at(&catalog.path)?;
    tx.execute_batch(crate::store::schema::DROP_CHUNK_LOG).at(&catalog.path)?;
    tx.execute("DELETE FROM meta WHERE key = ?1", [SETTLED_KEY]).at(&catalog.path)?;
    tx.commit().at(&catalog.path)
}

/// After the batches, under the lock (nothing else writes meanwhile): drops vectors whose
/// chunks are gone, brings the flat files up to date, records the coverage counts and,
/// when every chunk has its vector, the settled mark, clearing the log. Returns the number
/// of distinct chunks.
fn settle(
    catalog: &Catalog,
    store: &VectorStore,
    flat: &std::path::Path,
    start: &Start,
    report: &EmbedReport,
) -> Result<usize> {
    let db = &catalog.path;
    if report.error.is_some() {
        // Nothing is settled: leave the log and the mark, count the slow way.
        refresh_flat(catalog, flat, None);
        record_coverage(catalog, store)?;
        return count_chunks(catalog);
    }
    let changed_notes: Vec<i64> = {
        let mut stmt = catalog.conn.prepare("SELECT DISTINCT note_id FROM chunk_log").at(db)?;
        stmt.query_map([], |r| r.get(0)).at(db)?.collect::<rusqlite::Result<_>>().at(db)?
    };
    // Vectors of chunks that no longer exist: gone once everything is embedded.
    let removed = catalog
        .conn
        .execute(
            if start.trusted {
                "DELETE FROM vec.vectors WHERE embed_hash IN (SELECT embed_hash FROM main.chunk_log)
                   AND NOT EXISTS (SELECT 1 FROM main.chunks c WHERE c.embed_hash = vectors.embed_hash)"
            } else {
                "DELETE FROM vec.vectors WHERE embed_hash NOT IN (SELECT embed_hash FROM main.chunks)"
            },
            [],
        )
        .at(db)?;
    // The flat files: only the changed notes' rows while the files on disk are in the
    // state the mark names.
    let since = start.settled.as_ref().filter(|_| start.trusted).map(|s| (s.flat, changed_notes.as_slice()));
    refresh_flat(catalog, flat, since);
    // Every chunk has its vector and every vector its chunk? With a trusted log only the
    // logged ones can say otherwise, and only this fill wrote vectors (each row written or
    // removed moves the version by one).
    let version = store.version()?;
    let alone = version == start.version + (report.embedded + removed) as i64;
    let chunks = match (&start.settled, start.trusted && alone && !unsettled_in_log(catalog)?) {
        (Some(settled), true) => Some(settled.chunks + report.embedded - removed),
        _ => {
            let (chunks, embedded) = count_coverage(catalog)?;
            (!start.trusted && chunks == embedded).then_some(chunks)
        }
    };
    let Some(chunks) = chunks.filter(|_| alone) else {
        record_coverage(catalog, store)?;
        return count_chunks(catalog);
    };
    let (indexed_at, version) = crate::store::flat::current_stamp(catalog)?;
    let settled = Settled {
        store_id: start.store_id.clone(),
        version,
        flat: crate::store::flat::stamp_on_disk(flat).unwrap_or((0, 0)),
        chunks,
    };
    if start.settled.as_ref() != Some(&settled) || !changed_notes.is_empty() {
        let tx = catalog.conn.unchecked_transaction().at(db)?;
        tx.execute("DELETE FROM chunk_log", []).at(db)?;
        tx.execute(
            "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [SETTLED_KEY, &settled.render()],
        )
        .at(db)?;
        tx.commit().at(db)?;
    }
    if counted_at(catalog, store)?.is_none() {
        store.set_meta(COVERAGE_KEY, Some(&format!("{indexed_at}:{version}:{chunks}:{chunks}")))?;
    }
    Ok(chunks)
}

/// Like the vectors' other copies, the flat files cost search speed, never an answer.
fn refresh_flat(catalog: &Catalog, flat: &std::path::Path, since: Option<(crate::store::flat::Stamp, &[i64])>) {
    if crate::store::flat::refresh(catalog, flat, since).is_err() {
        crate::store::flat::forget(flat);
    }
}

/// Whether a logged chunk still lacks its vector (a note written while the batches ran).
fn unsettled_in_log(catalog: &Catalog) -> Result<bool> {
    catalog
        .conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM chunk_log l
               WHERE EXISTS (SELECT 1 FROM chunks c WHERE c.embed_hash = l.embed_hash)
                 AND NOT EXISTS (SELECT 1 FROM vec.vectors v WHERE v.embed_hash = l.embed_hash))",
            [],
            |r| r.get(0),
        )
        .at(&catalog.path)
}

/// Content keys of every chunk without a vector, in key order (so runs are deterministic):
/// one pass over the covering index of chunk keys.
fn all_missing(catalog: &Catalog) -> Result<Vec<String>> {
    keys(
        catalog,
        "SELECT DISTINCT c.embed_hash FROM chunks c
         WHERE NOT EXISTS (SELECT 1 FROM vec.vectors v WHERE v.embed_hash = c.embed_hash)
         ORDER BY c.embed_hash",
    )
}

/// Content keys of the logged chunks without a vector, in key order.
fn logged_missing(catalog: &Catalog) -> Result<Vec<String>> {
    keys(
        catalog,
        "SELECT DISTINCT l.embed_hash FROM chunk_log l
         WHERE EXISTS (SELECT 1 FROM chunks c WHERE c.embed_hash = l.embed_hash)
           AND NOT EXISTS (SELECT 1 FROM vec.vectors v WHERE v.embed_hash = l.embed_hash)
         ORDER BY l.embed_hash",
    )
}

fn keys(catalog: &Catalog, sql: &str) -> Result<Vec<String>> {
    let mut stmt = catalog.conn.prepare(sql).at(&catalog.path)?;
    let rows = stmt.query_map([], |r| r.get(0)).at(&catalog.path)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().at(&catalog.path)
}

/// The text to embed for each key; None for a chunk gone since the keys were read.
fn texts_of(catalog: &Catalog, keys: &[String]) -> Result<Vec<Option<String>>> {
    let mut stmt = catalog
        .conn
        .prepare_cached(
            "SELECT n.title, c.text FROM chunks c JOIN notes n ON n.id = c.note_id WHERE c.embed_hash = ?1 LIMIT 1",
        )
        .at(&catalog.path)?;
    keys.iter()
        .map(|key| {
            stmt.query_row([key], |r| Ok(embed_text(&r.get::<_, String>(0)?, &r.get::<_, String>(1)?)))
                .optional()
                .at(&catalog.path)
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::*;
    use crate::ReconcileOptions;
    use crate::store::progress::Silent;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    /// A vault of a dozen short notes, indexed with the built-in model.
    fn indexed_vault() -> (tempfile::TempDir, Index) {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "exo.toml", "");
        for i in 0..12 {
            let body = format!("# Note {i}\n\nAbout topic {i} and apples.\n\n## More\n\nDetails on thing {}.\n", i * 7);
            write(dir.path(), &format!("n{i:02}.md"), &body);
        }
        let index = Index::new(exo_vault::Vault::open(dir.path()).unwrap());
        sync(&index);
        (dir, index)
    }

    fn sync(index: &Index) -> EmbedReport {
        index.reconcile(&ReconcileOptions::default(), &Silent).unwrap();
        let report = fill(index, false, Duration::from_secs(5), &Silent).unwrap();
        assert_eq!(report.error, None);
        report
    }

    fn catalog(index: &Index) -> Catalog {
        let catalog = Catalog::open_required(&index.layout().catalog).unwrap();
        attach(&catalog, &index.layout().vectors).unwrap();
        catalog
    }

    /// Each note's best chunk for a few queries, from the flat files the search would read.
    fn flat_answers(index: &Index) -> Vec<Vec<(i64, f32, usize)>> {
        let catalog = catalog(index);
        let stamp = crate::store::flat::current_stamp(&catalog).unwrap();
        let flat = crate::store::flat::FlatVectors::load(&index.layout().flat_vectors, stamp)
            .expect("flat files in the current state");
        let embedder = configured_embedder(index.vault()).unwrap().unwrap();
        let queries = embedder.embed(&["apples", "thing 21", "more details"]).unwrap();
        queries.iter().map(|q| flat.best_per_note(q).unwrap()).collect()
    }

    fn inode(path: &Path) -> u64 {
        std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(path).unwrap())
    }

    fn settled(index: &Index) -> Option<Settled> {
        catalog(index).meta(SETTLED_KEY).unwrap().as_deref().and_then(Settled::parse)
    }

    #[test]
    fn a_one_note_change_writes_only_its_rows_and_agrees_with_a_rebuild() {
        let (dir, index) = indexed_vault();
        let layout = index.layout();
        let base = std::fs::read(&layout.flat_vectors).unwrap();
        let base_inode = inode(&layout.flat_vectors);
        assert!(settled(&index).is_some(), "a complete fill leaves its mark");
        // An edit, then a delete and a new note: each later run adds to the same delta.
        write(dir.path(), "n03.md", "# Note 3\n\nAbout topic 3 and pears now.\n\n## More\n\nDetails on thing 21.\n");
        let report = sync(&index);
        assert_eq!(report.embedded, 1, "{report:?}");
        std::fs::remove_file(dir.path().join("n05.md")).unwrap();
        write(dir.path(), "new.md", "# New\n\nA new note on apples and more details.\n");
        let report = sync(&index);
        assert_eq!((report.embedded, report.chunks), (1, 23), "{report:?}");
        assert_eq!(std::fs::read(&layout.flat_vectors).unwrap(), base, "the base is left alone");
        assert_eq!(inode(&layout.flat_vectors), base_inode);
        let delta = std::fs::read(layout.flat_vectors.with_extension("delta")).unwrap();
        assert!(delta.len() < base.len() / 2, "{} vs {}", delta.len(), base.len());
        assert_eq!(count_coverage(&catalog(&index)).unwrap(), (23, 23));
        let patched = flat_answers(&index);
        assert!(patched.iter().all(|answer| answer.len() == 12), "{patched:?}");
        // The same state laid out from scratch gives the same answers.
        crate::store::flat::forget(&layout.flat_vectors);
        crate::store::flat::refresh(&catalog(&index), &layout.flat_vectors, None).unwrap();
        assert!(!layout.flat_vectors.with_extension("delta").exists());
        assert_eq!(flat_answers(&index), patched);
    }

    #[test]
    fn a_vector_written_behind_the_fills_back_sends_the_next_fill_over_everything() {
        let (dir, index) = indexed_vault();
        let store = VectorStore::open(&index.layout().vectors).unwrap();
        // A vector no chunk uses, written by something other than a fill: the log knows
        // nothing of it, the version does.
        store.conn.execute("INSERT INTO vectors(embed_hash, vector) VALUES ('stray', x'00000000')", []).unwrap();
        write(dir.path(), "n01.md", "# Note 1\n\nChanged.\n");
        sync(&index);
        assert_eq!(store.vector("stray").unwrap(), None, "swept by a full pass");
        assert!(settled(&index).is_some());
    }

    #[test]
    fn the_version_moves_with_every_vector_write_whoever_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = VectorStore::open(&dir.path().join("vectors.sqlite")).unwrap();
        let mut versions = vec![store.version().unwrap()];
        for sql in [
            "INSERT INTO vectors(embed_hash, vector) VALUES ('a', x'00')",
            "INSERT OR REPLACE INTO vectors(embed_hash, vector) VALUES ('a', x'01')",
            "INSERT OR REPLACE INTO vectors(embed_hash, vector) VALUES ('b', x'01')",
            "UPDATE vectors SET vector = x'02' WHERE embed_hash = 'b'",
            "DELETE FROM vectors WHERE embed_hash = 'a'",
        ] {
            store.conn.execute(sql, []).unwrap();
            versions.push(store.version().unwrap());
        }
        assert_eq!(versions, [0, 1, 2, 3, 4, 5]);
        // A store from before the triggers gains them when opened.
        store.conn.execute_batch("DROP TRIGGER vectors_version_insert").unwrap();
        let store = VectorStore::open(&dir.path().join("vectors.sqlite")).unwrap();
        store.conn.execute("INSERT INTO vectors(embed_hash, vector) VALUES ('c', x'00')", []).unwrap();
        assert_eq!(store.version().unwrap(), 6);
    }

    /// Records whether the flat files were there when embedding started.
    struct FlatAtStart(std::path::PathBuf, std::sync::Mutex<Option<bool>>);

    impl Progress for FlatAtStart {
        fn start(&self, _total: u64) {
            let there = self.0.exists() || self.0.with_extension("delta").exists();
            *self.1.lock().unwrap() = Some(there);
        }
    }

    #[test]
    fn reembed_deletes_the_flat_files_before_embedding_again() {
        let (dir, index) = indexed_vault();
        write(dir.path(), "n02.md", "# Note 2\n\nChanged, so there is a delta too.\n");
        sync(&index);
        let flat = index.layout().flat_vectors.clone();
        assert!(flat.exists() && flat.with_extension("delta").exists());
        let progress = FlatAtStart(flat.clone(), std::sync::Mutex::new(None));
        let report = fill(&index, true, Duration::from_secs(5), &progress).unwrap();
        assert_eq!(*progress.1.lock().unwrap(), Some(false), "no row may outlive the vectors it came from");
        assert_eq!(report.embedded, 23);
        assert!(flat.exists() && !flat.with_extension("delta").exists(), "laid out again from the new vectors");
    }
}
