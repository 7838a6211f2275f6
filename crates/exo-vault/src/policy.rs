//! `[check]` in `exo.toml`: the frontmatter and link policy `exo check` enforces. Parsed and
//! validated here with the rest of the file; evaluated by exo-garden's `check`.
//!
//! ```toml
//! [check]
//! mode = "enforce"          # "audit" (the default): report only; "enforce": exit 1, block commits
//! required = ["title"]      # keys every note's frontmatter must have
//! max_summary = 280         # characters in `summary`
//! links_resolve = true      # every link must name a note or file in the vault
//! unique_titles = true      # no two notes share a title or alias
//!
//! [check.fields]            # value rules for keys, wherever they appear
//! created = { type = "date" }
//! status = { type = "string", values = ["draft", "done"] }
//!
//! [check.types.paper]       # notes with `type: paper`
//! required = ["authors", "year"]
//! fields = { year = { type = "number" } }
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole `[check]` section. A vault without one has no policy and `exo check` is a no-op.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckPolicy {
    pub mode: CheckMode,
    /// Frontmatter keys every note must have.
    pub required: Vec<String>,
    /// Value rules by key, for every note.
    pub fields: BTreeMap<String, FieldRule>,
    /// Rules for the notes whose frontmatter `type` is the key.
    pub types: BTreeMap<String, TypeRule>,
    /// Most characters a `summary` may have.
    pub max_summary: Option<usize>,
    /// Every wikilink, embed and markdown link to a note must resolve.
    pub links_resolve: bool,
    /// No two notes share a title or an alias (case-insensitive).
    pub unique_titles: bool,
}

/// `audit` reports and exits 0; `enforce` exits 1 on any violation, so the pre-commit hook
/// refuses the commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CheckMode {
    #[default]
    Audit,
    Enforce,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TypeRule {
    /// Keys a note of this type must have, on top of the policy's `required`.
    pub required: Vec<String>,
    /// Value rules for this type, over the policy's `fields` for the same key.
    pub fields: BTreeMap<String, FieldRule>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FieldRule {
    /// What the value must be.
    #[serde(rename = "type")]
    pub value_type: Option<ValueType>,
    /// The values allowed (for a list, for each item). Empty: any. Numbers and booleans may
    /// be written bare (`values = [2020, 2021]`); they are compared as the text they read as.
    #[serde(deserialize_with = "scalar_texts")]
    pub values: Vec<String>,
}

/// A list of strings, numbers and booleans, each as its text.
fn scalar_texts<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    struct ScalarText(String);

    impl<'de> Deserialize<'de> for ScalarText {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_any(ScalarVisitor).map(ScalarText)
        }
    }

    struct ScalarVisitor;

    impl serde::de::Visitor<'_> for ScalarVisitor {
        type Value = String;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string, number or boolean")
        }
        fn visit_str<E>(self, v: &str) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_i64<E>(self, v: i64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_u64<E>(self, v: u64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_f64<E>(self, v: f64) -> Result<String, E> {
            Ok(v.to_string())
        }
        fn visit_bool<E>(self, v: bool) -> Result<String, E> {
            Ok(v.to_string())
        }
    }

    Ok(Vec::<ScalarText>::deserialize(deserializer)?.into_iter().map(|ScalarText(text)| text).collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    /// `YYYY-MM-DD`, optionally followed by a time (`T` or a space, then anything).
    Date,
    List,
    String,
    Number,
    Boolean,
}

impl ValueType {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Date => "date",
            ValueType::List => "list",
            ValueType::String => "string",
            ValueType::Number => "number",
            ValueType::Boolean => "boolean",
        }
    }
}

impl CheckPolicy {
    /// The rules for a note of type `note_type`: the type's field rule wins over the global one.
    pub fn field_rule(&self, note_type: Option<&str>, key: &str) -> Option<&FieldRule> {
        note_type.and_then(|t| self.types.get(t)?.fields.get(key)).or_else(|| self.fields.get(key))
    }

    /// The keys a note of type `note_type` must have, global ones first, without repeats.
    pub fn required_keys(&self, note_type: Option<&str>) -> Vec<&str> {
        let typed = note_type.and_then(|t| self.types.get(t)).map(|t| t.required.as_slice()).unwrap_or_default();
        let mut keys: Vec<&str> = Vec::new();
        for key in self.required.iter().chain(typed) {
            if !keys.contains(&key.as_str()) {
                keys.push(key);
            }
        }
        keys
    }

    /// The keys that have rules, for a note of type `note_type`.
    pub fn ruled_keys(&self, note_type: Option<&str>) -> Vec<&str> {
        let typed = note_type.and_then(|t| self.types.get(t)).map(|t| t.fields.keys()).into_iter().flatten();
        let mut keys: Vec<&str> = self.fields.keys().chain(typed).map(String::as_str).collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.max_summary == Some(0) {
            return Err("check.max_summary = 0 allows no summary at all; remove it or set at least 1".to_string());
        }
        let typed = self
            .types
            .iter()
            .flat_map(|(t, rule)| rule.required.iter().map(move |k| (format!("check.types.{t}.required"), k.as_str())));
        let global = self.required.iter().map(|k| ("check.required".to_string(), k.as_str()));
        for (at, key) in global.chain(typed) {
            if key.trim().is_empty() {
                return Err(format!("{at} has an empty key; name the frontmatter key"));
            }
        }
        let rules =
            self.fields.iter().map(|(k, r)| (format!("check.fields.{k}"), r)).chain(self.types.iter().flat_map(
                |(t, rule)| rule.fields.iter().map(move |(k, r)| (format!("check.types.{t}.fields.{k}"), r)),
            ));
        for (at, rule) in rules {
            if !rule.values.is_empty() && matches!(rule.value_type, Some(ValueType::Date | ValueType::Boolean)) {
                return Err(format!(
                    "{at}: `values` applies to strings, numbers and lists, not to a {}",
                    rule.value_type.map_or("", ValueType::as_str)
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    use super::*;

    #[test]
    fn no_section_is_no_policy() {
        assert_eq!(Config::parse("").unwrap().check, None);
    }

    #[test]
    fn a_full_policy_parses() {
        let config = Config::parse(
            "[check]\nmode = \"enforce\"\nrequired = [\"title\"]\nmax_summary = 10\nlinks_resolve = true\n\
             [check.fields]\ncreated = { type = \"date\" }\nstatus = { type = \"string\", values = [\"a\", \"b\"] }\n\
             [check.types.paper]\nrequired = [\"year\", \"title\"]\nfields = { year = { type = \"number\" }, status = { values = [\"x\"] } }\n",
        )
        .unwrap();
        let policy = config.check.unwrap();
        assert_eq!(policy.mode, CheckMode::Enforce);
        assert_eq!(policy.required_keys(Some("paper")), ["title", "year"]);
        assert_eq!(policy.required_keys(None), ["title"]);
        assert_eq!(policy.field_rule(Some("paper"), "status").unwrap().values, ["x"]);
        assert_eq!(policy.field_rule(None, "status").unwrap().values, ["a", "b"]);
        assert_eq!(policy.field_rule(Some("paper"), "created").unwrap().value_type, Some(ValueType::Date));
        assert_eq!(policy.ruled_keys(Some("paper")), ["created", "status", "year"]);
        assert!(!policy.unique_titles);
    }

    #[test]
    fn the_example_in_the_default_exo_toml_parses_once_uncommented() {
        let text = crate::config::DEFAULT_CONFIG_TEXT;
        let example = &text[text.find("# [check]").unwrap()..];
        let uncommented: String = example.lines().map(|l| format!("{}\n", l.strip_prefix("# ").unwrap_or(l))).collect();
        let policy = Config::parse(&uncommented).unwrap().check.unwrap();
        assert_eq!(policy.required_keys(Some("paper")), ["title", "authors", "year"]);
        assert_eq!(policy.field_rule(None, "created").unwrap().value_type, Some(ValueType::Date));
    }

    #[test]
    fn allowed_values_may_be_written_as_numbers_and_booleans() {
        // `year: 2020` in YAML is a number, and so is `2020` in TOML: a person writes it so.
        let config =
            Config::parse("[check.fields]\nyear = { type = \"number\", values = [2020, 2021.5, \"n/a\", true] }\n")
                .unwrap();
        let rule = config.check.unwrap().fields.remove("year").unwrap();
        assert_eq!(rule.values, ["2020", "2021.5", "n/a", "true"]);
        let err = Config::parse("[check.fields]\nx = { values = [[1]] }\n").unwrap_err();
        assert!(err.contains("line 2") && !err.contains('\n'), "{err}");
    }

    #[test]
    fn mistakes_are_one_line_errors() {
        let err = Config::parse("[check]\nmode = \"strict\"\n").unwrap_err();
        assert!(err.contains("strict") && !err.contains('\n'), "{err}");
        let err = Config::parse("[check]\nrequierd = []\n").unwrap_err();
        assert!(err.contains("did you mean `required`"), "{err}");
        let err = Config::parse("[check.fields]\nx = { type = \"date\", values = [\"1\"] }\n").unwrap_err();
        assert!(err.contains("check.fields.x"), "{err}");
        let err = Config::parse("[check]\nmax_summary = 0\n").unwrap_err();
        assert!(err.contains("max_summary"), "{err}");
    }
}
