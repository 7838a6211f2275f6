//! What a detector reports: a finding, its kind and severity. Apart from the report so the
//! detectors and the report that gathers them do not import each other.

use serde::Serialize;

use crate::error::GardenError;

/// What kind of rot a finding is. The order here is the report's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema)]
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
            .ok_or_else(|| GardenError::UnknownKind { name: name.to_string(), known: Kind::names() })
    }
}

/// How much a finding hurts the vault: high breaks what tools read, medium misleads a
/// reader, low is a missed connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    High,
    Medium,
    Low,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Finding {
    pub kind: Kind,
    pub severity: Severity,
    /// How likely a person reading the notes would act on it, 0–1: 1 for facts of the graph
    /// and the files, an estimate for the detectors that guess (mentions, similar pairs),
    /// with its reasons in `evidence.confidence_reasons`. The report is ordered by it within
    /// each kind.
    pub confidence: f32,
    /// The note to act on.
    pub path: String,
    /// Other notes the finding involves (the other side of a pair, the referrers).
    pub related: Vec<String>,
    /// One line for a person.
    pub message: String,
    /// What was measured, kind by kind: lines, counts, scores, commits.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub evidence: serde_json::Value,
    /// What to do about it, concrete enough for an agent to act on.
    pub fix: String,
}

/// A confidence rounded to thousandths, as the report shows and sorts it.
pub(crate) fn round3(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}
