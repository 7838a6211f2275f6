//! The chunk vectors laid flat for search: `.exo/vectors.flat`, one row per chunk in note
//! order, int8 with a scale per row. Reading every f32 blob through SQLite and mapping
//! each back to its chunks by content key took half of a hybrid search; this file is a
//! quarter of the size and already in note order.
//!
//! It is derived from the catalog and the vector store and says which state it was written
//! from: when the catalog's chunks were last written (`indexed_at`, in nanoseconds, set by
//! every run that changes notes and unique across rebuilds, where counters restart) and the
//! store's version, which every vector write moves. A file from any other state is ignored
//! and search reads SQLite.
//!
//! A small change does not rewrite it: `.exo/vectors.delta` holds the rows of the notes
//! changed since the base file was written and the ids of those notes, whose base rows
//! are dead. The delta names the state it brings the base to and the base state it applies
//! to; it is replaced whole (by a rename) on every change, and folded into a new base once
//! it holds more than a sixteenth of the base's rows. Rewriting the 135 MB base after each
//! one-note edit at 100k notes was most of that run.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rusqlite::OptionalExtension;

use crate::error::{Result, SqlContext, io_err};
use crate::store::catalog::Catalog;

const MAGIC: &[u8; 8] = b"EXOFLAT2";
const HEADER: usize = 32;
const DELTA_MAGIC: &[u8; 8] = b"EXODELT1";
/// Magic, dims, rows, dead notes, padding, stamp, base stamp.
const DELTA_HEADER: usize = 56;
/// Bytes of a row's content key.
const KEY: usize = 16;
/// Bytes of a row besides its vector: note id, seq, scale, content key.
const ROW_FIXED: usize = 8 + 4 + 4 + KEY;

/// The state a flat file was written from: (when the catalog was last written, vector
/// store version).
pub(crate) type Stamp = (i64, i64);

/// Which state of the catalog and the vector store the search would read now. The store
/// must be attached as `vec`.
pub(crate) fn current_stamp(catalog: &Catalog) -> Result<Stamp> {
    let version: Option<String> = catalog
        .conn
        .query_row("SELECT value FROM vec.meta WHERE key = ?1", [crate::store::vector_store::VERSION_KEY], |r| r.get(0))
        .optional()
        .at(&catalog.path)?;
    let indexed_at = catalog.meta(crate::store::catalog::meta_keys::INDEXED_AT_NS)?;
    Ok((indexed_at.and_then(|ns| ns.parse().ok()).unwrap_or(0), version.and_then(|v| v.parse().ok()).unwrap_or(0)))
}

/// The delta file beside the base file at `path`.
fn delta_path(path: &Path) -> PathBuf {
    path.with_extension("delta")
}

/// The state the files at `path` hold together: the delta's when it applies to the base
/// there, the base's otherwise. None when there is no base.
pub(crate) fn stamp_on_disk(path: &Path) -> Option<Stamp> {
    let base = read_stamp(path)?;
    match read_delta_stamps(&delta_path(path)) {
        Some((stamp, on)) if on == base => Some(stamp),
        _ => Some(base),
    }
}

/// Brings the flat files to the current state unless they are there already. Only the
/// writer calls this, under `.exo/lock`; each file is replaced by a rename, so a reader
/// sees the old file or the new one, never half of one.
///
/// `since` is (the state the files held, the notes whose chunks or vectors may have changed
/// since): when the files on disk hold that state, only those notes' rows are written, to
/// the delta. Otherwise, or when the delta would grow past a sixteenth of the base, the
/// base is written again, streaming: rows of the old files are reused by content key, the
/// rest decoded from the store one at a time, so no more than one row's vector and a few
/// words per chunk are held at once.
pub(crate) fn refresh(catalog: &Catalog, path: &Path, since: Option<(Stamp, &[i64])>) -> Result<()> {
    let stamp = current_stamp(catalog)?;
    let on_disk = stamp_on_disk(path);
    if on_disk == Some(stamp) {
        return Ok(());
    }
    // Mapped without reading ahead: a delta reads only the base's header.
    let old = FlatVectors::open_current(path, false);
    if let (Some((held, changed)), Some(old)) = (since, old.as_ref())
        && on_disk == Some(held)
        && write_delta(catalog, path, stamp, old, changed)?
    {
        return Ok(());
    }
    write_base(catalog, path, stamp, old.as_ref())
}

/// Called when the store's vectors are discarded (a new embedder): the old rows must not
/// be reused for the same texts.
pub(crate) fn forget(path: &Path) {
    let _ = std::fs::remove_file(path);
    let _ = std::fs::remove_file(delta_path(path));
}

fn read_stamp(path: &Path) -> Option<Stamp> {
    parse_header(&crate::store::read_prefix::<HEADER>(path)?).map(|(_, _, stamp)| stamp)
}

fn read_delta_stamps(path: &Path) -> Option<(Stamp, Stamp)> {
    parse_delta_header(&crate::store::read_prefix::<DELTA_HEADER>(path)?).map(|h| (h.stamp, h.base))
}

fn parse_header(bytes: &[u8]) -> Option<(usize, usize, Stamp)> {
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return None;
    }
    let u32_at = |at: usize| u32::from_le_bytes(word(&bytes[at..], 0)) as usize;
    let i64_at = |at: usize| i64::from_le_bytes(word(&bytes[at..], 0));
    Some((u32_at(8), u32_at(12), (i64_at(16), i64_at(24))))
}

struct DeltaHeader {
    dims: usize,
    rows: usize,
    dead: usize,
    stamp: Stamp,
    base: Stamp,
}

fn parse_delta_header(bytes: &[u8]) -> Option<DeltaHeader> {
    if bytes.len() < DELTA_HEADER || &bytes[..8] != DELTA_MAGIC {
        return None;
    }
    let u32_at = |at: usize| u32::from_le_bytes(word(&bytes[at..], 0)) as usize;
    let i64_at = |at: usize| i64::from_le_bytes(word(&bytes[at..], 0));
    Some(DeltaHeader {
        dims: u32_at(8),
        rows: u32_at(12),
        dead: u32_at(16),
        stamp: (i64_at(24), i64_at(32)),
        base: (i64_at(40), i64_at(48)),
    })
}

/// The first 16 bytes of a chunk's content key (blake3, hex): what a row is reused by.
fn row_key(embed_hash: &str) -> [u8; KEY] {
    let hex = embed_hash.as_bytes();
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut key = [0u8; KEY];
    let decoded = hex.len() >= 2 * KEY
        && key.iter_mut().zip(hex.chunks_exact(2)).all(|(byte, pair)| match (nibble(pair[0]), nibble(pair[1])) {
            (Some(high), Some(low)) => {
                *byte = high << 4 | low;
                true
            }
            _ => false,
        });
    if decoded {
        key
    } else {
        // Not blake3 hex (never written by exo): a key of its own all the same.
        std::array::from_fn(|i| blake3::hash(hex).as_bytes()[i])
    }
}

/// Rows of the old files by content key: (in the delta, row).
type Reusable = std::collections::HashMap<[u8; KEY], (bool, u32), foldhash::fast::RandomState>;

/// `with_base`: the base's rows too (a delta leaves them alone: its few unchanged chunks
/// are cheaper to read from the store than a map of every base row).
fn reusable_rows(old: Option<&FlatVectors>, with_base: bool) -> Reusable {
    let mut rows = Reusable::default();
    let Some(old) = old else { return rows };
    if with_base {
        rows.reserve(old.base.rows);
        for (row, key) in old.base.keys().chunks_exact(KEY).enumerate() {
            rows.insert(std::array::from_fn(|i| key[i]), (false, row as u32));
        }
    }
    if let Some(delta) = &old.delta {
        for (row, key) in delta.table.keys().chunks_exact(KEY).enumerate() {
            rows.insert(std::array::from_fn(|i| key[i]), (true, row as u32));
        }
    }
    rows
}

/// One row for the file being written: a reused row's scale and bytes, or a vector from the
/// store quantised. None when the chunk has no vector.
struct RowSource<'a> {
    catalog: &'a Catalog,
    old: Option<&'a FlatVectors>,
    reusable: Reusable,
    dims: usize,
    row: Vec<i8>,
    reused: usize,
}

/// Reused rows between two releases of the old files' pages (a few MB of them).
const RELEASE_EVERY: usize = 16384;

impl RowSource<'_> {
    fn row(&mut self, key: &[u8; KEY], embed_hash: Option<&str>, out: &mut Vec<u8>) -> Result<Option<f32>> {
        if let (Some(&(in_delta, row)), Some(old)) = (self.reusable.get(key), self.old) {
            let table = match (&old.delta, in_delta) {
                (Some(delta), true) => &delta.table,
                _ => &old.base,
            };
            let (scale, bytes) = table.row(row as usize);
            if bytes.len() == self.dims || self.dims == 0 {
                self.dims = bytes.len();
                out.extend_from_slice(bytes);
                self.reused += 1;
                if self.reused.is_multiple_of(RELEASE_EVERY) {
                    old.release();
                }
                return Ok(Some(scale));
            }
        }
        let Some(embed_hash) = embed_hash else { return Ok(None) };
        let path = &self.catalog.path;
        let mut stmt =
            self.catalog.conn.prepare_cached("SELECT vector FROM vec.vectors WHERE embed_hash = ?1").at(path)?;
        let Some(blob) = stmt.query_row([embed_hash], |r| r.get::<_, Vec<u8>>(0)).optional().at(path)? else {
            return Ok(None);
        };
        let vector = crate::store::vector_store::decode(&blob);
        if self.dims == 0 {
            self.dims = vector.len();
        }
        if vector.len() != self.dims {
            return Ok(None);
        }
        self.row.clear();
        let scale = quantize(&vector, &mut self.row);
        out.extend(self.row.iter().map(|&q| q as u8));
        Ok(Some(scale))
    }
}

/// A chunk to lay out: note id, seq, row key, and the content key when the row cannot be
/// reused (to read its vector from the store).
type Slot = (i64, u32, [u8; KEY], Option<Box<str>>);

/// Writes the base file for `stamp` and drops the delta.
fn write_base(catalog: &Catalog, path: &Path, stamp: Stamp, old: Option<&FlatVectors>) -> Result<()> {
    let db = &catalog.path;
    let reusable = reusable_rows(old, true);
    // The covering (embed_hash, note_id, seq) index, then note order: no chunk text is read.
    let mut slots: Vec<Slot> = Vec::new();
    {
        let mut stmt = catalog.conn.prepare("SELECT note_id, seq, embed_hash FROM chunks").at(db)?;
        let mut rows = stmt.query([]).at(db)?;
        while let Some(row) = rows.next().at(db)? {
            let hash = row.get_ref(2).at(db)?.as_str().unwrap_or("");
            let key = row_key(hash);
            let keep_hash = (!reusable.contains_key(&key)).then(|| hash.into());
            slots.push((row.get(0).at(db)?, row.get::<_, i64>(1).at(db)? as u32, key, keep_hash));
        }
    }
    slots.sort_unstable_by_key(|s| (s.0, s.1));
    let mut source =
        RowSource { catalog, old, reusable, dims: old.map_or(0, |o| o.base.dims), row: Vec::new(), reused: 0 };
    // The int8 rows go to a side file as they are made; the small columns stay in memory
    // (32 bytes a chunk) until the row count is known.
    let rows_path = path.with_extension("rows.partial");
    let partial = path.with_extension("partial");
    let result = (|| -> Result<()> {
        let mut rows_out = std::io::BufWriter::new(std::fs::File::create(&rows_path).map_err(io_err(&rows_path))?);
        let (mut notes, mut seqs, mut scales, mut keys) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut row = Vec::new();
        for (note, seq, key, hash) in &slots {
            row.clear();
            let Some(scale) = source.row(key, hash.as_deref(), &mut row)? else { continue };
            rows_out.write_all(&row).map_err(io_err(&rows_path))?;
            notes.push(*note);
            seqs.push(*seq);
            scales.push(scale);
            keys.push(*key);
        }
        rows_out.flush().map_err(io_err(&rows_path))?;
        drop(rows_out);
        drop(slots);
        let mut out = std::io::BufWriter::new(std::fs::File::create(&partial).map_err(io_err(&partial))?);
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&(source.dims as u32).to_le_bytes());
        header.extend_from_slice(&(notes.len() as u32).to_le_bytes());
        header.extend_from_slice(&stamp.0.to_le_bytes());
        header.extend_from_slice(&stamp.1.to_le_bytes());
        out.write_all(&header).map_err(io_err(&partial))?;
        write_columns(&mut out, &notes, &seqs, &scales, &keys).map_err(io_err(&partial))?;
        let mut rows_in = std::fs::File::open(&rows_path).map_err(io_err(&rows_path))?;
        std::io::copy(&mut rows_in, &mut out).map_err(io_err(&partial))?;
        out.into_inner().map_err(|e| io_err(&partial)(e.into_error()))?;
        std::fs::rename(&partial, path).map_err(io_err(path))
    })();
    let _ = std::fs::remove_file(&rows_path);
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result?;
    let _ = std::fs::remove_file(delta_path(path));
    Ok(())
}

fn write_columns(
    out: &mut impl std::io::Write,
    notes: &[i64],
    seqs: &[u32],
    scales: &[f32],
    keys: &[[u8; KEY]],
) -> std::io::Result<()> {
    notes.iter().try_for_each(|n| out.write_all(&n.to_le_bytes()))?;
    seqs.iter().try_for_each(|s| out.write_all(&s.to_le_bytes()))?;
    scales.iter().try_for_each(|s| out.write_all(&s.to_le_bytes()))?;
    keys.iter().try_for_each(|k| out.write_all(k))
}

/// Writes the delta that brings the base under `old` to `stamp`: the rows of every note
/// changed since the base (those `old`'s delta names and `changed`). False, writing nothing,
/// when the delta would be too large to be worth it against a new base.
fn write_delta(catalog: &Catalog, path: &Path, stamp: Stamp, old: &FlatVectors, changed: &[i64]) -> Result<bool> {
    let db = &catalog.path;
    let mut dead: Vec<i64> = old.delta.as_ref().map(|d| d.dead.clone()).unwrap_or_default();
    dead.extend_from_slice(changed);
    dead.sort_unstable();
    dead.dedup();
    let limit = old.base.rows / 16 + 1024;
    if dead.len() > limit {
        return Ok(false);
    }
    let mut source = RowSource {
        catalog,
        old: Some(old),
        reusable: reusable_rows(Some(old), false),
        dims: old.base.dims,
        row: Vec::new(),
        reused: 0,
    };
    let (mut notes, mut seqs, mut scales, mut keys, mut vectors) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::<u8>::new());
    let mut stmt =
        catalog.conn.prepare_cached("SELECT seq, embed_hash FROM chunks WHERE note_id = ?1 ORDER BY seq").at(db)?;
    for &note in &dead {
        let mut rows = stmt.query([note]).at(db)?;
        while let Some(row) = rows.next().at(db)? {
            let hash = row.get_ref(1).at(db)?.as_str().unwrap_or("");
            let Some(scale) = source.row(&row_key(hash), Some(hash), &mut vectors)? else { continue };
            notes.push(note);
            seqs.push(row.get::<_, i64>(0).at(db)? as u32);
            scales.push(scale);
            keys.push(row_key(hash));
        }
        if notes.len() > limit {
            return Ok(false);
        }
    }
    let mut out = Vec::with_capacity(DELTA_HEADER + dead.len() * 8 + notes.len() * ROW_FIXED + vectors.len());
    out.extend_from_slice(DELTA_MAGIC);
    out.extend_from_slice(&(source.dims as u32).to_le_bytes());
    out.extend_from_slice(&(notes.len() as u32).to_le_bytes());
    out.extend_from_slice(&(dead.len() as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&stamp.0.to_le_bytes());
    out.extend_from_slice(&stamp.1.to_le_bytes());
    out.extend_from_slice(&old.base.stamp.0.to_le_bytes());
    out.extend_from_slice(&old.base.stamp.1.to_le_bytes());
    dead.iter().for_each(|n| out.extend_from_slice(&n.to_le_bytes()));
    write_columns(&mut out, &notes, &seqs, &scales, &keys).map_err(io_err(path))?;
    out.extend_from_slice(&vectors);
    let delta = delta_path(path);
    crate::store::write_replacing(&delta, &out).map_err(io_err(&delta))?;
    Ok(true)
}

/// Symmetric int8 with one scale per vector: the largest component maps to ±127.
fn quantize(vector: &[f32], out: &mut Vec<i8>) -> f32 {
    let largest = vector.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let scale = if largest > 0.0 { largest / 127.0 } else { 1.0 };
    out.extend(vector.iter().map(|v| (v / scale).round().clamp(-127.0, 127.0) as i8));
    scale
}

/// One mapped file of rows: the base, or the delta's rows.
struct Table {
    dims: usize,
    rows: usize,
    stamp: Stamp,
    bytes: memmap2::Mmap,
    /// Where the columns start.
    at: usize,
}

impl Table {
    fn map(path: &Path, populate: bool) -> Option<memmap2::Mmap> {
        let file = std::fs::File::open(path).ok()?;
        // SAFETY: the mapping is only sound while nobody truncates or rewrites the file in
        // place. exo never does: the writer replaces each file whole by a rename, which
        // leaves this mapping on the old inode. (`.exo/` is exo's own; another program
        // truncating this file under a running search would crash that search.) The length
        // is checked before any row is read.
        let mut options = memmap2::MmapOptions::new();
        if populate {
            options.populate();
        }
        unsafe { options.map(&file) }.ok()
    }

    fn open_base(path: &Path, populate: bool) -> Option<Table> {
        let bytes = Table::map(path, populate)?;
        let (dims, rows, stamp) = parse_header(&bytes)?;
        let expected = HEADER.checked_add(rows.checked_mul(ROW_FIXED + dims)?)?;
        (bytes.len() == expected && dims > 0).then_some(Table { dims, rows, stamp, bytes, at: HEADER })
    }

    /// The delta's rows and its dead notes (sorted), for the base stamped `base`.
    fn open_delta(path: &Path, base: &Table) -> Option<Delta> {
        let bytes = Table::map(path, true)?;
        let header = parse_delta_header(&bytes)?;
        let at = DELTA_HEADER.checked_add(header.dead.checked_mul(8)?)?;
        let expected = at.checked_add(header.rows.checked_mul(ROW_FIXED + header.dims)?)?;
        if header.base != base.stamp || bytes.len() != expected || (header.rows > 0 && header.dims != base.dims) {
            return None;
        }
        let dead: Vec<i64> = bytes[DELTA_HEADER..at].chunks_exact(8).map(|b| i64::from_le_bytes(word(b, 0))).collect();
        if dead.windows(2).any(|pair| pair[0] >= pair[1]) {
            return None;
        }
        let table = Table { dims: base.dims, rows: header.rows, stamp: header.stamp, bytes, at };
        Some(Delta { table, dead })
    }

    /// The file's columns: note ids (i64), chunk seqs (u32), scales (f32), content keys,
    /// int8 rows.
    fn columns(&self) -> (Columns<'_>, &[u8]) {
        let (notes, rest) = self.bytes[self.at..].split_at(self.rows * 8);
        let (seqs, rest) = rest.split_at(self.rows * 4);
        let (scales, rest) = rest.split_at(self.rows * 4);
        let (keys, vectors) = rest.split_at(self.rows * KEY);
        (Columns { notes, seqs, scales, vectors, dims: self.dims }, keys)
    }

    fn keys(&self) -> &[u8] {
        self.columns().1
    }

    /// A row's scale and int8 values.
    fn row(&self, row: usize) -> (f32, &[u8]) {
        let (columns, _) = self.columns();
        (f32::from_le_bytes(word(columns.scales, row)), &columns.vectors[row * self.dims..(row + 1) * self.dims])
    }

    /// Each note's best chunk, in note order, scored on every core.
    fn best_per_note(&self, query: &[f32]) -> Vec<(i64, f32, usize)> {
        let (columns, _) = self.columns();
        let parts: Vec<Vec<(i64, f32, usize)>> = (0..self.rows.div_ceil(ROWS_PER_TASK))
            .into_par_iter()
            .map(|task| columns.best_per_note(task * ROWS_PER_TASK..((task + 1) * ROWS_PER_TASK).min(self.rows), query))
            .collect();
        let mut best: Vec<(i64, f32, usize)> = Vec::with_capacity(parts.iter().map(Vec::len).sum());
        for part in parts {
            let mut part = part.into_iter();
            // A note's chunks may straddle two tasks: its two halves meet here.
            if let (Some(last), Some(first)) = (best.last_mut(), part.as_slice().first())
                && last.0 == first.0
            {
                if first.1 > last.1 {
                    *last = *first;
                }
                part.next();
            }
            best.extend(part);
        }
        best
    }
}

struct Delta {
    table: Table,
    /// Notes whose base rows no longer hold, sorted.
    dead: Vec<i64>,
}

/// The flat files mapped into memory, checked against the state the search reads. Mapped,
/// not read: at 100k notes the base is 135 MB, and copying it into a fresh allocation took
/// a fifth of a hybrid search.
pub(crate) struct FlatVectors {
    base: Table,
    delta: Option<Delta>,
}

/// Rows scored per task: enough to amortise a task, few enough to use both cores at 10k.
const ROWS_PER_TASK: usize = 4096;

impl FlatVectors {
    /// None when the files are missing, damaged or from another state than `stamp`.
    pub(crate) fn load(path: &Path, stamp: Stamp) -> Option<FlatVectors> {
        // Files from another state are not worth paging in.
        if stamp_on_disk(path)? != stamp {
            return None;
        }
        FlatVectors::open_current(path, true).filter(|flat| flat.stamp() == stamp)
    }

    /// The base and the delta that applies to it, whatever state they are from (None when
    /// the base is missing or damaged; a damaged delta is left out).
    fn open_current(path: &Path, populate: bool) -> Option<FlatVectors> {
        let base = Table::open_base(path, populate)?;
        let delta = Table::open_delta(&delta_path(path), &base);
        Some(FlatVectors { base, delta })
    }

    /// Drops the pages read so far from this process's resident set (they stay in the page
    /// cache): a full write reads every old row once, and keeping them mapped in would add
    /// the whole 135 MB base to a fill's peak at 100k notes.
    fn release(&self) {
        for table in std::iter::once(&self.base).chain(self.delta.as_ref().map(|d| &d.table)) {
            // SAFETY: no borrow of the mapping outlives the row copied out of it before this
            // call, and the mapping is a shared, read-only map of a file nobody writes in place
            // (see `Table::map`): after MADV_DONTNEED a page is read again from that same file,
            // so its bytes cannot change under any later read.
            let _ = unsafe { table.bytes.unchecked_advise(memmap2::UncheckedAdvice::DontNeed) };
        }
    }

    fn stamp(&self) -> Stamp {
        self.delta.as_ref().map_or(self.base.stamp, |d| d.table.stamp)
    }

    /// Each note's best chunk by cosine with `query`: (note id, cosine, chunk seq), in note
    /// id order. None when the query has other dimensions than the stored vectors.
    pub(crate) fn best_per_note(&self, query: &[f32]) -> Option<Vec<(i64, f32, usize)>> {
        if query.len() != self.base.dims {
            return None;
        }
        let base = self.base.best_per_note(query);
        let Some(delta) = &self.delta else { return Some(base) };
        let dead = |note: &i64| delta.dead.binary_search(note).is_ok();
        let mut fresh = delta.table.best_per_note(query).into_iter().peekable();
        let mut best = Vec::with_capacity(base.len() + delta.table.rows);
        for hit in base.into_iter().filter(|hit| !dead(&hit.0)) {
            while let Some(earlier) = fresh.next_if(|f| f.0 < hit.0) {
                best.push(earlier);
            }
            best.push(hit);
        }
        best.extend(fresh);
        Some(best)
    }
}

/// The columns search reads.
struct Columns<'a> {
    notes: &'a [u8],
    seqs: &'a [u8],
    scales: &'a [u8],
    vectors: &'a [u8],
    dims: usize,
}

impl Columns<'_> {
    fn best_per_note(&self, rows: std::ops::Range<usize>, query: &[f32]) -> Vec<(i64, f32, usize)> {
        let mut dots = vec![0f32; rows.len()];
        dot_rows(&self.vectors[rows.start * self.dims..rows.end * self.dims], query, &mut dots);
        let mut best: Vec<(i64, f32, usize)> = Vec::new();
        for (row, dot) in rows.zip(dots) {
            let note = i64::from_le_bytes(word(self.notes, row));
            let seq = u32::from_le_bytes(word(self.seqs, row)) as usize;
            let cosine = f32::from_le_bytes(word(self.scales, row)) * dot;
            if cosine.is_nan() {
                // A damaged scale: such a row ranks nowhere, and must not hide its note's others.
                continue;
            }
            match best.last_mut() {
                // Rows come in (note, seq) order, so the first of equal cosines has the lower seq.
                Some(last) if last.0 == note => {
                    if cosine > last.1 {
                        *last = (note, cosine, seq);
                    }
                }
                _ => best.push((note, cosine, seq)),
            }
        }
        best
    }
}

/// The `index`th N-byte word of `column` (the caller's row range is within the file).
fn word<const N: usize>(column: &[u8], index: usize) -> [u8; N] {
    std::array::from_fn(|i| column[index * N + i])
}

/// `dots[r]` = row r of `rows` (int8, `query.len()` wide) · `query`. Compiled a second time
/// with AVX2, chosen when the CPU has it: this is the whole cost of the vector signal. (The
/// multiply and add stay separate, so FMA would change nothing and the results are the same
/// bit for bit on either path.)
fn dot_rows(rows: &[u8], query: &[f32], dots: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has just been checked for the feature.
        unsafe { dot_rows_avx2(rows, query, dots) };
        return;
    }
    dot_rows_body(rows, query, dots);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dot_rows_avx2(rows: &[u8], query: &[f32], dots: &mut [f32]) {
    dot_rows_body(rows, query, dots);
}

#[inline(always)]
fn dot_rows_body(rows: &[u8], query: &[f32], dots: &mut [f32]) {
    for (row, dot) in rows.chunks_exact(query.len()).zip(dots) {
        *dot = dot_i8(row, query);
    }
}

#[inline(always)]
fn dot_i8(vector: &[u8], query: &[f32]) -> f32 {
    crate::store::vector_store::dot_encoded(vector, query, |[byte]: [u8; 1]| f32::from(byte as i8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_rows_keep_the_cosine_within_a_percent() {
        let vector: Vec<f32> = (0..384).map(|i| ((i * 37 % 101) as f32 - 50.0) / 300.0).collect();
        let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
        let unit: Vec<f32> = vector.iter().map(|v| v / norm).collect();
        let mut quantized = Vec::new();
        let scale = quantize(&unit, &mut quantized);
        let bytes: Vec<u8> = quantized.iter().map(|&q| q as u8).collect();
        let cosine = scale * dot_i8(&bytes, &unit);
        assert!((cosine - 1.0).abs() < 0.01, "{cosine}");
    }

    #[test]
    fn damaged_or_foreign_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vectors.flat");
        assert!(FlatVectors::load(&path, (1, 1)).is_none(), "missing");
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&2u32.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(&7i64.to_le_bytes());
        bytes.extend_from_slice(&3i64.to_le_bytes());
        bytes.extend_from_slice(&5i64.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&1.0f32.to_le_bytes());
        bytes.extend_from_slice(&[0u8; KEY]);
        bytes.extend_from_slice(&[1u8, 2u8]);
        std::fs::write(&path, &bytes).unwrap();
        let flat = FlatVectors::load(&path, (7, 3)).expect("a whole file from this state");
        assert_eq!(flat.best_per_note(&[1.0, 1.0]), Some(vec![(5, 3.0, 0)]));
        assert!(flat.best_per_note(&[1.0]).is_none(), "other dimensions");
        assert!(FlatVectors::load(&path, (8, 3)).is_none(), "another catalog write");
        assert!(FlatVectors::load(&path, (7, 4)).is_none(), "another vector version");
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(FlatVectors::load(&path, (7, 3)).is_none(), "truncated");
    }

    /// A flat file of one-dimensional rows: (note, seq, component) each, scale 1.
    fn flat_file(dir: &Path, rows: &[(i64, u32, i8)]) -> FlatVectors {
        let path = dir.join("vectors.flat");
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(&(rows.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&1i64.to_le_bytes());
        bytes.extend_from_slice(&1i64.to_le_bytes());
        rows.iter().for_each(|r| bytes.extend_from_slice(&r.0.to_le_bytes()));
        rows.iter().for_each(|r| bytes.extend_from_slice(&r.1.to_le_bytes()));
        rows.iter().for_each(|_| bytes.extend_from_slice(&1.0f32.to_le_bytes()));
        rows.iter().for_each(|_| bytes.extend_from_slice(&[0u8; KEY]));
        rows.iter().for_each(|r| bytes.push(r.2 as u8));
        std::fs::write(&path, &bytes).unwrap();
        FlatVectors::load(&path, (1, 1)).expect("a whole file")
    }

    /// The best chunk of each note, worked out one row at a time.
    fn one_by_one(rows: &[(i64, u32, i8)]) -> Vec<(i64, f32, usize)> {
        let mut best: Vec<(i64, f32, usize)> = Vec::new();
        for &(note, seq, component) in rows {
            let cosine = f32::from(component);
            match best.last_mut() {
                Some(last) if last.0 == note => {
                    if cosine > last.1 {
                        *last = (note, cosine, seq as usize);
                    }
                }
                _ => best.push((note, cosine, seq as usize)),
            }
        }
        best
    }

    #[test]
    fn notes_split_between_tasks_keep_their_best_chunk() {
        let t = ROWS_PER_TASK;
        let mut rows: Vec<(i64, u32, i8)> = (0..4 * t + 7).map(|r| (r as i64, 0, (r % 200) as i8)).collect();
        // Across the first boundary the earlier half wins; across the second the halves tie
        // (the lower seq, in the earlier task, must win); a third note covers the whole of
        // the fourth task and part of the two around it.
        rows[t - 1] = (900_001, 0, 90);
        rows[t] = (900_001, 1, 10);
        rows[2 * t - 1] = (900_002, 0, 50);
        rows[2 * t] = (900_002, 1, 50);
        for (seq, row) in rows[2 * t + 1..=4 * t + 1].iter_mut().enumerate() {
            *row = (900_003, seq as u32 + 1, if seq + 1 == t + 5 { 120 } else { -5 });
        }
        let dir = tempfile::tempdir().unwrap();
        let flat = flat_file(dir.path(), &rows);
        let best = flat.best_per_note(&[1.0]).unwrap();
        assert_eq!(best, one_by_one(&rows));
        assert!(best.contains(&(900_001, 90.0, 0)) && best.contains(&(900_002, 50.0, 0)), "{best:?}");
        assert!(best.contains(&(900_003, 120.0, t + 5)), "{best:?}");
    }

    #[test]
    fn row_keys_are_the_content_keys_first_bytes() {
        let hash = blake3::hash(b"a chunk").to_hex().to_string();
        assert_eq!(row_key(&hash).to_vec(), blake3::hash(b"a chunk").as_bytes()[..KEY].to_vec());
        assert_ne!(row_key("not hex at all, but long enough to fill a key"), row_key("another one"));
    }
}
