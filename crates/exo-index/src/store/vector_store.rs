//! `.exo/vectors.sqlite`: chunk vectors by content key, with the embedder that made them, a
//! `version` moved by every write (so the flat copy can tell it is stale), the coverage
//! counts of the last fill and its last error. Kept apart from the catalog: vectors are
//! expensive and content-addressed, so a catalog rebuild must not throw them away.

use std::path::Path;
use std::time::Duration;

use exo_embed::{EmbedSettings, Embedder};
use exo_vault::Vault;
use rusqlite::{Connection, OptionalExtension};

use crate::error::{IndexError, Result, SqlContext};
use crate::store::catalog::Catalog;

/// The store's tables, and the triggers that move `version` on every insert, update or
/// delete of a vector row, whoever writes it: a write that forgot to move it would leave a
/// stale flat copy looking current. Run on every open, so a store written before the
/// triggers existed gains them the first time this version opens it (nothing to rebuild:
/// the tables are unchanged). No `OR IGNORE` in them: an outer `INSERT OR REPLACE` overrides
/// a trigger's conflict clause, and would reset the version instead of moving it.
pub(crate) const CREATE: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vectors (embed_hash TEXT PRIMARY KEY, vector BLOB NOT NULL);
CREATE TRIGGER IF NOT EXISTS vectors_version_insert AFTER INSERT ON vectors BEGIN
  INSERT INTO meta(key, value) SELECT 'version', '0' WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'version');
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version';
END;
CREATE TRIGGER IF NOT EXISTS vectors_version_update AFTER UPDATE ON vectors BEGIN
  INSERT INTO meta(key, value) SELECT 'version', '0' WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'version');
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version';
END;
CREATE TRIGGER IF NOT EXISTS vectors_version_delete AFTER DELETE ON vectors BEGIN
  INSERT INTO meta(key, value) SELECT 'version', '0' WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'version');
  UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version';
END;";

pub(crate) const EMBEDDER_KEY: &str = "embedder";
/// Moved by every change to a vector row (the triggers in [`CREATE`]), so a flat copy can tell
/// it is stale.
pub(crate) const VERSION_KEY: &str = "version";
/// "catalog indexed_at:version:chunks:embedded", written at the end of a fill.
pub(crate) const COVERAGE_KEY: &str = "coverage";
pub(crate) const ERROR_KEY: &str = "error";
/// Names this store among others (set once, by the first fill): a catalog's record of the
/// state a fill left (`vectors_settled`) holds for this store only.
pub(crate) const STORE_ID_KEY: &str = "store_id";

/// The embedder exo.toml configures; None when vectors are off (`provider = "none"`).
pub fn configured_embedder(vault: &Vault) -> Result<Option<Box<dyn Embedder>>> {
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
    pub(crate) path: std::path::PathBuf,
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

    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional().at(&self.path)
    }

    pub(crate) fn set_meta(&self, key: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) => self
                .conn
                .execute("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, v])
                .at(&self.path)?,
            None => self.conn.execute("DELETE FROM meta WHERE key = ?1", [key]).at(&self.path)?,
        };
        Ok(())
    }

    /// The store's version: moved by every change to a vector row.
    pub(crate) fn version(&self) -> Result<i64> {
        Ok(self.meta(VERSION_KEY)?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// This store's id, made up the first time it is asked for (by the writer).
    pub(crate) fn id(&self) -> Result<String> {
        if let Some(id) = self.meta(STORE_ID_KEY)? {
            return Ok(id);
        }
        let id = format!("{:x}", exo_vault::now_ns() ^ i64::from(std::process::id()) << 40);
        self.set_meta(STORE_ID_KEY, Some(&id))?;
        Ok(id)
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

/// Dot product of a little-endian f32 blob with a vector, without decoding into a Vec.
pub(crate) fn dot_le(blob: &[u8], vector: &[f32]) -> f32 {
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
