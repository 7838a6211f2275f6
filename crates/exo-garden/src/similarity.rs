//! Similar-but-unlinked pairs and near-duplicates. Vectors find the pairs (the cosine of the
//! notes' mean chunk vectors, every pair compared exactly, so the result is deterministic);
//! text decides which of them are near-duplicates: the share of the shorter note's word
//! trigrams that the other note also has. Topical neighbours share words but few trigrams;
//! a copied and lightly edited note shares most of them, whatever the model thinks.

use std::collections::BTreeSet;

use exo_index::graph::Graph;
use exo_index::vectors::NoteVectors;
use exo_vault::Vault;
use rayon::prelude::*;
use serde_json::json;

use crate::prose::{PerNote, Prose, hash_word, push_lowercase};
use crate::report::{Finding, Kind, Severity};
use crate::settings::GardenSettings;

/// The findings, or why the check could not run.
pub fn detect(
    vault: &Vault,
    graph: &Graph,
    settings: &GardenSettings,
    vectors: NoteVectors,
) -> Result<Vec<Finding>, String> {
    let vectors = match vectors {
        NoteVectors::Unavailable(reason) => return Err(reason),
        NoteVectors::Ready(vectors) => vectors,
    };
    let notes: Vec<(usize, Vec<f32>)> =
        vectors.into_iter().filter_map(|(path, v)| graph.by_path(&path).map(|id| (id, v))).collect();
    let pairs = similar_pairs(&notes, settings.similar_min);
    let mut trigrams = PerNote::new(vault, graph, trigrams);
    Ok(pairs
        .into_iter()
        .filter_map(|(a, b, cosine)| {
            let (ta, tb) = trigrams.pair(a, b);
            finding(graph, settings, (a, b), cosine, shared_trigrams(ta, tb))
        })
        .collect())
}

/// Notes compared per block: one block's row of cosines (BLOCK × notes floats) is the only
/// large buffer, 10 MB at 10k notes.
const BLOCK: usize = 256;

/// Every pair at or above `min` cosine, as (note, note, cosine) with the smaller id first.
/// The cosines are a matrix product of the unit vectors with themselves, computed a block of
/// rows at a time with an SGEMM (AVX2/FMA when the CPU has them), upper triangle only.
fn similar_pairs(notes: &[(usize, Vec<f32>)], min: f32) -> Vec<(usize, usize, f32)> {
    let Some(dims) = notes.first().map(|(_, v)| v.len()) else { return Vec::new() };
    let notes: Vec<&(usize, Vec<f32>)> = notes.iter().filter(|(_, v)| v.len() == dims && dims > 0).collect();
    let matrix: Vec<f32> = notes.iter().flat_map(|(_, v)| v.iter().copied()).collect();
    let count = notes.len();
    let starts: Vec<usize> = (0..count).step_by(BLOCK).collect();
    starts
        .into_par_iter()
        .flat_map_iter(|start| {
            let cosines = block_cosines(&matrix, dims, count, start);
            let cols = count - start;
            let mut pairs = Vec::new();
            for (r, row) in cosines.chunks_exact(cols).enumerate() {
                for c in (r + 1)..cols {
                    if row[c] >= min {
                        let (a, b) = (notes[start + r].0, notes[start + c].0);
                        pairs.push((a.min(b), a.max(b), row[c]));
                    }
                }
            }
            pairs
        })
        .collect()
}

/// Cosines of rows `start..start+BLOCK` with rows `start..count` (row-major, `cols` wide).
fn block_cosines(matrix: &[f32], dims: usize, count: usize, start: usize) -> Vec<f32> {
    let rows = BLOCK.min(count - start);
    let cols = count - start;
    let mut out = vec![0.0f32; rows * cols];
    let block = &matrix[start * dims..];
    // SAFETY: A is `rows` × `dims` read from `block` with strides (dims, 1); B is `dims` ×
    // `cols`, the transpose of `cols` rows of `block`, strides (1, dims); C is `rows` × `cols`
    // in `out` with strides (cols, 1). `block` holds (count - start) * dims = cols * dims
    // floats, which covers every index of A (rows <= cols) and of B, and `out` has
    // rows * cols elements.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            dims,
            cols,
            1.0,
            block.as_ptr(),
            dims as isize,
            1,
            block.as_ptr(),
            1,
            dims as isize,
            0.0,
            out.as_mut_ptr(),
            cols as isize,
            1,
        );
    }
    out
}

fn finding(
    graph: &Graph,
    settings: &GardenSettings,
    (a, b): (usize, usize),
    cosine: f32,
    shared: f32,
) -> Option<Finding> {
    let (first, second) = (graph.note(a), graph.note(b));
    let linked = graph.linked(a, b);
    let duplicate = shared >= settings.duplicate_min_shared;
    if !duplicate && linked {
        return None;
    }
    let cosine = (cosine * 1000.0).round() / 1000.0;
    let shared = (shared * 1000.0).round() / 1000.0;
    let evidence = json!({ "cosine": cosine, "shared_trigrams": shared, "linked": linked, "other": second.path });
    Some(if duplicate {
        Finding {
            kind: Kind::NearDuplicate,
            severity: Severity::Medium,
            path: first.path.clone(),
            related: vec![second.path.clone()],
            message: format!(
                "{} and {} say nearly the same thing ({:.0}% of the shorter one's word trigrams are in the other; cosine {cosine:.3})",
                first.path,
                second.path,
                shared * 100.0
            ),
            evidence,
            fix: format!(
                "merge {:?} and {:?} into one note and leave a link (or an alias) where the other was; if both must stay, link them and say how they differ",
                first.title, second.title
            ),
        }
    } else {
        Finding {
            kind: Kind::SimilarUnlinked,
            severity: Severity::Low,
            path: first.path.clone(),
            related: vec![second.path.clone()],
            message: format!(
                "{} and {} are about the same thing (cosine {cosine:.3}) but neither links to the other",
                first.path, second.path
            ),
            evidence,
            fix: format!(
                "read both; if they connect, link [[{}]] from {:?} (and back), saying how they relate",
                second.title, first.title
            ),
        }
    })
}

/// The share of the smaller trigram set found in the other (0 when either is empty).
fn shared_trigrams(ta: &BTreeSet<[u64; 3]>, tb: &BTreeSet<[u64; 3]>) -> f32 {
    let (small, large) = if ta.len() <= tb.len() { (ta, tb) } else { (tb, ta) };
    if small.is_empty() {
        return 0.0;
    }
    small.intersection(large).count() as f32 / small.len() as f32
}

/// A note's word trigrams, each word by its lowercase hash.
fn trigrams(prose: &Prose) -> BTreeSet<[u64; 3]> {
    let mut scratch = String::new();
    let words: Vec<u64> = prose
        .words()
        .map(|w| {
            scratch.clear();
            push_lowercase(w, &mut scratch);
            hash_word(&scratch)
        })
        .collect();
    words.windows(3).map(|w| [w[0], w[1], w[2]]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_above_threshold_in_id_order() {
        let unit = |x: f32, y: f32| {
            let n = (x * x + y * y).sqrt();
            vec![x / n, y / n]
        };
        let notes = vec![(2, unit(1.0, 0.0)), (0, unit(1.0, 0.1)), (1, unit(0.0, 1.0))];
        let pairs = similar_pairs(&notes, 0.9);
        assert_eq!(pairs.len(), 1);
        assert_eq!((pairs[0].0, pairs[0].1), (0, 2));
    }

    /// The blocked SGEMM agrees with plain dot products across block boundaries.
    #[test]
    fn blocked_product_matches_dot_products() {
        let count = BLOCK * 2 + 37;
        let mut state = 7u64;
        let mut next = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let notes: Vec<(usize, Vec<f32>)> = (0..count)
            .map(|i| {
                let v: Vec<f32> = (0..8).map(|_| next()).collect();
                let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                (i, v.into_iter().map(|x| x / n).collect())
            })
            .collect();
        let mut got = similar_pairs(&notes, 0.8);
        got.sort_by_key(|p| (p.0, p.1));
        let mut want = Vec::new();
        for i in 0..count {
            for j in i + 1..count {
                let dot: f32 = notes[i].1.iter().zip(&notes[j].1).map(|(x, y)| x * y).sum();
                if dot >= 0.8 {
                    want.push((i, j, dot));
                }
            }
        }
        assert!(!want.is_empty());
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!((g.0, g.1), (w.0, w.1));
            assert!((g.2 - w.2).abs() < 1e-4);
        }
    }
}
