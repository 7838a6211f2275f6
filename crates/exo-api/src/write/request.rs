//! What each write is asked to do. Doc comments become the MCP tools' parameter descriptions.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// Frontmatter keys and values in the order the caller gave them (new keys are written so).
pub type FrontmatterValues = IndexMap<String, Value>;

/// Create a new note. Give `path`, or `title` (and optionally `folder`).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNoteRequest {
    /// Vault-relative path of the new note, e.g. "inbox/idea.md" (".md" is added when the name
    /// has no extension). Leave out to name the file after `title`.
    #[serde(default)]
    pub path: Option<String>,
    /// The note's title. Without `path`, the file is "<folder>/<title>.md".
    #[serde(default)]
    pub title: Option<String>,
    /// Folder for a note named by `title` (vault-relative; default: the vault root or the
    /// first notes folder).
    #[serde(default)]
    pub folder: Option<String>,
    /// Frontmatter keys and values (YAML), e.g. {"tags": ["idea"], "type": "concept"}.
    #[serde(default)]
    #[schemars(with = "serde_json::Map<String, Value>")]
    pub frontmatter: FrontmatterValues,
    /// Markdown body.
    #[serde(default)]
    pub body: String,
    /// Create even when notes with the same title, an alias of it, or nearly the same text
    /// exist (the refusal lists them: read them first; edit one instead if it is the same).
    #[serde(default)]
    pub force: bool,
}

/// How to change a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EditOperation {
    /// Add `text` at the end of the note.
    Append,
    /// Add `text` at the start of the body, after the frontmatter.
    Prepend,
    /// Replace everything under `heading` (up to the next heading of the same or a higher
    /// level) with `text`; the heading line stays.
    ReplaceSection,
    /// Replace each occurrence of `find` with `replace`; refused unless there are exactly
    /// `expected_count` (default 1).
    FindReplace,
    /// Merge `frontmatter` into the note's frontmatter: other keys, their order and comments
    /// stay; a null value removes the key.
    SetFrontmatter,
}

/// Change an existing note.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EditNoteRequest {
    /// The note: vault-relative path, title or alias.
    pub note: String,
    /// append, prepend, replace_section, find_replace or set_frontmatter.
    pub operation: EditOperation,
    /// The new text (append, prepend, replace_section).
    #[serde(default)]
    pub text: Option<String>,
    /// The heading whose section to replace (replace_section), as written, without `#`s.
    #[serde(default)]
    pub heading: Option<String>,
    /// The exact text to find (find_replace).
    #[serde(default)]
    pub find: Option<String>,
    /// What replaces each occurrence (find_replace).
    #[serde(default)]
    pub replace: Option<String>,
    /// How many occurrences of `find` there must be (find_replace; default 1).
    #[serde(default)]
    pub expected_count: Option<usize>,
    /// Keys to set (set_frontmatter); null removes a key.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Map<String, Value>>")]
    pub frontmatter: Option<FrontmatterValues>,
    /// The note's content hash when you read it (`hash` from read_note or a write): if the note
    /// changed since, the edit is refused with the current hash instead of overwriting.
    #[serde(default)]
    pub base_hash: Option<String>,
    /// Edit even when the note has uncommitted changes a person made.
    #[serde(default)]
    pub force: bool,
}

/// Rename or move a note, rewriting every link to it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveNoteRequest {
    /// The note to move: vault-relative path, title or alias.
    pub from: String,
    /// Its new vault-relative path, e.g. "projects/new-name.md"; must not exist.
    pub to: String,
    /// The note's content hash when you read it; refused if it changed since.
    #[serde(default)]
    pub base_hash: Option<String>,
    /// Move even when the note or a note linking to it has uncommitted changes a person made.
    #[serde(default)]
    pub force: bool,
}

/// Delete a note.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteNoteRequest {
    /// The note: vault-relative path, title or alias.
    pub note: String,
    /// Must be true: the refusal lists the notes linking to it, whose links will be left
    /// unresolved.
    #[serde(default)]
    pub confirm: bool,
    /// The note's content hash when you read it; refused if it changed since.
    #[serde(default)]
    pub base_hash: Option<String>,
    /// Delete even when the note has uncommitted changes a person made.
    #[serde(default)]
    pub force: bool,
}
