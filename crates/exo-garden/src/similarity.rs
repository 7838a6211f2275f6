//! Similar-but-unlinked pairs and near-duplicates. Vectors find the pairs (the cosine of the
//! notes' mean chunk vectors, every pair compared exactly, so the result is deterministic);
//! text decides which of them are near-duplicates: the share of the shorter note's word
//! trigrams that the other note also has. Topical neighbours share words but few trigrams;
//! a copied and lightly edited note shares most of them, whatever the model thinks.

use std::collections::{BTreeSet, HashMap};

use exo_index::Index;
use exo_index::graph::Graph;
use exo_index::vectors::{NoteVectors, note_vectors};
use exo_vault::Vault;
use rayon::prelude::*;
use serde_json::json;

use crate::error::GardenError;
use crate::report::{Finding, Kind, Severity};
use crate::settings::GardenSettings;

/// The findings, or why the check could not run.
pub fn detect(
    index: &Index,
    graph: &Graph,
    settings: &GardenSettings,
) -> Result<Result<Vec<Finding>, String>, GardenError> {
    let vectors = match note_vectors(index)? {
        NoteVectors::Unavailable(reason) => return Ok(Err(reason)),
        NoteVectors::Ready { vectors, .. } => vectors,
    };
    let notes: Vec<(usize, Vec<f32>)> =
        vectors.into_iter().filter_map(|(path, v)| graph.by_path(&path).map(|id| (id, v))).collect();
    let pairs = similar_pairs(&notes, settings.similar_min);
    let mut trigrams = Trigrams { vault: index.vault(), graph, cache: HashMap::new() };
    Ok(Ok(pairs
        .into_iter()
        .filter_map(|(a, b, cosine)| {
            let shared = trigrams.shared(a, b);
            finding(graph, settings, (a, b), cosine, shared)
        })
        .collect()))
}

/// Every pair at or above `min` cosine, as (note, note, cosine) with the smaller path first.
fn similar_pairs(notes: &[(usize, Vec<f32>)], min: f32) -> Vec<(usize, usize, f32)> {
    (0..notes.len())
        .into_par_iter()
        .flat_map_iter(|i| {
            let (a, va) = &notes[i];
            notes[i + 1..].iter().filter_map(move |(b, vb)| {
                let cosine: f32 = va.iter().zip(vb).map(|(x, y)| x * y).sum();
                (cosine >= min).then_some((*a.min(b), *a.max(b), cosine))
            })
        })
        .collect()
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

/// Each note's word trigrams, read from its file once.
struct Trigrams<'a> {
    vault: &'a Vault,
    graph: &'a Graph,
    cache: HashMap<usize, BTreeSet<[u64; 3]>>,
}

impl Trigrams<'_> {
    /// The share of the smaller trigram set found in the other (0 when either is empty).
    fn shared(&mut self, a: usize, b: usize) -> f32 {
        let (ta, tb) = (self.get(a), self.get(b));
        let (small, large) = if ta.len() <= tb.len() { (&ta, &tb) } else { (&tb, &ta) };
        if small.is_empty() {
            return 0.0;
        }
        small.intersection(large).count() as f32 / small.len() as f32
    }

    fn get(&mut self, id: usize) -> BTreeSet<[u64; 3]> {
        let (vault, graph) = (self.vault, self.graph);
        self.cache.entry(id).or_insert_with(|| note_trigrams(vault, &graph.note(id).path)).clone()
    }
}

fn note_trigrams(vault: &Vault, path: &str) -> BTreeSet<[u64; 3]> {
    let Ok(bytes) = std::fs::read(vault.root().join(path)) else { return BTreeSet::new() };
    let note = vault.parse(path, &bytes);
    let text = String::from_utf8_lossy(&bytes);
    let words: Vec<u64> = note
        .prose
        .iter()
        .filter_map(|span| text.get(span.start..span.end))
        .flat_map(|prose| prose.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(|w| word_id(&w.to_lowercase()))
        .collect();
    words.windows(3).map(|w| [w[0], w[1], w[2]]).collect()
}

fn word_id(word: &str) -> u64 {
    let hash = blake3::hash(word.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    u64::from_le_bytes(first)
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
}
