//! `garden`: what is rotting in the vault, each finding with evidence, a confidence and a fix.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::{ApiError, Exo, Result};

pub use exo_garden::{Finding, Kind, Report};

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GardenRequest {
    /// Only these kinds of finding (names as in the report, e.g. "orphan", "unlinked_mention");
    /// empty means all.
    #[serde(default)]
    pub only: Vec<String>,
    /// At most this many findings of each kind (the counts still say how many there are);
    /// default: `[garden] max_per_kind`.
    #[serde(default)]
    pub max_per_kind: Option<usize>,
    /// Leave out findings under this confidence, 0 to 1; default: `[garden] min_confidence`.
    #[serde(default)]
    pub min_confidence: Option<f32>,
}

impl Exo {
    /// Runs every detector (or those asked for) over the index and the files.
    pub fn garden(&self, request: &GardenRequest) -> Result<Report> {
        if let Some(min) = request.min_confidence.filter(|min| !(0.0..=1.0).contains(min)) {
            return Err(ApiError::Invalid(format!("min_confidence {min}: must be between 0 and 1")));
        }
        let only = request.only.iter().map(|k| Kind::parse(k)).collect::<Result<Vec<_>, _>>()?;
        let options = exo_garden::ReportOptions {
            max_per_kind: request.max_per_kind,
            only,
            min_confidence: request.min_confidence,
        };
        Ok(exo_garden::garden(&self.index, &self.garden, &options)?)
    }
}
