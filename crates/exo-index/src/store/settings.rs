//! The parts of `exo.toml` this layer owns: `[search] language`.

use exo_vault::{CONFIG_FILE, Config, VaultError};
use frostem::Algorithm;
use serde::Deserialize;

use crate::error::Result;

#[derive(Debug, Clone, PartialEq)]
pub struct TextSettings {
    /// Stemming language, None for no stemming.
    pub language: Option<Algorithm>,
    pub language_name: String,
}

#[derive(Debug, Deserialize)]
#[serde(default)]
struct SearchSection {
    language: String,
}

impl Default for SearchSection {
    fn default() -> Self {
        SearchSection { language: "english".into() }
    }
}

/// The Snowball stemmers tantivy ships, by the name `[search] language` takes.
const LANGUAGES: &[(&str, Algorithm)] = &[
    ("arabic", Algorithm::Arabic),
    ("danish", Algorithm::Danish),
    ("dutch", Algorithm::Dutch),
    ("english", Algorithm::English),
    ("finnish", Algorithm::Finnish),
    ("french", Algorithm::French),
    ("german", Algorithm::German),
    ("greek", Algorithm::Greek),
    ("hungarian", Algorithm::Hungarian),
    ("italian", Algorithm::Italian),
    ("norwegian", Algorithm::Norwegian),
    ("portuguese", Algorithm::Portuguese),
    ("romanian", Algorithm::Romanian),
    ("russian", Algorithm::Russian),
    ("spanish", Algorithm::Spanish),
    ("swedish", Algorithm::Swedish),
    ("tamil", Algorithm::Tamil),
    ("turkish", Algorithm::Turkish),
];

impl TextSettings {
    pub fn from_config(root: &std::path::Path, config: &Config) -> Result<TextSettings> {
        let bad = |message: String| VaultError::Config { path: root.join(CONFIG_FILE), message };
        // Only `language` belongs to the text index; other [search] keys are the ranker's.
        let section: SearchSection = match config.search.get("language") {
            Some(value) => toml::Value::Table(toml::Table::from_iter([("language".to_string(), value.clone())]))
                .try_into()
                .map_err(|e: toml::de::Error| bad(format!("[search] language: {}", e.message())))?,
            None => SearchSection::default(),
        };
        let name = section.language.trim().to_lowercase();
        if name == "none" {
            return Ok(TextSettings { language: None, language_name: name });
        }
        let language = LANGUAGES.iter().find(|(n, _)| *n == name).map(|(_, l)| *l).ok_or_else(|| {
            let names: Vec<&str> = LANGUAGES.iter().map(|(n, _)| *n).collect();
            bad(format!("[search] language = {name:?} is not supported; use one of {} or \"none\"", names.join(", ")))
        })?;
        Ok(TextSettings { language: Some(language), language_name: name })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_defaults_and_validation() {
        let root = std::path::Path::new("/v");
        let default = TextSettings::from_config(root, &Config::default()).unwrap();
        assert_eq!(default.language, Some(Algorithm::English));
        let german = Config::parse("[search]\nlanguage = \"German\"\n").unwrap();
        assert_eq!(TextSettings::from_config(root, &german).unwrap().language, Some(Algorithm::German));
        let none = Config::parse("[search]\nlanguage = \"none\"\n").unwrap();
        assert_eq!(TextSettings::from_config(root, &none).unwrap().language, None);
        let bad = Config::parse("[search]\nlanguage = \"klingon\"\n").unwrap();
        let err = TextSettings::from_config(root, &bad).unwrap_err().to_string();
        assert!(err.contains("klingon") && err.contains("exo.toml"), "{err}");
    }
}
