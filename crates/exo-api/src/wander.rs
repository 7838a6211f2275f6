//! `wander`: distant pairs of notes to read side by side, from the index's graph.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::fresh::{Fresh, beside};
use crate::{Exo, Result};

pub use exo_garden::wander::Wander;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WanderRequest {
    /// How many pairs (at most half the notes: a note is in one pair; 0 asks for none).
    #[serde(default = "three")]
    pub pairs: usize,
    /// The same seed gives the same pairs; default: today's date, so a day has one walk.
    #[serde(default)]
    pub seed: Option<u64>,
}

fn three() -> usize {
    3
}

impl Exo {
    /// Pairs drawn from the graph, which like every answer from the index says whether it
    /// was behind the files.
    pub fn wander(&self, request: &WanderRequest) -> Result<Fresh<Wander>> {
        let index = &self.index;
        let (graph, freshness) = beside(index, || index.graph());
        let seed = request.seed.unwrap_or_else(exo_garden::wander::default_seed);
        let walk = exo_garden::wander::wander(index.vault(), &graph?, &self.garden, request.pairs, seed);
        Ok(Fresh { answer: walk, freshness })
    }
}
