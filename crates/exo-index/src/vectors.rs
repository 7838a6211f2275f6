//! Chunk vectors: filled in after text and graph (so search works at once), in batches that
//! each commit (so an interrupted run resumes), reused by content key (so editing one
//! paragraph re-embeds one chunk), and kept in their own file `.exo/vectors.sqlite` (so a
//! catalog rebuild does not throw away minutes of embedding).

use std::path::Path;
use std::time::{Duration, Instant};

use exo_embed::{EmbedSettings, Embedder};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::Index;
use crate::catalog::Catalog;
use crate::error::{IndexError, Result, SqlContext};
use crate::lock::WriterLock;
use crate::reconcile::Progress;

/// Chunks embedded per call and per commit.
const BATCH: usize = 256;

const CREATE: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vectors (embed_hash TEXT PRIMARY KEY, vector BLOB NOT NULL);";

const EMBEDDER_KEY: &str = "embedder";
/// Moved by every transaction that changes the vectors, so a flat copy can tell it is stale.
pub(crate) const VERSION_KEY: &str = "version";
/// "catalog indexed_at:version:chunks:embedded", written at the end of a fill.
const COVERAGE_KEY: &str = "coverage";
const ERROR_KEY: &str = "error";

/// Moves the version of the vector store known to `conn` as `schema` ("main" from the
/// store's own connection, "vec" where the catalog attached it), inside the caller's
/// transaction.
fn bump_version(conn: &Connection, schema: &str, path: &Path) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO {schema}.meta(key, value) VALUES ('{VERSION_KEY}', '1')
             ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        ),
        [],
    )
    .at(path)?;
    Ok(())
}

/// The text the embedder sees for a chunk: the note's title gives every chunk its context.
pub fn embed_text(title: &str, chunk: &str) -> String {
    format!("{title}\n\n{chunk}")
}

pub fn embed_key(title: &str, chunk: &str) -> String {
    blake3::hash(embed_text(title, chunk).as_bytes()).to_hex().to_string()
}

/// The embedder exo.toml configures; None when vectors are off (`provider = "none"`).
pub fn configured_embedder(index: &Index) -> Result<Option<Box<dyn Embedder>>> {
    let vault = index.vault();
    let bad = |e: exo_embed::EmbedError| {
        IndexError::Vault(exo_vault::VaultError::Config {
            path: vault.root().join(exo_vault::CONFIG_FILE),
            message: e.to_string(),
        })
    };
    let settings = EmbedSettings::from_table(&vault.config().embed).map_err(bad)?;
    settings.build().map_err(bad)
}

pub struct VectorStore {
    pub(crate) conn: Connection,
    path: std::path::PathBuf,
}

impl VectorStore {
    pub fn open(path: &Path) -> Result<VectorStore> {
        let conn = Connection::open(path).at(path)?;
        conn.busy_timeout(Duration::from_secs(10)).at(path)?;
        conn.pragma_update(None, "journal_mode", "WAL").at(path)?;
        conn.pragma_update(None, "synchronous", "NORMAL").at(path)?;
        conn.execute_batch(CREATE).at(path)?;
        Ok(VectorStore { conn, path: path.to_path_buf() })
    }

    /// Opens only if the file exists (readers never create it).
    pub fn open_existing(path: &Path) -> Result<Option<VectorStore>> {
        if path.exists() { VectorStore::open(path).map(Some) } else { Ok(None) }
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional().at(&self.path)
    }

    fn set_meta(&self, key: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) => self
                .conn
                .execute("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, v])
                .at(&self.path)?,
            None => self.conn.execute("DELETE FROM meta WHERE key = ?1", [key]).at(&self.path)?,
        };
        Ok(())
    }

    pub fn embedder(&self) -> Result<Option<String>> {
        self.meta(EMBEDDER_KEY)
    }

    pub fn error(&self) -> Result<Option<String>> {
        self.meta(ERROR_KEY)
    }

    pub fn vector(&self, embed_hash: &str) -> Result<Option<Vec<f32>>> {
        let blob: Option<Vec<u8>> = self
            .conn
            .query_row("SELECT vector FROM vectors WHERE embed_hash = ?1", [embed_hash], |r| r.get(0))
            .optional()
            .at(&self.path)?;
        Ok(blob.map(|b| decode(&b)))
    }
}

pub fn encode(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub fn decode(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

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
    let stamp = crate::flat::current_stamp(catalog)?;
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
    let (indexed_at, version) = crate::flat::current_stamp(catalog)?;
    let (chunks, embedded) = count_coverage(catalog)?;
    store.set_meta(COVERAGE_KEY, Some(&format!("{indexed_at}:{version}:{chunks}:{embedded}")))
}

/// 1 GiB of address space: the vectors of ~700k chunks of 384 dimensions.
const VECTORS_MMAP_BYTES: i64 = 1 << 30;

pub(crate) fn attach(catalog: &Catalog, vectors: &Path) -> Result<()> {
    let attached: bool = catalog
        .conn
        .query_row("SELECT count(*) FROM pragma_database_list WHERE name = 'vec'", [], |r| r.get::<_, i64>(0))
        .at(&catalog.path)?
        > 0;
    if !attached {
        let path = vectors.to_string_lossy().into_owned();
        catalog.conn.execute("ATTACH DATABASE ?1 AS vec", [path]).at(&catalog.path)?;
        // Every query over vectors reads all of them; through a memory map the pages are not
        // copied into SQLite's cache first (52 MB per search at 10k notes). Reserved address
        // space only; the kernel shares the pages with the file cache.
        catalog.conn.pragma_update(Some("vec"), "mmap_size", VECTORS_MMAP_BYTES).at(&catalog.path)?;
    }
    Ok(())
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
    let Some(embedder) = configured_embedder(index)? else {
        return Ok(EmbedReport::default());
    };
    let id = embedder.id().to_string();
    let layout = index.layout();
    let catalog =
        Catalog::open(&layout.catalog)?.ok_or_else(|| IndexError::Missing { path: layout.catalog.clone() })?;
    let store = VectorStore::open(&layout.vectors)?;
    {
        let _lock = WriterLock::acquire(&layout.lock, wait)?;
        let stored = store.embedder()?;
        if reembed || stored.is_none() {
            let tx = store.conn.unchecked_transaction().at(&store.path)?;
            tx.execute("DELETE FROM vectors", []).at(&store.path)?;
            bump_version(&tx, "main", &store.path)?;
            tx.commit().at(&store.path)?;
            crate::flat::forget(&layout.flat_vectors);
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
    if crate::flat::refresh(&catalog, &layout.flat_vectors).is_err() {
        crate::flat::forget(&layout.flat_vectors);
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

/// The query's embedding, being computed on another thread.
pub(crate) type PendingQuery<'scope> = std::thread::ScopedJoinHandle<'scope, exo_embed::Result<Vec<Vec<f32>>>>;

/// The vector signal over the stored chunk vectors: exact search (cosine of unit vectors)
/// over every chunk. The query is embedded on another thread while the vectors are read.
pub struct StoredVectors<'a, 'scope> {
    pub(crate) catalog: &'a Catalog,
    pub(crate) query_vector: std::cell::RefCell<Option<PendingQuery<'scope>>>,
    pub(crate) flat_path: std::path::PathBuf,
}

impl StoredVectors<'_, '_> {
    fn query_vector(&self) -> Result<Vec<f32>> {
        let handle = self.query_vector.borrow_mut().take();
        let embedded = match handle.map(|h| h.join()) {
            Some(Ok(result)) => result.map_err(|e| IndexError::Invalid(format!("cannot embed the query: {e}")))?,
            _ => return Err(IndexError::Invalid("cannot embed the query".into())),
        };
        Ok(embedded.into_iter().next().unwrap_or_default())
    }
}

impl crate::search::VectorSearch for StoredVectors<'_, '_> {
    fn nearest(&self, _query: &str, k: usize) -> Result<Vec<(String, f32, usize)>> {
        // Read while the query is still being embedded.
        let flat = crate::flat::current_stamp(self.catalog)
            .ok()
            .and_then(|stamp| crate::flat::FlatVectors::load(&self.flat_path, stamp));
        let query_vector = self.query_vector()?;
        let mut by_score = match flat.and_then(|flat| flat.best_per_note(&query_vector)) {
            Some(best) => best,
            None => self.best_per_note_from_sqlite(&query_vector)?,
        };
        let mut paths =
            self.catalog.conn.prepare_cached("SELECT path FROM notes WHERE id = ?1").at(&self.catalog.path)?;
        // Ties at the cut are broken by path below, so keep every note tied with the k-th.
        // A selection, not a sort: at 100k notes only the top hundred need ordering.
        let cut = match k {
            0 => f32::INFINITY,
            k if k >= by_score.len() => f32::NEG_INFINITY,
            k => by_score.select_nth_unstable_by(k - 1, |a, b| b.1.total_cmp(&a.1)).1.1,
        };
        let mut ranked: Vec<(String, f32, usize)> = Vec::new();
        for (note, cosine, seq) in by_score.into_iter().filter(|x| x.1 >= cut) {
            // A row may name a note deleted since (a writer between two reads): skip it.
            if let Some(path) = paths.query_row([note], |r| r.get(0)).optional().at(&self.catalog.path)? {
                ranked.push((path, cosine, seq));
            }
        }
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked.truncate(k);
        Ok(ranked)
    }
}

impl StoredVectors<'_, '_> {
    /// Each note's best chunk, (note id, cosine, seq), from the f32 blobs in SQLite: for
    /// when the flat file is missing or from another state.
    fn best_per_note_from_sqlite(&self, query_vector: &[f32]) -> Result<Vec<(i64, f32, usize)>> {
        // Tens of thousands of probes by 64-character hash per search: foldhash, not SipHash.
        type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
        let path = &self.catalog.path;
        let mut owners: HashMap<String, Vec<(i64, usize)>> = HashMap::default();
        let mut stmt = self.catalog.conn.prepare_cached("SELECT note_id, seq, embed_hash FROM chunks").at(path)?;
        let mut rows = stmt.query([]).at(path)?;
        while let Some(row) = rows.next().at(path)? {
            let hash = row.get_ref(2).at(path)?.as_str().unwrap_or("");
            let owner = (row.get::<_, i64>(0).at(path)?, row.get::<_, i64>(1).at(path)? as usize);
            match owners.get_mut(hash) {
                Some(list) => list.push(owner),
                None => {
                    owners.insert(hash.to_string(), vec![owner]);
                }
            }
        }
        let mut best: HashMap<i64, (f32, usize)> = HashMap::default();
        let mut stmt = self.catalog.conn.prepare_cached("SELECT embed_hash, vector FROM vec.vectors").at(path)?;
        let mut rows = stmt.query([]).at(path)?;
        while let Some(row) = rows.next().at(path)? {
            let hash = row.get_ref(0).at(path)?.as_str().unwrap_or("");
            let Some(list) = owners.get(hash) else { continue };
            let cosine = dot_le(row.get_ref(1).at(path)?.as_blob().unwrap_or(&[]), query_vector);
            for &(note, seq) in list {
                let entry = best.entry(note).or_insert((f32::NEG_INFINITY, 0));
                if cosine > entry.0 || (cosine == entry.0 && seq < entry.1) {
                    *entry = (cosine, seq);
                }
            }
        }
        Ok(best.into_iter().map(|(note, (cosine, seq))| (note, cosine, seq)).collect())
    }
}

/// The configured embedder when the store holds vectors from it (cheap: no counting), or
/// why the vectors cannot be used, as a sentence for the reader: the one place search and
/// the garden learn whether vectors are there.
pub(crate) fn ready_embedder(index: &Index, catalog: &Catalog) -> Result<Result<Box<dyn Embedder>, String>> {
    let Some(embedder) = configured_embedder(index)? else {
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

/// Dot product of a little-endian f32 blob with a vector, without decoding into a Vec.
fn dot_le(blob: &[u8], vector: &[f32]) -> f32 {
    dot_encoded(blob, vector, f32::from_le_bytes)
}

/// Dot product of `vector` with the values encoded in `bytes`, `WIDTH` bytes each, over
/// their common length. Eight running sums, not one: a single sum is a chain of dependent
/// adds the compiler may not reorder, and this runs over every stored vector on every search.
#[inline(always)]
pub(crate) fn dot_encoded<const WIDTH: usize>(
    bytes: &[u8],
    vector: &[f32],
    decode: impl Fn([u8; WIDTH]) -> f32,
) -> f32 {
    const LANES: usize = 8;
    let len = (bytes.len() / WIDTH).min(vector.len());
    let (bytes, vector) = (&bytes[..WIDTH * len], &vector[..len]);
    let value = |b: &[u8]| decode(std::array::from_fn(|i| b[i]));
    let mut sums = [0.0f32; LANES];
    let (byte_blocks, vector_blocks) = (bytes.chunks_exact(WIDTH * LANES), vector.chunks_exact(LANES));
    let (byte_tail, vector_tail) = (byte_blocks.remainder(), vector_blocks.remainder());
    for (block, values) in byte_blocks.zip(vector_blocks) {
        for lane in 0..LANES {
            sums[lane] += value(&block[WIDTH * lane..WIDTH * lane + WIDTH]) * values[lane];
        }
    }
    let tail: f32 = byte_tail.chunks_exact(WIDTH).zip(vector_tail).map(|(b, v)| value(b) * v).sum();
    sums.iter().sum::<f32>() + tail
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
    let catalog =
        Catalog::open(&layout.catalog)?.ok_or_else(|| IndexError::Missing { path: layout.catalog.clone() })?;
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
mod dot_tests {
    use super::dot_le;

    #[test]
    fn dot_of_a_blob_matches_the_plain_sum() {
        for len in [0, 1, 7, 8, 9, 17, 384] {
            let a: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11).cos()).collect();
            let blob: Vec<u8> = a.iter().flat_map(|x| x.to_le_bytes()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot_le(&blob, &b) - plain).abs() < 1e-4, "len {len}");
        }
        // A blob of other dimensions is compared over the common prefix, never read past.
        let blob: Vec<u8> = [1.0f32, 2.0, 3.0].iter().flat_map(|x| x.to_le_bytes()).collect();
        assert_eq!(dot_le(&blob, &[1.0, 1.0]), 3.0);
        assert_eq!(dot_le(&blob[..8], &[1.0, 1.0, 1.0, 1.0]), 3.0);
    }
}
