//! The vector signal: the chunk vectors against the query's, best chunk per note, from the
//! flat int8 copy when it is current (exactly, or past a size a coarse pass over sign codes
//! first, `store/flat.rs`) and from the f32 blobs in SQLite otherwise. The query is embedded
//! on another thread while the vectors are mapped in.

use rusqlite::OptionalExtension;

use crate::error::{IndexError, Result, SqlContext};
use crate::store::catalog::Catalog;
use crate::store::vector_store::dot_le;

/// The query's embedding, being computed on another thread.
pub(crate) type PendingQuery<'scope> = std::thread::ScopedJoinHandle<'scope, exo_embed::Result<Vec<Vec<f32>>>>;

/// The vector signal over the stored chunk vectors (cosine of unit vectors): exact over every
/// chunk in small indexes, coarse then exact past `flat::COARSE_FROM_ROWS` rows. The query
/// is embedded on another thread while the vectors are read.
pub struct StoredVectors<'a, 'scope> {
    pub(crate) catalog: &'a Catalog,
    pub(crate) query_vector: std::cell::RefCell<Option<PendingQuery<'scope>>>,
    pub(crate) flat_path: std::path::PathBuf,
}

impl StoredVectors<'_, '_> {
    fn query_vector(&self) -> Result<Vec<f32>> {
        let handle = self.query_vector.borrow_mut().take();
        let embedded = match handle.map(|h| h.join()) {
            Some(Ok(result)) => result.map_err(|e| IndexError::QueryEmbedding(e.to_string()))?,
            _ => return Err(IndexError::QueryEmbedding("the embedding thread stopped".into())),
        };
        Ok(embedded.into_iter().next().unwrap_or_default())
    }
}

impl crate::search::VectorSearch for StoredVectors<'_, '_> {
    fn nearest(&self, _query: &str, k: usize) -> Result<Vec<(String, f32, usize)>> {
        // Read while the query is still being embedded.
        let flat = crate::store::flat::current_stamp(self.catalog)
            .ok()
            .and_then(|stamp| crate::store::flat::FlatVectors::load(&self.flat_path, stamp));
        let query_vector = self.query_vector()?;
        let mut by_score = match flat.and_then(|flat| flat.nearest_notes(&query_vector, k)) {
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
