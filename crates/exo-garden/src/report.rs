//! The garden report: every detector's findings in one deterministic list.

use std::collections::BTreeMap;

use exo_index::{Index, SyncState};
use serde::Serialize;

use crate::error::GardenError;
use crate::settings::GardenSettings;

/// What kind of rot a finding is. The order here is the report's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Orphan,
    Unresolved,
    BrokenAnchor,
    UnlinkedMention,
    SimilarUnlinked,
    NearDuplicate,
    StaleSummary,
    Stub,
    InvalidFrontmatter,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Orphan,
        Kind::Unresolved,
        Kind::BrokenAnchor,
        Kind::UnlinkedMention,
        Kind::SimilarUnlinked,
        Kind::NearDuplicate,
        Kind::StaleSummary,
        Kind::Stub,
        Kind::InvalidFrontmatter,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Orphan => "orphan",
            Kind::Unresolved => "unresolved",
            Kind::BrokenAnchor => "broken-anchor",
            Kind::UnlinkedMention => "unlinked-mention",
            Kind::SimilarUnlinked => "similar-unlinked",
            Kind::NearDuplicate => "near-duplicate",
            Kind::StaleSummary => "stale-summary",
            Kind::Stub => "stub",
            Kind::InvalidFrontmatter => "invalid-frontmatter",
        }
    }

    pub fn names() -> Vec<&'static str> {
        Kind::ALL.iter().map(|k| k.name()).collect()
    }

    pub fn parse(name: &str) -> Result<Kind, GardenError> {
        let wanted = name.trim().to_lowercase().replace('_', "-");
        let singular = wanted.strip_suffix('s').unwrap_or(&wanted);
        Kind::ALL
            .into_iter()
            .find(|k| k.name() == wanted || k.name() == singular)
            .ok_or_else(|| GardenError::UnknownKind(name.to_string()))
    }
}

/// How much a finding hurts the vault: high breaks what tools read, medium misleads a
/// reader, low is a missed connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    High,
    Medium,
    Low,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: Kind,
    pub severity: Severity,
    /// The note to act on.
    pub path: String,
    /// Other notes the finding involves (the other side of a pair, the referrers).
    pub related: Vec<String>,
    /// One line for a person.
    pub message: String,
    /// What was measured, kind by kind: lines, counts, scores, commits.
    pub evidence: serde_json::Value,
    /// What to do about it, concrete enough for an agent to act on.
    pub fix: String,
}

#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Findings shown per kind; None uses `[garden] max_per_kind`.
    pub max_per_kind: Option<usize>,
    /// Only these kinds; empty means all.
    pub only: Vec<Kind>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Whether the index matched the files when the report was made.
    pub index_status: SyncState,
    pub stale_notes: usize,
    pub notes: usize,
    pub settings: GardenSettings,
    /// Findings per kind before the cap.
    pub counts: BTreeMap<Kind, usize>,
    /// Checks that could not run, and why (no vectors, no git history).
    pub skipped: Vec<String>,
    pub findings: Vec<Finding>,
}

/// Runs every detector (or those in `options.only`) over the index and the files.
pub fn garden(index: &Index, options: &ReportOptions) -> Result<Report, GardenError> {
    let settings = GardenSettings::from_vault(index.vault())?;
    let wants = |kind: Kind| options.only.is_empty() || options.only.contains(&kind);
    let wants_similarity = wants(Kind::SimilarUnlinked) || wants(Kind::NearDuplicate);
    let (graph, freshness) = index.beside_freshness(|| index.graph());
    let (graph, (index_status, stale_notes)) = (graph?, freshness?);
    let mut findings = Vec::new();
    let mut skipped = Vec::new();
    crate::structure::detect(&graph, &settings, &wants, &mut findings);
    let mut mentions = Vec::new();
    // Mentions need only the files and the graph; they run beside the checks that read the
    // catalog, whose serial parts (reading vectors, walking git history) leave a core idle.
    rayon::in_place_scope(|scope| -> Result<(), GardenError> {
        if wants(Kind::UnlinkedMention) {
            let (vault, graph, settings, mentions) = (index.vault(), &graph, &settings, &mut mentions);
            scope.spawn(move |_| *mentions = crate::mentions::detect(vault, graph, settings));
        }
        if wants_similarity {
            let vectors = exo_index::vectors::note_vectors(index)?;
            match crate::similarity::detect(index.vault(), &graph, &settings, vectors) {
                Ok(found) => findings.extend(found.into_iter().filter(|f| wants(f.kind))),
                Err(reason) => skipped.push(format!("similar-unlinked, near-duplicate: {reason}")),
            }
        }
        if wants(Kind::StaleSummary) {
            let (found, note) = crate::summaries::detect(index, &graph, &settings)?;
            findings.extend(found);
            skipped.extend(note);
        }
        Ok(())
    })?;
    findings.extend(mentions);
    let excluded = settings.excluded().unwrap_or_default();
    findings.retain(|f| !excluded.is_match(&f.path) && !f.related.iter().any(|r| excluded.is_match(r)));
    // The evidence breaks ties between findings on the same notes; serialise it once.
    findings.sort_by_cached_key(|f| (f.kind, f.severity, f.path.clone(), f.related.clone(), f.evidence.to_string()));
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
    Ok(Report { index_status, stale_notes, notes: graph.notes().len(), settings, counts, skipped, findings })
}
