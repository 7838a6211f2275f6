//! Similar-but-unlinked pairs and near-duplicates. Vectors find the pairs (the cosine of the
//! notes' mean chunk vectors, every pair compared exactly, so the result is deterministic);
//! text decides which of them are near-duplicates: the share of the shorter note's word
//! trigrams that the other note also has. Topical neighbours share words but few trigrams;
//! a copied and lightly edited note shares most of them, whatever the model thinks.

use std::collections::{BTreeSet, HashMap};

use exo_index::graph::Graph;
use exo_index::vectors::NoteVectors;
use exo_vault::Vault;
use rayon::prelude::*;
use serde_json::json;

use crate::finding::{Finding, Kind, Severity};
use crate::hierarchy::{parent_and_child, series_pattern};
use crate::prose::{PerNote, Prose, hash_word, link_targets, push_lowercase, words_in};
use crate::settings::GardenSettings;

/// The findings, or why the check could not run.
pub fn detect(
    vault: &Vault,
    graph: &Graph,
    settings: &GardenSettings,
    vectors: &NoteVectors,
) -> Result<Vec<Finding>, String> {
    let vectors = match vectors {
        NoteVectors::Unavailable(reason) => return Err(reason.clone()),
        NoteVectors::Ready(vectors) => vectors,
    };
    let notes: Vec<(usize, &[f32])> =
        vectors.iter().filter_map(|(path, v)| graph.by_path(path).map(|id| (id, v.as_slice()))).collect();
    // Pairs a little under the threshold are read too: they say which third notes are as
    // near to both notes of a reported pair (`Family`).
    let (mut pairs, neighbours) = similar_pairs(&notes, settings.similar_min - FAMILY_SLACK, graph.notes().len());
    let mut family = Family::of(&pairs, graph.notes().len());
    pairs.retain(|&(_, _, cosine)| cosine >= settings.similar_min);
    pairs.shrink_to_fit();
    let names = PairNames::new(
        graph.notes().iter().map(|note| (note.title.as_str(), note.path.as_str(), note.aliases.as_slice())),
    );
    // What the paths say, once per note rather than once per pair (a dense vault's notes are
    // in hundreds of pairs each).
    let series: Vec<String> = graph.notes().iter().map(|note| series_pattern(&note.path)).collect();
    let readme: Vec<bool> = graph.notes().iter().map(|note| is_readme(&note.path)).collect();
    let mut texts = PerNote::new(vault, graph, NoteText::of);
    let mut measured: Vec<Measured> = pairs
        .into_iter()
        .filter_map(|(a, b, cosine)| {
            let (ta, tb) = texts.pair(a, b);
            // A drawing's labels are alike with whatever it pictures, and with other drawings.
            if ta.drawing || tb.drawing {
                return None;
            }
            let (na, nb) = (graph.note(a), graph.note(b));
            let shared = shared_trigrams(&ta.trigrams, &tb.trigrams);
            // A README is the page a forge shows visitors of the repository or the folder,
            // not a note on a topic: it is alike with whatever it introduces, and none of
            // the pairs with one on the labelled vaults (5) was worth acting on. A copy of
            // one is still a near-duplicate.
            if (readme[a] || readme[b]) && shared < settings.duplicate_min_shared {
                return None;
            }
            let mut standing = Standing::of(&neighbours, a, b, cosine);
            standing.parent_child = parent_and_child(&na.path, &nb.path);
            // A pair is two notes: their paths differ (`same_series`).
            standing.series = series[a] == series[b];
            standing.mentioned = names.said_in(b, ta) || names.said_in(a, tb);
            standing.referenced = ta.refers_to(&nb.path) || tb.refers_to(&na.path);
            standing.stub = na.word_count.min(nb.word_count) < settings.stub_words;
            standing.family = family.around(a, b, cosine);
            Some(Measured { pair: (a, b), cosine, shared, standing })
        })
        .collect();
    mark_echoes(&mut measured, settings.duplicate_min_shared, |id| {
        let note = graph.note(id);
        (note.word_count, note.path.as_str())
    });
    Ok(measured.iter().filter_map(|m| finding(graph, settings, m.pair, m.cosine, m.shared, &m.standing)).collect())
}

/// The names a note goes by when another note's text speaks of it: its title and its file
/// name, each only if no other note goes by it. A heading a template puts first in every
/// card ("# Overview" in 186 notes of one world-building vault, "# Definition" in a physics
/// one) is the title exo gives each of them, and every card says it: it named no note, and
/// made every pair of cards look like one note naming the other.
struct PairNames {
    /// For each note id, the names it alone goes by, keyed (`name_key`) between single
    /// spaces as `said_in` looks for them: made once, not once per pair.
    names: Vec<Vec<String>>,
}

impl PairNames {
    /// From each note's title, path and aliases, in note-id order. Names are compared as
    /// `said_in` reads them (words, any case, any punctuation between), and an
    /// alias is a name its note goes by: `Steam-bending.md` shares its name with a note titled
    /// "Steam bending" or aliased "steam bending", and neither names the other.
    fn new<'a>(notes: impl Iterator<Item = (&'a str, &'a str, &'a [String])>) -> PairNames {
        let mut spoken: Vec<Vec<String>> = Vec::new();
        let mut owners: HashMap<String, usize> = HashMap::new();
        for (title, path, aliases) in notes {
            let mut names: Vec<String> = [title, exo_vault::path::note_stem(path)].map(name_key).into();
            names.dedup();
            let mut every: Vec<&str> = names.iter().map(String::as_str).collect();
            let alias_keys: Vec<String> = aliases.iter().map(|a| name_key(a)).collect();
            every.extend(alias_keys.iter().map(String::as_str));
            every.sort_unstable();
            every.dedup();
            for key in every.into_iter().filter(|key| !key.is_empty()) {
                *owners.entry(key.to_string()).or_default() += 1;
            }
            // Under three letters a name says nothing.
            names.retain(|key| key.chars().count() >= 3);
            spoken.push(names);
        }
        let names = spoken
            .into_iter()
            .map(|names| {
                names.into_iter().filter(|key| owners.get(key) == Some(&1)).map(|key| format!(" {key} ")).collect()
            })
            .collect();
        PairNames { names }
    }

    fn of(&self, id: usize) -> impl Iterator<Item = &str> {
        self.names.get(id).into_iter().flatten().map(String::as_str)
    }

    /// Whether the text says one of the note's names, as whole words.
    fn said_in(&self, id: usize, text: &NoteText) -> bool {
        self.of(id).any(|spaced| text.words.contains(spaced))
    }
}

/// A name as `PairNames::said_in` looks for it: its words, lowercase, one space between.
fn name_key(name: &str) -> String {
    let mut key = String::new();
    for word in words_in(name) {
        if !key.is_empty() {
            key.push(' ');
        }
        push_lowercase(word, &mut key);
    }
    key
}

/// Whether the note is a README (`README.md`, `docs/readme.markdown`): a repository's or a
/// folder's front page.
fn is_readme(path: &str) -> bool {
    // `README.en.md`, a translated one, is a README too.
    exo_vault::path::note_stem(path).split('.').next().is_some_and(|stem| stem.eq_ignore_ascii_case("readme"))
}

/// Who is near each note, for telling a pair apart from a family of look-alikes: cards of
/// one kind filled from one template (timbers, energy sources, proofs of one rule each) are
/// as near to each other as to their siblings, and what a reader of one wants is the page
/// that lists them all, not a link to one sibling. In the first twenty pairs of each labelled
/// vault's report before this rule (17 vaults), pairs with two or more third notes as near to
/// both (within FAMILY_SLACK) were worth a link 38% of the time (10 of 26), the others 77%
/// (229 of 299).
struct Family {
    /// For each note id, its neighbours at or above the read threshold, nearest first
    /// (32-bit ids: the rows hold every pair read, twice).
    near: Vec<Vec<(u32, f32)>>,
    /// `stamps[id] == round` marks a note near the first of the pair being counted: one
    /// pass over each row's near end, no set built per pair.
    stamps: Vec<u32>,
    round: u32,
}

/// How much less near to both notes a third may be and still make the pair one of a family.
/// A third note nearer to both than they are to each other (a hub they both resemble) counts
/// too. Notes the pair check sets aside (drawings, READMEs) are counted like any other.
const FAMILY_SLACK: f32 = 0.06;

/// Third notes that make a pair one of a family: with one, two alternatives and the method
/// they share are a trio worth linking; with two or more, a set of cards.
const FAMILY_MIN: usize = 2;

impl Family {
    fn of(pairs: &[(usize, usize, f32)], notes: usize) -> Family {
        let mut near = vec![Vec::new(); notes];
        for &(a, b, cosine) in pairs {
            let (Ok(a32), Ok(b32)) = (u32::try_from(a), u32::try_from(b)) else { continue };
            if let Some(row) = near.get_mut(a) {
                row.push((b32, cosine));
            }
            if let Some(row) = near.get_mut(b) {
                row.push((a32, cosine));
            }
        }
        for row in &mut near {
            row.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        }
        Family { near, stamps: vec![0; notes], round: 0 }
    }

    /// The neighbours of `note` at least `bar` near: the head of its row. A dense vault's
    /// rows run to hundreds of notes; a pair's bar keeps only its few nearest.
    fn nearest(&self, note: usize, bar: f32) -> &[(u32, f32)] {
        let row = self.near.get(note).map_or(&[][..], Vec::as_slice);
        &row[..row.partition_point(|&(_, c)| c >= bar)]
    }

    /// How many third notes are near both `a` and `b`: at least `cosine - FAMILY_SLACK`.
    fn around(&mut self, a: usize, b: usize, cosine: f32) -> usize {
        let bar = cosine - FAMILY_SLACK;
        self.round = self.round.wrapping_add(1);
        if self.round == 0 {
            // Wrapped: old stamps could equal the new round.
            self.stamps.fill(0);
            self.round = 1;
        }
        let (near_a, near_b) = (self.nearest(a, bar).len(), self.nearest(b, bar).len());
        let Family { near, stamps, round, .. } = self;
        let row = |note: usize, len: usize| near.get(note).map_or(&[][..], |row| &row[..len]);
        let third = |id: u32| id as usize != a && id as usize != b;
        for &(id, _) in row(a, near_a).iter().filter(|&&(id, _)| third(id)) {
            if let Some(stamp) = stamps.get_mut(id as usize) {
                *stamp = *round;
            }
        }
        row(b, near_b).iter().filter(|&&(id, _)| third(id) && stamps.get(id as usize) == Some(round)).count()
    }
}

/// A candidate pair with what was measured of it.
struct Measured {
    pair: (usize, usize),
    cosine: f32,
    shared: f32,
    standing: Standing,
}

/// Marks each pair that repeats another's likeness: one of its notes holds a whole copy of
/// a third note (a compiled page holding it, a second copy of a list) that is at least as
/// near to the other. The pair with the copy says nothing the pair with the original does not;
/// the original (the shorter note, the one the copy was made of) keeps the finding.
/// `note` gives a note's word count and path; pairs sharing `duplicate_min_shared` of their
/// trigrams are near-duplicates, reported as such and never echoes.
fn mark_echoes<'a>(measured: &mut [Measured], duplicate_min_shared: f32, note: impl Fn(usize) -> (usize, &'a str)) {
    let cosines: HashMap<(usize, usize), f32> = measured.iter().map(|m| (m.pair, m.cosine)).collect();
    let cosine = |a: usize, b: usize| cosines.get(&(a.min(b), a.max(b))).copied();
    let mut copies: HashMap<usize, Vec<usize>> = HashMap::new();
    for m in measured.iter().filter(|m| m.shared >= COPY_MIN_SHARED) {
        copies.entry(m.pair.0).or_default().push(m.pair.1);
        copies.entry(m.pair.1).or_default().push(m.pair.0);
    }
    // The original of two copies: fewer words, then the first path.
    let before = |c: usize, a: usize| note(c) < note(a);
    for m in measured.iter_mut().filter(|m| m.shared < duplicate_min_shared) {
        let (a, b) = m.pair;
        let echo = |copy: usize, other: usize| {
            copies.get(&copy)?.iter().copied().find(|&original| {
                original != other
                    && before(original, copy)
                    && cosine(original, other).is_some_and(|c| c >= m.cosine - ECHO_SLACK)
            })
        };
        m.standing.echo = echo(a, b).or_else(|| echo(b, a)).map(|original| note(original).1.to_string());
    }
}

/// The share of a note's word trigrams another must hold to hold a copy of it. Near-
/// duplicates start at half (`duplicate_min_shared`), where two stat blocks of one template
/// already are; a compiled page holds all of each note it was made of.
const COPY_MIN_SHARED: f32 = 0.9;

/// How much nearer the copy may be to the other note than the original is, and still only
/// echo it: a compiled page adds a heading and its neighbours' text to the copy.
const ECHO_SLACK: f32 = 0.05;

/// What the pair check reads of a note's text.
#[derive(Default)]
struct NoteText {
    trigrams: BTreeSet<[u64; 3]>,
    /// The prose's words, lowercase, each between single spaces: " the forgetting curve ".
    words: String,
    /// What `[[…]]` and `](…)` in the raw text point at, lowercase, resolved or not.
    targets: Vec<String>,
    /// An Excalidraw drawing: labels of a picture, not text to compare.
    drawing: bool,
}

impl NoteText {
    fn of(prose: &Prose) -> NoteText {
        let mut words = String::from(" ");
        for word in prose.words() {
            push_lowercase(word, &mut words);
            words.push(' ');
        }
        NoteText {
            trigrams: trigrams(prose),
            words,
            targets: link_targets(&prose.text),
            drawing: prose.note.is_drawing(),
        }
    }

    /// Some link or URL in the text names the other note's file: the notes are connected in
    /// a form the graph does not resolve (Dendron's `[[label|file.name]]`, a `dendron://`
    /// link, a link to the file on GitHub), so there is no link to add.
    fn refers_to(&self, path: &str) -> bool {
        let name = path.rsplit('/').next().unwrap_or(path);
        let stem = name.strip_suffix(".md").unwrap_or(name).to_lowercase();
        if stem.chars().count() < 3 {
            return false;
        }
        let edge = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric() && c != '-' && c != '_' && c != '.');
        self.targets.iter().any(|target| {
            target.match_indices(&stem).any(|(at, _)| {
                let after = &target[at + stem.len()..];
                edge(target[..at].chars().next_back()) && (edge(after.chars().next()) || after.starts_with(".md"))
            })
        })
    }
}

/// Notes compared per block: one block's row of cosines (BLOCK × notes floats) is the only
/// large buffer, 10 MB at 10k notes.
const BLOCK: usize = 256;

/// How many nearest neighbours make a note's neighbourhood. Two notes each among the
/// other's few nearest stand out from their surroundings; two notes in a crowd of
/// look-alikes (one product's pages) are only "the same area".
const NEIGHBOURS: usize = 8;

/// Each note's NEIGHBOURS highest cosines with other notes, highest first, in one flat table
/// (NEG_INFINITY where a note has fewer neighbours): every computed cosine is offered to two
/// rows, 100 million offers at 10k notes, so a row must be one cache line away and most
/// offers must end at one compare with its last entry.
#[derive(Debug, Clone)]
struct Nearest {
    cosines: Vec<f32>,
}

impl Nearest {
    fn new(notes: usize) -> Nearest {
        Nearest { cosines: vec![f32::NEG_INFINITY; notes * NEIGHBOURS] }
    }

    fn row(&self, note: usize) -> &[f32] {
        self.cosines.get(note * NEIGHBOURS..(note + 1) * NEIGHBOURS).unwrap_or(&[])
    }

    #[inline]
    fn push(&mut self, note: usize, cosine: f32) {
        let row = &mut self.cosines[note * NEIGHBOURS..(note + 1) * NEIGHBOURS];
        if cosine <= row[NEIGHBOURS - 1] {
            return;
        }
        let at = row.partition_point(|&c| c >= cosine);
        row.copy_within(at..NEIGHBOURS - 1, at + 1);
        row[at] = cosine;
    }

    fn merge(&mut self, other: &Nearest) {
        for (note, row) in other.cosines.chunks_exact(NEIGHBOURS).enumerate() {
            for &c in row.iter().take_while(|c| c.is_finite()) {
                self.push(note, c);
            }
        }
    }

    /// 1 + how many of the note's neighbours are nearer than `cosine`; NEIGHBOURS + 1 when
    /// it is not among them.
    fn rank(&self, note: usize, cosine: f32) -> usize {
        1 + self.row(note).iter().filter(|&&c| c > cosine).count()
    }

    /// The mean cosine of the neighbourhood: how crowded the note's surroundings are.
    fn crowding(&self, note: usize) -> f32 {
        let known: Vec<f32> = self.row(note).iter().copied().filter(|c| c.is_finite()).collect();
        if known.is_empty() {
            return 0.0;
        }
        known.iter().sum::<f32>() / known.len() as f32
    }
}

/// Every pair at or above `min` cosine, as (note, note, cosine) with the smaller id first,
/// and each note's nearest neighbours (indexed by note id, `ids` long).
/// The cosines are a matrix product of the unit vectors with themselves, computed a block of
/// rows at a time with an SGEMM (AVX2/FMA when the CPU has them), upper triangle only.
fn similar_pairs(notes: &[(usize, &[f32])], min: f32, ids: usize) -> (Vec<(usize, usize, f32)>, Nearest) {
    let Some(dims) = notes.first().map(|(_, v)| v.len()) else { return (Vec::new(), Nearest::new(ids)) };
    let notes: Vec<&(usize, &[f32])> = notes.iter().filter(|(_, v)| v.len() == dims && dims > 0).collect();
    let matrix: Vec<f32> = notes.iter().flat_map(|(_, v)| v.iter().copied()).collect();
    let count = notes.len();
    let starts: Vec<usize> = (0..count).step_by(BLOCK).collect();
    let empty = || (Vec::new(), Nearest::new(count));
    let (mut pairs, nearest) = starts
        .into_par_iter()
        .fold(empty, |(mut pairs, mut nearest), start| {
            let cosines = block_cosines(&matrix, dims, count, start);
            let cols = count - start;
            for (r, row) in cosines.chunks_exact(cols).enumerate() {
                for c in (r + 1)..cols {
                    let cosine = row[c];
                    nearest.push(start + r, cosine);
                    nearest.push(start + c, cosine);
                    if cosine >= min {
                        let (a, b) = (notes[start + r].0, notes[start + c].0);
                        pairs.push((a.min(b), a.max(b), cosine));
                    }
                }
            }
            (pairs, nearest)
        })
        .reduce(empty, |(mut pairs, mut nearest), (more, other)| {
            pairs.extend(more);
            nearest.merge(&other);
            (pairs, nearest)
        });
    // The fold splits the blocks differently from run to run; the order must not depend on it.
    pairs.sort_by_key(|&(a, b, _)| (a, b));
    let mut by_id = Nearest::new(ids);
    for (i, (id, _)) in notes.iter().enumerate() {
        if let Some(row) = by_id.cosines.get_mut(id * NEIGHBOURS..(id + 1) * NEIGHBOURS) {
            row.copy_from_slice(nearest.row(i));
        }
    }
    (pairs, by_id)
}

/// The lift at which a mutual pair is even odds. On the labelled docs vaults, pairs worth
/// linking stood out from their neighbourhoods by 0.08–0.25, sibling pages of one series
/// (release notes, CLI commands) by under 0.05.
const LIFT_CENTRE: f32 = 0.07;

/// The weights above order the pairs; these two make the confidence say how often such a
/// pair is worth a link. A logistic fit of the judged pairs of the tuning part of
/// `benches/garden/labels.tsv` (223 pairs, dendron-site and dnd5e-srd) on the sum: without
/// it, pairs at 0.5–0.8 were worth a link 4 times in 10, and the default cut let them in.
/// `benches/scripts/garden_precision.py --calibration` refits it (≈ 1 and 0 once applied).
const CALIBRATION_SLOPE: f32 = 0.53;
const CALIBRATION_INTERCEPT: f32 = -0.94;

/// Where a pair stands among each note's neighbours; the facts about the two notes start
/// false and are filled in by `detect`.
#[derive(Default)]
struct Standing {
    /// Rank of each note among the other's nearest (NEIGHBOURS + 1 when beyond).
    ranks: (usize, usize),
    /// The cosine less the mean crowding of the two neighbourhoods (CSLS, Conneau et al.
    /// 2018, halved): above 0 the pair is closer than either note is to its usual
    /// neighbours.
    lift: f32,
    /// One note is the other's parent in the vault's hierarchy (`a.md` and `a/b.md`, or
    /// Dendron's `a.md` and `a.b.md`): the hierarchy already leads from one to the other.
    parent_child: bool,
    /// One note's prose says the other's title: the writer already relates them.
    mentioned: bool,
    /// One note already points at the other's file in a form the graph does not resolve.
    referenced: bool,
    /// One of them is a stub: a near-empty note's vector is its title and its template.
    stub: bool,
    /// Both are entries of one series (`hierarchy::same_series`): alike by their template.
    series: bool,
    /// The original this pair's copy was made of, when the pair repeats another's likeness
    /// (`mark_echoes`).
    echo: Option<String>,
    /// How many third notes are about as near to both (`Family::around`).
    family: usize,
}

impl Standing {
    fn of(nearest: &Nearest, a: usize, b: usize, cosine: f32) -> Standing {
        Standing {
            ranks: (nearest.rank(a, cosine), nearest.rank(b, cosine)),
            lift: cosine - (nearest.crowding(a) + nearest.crowding(b)) / 2.0,
            ..Standing::default()
        }
    }

    /// The confidence that the pair is worth a link, and why, in log-odds. The lift decides:
    /// on a one-product docs vault every page has look-alikes at cosine 0.6–0.9, and what
    /// sets a pair worth linking apart is standing out from them. Being each other's
    /// nearest adds a little; being outside each other's neighbourhood takes much away.
    fn confidence(&self) -> (f32, Vec<String>) {
        let mut reasons = Vec::new();
        let worst = self.ranks.0.max(self.ranks.1);
        let mutual = match worst {
            1 => 0.5,
            2 => 0.25,
            3..=4 => 0.0,
            n if n <= NEIGHBOURS => -1.0,
            _ => -2.0,
        };
        reasons.push(match worst {
            n if n <= NEIGHBOURS => format!("{mutual:+.1} each among the other's {n} nearest"),
            _ => format!("{mutual:+.1} not among each other's {NEIGHBOURS} nearest"),
        });
        // Saturating: past a clear lead, standing out more says little more about the link
        // (but still orders the pairs).
        let lift = 3.0 * (40.0 * (self.lift - LIFT_CENTRE) / 3.0).tanh();
        reasons.push(format!("{lift:+.1} cosine {:+.3} from the two notes' usual neighbours", self.lift));
        let mut z = mutual + lift;
        let mut add = |weight: f32, reason: &str| {
            z += weight;
            reasons.push(format!("{weight:+.1} {reason}"));
        };
        if self.mentioned {
            add(1.5, "one names the other in its text");
        }
        if self.parent_child {
            add(-4.0, "parent and child in the hierarchy");
        }
        if self.referenced {
            add(-4.0, "one already points at the other's file (a link exo does not resolve)");
        }
        if self.stub {
            add(-2.0, "one of them is a stub");
        }
        if self.series {
            add(-3.0, "entries of one series (names differing only in numbers or a letter): alike by their template");
        }
        if self.family >= FAMILY_MIN {
            add(
                -1.0,
                &format!(
                    "one of a family of look-alikes: {} other notes are as near to both (a page listing them may serve better)",
                    self.family
                ),
            );
        }
        if let Some(original) = &self.echo {
            add(-4.0, &format!("one is a near-copy of {original}, which is as near to the other (reported with it)"));
        }
        let calibrated = CALIBRATION_SLOPE * z + CALIBRATION_INTERCEPT;
        reasons.push(format!("{calibrated:+.1} in all, scaled to how often such pairs were worth a link"));
        (crate::finding::round3(1.0 / (1.0 + (-calibrated).exp())), reasons)
    }
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
    standing: &Standing,
) -> Option<Finding> {
    let (first, second) = (graph.note(a), graph.note(b));
    let linked = graph.linked(a, b);
    let duplicate = shared >= settings.duplicate_min_shared;
    if !duplicate && linked {
        return None;
    }
    let cosine = crate::finding::round3(cosine);
    let shared = crate::finding::round3(shared);
    let (pair_confidence, reasons) = standing.confidence();
    let evidence = json!({
        "cosine": cosine,
        "shared_trigrams": shared,
        "linked": linked,
        "other": second.path,
        "ranks": [standing.ranks.0, standing.ranks.1],
        "lift": crate::finding::round3(standing.lift),
        "family": standing.family,
        "confidence_reasons": if duplicate { Vec::new() } else { reasons },
    });
    Some(if duplicate {
        Finding {
            kind: Kind::NearDuplicate,
            severity: Severity::Medium,
            // Shared text is measured: at the threshold a duplicate is likely, at full
            // overlap certain.
            confidence: crate::finding::round3((0.5 + shared / 2.0).min(1.0)),
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
            confidence: pair_confidence,
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
        let vectors = [unit(1.0, 0.0), unit(1.0, 0.1), unit(0.0, 1.0)];
        let notes = vec![(2, vectors[0].as_slice()), (0, vectors[1].as_slice()), (1, vectors[2].as_slice())];
        let (pairs, nearest) = similar_pairs(&notes, 0.9, 3);
        assert_eq!(pairs.len(), 1);
        assert_eq!((pairs[0].0, pairs[0].1), (0, 2));
        assert_eq!(nearest.rank(0, pairs[0].2), 1, "each is the other's nearest");
        assert_eq!(nearest.rank(2, pairs[0].2), 1);
        assert_eq!(nearest.row(1).iter().filter(|c| c.is_finite()).count(), 2, "two others to compare with");
    }

    fn text(words: &str, raw: &str) -> NoteText {
        NoteText { trigrams: BTreeSet::new(), words: format!(" {words} "), targets: link_targets(raw), drawing: false }
    }

    #[test]
    fn titles_said_in_the_text_and_files_already_pointed_at() {
        let note = text("this bag resembles a bag of holding", "");
        let none: &[String] = &[];
        let names = PairNames::new(
            [
                ("Bag of Holding", "Bag of Holding.md", none),
                ("Holding Pattern", "Holding Pattern.md", none),
                ("A", "a.md", none),
            ]
            .into_iter(),
        );
        assert!(names.said_in(0, &note));
        assert!(!names.said_in(1, &note));
        assert!(!names.said_in(2, &note), "too short to mean anything");

        let dendron = text(
            "",
            "see [[Title|dendron.topic.publish.config.title]] and ![[dendron://v/dendron.concepts.frontmatter]]",
        );
        assert!(dendron.refers_to("dendron.topic.publish.config.title.md"));
        assert!(dendron.refers_to("dendron.concepts.frontmatter.md"));
        assert!(!dendron.refers_to("dendron.topic.publish.config.md"), "a parent's name inside a child's is not it");
        let url = text("", "View the [Changelog](https://github.com/o/r/blob/master/Changelog.md)");
        assert!(url.refers_to("Changelog.md"));
        assert!(!text("", "[[Half-Elf]]").refers_to("Races/Elf.md"));
    }

    fn standing() -> Standing {
        Standing { ranks: (1, 1), lift: 0.15, ..Standing::default() }
    }

    /// Series entries and echoes of another pair fall under the default minimum confidence
    /// however much they stand out.
    #[test]
    fn series_entries_and_echoes_fall_under_the_default() {
        let cut = GardenSettings::default().min_confidence;
        assert!(standing().confidence().0 > cut, "{:?}", standing().confidence());
        let (confidence, reasons) = Standing { series: true, ..standing() }.confidence();
        assert!(confidence < cut, "{confidence}");
        assert!(reasons.iter().any(|r| r.contains("series")), "{reasons:?}");
        let (confidence, reasons) = Standing { echo: Some("Spells/Knock.md".into()), ..standing() }.confidence();
        assert!(confidence < cut, "{confidence}");
        assert!(reasons.iter().any(|r| r.contains("Spells/Knock.md")), "{reasons:?}");
    }

    /// Pairs near each other but no nearer than their usual neighbours were worth a link 4
    /// times in 10 in the labels: the calibration keeps them out of the default report.
    #[test]
    fn an_ordinary_neighbour_falls_under_the_default() {
        let cut = GardenSettings::default().min_confidence;
        let (confidence, reasons) = Standing { ranks: (3, 3), lift: LIFT_CENTRE, ..Standing::default() }.confidence();
        assert!(confidence < cut - 0.1, "{confidence} {reasons:?}");
        assert!(reasons.last().is_some_and(|r| r.contains("scaled to how often")), "{reasons:?}");
    }

    /// Four timber cards (0–3) all alike, and a trio (4–6) where only one third note is as
    /// near to both of a pair; 7 is near 4 and 5 but well below their own cosine.
    #[test]
    fn a_family_counts_the_third_notes_as_near_to_both() {
        let pairs = [
            (0, 1, 0.85),
            (0, 2, 0.83),
            (0, 3, 0.82),
            (1, 2, 0.84),
            (1, 3, 0.81),
            (2, 3, 0.80),
            (4, 5, 0.66),
            (4, 6, 0.63),
            (5, 6, 0.62),
            (4, 7, 0.58),
            (5, 7, 0.61),
        ];
        let mut family = Family::of(&pairs, 8);
        assert_eq!(family.around(0, 1, 0.85), 2, "2 and 3 are within the slack of 0.85 to both");
        assert_eq!(family.around(1, 0, 0.85), 2, "either order");
        assert_eq!(family.around(2, 3, 0.80), 2);
        assert_eq!(family.around(4, 5, 0.66), 1, "6 is, 7 is not near enough to 4");
        assert_eq!(family.around(4, 6, 0.63), 1, "5; 7 is not near 6 at all");
        assert_eq!(family.around(0, 4, 0.60), 0, "nobody is near both");
        assert_eq!(family.around(0, 99, 0.60), 0, "an id without neighbours");
    }

    /// A pair of sibling cards weighs less than the same pair standing alone, and says why;
    /// one third note (a trio of alternatives) takes nothing away.
    #[test]
    fn a_family_of_look_alikes_weighs_less() {
        let alone = standing().confidence().0;
        let (in_family, reasons) = Standing { family: FAMILY_MIN, ..standing() }.confidence();
        assert!(in_family < alone, "{in_family} vs {alone}");
        assert!(reasons.iter().any(|r| r.contains("family of look-alikes: 2 other notes")), "{reasons:?}");
        assert_eq!(Standing { family: FAMILY_MIN - 1, ..standing() }.confidence().0, alone);
    }

    #[test]
    fn a_note_goes_by_the_names_no_other_note_has() {
        let none: &[String] = &[];
        let aliased = ["steam bending".to_string()];
        let names = PairNames::new(
            [
                ("Overview", "Languages/Korinari.md", none),
                ("Overview", "Languages/Soldovin.md", none),
                ("Frostguard", "Frostguard.md", none),
                ("Reavers", "Orders/Reavers.md", none),
                ("Abelian Group", "Algebra/Abelian Group.md", none),
                ("Abelian group", "Groups/Abelian Group.md", none),
                ("Élan vital", "Bergson/élan vital.md", none),
                ("Bending wood", "Woods/Steam-bending.md", none),
                ("Kiln drying", "Woods/Kiln drying.md", &aliased),
            ]
            .into_iter(),
        );
        let of = |id| names.of(id).map(str::trim).collect::<Vec<_>>();
        assert_eq!(of(0), ["korinari"], "a template's heading names no card; the file name does");
        assert_eq!(of(1), ["soldovin"]);
        assert_eq!(of(2), ["frostguard"], "title and file name alike: once");
        assert_eq!(of(3), ["reavers"]);
        assert!(of(4).is_empty() && of(5).is_empty(), "two notes of one name: neither is named by it");
        assert_eq!(of(6), ["élan vital"], "one note, its name in two cases");
        assert_eq!(of(7), ["bending wood"], "Steam-bending is what another note is aliased");
        assert_eq!(of(8), ["kiln drying"]);
        assert!(names.said_in(0, &text("they speak korinari here", "")), "said as words, any case");
        assert!(!names.said_in(0, &text("the overview of korinarian", "")));
        assert!(of(99).is_empty(), "no such note");
    }

    fn measured(a: usize, b: usize, cosine: f32, shared: f32) -> Measured {
        Measured { pair: (a.min(b), a.max(b)), cosine, shared, standing: Standing { ranks: (1, 1), ..standing() } }
    }

    /// A compiled page (0) holds the whole of note 1; note 2 is near both. The pair with the
    /// copy echoes the pair with the original; nothing else does.
    #[test]
    fn a_pair_with_a_copy_echoes_the_pair_with_its_original() {
        let notes =
            [(300, "Spells K.md"), (280, "Knock.md"), (250, "Arcane Lock.md"), (100, "Elf.md"), (90, "Half-Elf.md")];
        let mut pairs = vec![
            measured(0, 1, 0.94, 1.0),  // the page and the note it holds: a near-duplicate
            measured(0, 2, 0.80, 0.1),  // the page and the other: an echo
            measured(1, 2, 0.79, 0.1),  // the original pair: kept
            measured(3, 4, 0.81, 0.6),  // a near-duplicate, not a whole copy
            measured(2, 3, 0.60, 0.05), // Elf holds only part of Half-Elf: no echo
            measured(2, 4, 0.60, 0.05),
        ];
        mark_echoes(&mut pairs, 0.5, |id| notes[id]);
        let echoes: Vec<_> = pairs.iter().map(|m| m.standing.echo.as_deref()).collect();
        assert_eq!(echoes, [None, Some("Knock.md"), None, None, None, None]);
        // The original must be about as near to the other as the copy is.
        let mut far = vec![measured(0, 1, 0.94, 1.0), measured(0, 2, 0.80, 0.1), measured(1, 2, 0.70, 0.1)];
        mark_echoes(&mut far, 0.5, |id| notes[id]);
        assert!(far.iter().all(|m| m.standing.echo.is_none()));
    }

    #[test]
    fn readmes_are_front_pages() {
        assert!(is_readme("README.md") && is_readme("docs/readme.markdown") && is_readme("a/ReadMe.md"));
        assert!(!is_readme("readme-tips.md") && !is_readme("notes/read me.md") && !is_readme("readmes/a.md"));
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
        let slices: Vec<(usize, &[f32])> = notes.iter().map(|(i, v)| (*i, v.as_slice())).collect();
        let (got, nearest) = similar_pairs(&slices, 0.8, count);
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
        // Each note's nearest, merged across blocks and threads, are its highest cosines.
        for i in [0, BLOCK - 1, BLOCK, count - 1] {
            let dot = |j: usize| notes[i].1.iter().zip(&notes[j].1).map(|(x, y)| x * y).sum::<f32>();
            let mut all: Vec<f32> = (0..count).filter(|&j| j != i).map(dot).collect();
            all.sort_by(|a, b| b.total_cmp(a));
            for (g, w) in nearest.row(i).iter().zip(&all[..NEIGHBOURS]) {
                assert!((g - w).abs() < 1e-4, "note {i}: {:?} vs {:?}", nearest.row(i), &all[..NEIGHBOURS]);
            }
        }
    }
}
