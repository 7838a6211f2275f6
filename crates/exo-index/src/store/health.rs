//! Whether an existing index can be trusted at all, checked before any comparison with the
//! files: schema, parse and text fingerprints, the text index, their generations.

use exo_vault::Vault;

use crate::error::{IndexError, Result};
use crate::store::catalog::{Catalog, meta_keys};
use crate::store::layout::Layout;
use crate::store::schema::SCHEMA_VERSION;
use crate::store::settings::TextSettings;
use crate::store::text::{TextIndex, fingerprint};

/// How notes are parsed: when this changes, every note must be parsed again.
pub fn parse_fingerprint(vault: &Vault) -> String {
    let options = vault.parse_options();
    format!("parser {}; links {:?}; chunks {}", exo_vault::PARSER_VERSION, options.link_style, options.chunk_max_bytes)
}

/// What changed how notes are parsed, given the fingerprint the index was built with: this
/// exo's parser (an upgrade), or else exo.toml.
fn parse_change(stored: Option<&str>) -> String {
    let stored_parser = stored.and_then(|s| s.strip_prefix("parser ")?.split(';').next()?.parse::<u32>().ok());
    match stored_parser {
        Some(v) if v != exo_vault::PARSER_VERSION => {
            format!("this exo parses notes differently (parser v{v}, now v{})", exo_vault::PARSER_VERSION)
        }
        _ => "exo.toml changed how notes are parsed (links style or chunk size)".into(),
    }
}

/// Why an existing index cannot be trusted, if it cannot; checked before any diff.
pub(crate) fn degraded_reason(
    vault: &Vault,
    layout: &Layout,
    catalog: &Catalog,
    settings: &TextSettings,
) -> Result<Option<String>> {
    match catalog.schema_version() {
        Ok(Some(SCHEMA_VERSION)) => {}
        Ok(Some(v)) => return Ok(Some(format!("index schema v{v}; this exo needs v{SCHEMA_VERSION}"))),
        Ok(None) => return Ok(Some("index catalog has no schema version".into())),
        Err(e) if !e.is_damage() => return Err(e),
        Err(e) => return Ok(Some(format!("index catalog unreadable: {}", reason_of(&e)))),
    }
    let stored = catalog.meta(meta_keys::PARSE_FINGERPRINT)?;
    if stored.as_deref() != Some(parse_fingerprint(vault).as_str()) {
        return Ok(Some(parse_change(stored.as_deref())));
    }
    if catalog.meta(meta_keys::TEXT_FINGERPRINT)?.as_deref() != Some(fingerprint(settings).as_str()) {
        return Ok(Some("the search language or text analysis changed".into()));
    }
    let text = match TextIndex::open(&layout.text, settings) {
        Ok(text) => text,
        Err(IndexError::Degraded { reason }) => return Ok(Some(reason)),
        Err(e) if !e.is_damage() => return Err(e),
        Err(e) => return Ok(Some(format!("text index unreadable: {}", reason_of(&e)))),
    };
    let text_generation = match text.generation() {
        Ok(generation) => generation,
        Err(e) if !e.is_damage() => return Err(e),
        Err(e) => return Ok(Some(format!("text index unreadable: {}", reason_of(&e)))),
    };
    // The text index commits first, so after a crash it may be one generation ahead, with
    // the affected paths still recorded as pending. Anything else means the two diverged.
    let catalog_generation = catalog.text_generation()?;
    let ahead_by_pending = text_generation == catalog_generation + 1 && !catalog.pending()?.is_empty();
    if text_generation != catalog_generation && !ahead_by_pending {
        return Ok(Some(format!(
            "text index generation {text_generation} does not match the catalog's {catalog_generation}"
        )));
    }
    Ok(None)
}

/// An error as the reason of a Degraded status, which names its repair on its own.
pub(crate) fn reason_of(error: &IndexError) -> String {
    match error {
        IndexError::Degraded { reason } => reason.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_parser_is_named_as_the_reason_not_exo_toml() {
        let older = format!("parser {}; links Obsidian; chunks 2000", exo_vault::PARSER_VERSION - 1);
        assert!(parse_change(Some(&older)).starts_with("this exo parses notes differently"));
        let same = format!("parser {}; links Dendron; chunks 2000", exo_vault::PARSER_VERSION);
        assert!(parse_change(Some(&same)).starts_with("exo.toml changed"));
        assert!(parse_change(None).starts_with("exo.toml changed"));
    }
}
