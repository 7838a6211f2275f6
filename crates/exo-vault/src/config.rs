//! `exo.toml`: the committed part of exo's configuration. A missing file means defaults.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Result, VaultError};

pub const CONFIG_FILE: &str = "exo.toml";

/// The ignore files the walk reads as rules in every folder. A folder holding `.git` also
/// has its `info/exclude` read (`snapshot::stamp_ignore_files`).
pub const IGNORE_FILES: &[&str] = &[".gitignore", ".ignore"];

/// Folders no vault ever wants indexed, whatever the configuration says.
pub const ALWAYS_IGNORED: &[&str] = &[".git", ".exo", ".obsidian", ".trash", "node_modules"];

/// A name the walk never reads, at any depth and whatever the ignore files say: a hidden
/// one (the walker skips them) or one of [`ALWAYS_IGNORED`]. (Ignore files are hidden but
/// read as rules.)
pub fn never_walked(name: &std::ffi::OsStr) -> bool {
    name.as_encoded_bytes().starts_with(b".") || ALWAYS_IGNORED.iter().any(|ignored| name == *ignored)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Folders holding notes, relative to the vault root. Empty means the whole vault.
    pub notes: Vec<String>,
    /// Extra paths to leave out, in .gitignore syntax, on top of .gitignore itself.
    pub ignore: Vec<String>,
    /// Notes larger than this many bytes are skipped with a warning.
    pub max_file_size: u64,
    pub links: LinkConfig,
    pub chunks: ChunkConfig,
    /// Sections owned by the index, search, embedder and garden; kept as raw tables here
    /// so this crate can validate the file without knowing those layers.
    pub index: toml::Table,
    pub search: toml::Table,
    pub embed: toml::Table,
    pub garden: toml::Table,
    /// Note writes (exo new/mv/rm, the MCP server's write tools): the commit author; read
    /// by exo-api.
    pub write: toml::Table,
    /// The frontmatter and link policy of `exo check`; None when there is no `[check]`.
    pub check: Option<crate::policy::CheckPolicy>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            notes: Vec::new(),
            ignore: Vec::new(),
            max_file_size: 10 * 1024 * 1024,
            links: LinkConfig::default(),
            chunks: ChunkConfig::default(),
            index: toml::Table::new(),
            search: toml::Table::new(),
            embed: toml::Table::new(),
            garden: toml::Table::new(),
            write: toml::Table::new(),
            check: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkStyle {
    /// `[[target|label]]`, as Obsidian, Foam and most tools write it.
    #[default]
    Obsidian,
    /// `[[label|target]]`: Dendron puts the label first.
    Dendron,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinkConfig {
    pub style: LinkStyle,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChunkConfig {
    /// Largest chunk in bytes; sections above it are split at paragraph, line or word breaks.
    pub max_bytes: usize,
}

impl Default for ChunkConfig {
    fn default() -> Self {
        ChunkConfig { max_bytes: 1200 }
    }
}

impl Config {
    /// Reads `exo.toml` from the vault root; a missing file gives the defaults.
    pub fn load(root: &Path) -> Result<Config> {
        let path = root.join(CONFIG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(&text).map_err(|message| VaultError::Config { path, message }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(VaultError::io(path, e)),
        }
    }

    pub fn parse(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| describe(&e, text))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        if self.chunks.max_bytes < 64 {
            return Err(format!("chunks.max_bytes = {} is too small (at least 64)", self.chunks.max_bytes));
        }
        for folder in &self.notes {
            if Path::new(folder).is_absolute() || folder.split(['/', '\\']).any(|c| c == "..") {
                return Err(format!("notes folder {folder:?} must be relative and stay inside the vault"));
            }
        }
        if let Some(policy) = &self.check {
            policy.validate()?;
        }
        Ok(())
    }
}

/// One line saying what is wrong and where: a misspelt key names the closest known key,
/// as git and cargo do, instead of listing every key the table accepts.
fn describe(error: &toml::de::Error, text: &str) -> String {
    let line = error.span().map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
    let at = line.map(|line| format!("line {line}: ")).unwrap_or_default();
    match unknown_key(error.message()) {
        Some((key, known)) => match closest(key, &known) {
            Some(near) => format!("{at}unknown key `{key}` — did you mean `{near}`?"),
            None => format!("{at}unknown key `{key}` (known here: {})", known.join(", ")),
        },
        None => format!("{at}{}", one_line(error.message())),
    }
}

/// (`key`, known keys) from serde's "unknown field `key`, expected one of `a`, `b`".
fn unknown_key(message: &str) -> Option<(&str, Vec<&str>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (key, expected) = rest.split_once('`')?;
    let known = expected.split('`').skip(1).step_by(2).collect();
    Some((key, known))
}

/// The known key nearest to `key` by edit distance, when near enough to be a typo.
fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(key, k), *k))
        .filter(|(distance, k)| *distance <= (k.len() / 3).max(2))
        .min()
        .map(|(_, k)| k)
}

/// toml's messages span several lines with a source excerpt; the CLI wants one.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('|') && !l.chars().all(|c| c == '^'))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The commented `exo.toml` that `exo init` writes.
pub const DEFAULT_CONFIG_TEXT: &str = r#"# exo.toml: exo's settings for this vault. Commit it; it is part of the truth.
# Every key is optional: delete a line to get the default shown.

# Folders holding notes, relative to this file. Empty = the whole vault.
notes = []

# Paths to leave out, in .gitignore syntax, on top of .gitignore.
# .git, .exo, .obsidian, .trash and node_modules are always left out.
ignore = []

# Notes larger than this (bytes) are skipped with a warning.
max_file_size = 10485760

[links]
# "obsidian": [[target|label]]   "dendron": [[label|target]]
style = "obsidian"

[chunks]
# Largest chunk (bytes) for snippets and vectors; sections are split at paragraphs.
max_bytes = 1200

# `exo check` and the pre-commit hook: a frontmatter and link policy. Uncomment to use.
# [check]
# mode = "audit"             # "enforce": exit 1, and the pre-commit hook refuses the commit
# required = ["title"]       # keys every note's frontmatter must have
# max_summary = 280          # characters in `summary`
# links_resolve = true       # every link names a note or file in the vault
# unique_titles = true       # no two notes share a title or alias
# [check.fields]
# created = { type = "date" }                          # date, list, string, number, boolean
# status = { type = "string", values = ["draft", "done"] }
# [check.types.paper]        # notes with `type: paper`
# required = ["authors", "year"]
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_is_defaults() {
        assert_eq!(Config::parse("").unwrap(), Config::default());
    }

    #[test]
    fn default_text_parses_to_defaults() {
        assert_eq!(Config::parse(DEFAULT_CONFIG_TEXT).unwrap(), Config::default());
    }

    #[test]
    fn unknown_key_is_a_one_line_error() {
        let err = Config::parse("notse = [\"a\"]\n").unwrap_err();
        assert!(err.contains("notse"), "{err}");
        assert!(!err.contains('\n'));
    }

    #[test]
    fn a_misspelt_key_names_the_closest_one_and_its_line() {
        let err = Config::parse("notes = []\nmax_file_sise = 10\n").unwrap_err();
        assert_eq!(err, "line 2: unknown key `max_file_sise` — did you mean `max_file_size`?");
        let err = Config::parse("[links]\nzzzzzzzz = 1\n").unwrap_err();
        assert!(err.starts_with("line 2: unknown key `zzzzzzzz` (known here: "), "{err}");
    }

    #[test]
    fn dendron_style_parses() {
        let c = Config::parse("[links]\nstyle = \"dendron\"\n").unwrap();
        assert_eq!(c.links.style, LinkStyle::Dendron);
    }

    #[test]
    fn notes_folder_may_not_escape() {
        assert!(Config::parse("notes = [\"../elsewhere\"]").is_err());
        assert!(Config::parse("notes = [\"/etc\"]").is_err());
    }

    #[test]
    fn missing_file_is_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Config::load(dir.path()).unwrap(), Config::default());
    }

    #[test]
    fn bad_file_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "notes = 3").unwrap();
        let err = Config::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("exo.toml"), "{err}");
    }
}
