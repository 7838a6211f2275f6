//! exo-vault: what a vault and a note are. Finds the vault root, reads `exo.toml`, lists
//! the notes on disk, parses one note into frontmatter, title, tags, headings, links and
//! chunks, resolves links, and hashes content.
//!
//! It must never write a note (the only files it writes are the two `exo init` creates when
//! absent: `exo.toml` and a line of `.gitignore`), never know about the index (no SQLite, no
//! tantivy), never print, and never panic on any input a user's files can contain.

#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod chunk;
pub mod config;
mod error;
mod frontmatter;
pub mod init;
pub mod note;
mod parse;
pub mod path;
pub mod policy;
mod property;
pub mod relink;
pub mod resolve;
mod root;
pub mod scan;
mod snapshot;
mod text;
mod vault;

pub use config::{CONFIG_FILE, Config, LinkStyle};
pub use error::{Result, VaultError};
pub use init::{InitReport, init_vault};
pub use note::{
    BlockId, Chunk, Heading, Link, LinkKind, Note, Span, Tag, TagSource, TitleSource, Warning, WarningKind,
};
pub use parse::{ParseOptions, decode, parse_bytes, parse_bytes_with_text, parse_note};
pub use policy::{CheckMode, CheckPolicy};
pub use relink::{TextEdit, apply_edits, rebase_own_links, retarget_links};

/// Bumped whenever parsing changes what it finds, so indexes built by an older parser are
/// re-parsed rather than trusted.
/// 3: frontmatter after a BOM, bounded YAML, nested link labels capped.
/// 4: a frontmatter whose first line is blank; an Excalidraw drawing titled by its file name.
/// 5: a `---` … `---` stretch after the start is body (rules and text), not a frontmatter.
/// 6: wikilinks in frontmatter values are links (`LinkKind::Property`).
/// 7: math (`$…$`, `$$…$$`) is text to search, not prose and not links.
pub const PARSER_VERSION: u32 = 7;
pub use resolve::{LinkResolver, Resolution};
pub use root::discover_root;
pub use scan::{ScanReport, ScannedFile, Skipped, Walk, scan, scan_with};
pub use snapshot::{RACY_WINDOW_NS, WalkSnapshot, is_racy, now_ns, rules_files, rules_stamp};
pub use text::slugify;
pub use vault::{ContentHash, ReadNote, Vault, content_hash};
