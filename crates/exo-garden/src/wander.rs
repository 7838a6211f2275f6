//! The wanderer: pairs of notes far apart — other top folders, other times, other words, no
//! link path within three hops — for a person or an agent to read side by side. "Nothing
//! connects" is a fine answer; the point is to look where links never lead. A seed makes
//! the walk repeatable.

use std::collections::{BTreeSet, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

use exo_index::graph::Graph;
use exo_vault::Vault;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use serde::Serialize;

use crate::prose::{PerNote, Prose};
use crate::settings::GardenSettings;

/// Pairs closer than this many links are not distant.
const MIN_HOPS: usize = 4;
/// How far to look for the actual distance, for the evidence.
const MEASURE_HOPS: usize = 8;
/// Random pairs drawn per pair wanted; the most distant ones are kept.
const DRAWS_PER_PAIR: usize = 40;
/// At most this many draws, however many pairs are asked for: each one walks the graph up
/// to 8 hops, and `--pairs 99999999` once kept exo busy for minutes. A hundred pairs' worth.
const MAX_DRAWS: usize = 100 * DRAWS_PER_PAIR;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Wander {
    pub seed: u64,
    pub pairs: Vec<Pair>,
    /// Why fewer pairs than asked came back, if they did.
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Pair {
    pub a: Side,
    pub b: Side,
    pub distance: Distance,
    /// What to do with the pair.
    pub prompt: String,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Side {
    pub path: String,
    pub title: String,
    pub folder: String,
    pub date: Option<String>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Distance {
    pub different_folders: bool,
    /// Days between the notes' dates (frontmatter `created`/`updated`/`date`, or a date in
    /// the file name); None when either has no date.
    pub days_apart: Option<u64>,
    /// Jaccard overlap of the two notes' word sets (words of 4+ letters).
    pub vocabulary_overlap: f32,
    pub shared_words: Vec<String>,
    /// Links between them by the shortest path (either direction, not through the [garden]
    /// roots, which link to everything); None: not within 8.
    pub hops: Option<usize>,
    /// The sum that ranked the pair: folder (0/1) + time (0..1) + unshared words (0..1).
    pub score: f32,
}

pub fn wander(vault: &Vault, graph: &Graph, settings: &GardenSettings, pairs: usize, seed: u64) -> Wander {
    if pairs == 0 {
        return Wander { seed, pairs: Vec::new(), note: None };
    }
    let (hubs, eligible): (Vec<usize>, Vec<usize>) =
        (0..graph.notes().len()).partition(|&id| settings.roots.contains(&graph.note(id).path));
    if eligible.len() < 2 {
        return Wander { seed, pairs: Vec::new(), note: Some("fewer than two notes to pair".into()) };
    }
    // A note is in one pair at most, so n notes make at most n/2 pairs.
    let possible = eligible.len() / 2;
    let wanted = pairs.min(possible);
    let candidates = draw(graph, &hubs, &eligible, &mut PerNote::new(vault, graph, prose_words), wanted, seed);
    let mut used = HashSet::new();
    let mut chosen = Vec::new();
    for (a, b, distance) in candidates {
        if chosen.len() == wanted {
            break;
        }
        if used.contains(&a) || used.contains(&b) {
            continue;
        }
        used.extend([a, b]);
        chosen.push(pair(graph, a, b, distance));
    }
    let at_most = format!("{} notes make at most {possible} pairs (each note is in one pair)", eligible.len());
    let note = match (chosen.len() < wanted, wanted < pairs) {
        (false, false) => None,
        (false, true) => Some(at_most),
        (true, capped) => {
            let found = format!("found {} of {pairs} pairs with no link path under {MIN_HOPS} hops", chosen.len());
            Some(if capped { format!("{found}; {at_most}") } else { found })
        }
    };
    Wander { seed, pairs: chosen, note }
}

/// Distinct random pairs far enough apart, most distant first: enough draws to choose
/// `wanted` pairs from, bounded by [`MAX_DRAWS`] and by how many distinct pairs there are.
fn draw(
    graph: &Graph,
    hubs: &[usize],
    eligible: &[usize],
    words: &mut PerNote<BTreeSet<String>>,
    wanted: usize,
    seed: u64,
) -> Vec<(usize, usize, Distance)> {
    let n = eligible.len();
    let distinct = n.saturating_mul(n - 1) / 2;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut seen = HashSet::new();
    let mut candidates = Vec::new();
    for _ in 0..wanted.saturating_mul(DRAWS_PER_PAIR).min(MAX_DRAWS) {
        if seen.len() == distinct {
            break;
        }
        let a = eligible[(rng.next_u64() % n as u64) as usize];
        let b = eligible[(rng.next_u64() % n as u64) as usize];
        let (a, b) = (a.min(b), a.max(b));
        if a == b || !seen.insert((a, b)) {
            continue;
        }
        if let Some(distance) = measure(graph, hubs, words, (a, b)) {
            candidates.push((a, b, distance));
        }
    }
    candidates.sort_by(|x, y| y.2.score.total_cmp(&x.2.score).then((x.0, x.1).cmp(&(y.0, y.1))));
    candidates
}

fn measure(
    graph: &Graph,
    hubs: &[usize],
    words: &mut PerNote<BTreeSet<String>>,
    (a, b): (usize, usize),
) -> Option<Distance> {
    let hops = graph.distances_avoiding(a, MEASURE_HOPS, hubs).get(&b).copied();
    if hops.is_some_and(|h| h < MIN_HOPS) {
        return None;
    }
    let different_folders = folder(&graph.note(a).path) != folder(&graph.note(b).path);
    let days_apart = match (note_day(graph, a), note_day(graph, b)) {
        (Some(x), Some(y)) => Some(x.abs_diff(y)),
        _ => None,
    };
    let (wa, wb) = words.pair(a, b);
    let shared: Vec<String> = wa.intersection(wb).take(8).cloned().collect();
    let union = wa.union(wb).count().max(1);
    let overlap = wa.intersection(wb).count() as f32 / union as f32;
    let time = days_apart.map_or(0.5, |d| (d as f32 / 365.0).min(1.0));
    let score = f32::from(u8::from(different_folders)) + time + (1.0 - overlap);
    Some(Distance {
        different_folders,
        days_apart,
        vocabulary_overlap: (overlap * 1000.0).round() / 1000.0,
        shared_words: shared,
        hops,
        score: (score * 1000.0).round() / 1000.0,
    })
}

fn pair(graph: &Graph, a: usize, b: usize, distance: Distance) -> Pair {
    let side = |id: usize| {
        let note = graph.note(id);
        Side {
            path: note.path.clone(),
            title: note.title.clone(),
            folder: folder(&note.path).to_string(),
            date: note_date(graph, id),
        }
    };
    let (a, b) = (side(a), side(b));
    let prompt = format!(
        "Read {} and {}. Is there a real connection (an idea one could borrow from the other, a shared cause, a contradiction)? If so, add a link with a sentence saying what it is; if not, say \"nothing connects\".",
        a.path, b.path
    );
    Pair { a, b, distance, prompt }
}

fn folder(path: &str) -> &str {
    path.split_once('/').map_or("(root)", |(top, _)| top)
}

fn note_date(graph: &Graph, id: usize) -> Option<String> {
    let note = graph.note(id);
    [note.created.as_deref(), note.updated.as_deref(), Some(note.path.as_str())]
        .into_iter()
        .flatten()
        .find_map(find_date)
}

fn note_day(graph: &Graph, id: usize) -> Option<i64> {
    note_date(graph, id).and_then(|d| days_from_date(&d))
}

/// The first `YYYY-MM-DD` in the text.
fn find_date(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(9)).find_map(|i| {
        let candidate = text.get(i..i + 10)?;
        days_from_date(candidate).map(|_| candidate.to_string())
    })
}

/// Days since 1970-01-01 for a valid `YYYY-MM-DD` (on or after it).
fn days_from_date(date: &str) -> Option<i64> {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let time = humantime::parse_rfc3339(&format!("{date}T00:00:00Z")).ok()?;
    Some((time.duration_since(UNIX_EPOCH).ok()?.as_secs() / 86_400) as i64)
}

/// Today's date (UTC) as the number YYYYMMDD: the seed when none is given, so a day has one
/// walk.
pub fn default_seed() -> u64 {
    let today = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    today.get(..10).unwrap_or_default().replace('-', "").parse().unwrap_or(0)
}

/// The words of 4+ letters in a note's prose (frontmatter keys and code are not vocabulary).
fn prose_words(prose: &Prose) -> BTreeSet<String> {
    prose
        .words()
        .filter(|w| w.chars().count() >= 4 && !w.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .collect()
}

/// English function words long enough to pass the length filter; sharing them says nothing.
const STOPWORDS: &[&str] = &[
    "about", "after", "again", "also", "been", "before", "being", "both", "could", "does", "each", "even", "every",
    "from", "have", "here", "into", "just", "like", "many", "more", "most", "much", "must", "only", "other", "over",
    "same", "should", "some", "such", "than", "that", "their", "them", "then", "there", "these", "they", "this",
    "those", "through", "very", "want", "were", "what", "when", "where", "which", "while", "will", "with", "would",
    "your",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(days_from_date("1970-01-01"), Some(0));
        assert_eq!(days_from_date("2024-03-01"), Some(19783));
        assert_eq!(days_from_date("2024-13-01"), None);
        assert_eq!(find_date("daily/2024-03-02 retrieval practice.md").as_deref(), Some("2024-03-02"));
        assert_eq!(find_date("no date"), None);
        let seed = default_seed();
        assert!((20_000_101..30_000_101).contains(&seed), "{seed}");
    }

    #[test]
    fn folders() {
        assert_eq!(folder("concepts/a.md"), "concepts");
        assert_eq!(folder("index.md"), "(root)");
    }
}
