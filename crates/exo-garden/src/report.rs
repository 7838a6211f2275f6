//! The garden report: every detector's findings in one deterministic list.

use std::collections::BTreeMap;

use exo_index::vectors::{NoteVectors, VectorStore};
use exo_index::{Index, SyncState};
use serde::Serialize;

use crate::error::GardenError;
use crate::finding::{Finding, Kind};
use crate::settings::GardenSettings;

#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Findings shown per kind; None uses `[garden] max_per_kind`.
    pub max_per_kind: Option<usize>,
    /// Only these kinds; empty means all.
    pub only: Vec<Kind>,
    /// Findings under this confidence are left out (and counted in `below_confidence`);
    /// None uses `[garden] min_confidence`.
    pub min_confidence: Option<f32>,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// Whether the index matched the files when the report was made.
    pub index_status: SyncState,
    pub stale_notes: usize,
    pub notes: usize,
    pub settings: GardenSettings,
    /// Findings per kind at or above the minimum confidence, before the cap.
    pub counts: BTreeMap<Kind, usize>,
    /// The minimum confidence applied (the option, or `[garden] min_confidence`).
    pub min_confidence: f32,
    /// Findings per kind left out for being under the minimum confidence.
    pub below_confidence: BTreeMap<Kind, usize>,
    /// Checks that could not run, and why (no vectors, no git history).
    pub skipped: Vec<String>,
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether anything was found (at or above the minimum confidence): what
    /// `exo garden --exit-code` and a nightly job act on.
    pub fn has_findings(&self) -> bool {
        self.counts.values().any(|&count| count > 0)
    }
}

/// Runs every detector (or those in `options.only`) over the index and the files, with the
/// `[garden]` settings the caller read once (`GardenSettings::from_vault`).
pub fn garden(index: &Index, settings: &GardenSettings, options: &ReportOptions) -> Result<Report, GardenError> {
    let wants = |kind: Kind| options.only.is_empty() || options.only.contains(&kind);
    let wants_similarity = wants(Kind::SimilarUnlinked) || wants(Kind::NearDuplicate);
    let (graph, freshness) = index.beside_freshness(|| index.graph());
    let (graph, (index_status, stale_notes)) = (graph?, freshness?);
    let mut findings = Vec::new();
    let mut skipped = Vec::new();
    crate::structure::detect(&graph, settings, &wants, &mut findings);
    let mut mentions = None;
    let mut vectors = None;
    // Mentions need only the files and the graph; they run beside the checks that read the
    // catalog, whose serial parts (reading vectors, walking git history) leave a core idle.
    // Their weighing reads the vectors, after.
    rayon::in_place_scope(|scope| -> Result<(), GardenError> {
        if wants(Kind::UnlinkedMention) {
            let (vault, graph, mentions) = (index.vault(), &graph, &mut mentions);
            scope.spawn(move |_| *mentions = Some(crate::mentions::detect(vault, graph, settings)));
        }
        if wants_similarity || wants(Kind::UnlinkedMention) {
            vectors = Some(exo_index::vectors::note_vectors(index)?);
        }
        if let (true, Some(vectors)) = (wants_similarity, &vectors) {
            match crate::similarity::detect(index.vault(), &graph, settings, vectors) {
                Ok(found) => findings.extend(found.into_iter().filter(|f| wants(f.kind))),
                Err(reason) => skipped.push(format!("similar-unlinked, near-duplicate: {reason}")),
            }
        }
        if wants(Kind::StaleSummary) {
            let (found, note) = crate::summaries::detect(index, &graph, settings)?;
            findings.extend(found);
            skipped.extend(note);
        }
        Ok(())
    })?;
    if let Some(candidates) = mentions {
        let notes = match &vectors {
            Some(NoteVectors::Ready(notes)) => Some(notes),
            _ => None,
        };
        // Without chunk vectors a mention is weighed without its context, not dropped.
        let store = notes.and_then(|_| VectorStore::open_existing(&index.layout().vectors).ok().flatten());
        let vectors = notes.map(|notes| crate::mentions::Vectors { notes, chunks: store.as_ref() });
        findings.extend(crate::mentions::weigh(candidates, &graph, vectors.as_ref()));
    }
    let excluded = settings.excluded().unwrap_or_default();
    findings.retain(|f| !excluded.is_match(&f.path) && !f.related.iter().any(|r| excluded.is_match(r)));
    let min_confidence = options.min_confidence.unwrap_or(settings.min_confidence);
    let mut below_confidence: BTreeMap<Kind, usize> = BTreeMap::new();
    findings.retain(|f| {
        let keep = f.confidence >= min_confidence;
        if !keep {
            *below_confidence.entry(f.kind).or_insert(0) += 1;
        }
        keep
    });
    sort(&mut findings);
    let mut counts: BTreeMap<Kind, usize> = Kind::ALL.into_iter().filter(|k| wants(*k)).map(|k| (k, 0)).collect();
    for finding in &findings {
        *counts.entry(finding.kind).or_insert(0) += 1;
    }
    let cap = options.max_per_kind.unwrap_or(settings.max_per_kind);
    let mut shown: BTreeMap<Kind, usize> = BTreeMap::new();
    findings.retain(|f| {
        let n = shown.entry(f.kind).or_insert(0);
        *n += 1;
        *n <= cap
    });
    Ok(Report {
        index_status,
        stale_notes,
        notes: graph.notes().len(),
        settings: settings.clone(),
        counts,
        min_confidence,
        below_confidence,
        skipped,
        findings,
    })
}

/// Kind by kind, the most confident first; then severity, paths and the evidence, so equal
/// confidences still come out in one order. Confidences are compared in thousandths: the
/// last bits of a cosine may differ between CPUs, the order must not.
fn sort(findings: &mut [Finding]) {
    findings.sort_by_cached_key(|f| {
        let thousandths = (f.confidence.clamp(0.0, 1.0) * 1000.0).round() as u32;
        (f.kind, std::cmp::Reverse(thousandths), f.severity, f.path.clone(), f.related.clone(), f.evidence.to_string())
    });
}
