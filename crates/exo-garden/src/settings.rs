//! `[garden]` in exo.toml: what counts as rot. Every threshold has a default that is quiet on
//! a healthy vault.

use exo_vault::Vault;
use serde::{Deserialize, Serialize};

use crate::error::GardenError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct GardenSettings {
    /// Notes that are entry points (a map or index note): never orphans.
    pub roots: Vec<String>,
    /// A note with fewer words than this is a stub.
    pub stub_words: usize,
    /// Titles and aliases shorter than this (in characters) are not looked for as unlinked
    /// mentions: short names ("Go", "Note") match everywhere.
    pub mention_min_chars: usize,
    /// Cosine between two notes' mean chunk vectors from which they count as similar.
    pub similar_min: f32,
    /// Similar notes are near-duplicates, linked or not, when at least this share of the
    /// shorter one's word trigrams also occur in the other.
    pub duplicate_min_shared: f32,
    /// A summary is stale when the body's word-set overlap (Jaccard) with the body it was
    /// written for has fallen below this.
    pub summary_min_overlap: f32,
    /// How many commits back to look for when a summary last changed.
    pub history_depth: usize,
    /// Findings shown per kind (the counts still cover all of them).
    pub max_per_kind: usize,
    /// Findings under this confidence (0–1) are left out of the report and only counted:
    /// the guessing detectors find many candidates, and a report a person (or a nightly
    /// agent) works through should hold the ones worth acting on.
    pub min_confidence: f32,
    /// Notes the report never mentions (globs on vault-relative paths): the gardener's own
    /// logs, templates, inboxes.
    pub exclude: Vec<String>,
}

impl Default for GardenSettings {
    fn default() -> Self {
        GardenSettings {
            roots: Vec::new(),
            stub_words: 40,
            mention_min_chars: 5,
            similar_min: 0.56,
            duplicate_min_shared: 0.5,
            summary_min_overlap: 0.5,
            history_depth: 1000,
            max_per_kind: 50,
            min_confidence: 0.5,
            exclude: vec!["garden-log/**".into()],
        }
    }
}

impl GardenSettings {
    pub fn from_vault(vault: &Vault) -> Result<GardenSettings, GardenError> {
        let path = vault.root().join(exo_vault::CONFIG_FILE);
        let settings: GardenSettings =
            toml::Value::Table(vault.config().garden.clone()).try_into().map_err(|e: toml::de::Error| {
                GardenError::Config { path: path.clone(), message: e.message().to_string() }
            })?;
        settings.validate().map_err(|message| GardenError::Config { path, message })?;
        Ok(settings)
    }

    /// The `exclude` globs, compiled.
    pub fn excluded(&self) -> Result<globset::GlobSet, String> {
        let mut set = globset::GlobSetBuilder::new();
        for pattern in &self.exclude {
            set.add(globset::Glob::new(pattern).map_err(|e| format!("exclude {pattern:?}: {e}"))?);
        }
        set.build().map_err(|e| e.to_string())
    }

    fn validate(&self) -> Result<(), String> {
        self.excluded()?;
        for (name, value) in [
            ("similar_min", self.similar_min),
            ("duplicate_min_shared", self.duplicate_min_shared),
            ("summary_min_overlap", self.summary_min_overlap),
            ("min_confidence", self.min_confidence),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(format!("{name} = {value} must be between 0 and 1"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_and_unknown_keys_fail() {
        let text = toml::to_string(&GardenSettings::default()).unwrap();
        assert_eq!(toml::from_str::<GardenSettings>(&text).unwrap(), GardenSettings::default());
        assert!(toml::from_str::<GardenSettings>("stub_word = 3").is_err());
    }

    #[test]
    fn thresholds_are_checked() {
        let settings = GardenSettings { similar_min: -0.5, ..GardenSettings::default() };
        assert!(settings.validate().unwrap_err().contains("similar_min"));
        let settings = GardenSettings { summary_min_overlap: 2.0, ..GardenSettings::default() };
        assert!(settings.validate().is_err());
    }
}
