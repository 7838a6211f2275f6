//! The catalog's tables. A change here bumps [`SCHEMA_VERSION`]; an index with another
//! version is Degraded and `exo index` rebuilds it (it is derived, so nothing is lost).

/// 3: links whose target ends in `/`, `.` or `..` store `ANY_STEM` as their target key.
/// 4: notes and skipped files record `identity` (device, inode, change time) beside size
/// and mtime, so a copy that puts size and mtime back is still seen.
pub const SCHEMA_VERSION: i64 = 4;

/// Secondary indexes, created after the rows on a full build (a sorted build is much faster
/// than maintaining them row by row) and re-asserted at the end of every run.
pub const CREATE_INDEXES: &str = r#"
CREATE INDEX IF NOT EXISTS notes_stem_key ON notes(stem_key);
CREATE INDEX IF NOT EXISTS notes_type ON notes(type);
CREATE INDEX IF NOT EXISTS aliases_note ON aliases(note_id);
CREATE INDEX IF NOT EXISTS aliases_key ON aliases(alias_key);
CREATE INDEX IF NOT EXISTS tags_note ON tags(note_id);
CREATE INDEX IF NOT EXISTS tags_tag ON tags(tag);
CREATE INDEX IF NOT EXISTS headings_note ON headings(note_id);
CREATE INDEX IF NOT EXISTS blocks_note ON blocks(note_id);
CREATE INDEX IF NOT EXISTS links_src ON links(src_id);
CREATE INDEX IF NOT EXISTS links_dst ON links(dst_id);
CREATE INDEX IF NOT EXISTS links_target_key ON links(target_key);
CREATE INDEX IF NOT EXISTS links_alias_key ON links(alias_key);
CREATE INDEX IF NOT EXISTS chunks_text_hash ON chunks(text_hash);
-- Covering for the vector search's read of every chunk's owner: scanning it reads a tenth
-- of the pages the chunks table (which holds the chunk text) would.
DROP INDEX IF EXISTS chunks_embed_hash;
CREATE INDEX IF NOT EXISTS chunks_embed_owner ON chunks(embed_hash, note_id, seq);
-- Covering for every status and search freshness check, which reads each note's stat
-- record: the notes table itself also holds titles, summaries and frontmatter.
CREATE INDEX IF NOT EXISTS notes_stat ON notes(path, hash, size, mtime_ns, identity, racy);
-- Status lists the warnings of the few notes that have any without reading every row.
CREATE INDEX IF NOT EXISTS notes_warned ON notes(path) WHERE warnings IS NOT NULL;
"#;

pub const CREATE: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per indexed note. `racy` marks a note whose mtime was too close to the moment it
-- was read for the stat record to prove it unchanged later; such notes are re-hashed.
CREATE TABLE notes (
    id           INTEGER PRIMARY KEY,
    path         TEXT NOT NULL UNIQUE,
    hash         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    mtime_ns     INTEGER NOT NULL,
    identity     INTEGER NOT NULL,
    racy         INTEGER NOT NULL DEFAULT 0,
    title        TEXT NOT NULL,
    title_source TEXT NOT NULL,
    type         TEXT,
    summary      TEXT,
    created      TEXT,
    updated      TEXT,
    frontmatter  TEXT,
    word_count   INTEGER NOT NULL,
    warnings     TEXT,
    stem_key     TEXT NOT NULL
);

CREATE TABLE aliases (
    note_id   INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    alias     TEXT NOT NULL,
    alias_key TEXT NOT NULL
);

CREATE TABLE tags (
    note_id INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    tag     TEXT NOT NULL,
    source  TEXT NOT NULL,
    line    INTEGER NOT NULL
);

CREATE TABLE headings (
    note_id INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    level   INTEGER NOT NULL,
    text    TEXT NOT NULL,
    slug    TEXT NOT NULL,
    line    INTEGER NOT NULL
);

CREATE TABLE blocks (
    note_id  INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    block_id TEXT NOT NULL,
    line     INTEGER NOT NULL
);

-- The graph. `dst_id` is the resolved note (NULL when unresolved or an attachment);
-- `target_key`/`alias_key` are the names a note must have to satisfy the link, so adding
-- or removing a note re-resolves only the links that could change.
CREATE TABLE links (
    id             INTEGER PRIMARY KEY,
    src_id         INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    target         TEXT NOT NULL,
    heading        TEXT,
    block          TEXT,
    display        TEXT,
    line           INTEGER NOT NULL,
    start_byte     INTEGER NOT NULL,
    end_byte       INTEGER NOT NULL,
    target_key     TEXT NOT NULL,
    alias_key      TEXT NOT NULL,
    dst_id         INTEGER REFERENCES notes(id) ON DELETE SET NULL,
    dst_attachment TEXT
);

CREATE TABLE chunks (
    note_id    INTEGER NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    heading    TEXT,
    start_byte INTEGER NOT NULL,
    end_byte   INTEGER NOT NULL,
    text       TEXT NOT NULL,
    text_hash  TEXT NOT NULL,
    -- blake3 of the text the embedder sees (title, blank line, chunk): the key of the
    -- chunk's vector in vectors.sqlite, so unchanged chunks keep their vectors.
    embed_hash TEXT NOT NULL,
    PRIMARY KEY (note_id, seq)
);

CREATE TABLE attachments (
    path     TEXT PRIMARY KEY,
    name_key TEXT NOT NULL
);

-- Files seen but deliberately not indexed (too large, binary), with their stat record so
-- an unchanged skipped file is not reconsidered on every run.
CREATE TABLE skipped (
    path     TEXT PRIMARY KEY,
    size     INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    identity INTEGER NOT NULL,
    reason   TEXT NOT NULL
);

-- Write-ahead intent: paths whose text-index documents may be ahead of this catalog.
-- Written and committed before the text index is touched, cleared in the same transaction
-- that records the new hashes. Anything here reads as OutOfSync.
CREATE TABLE pending (
    path TEXT PRIMARY KEY
);
"#;

/// Every chunk row written or removed, by content key and note, until a fill has settled it
/// (embedded it, or dropped a vector nothing uses any more) and laid its note's rows out for
/// search: so a one-note change costs a fill what it changed, not a pass over every chunk
/// and vector (three such passes were half of a one-note `exo index` at 100k notes).
/// Written by triggers, so no writer can forget it. Not part of [`CREATE`]: the fill
/// creates it (it is only worth keeping while vectors are on, and it is dropped when they
/// are off), and trusts it only once a whole pass has run with it in place (the
/// `vectors_settled` mark in `meta`), so a catalog from before it, or one just rebuilt,
/// needs no migration. Append-only, no index: a full build logs every chunk, cheaply.
pub const CHUNK_LOG: &str = r#"
CREATE TABLE IF NOT EXISTS chunk_log (note_id INTEGER NOT NULL, embed_hash TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS chunk_log_insert AFTER INSERT ON chunks BEGIN
  INSERT INTO chunk_log(note_id, embed_hash) VALUES (new.note_id, new.embed_hash);
END;
CREATE TRIGGER IF NOT EXISTS chunk_log_delete AFTER DELETE ON chunks BEGIN
  INSERT INTO chunk_log(note_id, embed_hash) VALUES (old.note_id, old.embed_hash);
END;
CREATE TRIGGER IF NOT EXISTS chunk_log_update AFTER UPDATE ON chunks BEGIN
  INSERT INTO chunk_log(note_id, embed_hash) VALUES (old.note_id, old.embed_hash), (new.note_id, new.embed_hash);
END;
"#;

/// Drops the log when vectors are turned off, so it does not grow with nobody to read it.
pub const DROP_CHUNK_LOG: &str = r#"
DROP TRIGGER IF EXISTS chunk_log_insert;
DROP TRIGGER IF EXISTS chunk_log_delete;
DROP TRIGGER IF EXISTS chunk_log_update;
DROP TABLE IF EXISTS chunk_log;
"#;
