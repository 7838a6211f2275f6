//! The SQLite catalog: connection setup, meta, and the row-level reads and writes that
//! reconcile and queries are built from.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use exo_vault::resolve::{ANY_STEM, fold, link_keys};
use exo_vault::{Note, ScannedFile, note::TitleSource};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, params};

use crate::error::{IndexError, Result, SqlContext};
use crate::store::entries::{Entries, EntriesBuilder, Entry};
use crate::store::schema::{CREATE, CREATE_INDEXES, SCHEMA_VERSION};

pub struct Catalog {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
}

pub mod meta_keys {
    pub const SCHEMA_VERSION: &str = "schema_version";
    pub const TEXT_GENERATION: &str = "text_generation";
    pub const REVISION: &str = "revision";
    pub const INDEXED_AT_NS: &str = "indexed_at_ns";
    pub const PARSE_FINGERPRINT: &str = "parse_fingerprint";
    pub const TEXT_FINGERPRINT: &str = "text_fingerprint";
    pub const EXO_VERSION: &str = "exo_version";
    /// `max_file_size` when the skipped files were last judged: raising or lowering it
    /// makes them (and notes now above it) be judged again.
    pub const SKIP_LIMIT: &str = "max_file_size";
}

fn configure(conn: &Connection, path: &Path) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10)).at(path)?;
    // WAL: readers never wait for the writer. NORMAL sync is durable across process
    // crashes, and the index is derived, so a power cut costs at most a reindex.
    conn.pragma_update(None, "journal_mode", "WAL").at(path)?;
    conn.pragma_update(None, "synchronous", "NORMAL").at(path)?;
    conn.pragma_update(None, "foreign_keys", "ON").at(path)?;
    // A ceiling, not an allocation. 16 MiB: a full build of 100k notes peaked at 370 MB RSS
    // with 64 MiB and 281 MB with this (and a smaller tantivy heap), for ~8% more time.
    conn.pragma_update(None, "cache_size", -16384).at(path)?;
    // Temporary b-trees (the sorts behind CREATE INDEX on a full build) go to files: in
    // memory they held every link of a large vault at once.
    conn.pragma_update(None, "temp_store", "FILE").at(path)?;
    Ok(())
}

impl Catalog {
    /// Opens the catalog every reader needs, or says there is no index yet.
    pub fn open_required(path: &Path) -> Result<Catalog> {
        Catalog::open(path)?.ok_or_else(|| IndexError::Missing { path: path.to_path_buf() })
    }

    /// Opens an existing catalog; None when there is none yet.
    pub fn open(path: &Path) -> Result<Option<Catalog>> {
        if !path.exists() {
            return Ok(None);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).at(path)?;
        configure(&conn, path)?;
        Ok(Some(Catalog { conn, path: path.to_path_buf() }))
    }

    /// Creates a fresh catalog (the file must not exist).
    pub fn create(path: &Path) -> Result<Catalog> {
        let conn = Connection::open(path).at(path)?;
        configure(&conn, path)?;
        conn.execute_batch(CREATE).at(path)?;
        let catalog = Catalog { conn, path: path.to_path_buf() };
        catalog.set_meta(meta_keys::SCHEMA_VERSION, &SCHEMA_VERSION.to_string())?;
        catalog.set_meta(meta_keys::TEXT_GENERATION, "0")?;
        Ok(catalog)
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional().at(&self.path)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        set_meta(&self.conn, &self.path, key, value)
    }

    pub fn schema_version(&self) -> Result<Option<i64>> {
        Ok(self.meta(meta_keys::SCHEMA_VERSION)?.and_then(|v| v.parse().ok()))
    }

    pub fn text_generation(&self) -> Result<u64> {
        Ok(self.meta(meta_keys::TEXT_GENERATION)?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    pub fn note_count(&self) -> Result<usize> {
        let n: i64 = self.conn.query_row("SELECT count(*) FROM notes", [], |r| r.get(0)).at(&self.path)?;
        Ok(n as usize)
    }

    /// Every path the catalog knows: notes, skipped files, and pending intents.
    pub fn entries(&self) -> Result<Entries> {
        let mut entries = EntriesBuilder::default();
        let mut stmt =
            self.conn.prepare("SELECT path, hash, size, mtime_ns, racy, identity FROM notes").at(&self.path)?;
        let mut rows = stmt.query([]).at(&self.path)?;
        while let Some(row) = rows.next().at(&self.path)? {
            let entry = Entry {
                hash: Some(row.get_ref(1).and_then(|v| Ok(v.as_str()?)).at(&self.path)?),
                size: row.get(2).at(&self.path)?,
                mtime_ns: row.get(3).at(&self.path)?,
                racy: row.get::<_, i64>(4).at(&self.path)? != 0,
                identity: row.get(5).at(&self.path)?,
                skipped: false,
                pending: false,
            };
            entries.push(row.get_ref(0).and_then(|v| Ok(v.as_str()?)).at(&self.path)?, entry);
        }
        let mut stmt = self.conn.prepare("SELECT path, size, mtime_ns, identity FROM skipped").at(&self.path)?;
        let mut rows = stmt.query([]).at(&self.path)?;
        while let Some(row) = rows.next().at(&self.path)? {
            let entry = Entry {
                hash: None,
                size: row.get(1).at(&self.path)?,
                mtime_ns: row.get(2).at(&self.path)?,
                identity: row.get(3).at(&self.path)?,
                racy: false,
                skipped: true,
                pending: false,
            };
            entries.push(row.get_ref(0).and_then(|v| Ok(v.as_str()?)).at(&self.path)?, entry);
        }
        for path in self.pending()? {
            entries.pending(path);
        }
        let skip_limit = self.meta(meta_keys::SKIP_LIMIT)?.and_then(|v| v.parse().ok());
        Ok(entries.finish(skip_limit))
    }

    /// When the catalog's entries were last written (`indexed_at`) and whether any path is
    /// pending, in one statement, so both describe the same moment.
    pub fn stamp_and_pending(&self) -> Result<(Option<i64>, bool)> {
        let (stamp, pending): (Option<String>, bool) = self
            .conn
            .query_row(
                "SELECT (SELECT value FROM meta WHERE key = ?1), EXISTS(SELECT 1 FROM pending)",
                [meta_keys::INDEXED_AT_NS],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .at(&self.path)?;
        Ok((stamp.and_then(|ns| ns.parse().ok()), pending))
    }

    pub fn pending(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT path FROM pending ORDER BY path").at(&self.path)?;
        let rows = stmt.query_map([], |r| r.get(0)).at(&self.path)?;
        rows.collect::<rusqlite::Result<Vec<String>>>().at(&self.path)
    }

    /// Notes with parse warnings, and skipped files, as (path, message), sorted by path.
    pub fn warnings(&self) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        let mut stmt =
            self.conn.prepare("SELECT path, warnings FROM notes WHERE warnings IS NOT NULL").at(&self.path)?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).at(&self.path)?;
        for row in rows {
            let (path, json) = row.at(&self.path)?;
            let warnings: Vec<exo_vault::Warning> = serde_json::from_str(&json).unwrap_or_default();
            out.extend(warnings.into_iter().map(|w| (path.clone(), w.message)));
        }
        let mut stmt = self.conn.prepare("SELECT path, reason FROM skipped").at(&self.path)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, format!("skipped: {}", r.get::<_, String>(1)?))))
            .at(&self.path)?;
        for row in rows {
            out.push(row.at(&self.path)?);
        }
        out.sort();
        Ok(out)
    }

    pub fn attachments(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("SELECT path FROM attachments").at(&self.path)?;
        let rows = stmt.query_map([], |r| r.get(0)).at(&self.path)?;
        rows.collect::<rusqlite::Result<Vec<String>>>().at(&self.path)
    }

    pub fn transaction(&mut self) -> Result<Tx<'_>> {
        let path = self.path.clone();
        let tx = self.conn.transaction().at(&path)?;
        Ok(Tx { tx, path })
    }
}

fn set_meta(conn: &Connection, path: &Path, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )
    .at(path)?;
    Ok(())
}

/// (path, aliases) of every note, and the row id of each path.
pub type NameSet = (Vec<(String, Vec<String>)>, HashMap<String, i64>);

/// The stat and hash a note row records.
#[derive(Debug, Clone)]
pub struct FileState<'a> {
    pub path: &'a str,
    pub hash: &'a str,
    pub size: u64,
    pub mtime_ns: i64,
    pub identity: i64,
    pub racy: bool,
}

/// A link row that needs (re-)resolution.
#[derive(Debug)]
pub struct LinkToResolve {
    pub id: i64,
    pub src_path: String,
    pub kind: exo_vault::LinkKind,
    pub target: String,
}

pub struct Tx<'c> {
    tx: Transaction<'c>,
    path: PathBuf,
}

impl Tx<'_> {
    pub fn commit(self) -> Result<()> {
        self.tx.commit().at(&self.path)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        set_meta(&self.tx, &self.path, key, value)
    }

    pub fn add_pending(&self, paths: &[&str]) -> Result<()> {
        let mut stmt = self.tx.prepare_cached("INSERT OR IGNORE INTO pending(path) VALUES (?1)").at(&self.path)?;
        for path in paths {
            stmt.execute([path]).at(&self.path)?;
        }
        Ok(())
    }

    pub fn create_indexes(&self) -> Result<()> {
        self.tx.execute_batch(CREATE_INDEXES).at(&self.path)
    }

    pub fn clear_pending(&self) -> Result<()> {
        self.tx.execute("DELETE FROM pending", []).at(&self.path)?;
        Ok(())
    }

    pub fn note_id(&self, path: &str) -> Result<Option<i64>> {
        self.tx.query_row("SELECT id FROM notes WHERE path = ?1", [path], |r| r.get(0)).optional().at(&self.path)
    }

    /// The names (stem and alias keys) a note answers to now, before it changes.
    pub fn note_keys(&self, id: i64) -> Result<Vec<String>> {
        let path: String =
            self.tx.query_row("SELECT path FROM notes WHERE id = ?1", [id], |r| r.get(0)).at(&self.path)?;
        let mut stmt = self.tx.prepare_cached("SELECT alias FROM aliases WHERE note_id = ?1").at(&self.path)?;
        let aliases = stmt
            .query_map([id], |r| r.get(0))
            .at(&self.path)?
            .collect::<rusqlite::Result<Vec<String>>>()
            .at(&self.path)?;
        Ok(exo_vault::resolve::note_keys(&path, &aliases))
    }

    pub fn rename_note(&self, from: &str, to: &str) -> Result<()> {
        self.tx.execute("UPDATE notes SET path = ?2 WHERE path = ?1", [from, to]).at(&self.path)?;
        Ok(())
    }

    pub fn delete_note(&self, path: &str) -> Result<()> {
        self.tx.execute("DELETE FROM notes WHERE path = ?1", [path]).at(&self.path)?;
        Ok(())
    }

    pub fn delete_skipped(&self, path: &str) -> Result<()> {
        self.tx.execute("DELETE FROM skipped WHERE path = ?1", [path]).at(&self.path)?;
        Ok(())
    }

    pub fn record_skipped(&self, file: &ScannedFile, reason: &str) -> Result<()> {
        self.delete_note(&file.path)?;
        self.tx
            .execute(
                "INSERT INTO skipped(path, size, mtime_ns, identity, reason) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns,
                   identity = excluded.identity, reason = excluded.reason",
                params![file.path, file.size as i64, file.mtime_ns, file.identity, reason],
            )
            .at(&self.path)?;
        Ok(())
    }

    /// Same content, new stat record (a touch, or a racy entry that has since settled).
    pub fn refresh_stat(&self, path: &str, size: i64, mtime_ns: i64, identity: i64, racy: bool) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE notes SET size = ?2, mtime_ns = ?3, identity = ?4, racy = ?5 WHERE path = ?1")
            .at(&self.path)?
            .execute(params![path, size, mtime_ns, identity, racy as i64])
            .at(&self.path)?;
        Ok(())
    }

    /// Writes a note and all its child rows, keeping its id when the path is known.
    /// Links are stored unresolved; `resolve_links` in reconcile fills in their targets.
    /// `known` says the path may already have rows to replace; a new note has none.
    pub fn upsert_note(&self, file: &FileState, note: &Note, source: &str, known: bool) -> Result<i64> {
        let id = self.write_note_row(file, note)?;
        if known {
            self.delete_children(id)?;
        }
        self.write_children(id, note, source)?;
        Ok(id)
    }

    fn delete_children(&self, id: i64) -> Result<()> {
        for table in ["aliases", "tags", "headings", "blocks", "links", "chunks"] {
            self.tx
                .prepare_cached(&format!(
                    "DELETE FROM {table} WHERE {} = ?1",
                    if table == "links" { "src_id" } else { "note_id" }
                ))
                .at(&self.path)?
                .execute([id])
                .at(&self.path)?;
        }
        Ok(())
    }

    fn write_note_row(&self, file: &FileState, note: &Note) -> Result<i64> {
        let warnings = (!note.warnings.is_empty()).then(|| serde_json::to_string(&note.warnings).unwrap_or_default());
        let frontmatter = note.frontmatter.as_ref().map(|v| v.to_string());
        let title_source = match note.title_source {
            TitleSource::Frontmatter => "frontmatter",
            TitleSource::Heading => "heading",
            TitleSource::FileName => "file_name",
        };
        let stem_key = fold(exo_vault::path::note_stem(file.path));
        let mut stmt = self
            .tx
            .prepare_cached(
                "INSERT INTO notes(path, hash, size, mtime_ns, racy, title, title_source, type, summary, created, updated, frontmatter, word_count, warnings, stem_key, identity)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
                 ON CONFLICT(path) DO UPDATE SET hash = excluded.hash, size = excluded.size, mtime_ns = excluded.mtime_ns,
                   identity = excluded.identity,
                   racy = excluded.racy, title = excluded.title, title_source = excluded.title_source, type = excluded.type,
                   summary = excluded.summary, created = excluded.created, updated = excluded.updated,
                   frontmatter = excluded.frontmatter, word_count = excluded.word_count, warnings = excluded.warnings,
                   stem_key = excluded.stem_key
                 RETURNING id",
            )
            .at(&self.path)?;
        stmt.query_row(
            params![
                file.path,
                file.hash,
                file.size as i64,
                file.mtime_ns,
                file.racy as i64,
                note.title,
                title_source,
                note.note_type,
                note.summary,
                note.created,
                note.updated,
                frontmatter,
                note.word_count as i64,
                warnings,
                stem_key,
                file.identity,
            ],
            |r| r.get(0),
        )
        .at(&self.path)
    }

    fn write_children(&self, id: i64, note: &Note, source: &str) -> Result<()> {
        let p = &self.path;
        let mut stmt =
            self.tx.prepare_cached("INSERT INTO aliases(note_id, alias, alias_key) VALUES (?1, ?2, ?3)").at(p)?;
        for alias in &note.aliases {
            stmt.execute(params![id, alias, fold(alias.trim())]).at(p)?;
        }
        let mut stmt =
            self.tx.prepare_cached("INSERT INTO tags(note_id, tag, source, line) VALUES (?1, ?2, ?3, ?4)").at(p)?;
        for tag in &note.tags {
            let source = match tag.source {
                exo_vault::TagSource::Frontmatter => "frontmatter",
                exo_vault::TagSource::Inline => "inline",
            };
            stmt.execute(params![id, tag.name, source, tag.line]).at(p)?;
        }
        let mut stmt = self
            .tx
            .prepare_cached(
                "INSERT INTO headings(note_id, seq, level, text, slug, line) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .at(p)?;
        for (seq, h) in note.headings.iter().enumerate() {
            stmt.execute(params![id, seq as i64, h.level, h.text, h.slug, h.line]).at(p)?;
        }
        let mut stmt =
            self.tx.prepare_cached("INSERT INTO blocks(note_id, block_id, line) VALUES (?1, ?2, ?3)").at(p)?;
        for b in &note.blocks {
            stmt.execute(params![id, b.id, b.line]).at(p)?;
        }
        let mut stmt = self
            .tx
            .prepare_cached(
                "INSERT INTO links(src_id, seq, kind, target, heading, block, display, line, start_byte, end_byte, target_key, alias_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .at(p)?;
        for (seq, l) in note.links.iter().enumerate() {
            let (target_key, alias_key) = link_keys(&l.target);
            stmt.execute(params![
                id,
                seq as i64,
                l.kind.as_str(),
                l.target,
                l.heading,
                l.block,
                l.display,
                l.line,
                l.span.start as i64,
                l.span.end as i64,
                target_key,
                alias_key
            ])
            .at(p)?;
        }
        let mut stmt = self
            .tx
            .prepare_cached(
                "INSERT INTO chunks(note_id, seq, heading, start_byte, end_byte, text, text_hash, embed_hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .at(p)?;
        for (seq, c) in note.chunks.iter().enumerate() {
            let text = source.get(c.span.start..c.span.end).unwrap_or("");
            let text_hash = blake3::hash(text.as_bytes()).to_hex().to_string();
            let embed_hash = crate::store::chunk_key::embed_key(&note.title, text);
            stmt.execute(params![
                id,
                seq as i64,
                c.heading,
                c.span.start as i64,
                c.span.end as i64,
                text,
                text_hash,
                embed_hash
            ])
            .at(p)?;
        }
        Ok(())
    }

    /// Every note path with its aliases (the name set links resolve against), and each
    /// path's row id.
    pub fn names(&self) -> Result<NameSet> {
        self.names_where("SELECT note_id, alias FROM aliases", "SELECT id, path FROM notes", None)
    }

    /// The names of just the notes whose stem key or an alias key is among `keys`.
    pub fn names_with_keys(&self, keys: &[String]) -> Result<NameSet> {
        let notes = "SELECT id, path FROM notes WHERE stem_key IN (SELECT value FROM json_each(?1))
                     UNION SELECT n.id, n.path FROM aliases a JOIN notes n ON n.id = a.note_id
                      WHERE a.alias_key IN (SELECT value FROM json_each(?1))";
        let aliases = "SELECT note_id, alias FROM aliases WHERE note_id IN (
                         SELECT id FROM notes WHERE stem_key IN (SELECT value FROM json_each(?1))
                         UNION SELECT note_id FROM aliases WHERE alias_key IN (SELECT value FROM json_each(?1)))";
        self.names_where(aliases, notes, Some(serde_json::to_string(keys).unwrap_or_else(|_| "[]".into())))
    }

    fn names_where(&self, aliases_sql: &str, notes_sql: &str, keys: Option<String>) -> Result<NameSet> {
        let params: Vec<&dyn rusqlite::ToSql> = keys.iter().map(|k| k as &dyn rusqlite::ToSql).collect();
        let mut ids = HashMap::new();
        let mut aliases: HashMap<i64, Vec<String>> = HashMap::new();
        {
            let mut stmt = self.tx.prepare(aliases_sql).at(&self.path)?;
            let rows = stmt
                .query_map(params.as_slice(), |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
                .at(&self.path)?;
            for row in rows {
                let (id, alias) = row.at(&self.path)?;
                aliases.entry(id).or_default().push(alias);
            }
        }
        let mut stmt = self.tx.prepare(notes_sql).at(&self.path)?;
        let rows =
            stmt.query_map(params.as_slice(), |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).at(&self.path)?;
        let mut names = Vec::new();
        for row in rows {
            let (id, path) = row.at(&self.path)?;
            names.push((path.clone(), aliases.remove(&id).unwrap_or_default()));
            ids.insert(path, id);
        }
        Ok((names, ids))
    }

    /// Links that need resolving: all of them, or those from `note_ids` plus those whose
    /// target names are among `keys`. At most `page` links with ids above `after_id`, in id
    /// order, so a full rebuild never holds every link of a large vault in memory at once.
    pub fn links_to_resolve(
        &self,
        all: bool,
        note_ids: &[i64],
        keys: &[String],
        after_id: i64,
        page: usize,
    ) -> Result<Vec<LinkToResolve>> {
        let sql = if all {
            "SELECT l.id, n.path, l.kind, l.target FROM links l JOIN notes n ON n.id = l.src_id
              WHERE l.id > ?1 ORDER BY l.id LIMIT ?2"
        } else {
            "SELECT l.id, n.path, l.kind, l.target FROM links l JOIN notes n ON n.id = l.src_id
             WHERE l.id > ?1
               AND (l.src_id IN (SELECT value FROM json_each(?3))
                OR l.target_key IN (SELECT value FROM json_each(?4))
                OR l.alias_key IN (SELECT value FROM json_each(?4))
                OR (json_array_length(?4) > 0 AND l.target_key = ?5))
             ORDER BY l.id LIMIT ?2"
        };
        let mut stmt = self.tx.prepare_cached(sql).at(&self.path)?;
        let map = |r: &rusqlite::Row| {
            let kind: String = r.get(2)?;
            Ok(LinkToResolve {
                id: r.get(0)?,
                src_path: r.get(1)?,
                kind: exo_vault::LinkKind::parse(&kind).unwrap_or(exo_vault::LinkKind::Wiki),
                target: r.get(3)?,
            })
        };
        let page = page as i64;
        let rows = if all {
            stmt.query_map(params![after_id, page], map).at(&self.path)?.collect::<rusqlite::Result<Vec<_>>>()
        } else {
            let ids = serde_json::to_string(note_ids).unwrap_or_else(|_| "[]".into());
            let keys = serde_json::to_string(keys).unwrap_or_else(|_| "[]".into());
            stmt.query_map(params![after_id, page, ids, keys, ANY_STEM], map)
                .at(&self.path)?
                .collect::<rusqlite::Result<Vec<_>>>()
        };
        rows.at(&self.path)
    }

    pub fn set_link_target(&self, link_id: i64, dst_id: Option<i64>, attachment: Option<&str>) -> Result<()> {
        self.tx
            // A link that already points where it should is not rewritten (unresolved links
            // are inserted that way, and most links keep their target across updates).
            .prepare_cached(
                "UPDATE links SET dst_id = ?2, dst_attachment = ?3
                  WHERE id = ?1 AND (dst_id IS NOT ?2 OR dst_attachment IS NOT ?3)",
            )
            .at(&self.path)?
            .execute(params![link_id, dst_id, attachment])
            .at(&self.path)?;
        Ok(())
    }

    pub fn replace_attachments(&self, added: &[String], removed: &[String]) -> Result<()> {
        let mut insert = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO attachments(path, name_key) VALUES (?1, ?2)")
            .at(&self.path)?;
        for path in added {
            let name = path.rsplit('/').next().unwrap_or(path);
            insert.execute([path.as_str(), &fold(name)]).at(&self.path)?;
        }
        let mut delete = self.tx.prepare_cached("DELETE FROM attachments WHERE path = ?1").at(&self.path)?;
        for path in removed {
            delete.execute([path]).at(&self.path)?;
        }
        Ok(())
    }
}
