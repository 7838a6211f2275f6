//! The graph signal: notes linked to or from the strongest hits, scored by how strong the
//! hits they neighbour are. A note that several good hits point at is probably relevant
//! even when it shares no words with the query.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::{Result, SqlContext};
use crate::store::catalog::Catalog;

use super::fuse::Fused;

/// How many of the best fused hits seed the walk.
const SEEDS: usize = 10;
/// A neighbour earns this share of its seed's strength.
const DECAY: f32 = 0.5;

const NEIGHBOURS: &str = "
    SELECT n2.path FROM notes n1 JOIN links l ON l.src_id = n1.id JOIN notes n2 ON n2.id = l.dst_id
     WHERE n1.path = ?1 AND n2.id != n1.id
    UNION
    SELECT n2.path FROM notes n1 JOIN links l ON l.dst_id = n1.id JOIN notes n2 ON n2.id = l.src_id
     WHERE n1.path = ?1 AND n2.id != n1.id";

/// (path, score) best first, at most `limit`.
pub fn neighbours(catalog: &Catalog, fused: &[Fused], limit: usize) -> Result<Vec<(String, f32)>> {
    let seeds = &fused[..fused.len().min(SEEDS)];
    let Some(top) = seeds.first().map(|s| s.score).filter(|s| *s > 0.0) else {
        return Ok(Vec::new());
    };
    let mut stmt = catalog.conn.prepare_cached(NEIGHBOURS).at(&catalog.path)?;
    let mut scores: BTreeMap<String, f32> = BTreeMap::new();
    for seed in seeds {
        let strength = seed.score / top * DECAY;
        let paths = stmt
            .query_map([&seed.path], |r| r.get::<_, String>(0))
            .at(&catalog.path)?
            .collect::<rusqlite::Result<BTreeSet<String>>>()
            .at(&catalog.path)?;
        for path in paths {
            *scores.entry(path).or_insert(0.0) += strength;
        }
    }
    let mut list: Vec<(String, f32)> = scores.into_iter().collect();
    list.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list.truncate(limit);
    Ok(list)
}
