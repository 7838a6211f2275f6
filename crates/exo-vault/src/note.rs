//! What exo sees in one note.

use serde::{Deserialize, Serialize};

/// A parsed note. Every span is a byte range into the file's text (after lossy UTF-8
/// decoding, which only changes files that are not valid UTF-8 and says so in `warnings`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    pub title: String,
    pub title_source: TitleSource,
    /// The frontmatter mapping as JSON, when there is a valid one.
    pub frontmatter: Option<serde_json::Value>,
    /// Byte range of the whole frontmatter block, fences included.
    pub frontmatter_span: Option<Span>,
    pub aliases: Vec<String>,
    pub tags: Vec<Tag>,
    pub note_type: Option<String>,
    pub summary: Option<String>,
    pub created: Option<String>,
    pub updated: Option<String>,
    pub headings: Vec<Heading>,
    pub blocks: Vec<BlockId>,
    pub links: Vec<Link>,
    pub chunks: Vec<Chunk>,
    pub word_count: usize,
    /// The note's readable text without markup or frontmatter, for full-text search.
    pub plain_text: String,
    /// Byte ranges of running prose: text outside frontmatter, code, math, HTML and link labels,
    /// where a mention of another note's name is a mention and not markup.
    pub prose: Vec<Span>,
    pub warnings: Vec<Warning>,
}

/// The frontmatter key the Obsidian Excalidraw plugin writes in every drawing.
const EXCALIDRAW_KEY: &str = "excalidraw-plugin";

impl Note {
    /// An Obsidian Excalidraw drawing: its text is the drawing's labels under the plugin's
    /// section markers ("# Text Elements"), rewritten by the plugin on every save.
    pub fn is_drawing(&self) -> bool {
        is_drawing_frontmatter(self.frontmatter.as_ref())
    }
}

pub(crate) fn is_drawing_frontmatter(frontmatter: Option<&serde_json::Value>) -> bool {
    frontmatter.is_some_and(|value| value.get(EXCALIDRAW_KEY).is_some())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TitleSource {
    Frontmatter,
    Heading,
    FileName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

impl From<std::ops::Range<usize>> for Span {
    fn from(r: std::ops::Range<usize>) -> Span {
        Span::new(r.start, r.end)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tag {
    /// Lower-cased, without `#`; nested tags keep their `/`.
    pub name: String,
    pub source: TagSource,
    /// 1-based line; 0 for frontmatter tags.
    pub line: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TagSource {
    Frontmatter,
    Inline,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Heading {
    pub level: u8,
    pub text: String,
    pub slug: String,
    pub line: u32,
    pub span: Span,
}

/// A `^block-id` that `[[note#^block-id]]` can point at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockId {
    pub id: String,
    pub line: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// `[[target]]` in any of its forms.
    Wiki,
    /// `![[target]]` or `![alt](note.md)`.
    Embed,
    /// `[text](path.md)`.
    Markdown,
    /// `[[target]]` in a frontmatter value (`parent: "[[Topic]]"`): a link Obsidian's
    /// properties show, follow, and count in the graph and the backlinks.
    Property,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Wiki => "wiki",
            LinkKind::Embed => "embed",
            LinkKind::Markdown => "markdown",
            LinkKind::Property => "property",
        }
    }

    pub fn parse(s: &str) -> Option<LinkKind> {
        match s {
            "wiki" => Some(LinkKind::Wiki),
            "embed" => Some(LinkKind::Embed),
            "markdown" => Some(LinkKind::Markdown),
            "property" => Some(LinkKind::Property),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub kind: LinkKind,
    /// The target as written, without `#heading`/`#^block`; percent-decoded for markdown
    /// links. Empty for a link to the note itself (`[[#heading]]`).
    pub target: String,
    pub heading: Option<String>,
    pub block: Option<String>,
    pub display: Option<String>,
    pub line: u32,
    pub span: Span,
}

impl Link {
    pub fn is_self_link(&self) -> bool {
        self.target.is_empty()
    }
}

/// A heading-aware section of the note, capped in size: the unit of vectors and snippets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chunk {
    /// Text of the nearest heading above the chunk, if any.
    pub heading: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Warning {
    pub kind: WarningKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    InvalidFrontmatter,
    UnclosedFrontmatter,
    NotUtf8,
}

impl Warning {
    pub fn new(kind: WarningKind, message: impl Into<String>) -> Warning {
        Warning { kind, message: message.into() }
    }
}
