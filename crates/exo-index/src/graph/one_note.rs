//! One note's links, answered by indexed queries on the catalog instead of loading the whole
//! graph: finding a note by name, the links written in it with where each resolves, and the
//! links into it with their lines. What `read_note`, `links` and `backlinks` ask on every call.
//!
//! Invariant: every answer equals what [`Graph`](super::Graph) gives for the same note (the
//! same staged name lookup via [`find_among`], the same link order, the same self-link rules).

use std::cell::OnceCell;
use std::collections::HashMap;
use std::path::Path;

use exo_vault::{Link, LinkKind, Span};
use rusqlite::OptionalExtension;

use super::{Backlink, find_among, read_lines};
use crate::error::{Result, SqlContext};
use crate::store::Index;
use crate::store::catalog::Catalog;

/// A note the catalog holds: its row and its vault path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundNote {
    row: i64,
    pub path: String,
}

/// A link written in a note, and where it points.
#[derive(Debug, Clone)]
pub struct ResolvedLink {
    pub written: Link,
    /// The note it resolves to: for a self-link (`[[#heading]]`), the note it is written in.
    pub path: Option<String>,
    /// The attachment it resolves to, when not a note.
    pub attachment: Option<String>,
    /// Resolved to a note (or its own note) or to an attachment.
    pub resolved: bool,
}

/// The catalog opened for questions about single notes. The list of every note's names is
/// read at most once, and only when a name is not a path.
pub struct NoteLinks {
    catalog: Catalog,
    names: OnceCell<Vec<Names>>,
}

/// What a note answers to besides its path.
struct Names {
    row: i64,
    path: String,
    title: String,
    aliases: Vec<String>,
}

impl Index {
    /// Opens the catalog for per-note link questions (an error when there is no index yet).
    pub fn note_links(&self) -> Result<NoteLinks> {
        let catalog = Catalog::open_required(&self.layout().catalog)?;
        Ok(NoteLinks { catalog, names: OnceCell::new() })
    }
}

impl NoteLinks {
    /// Finds a note as [`Graph::find`](super::Graph::find) does: by path (with or without
    /// `.md`) through the path index, else by folded path, title or alias, ignoring case.
    pub fn find(&self, reference: &str) -> Result<FoundNote> {
        let wanted = reference.trim().trim_start_matches("./");
        if let Some(found) = self.by_path(wanted)? {
            return Ok(found);
        }
        if let Some(found) = self.by_path(&format!("{wanted}.md"))? {
            return Ok(found);
        }
        let names = self.names()?;
        let position = find_among(reference, names.len(), |i| (&names[i].path, &names[i].title, &names[i].aliases))?;
        Ok(FoundNote { row: names[position].row, path: names[position].path.clone() })
    }

    fn by_path(&self, path: &str) -> Result<Option<FoundNote>> {
        let sql = "SELECT id FROM notes WHERE path = ?1";
        let row: Option<i64> =
            self.catalog.conn.query_row(sql, [path], |r| r.get(0)).optional().at(&self.catalog.path)?;
        Ok(row.map(|row| FoundNote { row, path: path.to_string() }))
    }

    /// The content hash the index holds for the note at `path` (as
    /// [`Index::indexed_hash`], on this connection); None when it holds no such note.
    pub fn indexed_hash(&self, path: &str) -> Result<Option<String>> {
        let sql = "SELECT hash FROM notes WHERE path = ?1";
        self.catalog.conn.query_row(sql, [path], |r| r.get(0)).optional().at(&self.catalog.path)
    }

    /// Every note's path, title and aliases, ordered by path (as the graph holds them).
    fn names(&self) -> Result<&[Names]> {
        if let Some(names) = self.names.get() {
            return Ok(names);
        }
        let names = load_names(&self.catalog)?;
        Ok(self.names.get_or_init(|| names))
    }

    /// Links written in the note, in the order they appear.
    pub fn outgoing(&self, note: &FoundNote) -> Result<Vec<ResolvedLink>> {
        let sql = "SELECT l.kind, l.target, l.heading, l.block, l.display, l.line, l.start_byte, l.end_byte,
                          d.path, l.dst_attachment
                     FROM links l LEFT JOIN notes d ON d.id = l.dst_id
                    WHERE l.src_id = ?1
                    ORDER BY l.start_byte, l.id";
        let at = &self.catalog.path;
        let mut stmt = self.catalog.conn.prepare_cached(sql).at(at)?;
        let mut rows = stmt.query([note.row]).at(at)?;
        let mut links = Vec::new();
        while let Some(r) = rows.next().at(at)? {
            let written = written_link(r, 0).at(at)?;
            let dst: Option<String> = r.get(8).at(at)?;
            let attachment: Option<String> = r.get(9).at(at)?;
            let own = written.is_self_link().then(|| note.path.clone());
            let resolved = written.is_self_link() || dst.is_some() || attachment.is_some();
            links.push(ResolvedLink { path: dst.or(own), attachment, resolved, written });
        }
        Ok(links)
    }

    /// Links from other notes into this one, by source path and position, each with its line
    /// of text read from the vault now (as [`Graph::backlinks`](super::Graph::backlinks)).
    pub fn backlinks(&self, note: &FoundNote, vault_root: &Path) -> Result<Vec<Backlink>> {
        let sql = "SELECT l.kind, l.target, l.heading, l.block, l.display, l.line, l.start_byte, l.end_byte,
                          s.path, s.title
                     FROM links l JOIN notes s ON s.id = l.src_id
                    WHERE l.dst_id = ?1 AND l.src_id != ?1
                    ORDER BY s.path, l.start_byte, l.id";
        let at = &self.catalog.path;
        let mut stmt = self.catalog.conn.prepare_cached(sql).at(at)?;
        let mut rows = stmt.query([note.row]).at(at)?;
        let mut files: HashMap<String, Vec<String>> = HashMap::new();
        let mut backlinks = Vec::new();
        while let Some(r) = rows.next().at(at)? {
            let written = written_link(r, 0).at(at)?;
            if written.is_self_link() {
                continue;
            }
            let (path, title): (String, String) = (r.get(8).at(at)?, r.get(9).at(at)?);
            let lines = files.entry(path.clone()).or_insert_with(|| read_lines(vault_root, &path));
            let context = lines.get(written.line.saturating_sub(1) as usize).map(|l| l.trim().to_string());
            backlinks.push(Backlink {
                path,
                title,
                line: written.line,
                kind: written.kind,
                context: context.unwrap_or_default(),
            });
        }
        Ok(backlinks)
    }
}

/// The link as written, from the eight columns starting at `first`: kind, target, heading,
/// block, display, line, start and end byte.
fn written_link(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Link> {
    let kind: String = r.get(first)?;
    let (start, end): (i64, i64) = (r.get(first + 6)?, r.get(first + 7)?);
    Ok(Link {
        kind: LinkKind::parse(&kind).unwrap_or(LinkKind::Wiki),
        target: r.get(first + 1)?,
        heading: r.get(first + 2)?,
        block: r.get(first + 3)?,
        display: r.get(first + 4)?,
        line: r.get::<_, i64>(first + 5)? as u32,
        span: Span::new(start as usize, end as usize),
    })
}

fn load_names(catalog: &Catalog) -> Result<Vec<Names>> {
    let at = &catalog.path;
    let mut stmt = catalog.conn.prepare("SELECT id, path, title FROM notes ORDER BY path").at(at)?;
    let mut names = stmt
        .query_map([], |r| Ok(Names { row: r.get(0)?, path: r.get(1)?, title: r.get(2)?, aliases: Vec::new() }))
        .at(at)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .at(at)?;
    let position: HashMap<i64, usize> = names.iter().enumerate().map(|(i, n)| (n.row, i)).collect();
    let mut stmt = catalog.conn.prepare("SELECT note_id, alias FROM aliases ORDER BY rowid").at(at)?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).at(at)?;
    for row in rows {
        let (note, alias) = row.at(at)?;
        if let Some(&i) = position.get(&note) {
            names[i].aliases.push(alias);
        }
    }
    Ok(names)
}
