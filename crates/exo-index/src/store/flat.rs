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
//!
//! Each row also has a sign code (`coarse.rs`) and each note's first row a bit in the note
//! starts. Past [`COARSE_FROM_ROWS`] rows a search scores the codes first (48 bytes a row
//! against 384) and rescores only the best notes' int8 rows, so every cosine it reports is
//! exact; below, it scans every row exactly, as a scan of a few ms gains nothing from it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rusqlite::OptionalExtension;

use crate::error::{Result, SqlContext, io_err};
use crate::store::catalog::Catalog;
use crate::store::coarse;

// Version 3 added the coarse pass's columns (note starts, sign codes): a file of another
// version is laid out again by the next fill, never read.
const MAGIC: &[u8; 8] = b"EXOFLAT3";
const HEADER: usize = 32;
const DELTA_MAGIC: &[u8; 8] = b"EXODELT2";
/// Magic, dims, rows, dead notes, padding, stamp, base stamp.
const DELTA_HEADER: usize = 56;
/// Bytes of a row's content key.
pub(crate) const KEY: usize = 16;
/// Bytes of a row besides its vector and sign code: note id, seq, scale, content key.
const ROW_FIXED: usize = 8 + 4 + 4 + KEY;

/// Bytes of a table of `rows` rows of `dims` dimensions after its header: the fixed columns,
/// the note starts (a bit per row), the sign codes and the int8 rows.
fn table_bytes(rows: usize, dims: usize) -> Option<usize> {
    let per_row = ROW_FIXED.checked_add(dims)?.checked_add(coarse::code_bytes(dims))?;
    rows.checked_mul(per_row)?.checked_add(starts_bytes(rows))
}

/// Bytes of the note starts bitmap: bit r (of little-endian u64 words) is set when row r is
/// its note's first.
fn starts_bytes(rows: usize) -> usize {
    rows.div_ceil(64) * 8
}

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
    // Moved in, so the slots and the map of reusable rows are freed before the file is put
    // together.
    write_base_with(path, stamp, move |writer| {
        let mut row = Vec::new();
        for (note, seq, key, hash) in &slots {
            row.clear();
            let Some(scale) = source.row(key, hash.as_deref(), &mut row)? else { continue };
            writer.push(*note, *seq, *key, scale, &row)?;
        }
        Ok(source.dims)
    })
}

/// A base file being written, streaming: the int8 rows and their sign codes go to side files
/// as they come; the small columns stay in memory (32 bytes a chunk) until the row count is
/// known.
pub(crate) struct BaseWriter {
    rows_path: PathBuf,
    codes_path: PathBuf,
    rows_out: std::io::BufWriter<std::fs::File>,
    codes_out: std::io::BufWriter<std::fs::File>,
    notes: Vec<i64>,
    seqs: Vec<u32>,
    scales: Vec<f32>,
    keys: Vec<[u8; KEY]>,
    code: Vec<u8>,
}

impl BaseWriter {
    /// Appends a row; rows come in (note, seq) order.
    pub(crate) fn push(&mut self, note: i64, seq: u32, key: [u8; KEY], scale: f32, row: &[u8]) -> Result<()> {
        self.rows_out.write_all(row).map_err(io_err(&self.rows_path))?;
        self.code.clear();
        coarse::encode(row, &mut self.code);
        self.codes_out.write_all(&self.code).map_err(io_err(&self.codes_path))?;
        self.notes.push(note);
        self.seqs.push(seq);
        self.scales.push(scale);
        self.keys.push(key);
        Ok(())
    }
}

/// Writes the base file at `path` for `stamp` with the rows `fill` pushes (it returns their
/// dimensions), replacing the old one by a rename and dropping the delta; on an error nothing
/// is left behind.
pub(crate) fn write_base_with(
    path: &Path,
    stamp: Stamp,
    fill: impl FnOnce(&mut BaseWriter) -> Result<usize>,
) -> Result<()> {
    let rows_path = path.with_extension("rows.partial");
    let codes_path = path.with_extension("codes.partial");
    let partial = path.with_extension("partial");
    let create = |p: &Path| std::fs::File::create(p).map(std::io::BufWriter::new).map_err(io_err(p));
    let result = (|| -> Result<()> {
        let mut writer = BaseWriter {
            rows_out: create(&rows_path)?,
            codes_out: create(&codes_path)?,
            rows_path: rows_path.clone(),
            codes_path: codes_path.clone(),
            notes: Vec::new(),
            seqs: Vec::new(),
            scales: Vec::new(),
            keys: Vec::new(),
            code: Vec::new(),
        };
        let dims = fill(&mut writer)?;
        let BaseWriter { mut rows_out, mut codes_out, notes, seqs, scales, keys, .. } = writer;
        rows_out.flush().map_err(io_err(&rows_path))?;
        codes_out.flush().map_err(io_err(&codes_path))?;
        drop((rows_out, codes_out));
        let mut out = create(&partial)?;
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&(dims as u32).to_le_bytes());
        header.extend_from_slice(&(notes.len() as u32).to_le_bytes());
        header.extend_from_slice(&stamp.0.to_le_bytes());
        header.extend_from_slice(&stamp.1.to_le_bytes());
        out.write_all(&header).map_err(io_err(&partial))?;
        write_columns(&mut out, &notes, &seqs, &scales, &keys).map_err(io_err(&partial))?;
        for side in [&codes_path, &rows_path] {
            let mut side_in = std::fs::File::open(side).map_err(io_err(side))?;
            std::io::copy(&mut side_in, &mut out).map_err(io_err(&partial))?;
        }
        out.into_inner().map_err(|e| io_err(&partial)(e.into_error()))?;
        std::fs::rename(&partial, path).map_err(io_err(path))
    })();
    let _ = std::fs::remove_file(&rows_path);
    let _ = std::fs::remove_file(&codes_path);
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result?;
    let _ = std::fs::remove_file(delta_path(path));
    Ok(())
}

/// The columns before the sign codes: note ids, seqs, scales, content keys, note starts.
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
    keys.iter().try_for_each(|k| out.write_all(k))?;
    let mut starts = vec![0u64; notes.len().div_ceil(64)];
    for (row, note) in notes.iter().enumerate() {
        if row == 0 || notes[row - 1] != *note {
            starts[row / 64] |= 1 << (row % 64);
        }
    }
    starts.iter().try_for_each(|word| out.write_all(&word.to_le_bytes()))
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
    let rows = DeltaRows { dims: source.dims, notes, seqs, scales, keys, vectors };
    let out = delta_bytes(stamp, old.base.stamp, &dead, &rows);
    let delta = delta_path(path);
    crate::store::write_replacing(&delta, &out).map_err(io_err(&delta))?;
    Ok(true)
}

/// A delta's rows, held in memory (a few notes' worth).
struct DeltaRows {
    dims: usize,
    notes: Vec<i64>,
    seqs: Vec<u32>,
    scales: Vec<f32>,
    keys: Vec<[u8; KEY]>,
    /// The int8 rows, back to back.
    vectors: Vec<u8>,
}

/// The delta file bringing the base stamped `base` to `stamp`: `dead` (sorted) and `rows`.
fn delta_bytes(stamp: Stamp, base: Stamp, dead: &[i64], rows: &DeltaRows) -> Vec<u8> {
    let count = rows.notes.len();
    let mut out = Vec::with_capacity(DELTA_HEADER + dead.len() * 8 + table_bytes(count, rows.dims).unwrap_or(0));
    out.extend_from_slice(DELTA_MAGIC);
    for n in [rows.dims, count, dead.len(), 0] {
        out.extend_from_slice(&(n as u32).to_le_bytes());
    }
    for n in [stamp.0, stamp.1, base.0, base.1] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    dead.iter().for_each(|n| out.extend_from_slice(&n.to_le_bytes()));
    // Writing to a Vec cannot fail.
    let _ = write_columns(&mut out, &rows.notes, &rows.seqs, &rows.scales, &rows.keys);
    rows.vectors.chunks_exact(rows.dims.max(1)).for_each(|row| coarse::encode(row, &mut out));
    out.extend_from_slice(&rows.vectors);
    out
}

/// Symmetric int8 with one scale per vector: the largest component maps to ±127.
pub(crate) fn quantize(vector: &[f32], out: &mut Vec<i8>) -> f32 {
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
        let expected = HEADER.checked_add(table_bytes(rows, dims)?)?;
        (bytes.len() == expected && dims > 0).then_some(Table { dims, rows, stamp, bytes, at: HEADER })
    }

    /// The delta's rows and its dead notes (sorted), for the base stamped `base`.
    fn open_delta(path: &Path, base: &Table) -> Option<Delta> {
        let bytes = Table::map(path, true)?;
        let header = parse_delta_header(&bytes)?;
        let at = DELTA_HEADER.checked_add(header.dead.checked_mul(8)?)?;
        let expected = at.checked_add(table_bytes(header.rows, header.dims)?)?;
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
    /// note starts (bits), sign codes, int8 rows.
    fn columns(&self) -> (Columns<'_>, &[u8]) {
        let code_bytes = coarse::code_bytes(self.dims);
        let (notes, rest) = self.bytes[self.at..].split_at(self.rows * 8);
        let (seqs, rest) = rest.split_at(self.rows * 4);
        let (scales, rest) = rest.split_at(self.rows * 4);
        let (keys, rest) = rest.split_at(self.rows * KEY);
        let (starts, rest) = rest.split_at(starts_bytes(self.rows));
        let (codes, vectors) = rest.split_at(self.rows * code_bytes);
        (Columns { notes, seqs, scales, starts, codes, vectors, dims: self.dims, code_bytes }, keys)
    }

    fn keys(&self) -> &[u8] {
        self.columns().1
    }

    /// A row's scale and int8 values.
    fn row(&self, row: usize) -> (f32, &[u8]) {
        let (columns, _) = self.columns();
        (f32::from_le_bytes(word(columns.scales, row)), &columns.vectors[row * self.dims..(row + 1) * self.dims])
    }

    /// Maps in ahead of the scan what it will read, while the query is still embedding: the
    /// whole table for an exact scan; for a coarse one only the note starts and the sign
    /// codes (the few rows it rescores are read where they lie).
    fn populate(&self, coarse_only: bool) {
        let (offset, len) = if coarse_only {
            (self.at + self.rows * ROW_FIXED, starts_bytes(self.rows) + self.rows * coarse::code_bytes(self.dims))
        } else {
            (0, self.bytes.len())
        };
        #[cfg(target_os = "linux")]
        let _ = self.bytes.advise_range(memmap2::Advice::PopulateRead, offset, len);
        #[cfg(not(target_os = "linux"))]
        let _ = self.bytes.advise_range(memmap2::Advice::WillNeed, offset, len);
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

    /// Each note's rows with its best coarse score, (first row, score) in row order, scored
    /// on every core.
    fn coarse_groups(&self, query: &coarse::CoarseQuery) -> Vec<(u32, i32)> {
        let (columns, _) = self.columns();
        let parts: Vec<Vec<(u32, i32)>> = (0..self.rows.div_ceil(COARSE_ROWS_PER_TASK))
            .into_par_iter()
            .map(|task| {
                columns.coarse_groups(
                    task * COARSE_ROWS_PER_TASK..((task + 1) * COARSE_ROWS_PER_TASK).min(self.rows),
                    query,
                )
            })
            .collect();
        let mut groups: Vec<(u32, i32)> = Vec::with_capacity(parts.iter().map(Vec::len).sum());
        for part in parts {
            let mut part = part.into_iter();
            // A task that starts inside a note continues the previous task's last group.
            if let (Some(last), Some(&(row, score))) = (groups.last_mut(), part.as_slice().first())
                && !columns.starts_note(row as usize)
            {
                last.1 = last.1.max(score);
                part.next();
            }
            groups.extend(part);
        }
        groups
    }

    /// The row ranges of the notes whose best coarse score is among the `candidates` highest,
    /// in row order, leaving out the notes in `dead` (sorted ids).
    fn coarse_candidates(
        &self,
        query: &coarse::CoarseQuery,
        candidates: usize,
        dead: &[i64],
    ) -> Vec<std::ops::Range<usize>> {
        let (columns, _) = self.columns();
        let mut groups = self.coarse_groups(query);
        // No real score is this low (|score| ≤ 15 a dimension).
        const DEAD: i32 = i32::MIN;
        for &note in dead {
            if let Some(row) = columns.first_row_of(note)
                && let Ok(group) = groups.binary_search_by_key(&(row as u32), |g| g.0)
            {
                groups[group].1 = DEAD;
            }
        }
        let chosen = best_groups(&groups, candidates, coarse::score_bound(self.dims), DEAD);
        chosen
            .into_iter()
            .map(|group| {
                let start = groups[group].0 as usize;
                start..groups.get(group + 1).map_or(self.rows, |next| next.0 as usize)
            })
            .collect()
    }

    /// Each note's best chunk over the given rows (each range one note's rows), exactly.
    fn rescore(&self, ranges: &[std::ops::Range<usize>], query: &[f32]) -> Vec<(i64, f32, usize)> {
        let (columns, _) = self.columns();
        ranges
            .par_chunks(RESCORED_NOTES_PER_TASK)
            .flat_map_iter(|ranges| ranges.iter().flat_map(|rows| columns.best_per_note(rows.clone(), query)))
            .collect()
    }
}

/// The indices (in row order) of the `candidates` groups with the highest scores, none scored
/// `dead`; ties at the cut go to the earlier rows. Scores lie within ±`bound`, so a histogram
/// finds the cut in one pass: at a million rows, selecting among 600k groups by comparison
/// cost more than scoring them.
fn best_groups(groups: &[(u32, i32)], candidates: usize, bound: i32, dead: i32) -> Vec<usize> {
    let level = |score: i32| (score.clamp(-bound, bound) + bound) as usize;
    let mut histogram = vec![0usize; 2 * bound as usize + 1];
    for &(_, score) in groups.iter().filter(|g| g.1 != dead) {
        histogram[level(score)] += 1;
    }
    // The lowest level still in: everything above it, and the first `at_cut` at it.
    let (mut above, mut cut, mut at_cut) = (0usize, 0usize, usize::MAX);
    for (at, &count) in histogram.iter().enumerate().rev() {
        cut = at;
        if above + count >= candidates {
            at_cut = candidates - above;
            break;
        }
        above += count;
    }
    let mut chosen = Vec::with_capacity(candidates.min(groups.len()));
    for (index, &(_, score)) in groups.iter().enumerate() {
        if score == dead {
            continue;
        }
        let level = level(score);
        if level > cut || (level == cut && at_cut > 0) {
            if level == cut {
                at_cut -= 1;
            }
            chosen.push(index);
        }
    }
    chosen
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
/// Sign codes scored per task (48 bytes each at 384 dimensions).
const COARSE_ROWS_PER_TASK: usize = 16384;
/// Candidate notes rescored per task.
const RESCORED_NOTES_PER_TASK: usize = 64;

/// Below this many rows a table is scanned exactly: the coarse pass saves little there (see
/// `nearest_notes`).
pub(crate) const COARSE_FROM_ROWS: usize = 1 << 16;

/// How a search reads the flat files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scan {
    /// Every row, exactly.
    Exact,
    /// Sign codes first; the best `candidates` notes of each table rescored exactly.
    Coarse { candidates: usize },
}

impl Scan {
    /// The scan for up to `k` notes from a table of `rows` rows: exact below
    /// [`COARSE_FROM_ROWS`], otherwise coarse with enough candidates for recall@10 ≥ 0.99 of
    /// the exact scan (measured with `exo-bench vector-recall`).
    pub(crate) fn for_rows(rows: usize, k: usize) -> Scan {
        if rows < COARSE_FROM_ROWS {
            return Scan::Exact;
        }
        Scan::Coarse { candidates: (k.saturating_mul(CANDIDATES_PER_HIT)).max(MIN_CANDIDATES) }
    }
}

/// Candidate notes rescored per note asked for, and at least.
const CANDIDATES_PER_HIT: usize = 10;
const MIN_CANDIDATES: usize = 2000;

impl FlatVectors {
    /// None when the files are missing, damaged or from another state than `stamp`.
    pub(crate) fn load(path: &Path, stamp: Stamp) -> Option<FlatVectors> {
        // Files from another state are not worth paging in.
        if stamp_on_disk(path)? != stamp {
            return None;
        }
        let flat = FlatVectors::open_current(path, false).filter(|flat| flat.stamp() == stamp)?;
        flat.populate(matches!(Scan::for_rows(flat.base.rows, 0), Scan::Coarse { .. }));
        Some(flat)
    }

    /// The files at `path` whatever their state, mapped in as [`FlatVectors::load`] would for
    /// a coarse scan or an exact one (for the benchmark, which writes its own files).
    /// `coarse` is told the file's row count and says which columns to page in.
    pub(crate) fn open_unstamped(path: &Path, coarse: impl FnOnce(usize) -> bool) -> Option<FlatVectors> {
        let flat = FlatVectors::open_current(path, false)?;
        flat.populate(coarse(flat.rows()));
        Some(flat)
    }

    fn populate(&self, coarse: bool) {
        self.base.populate(coarse);
    }

    pub(crate) fn rows(&self) -> usize {
        self.base.rows + self.delta.as_ref().map_or(0, |d| d.table.rows)
    }

    /// Bytes of the files a search scanning as `scan` says reads for `query` (for the
    /// benchmark): every row's note, seq, scale and int8 values for an exact scan; the note
    /// starts and sign codes, then the rescored rows, for a coarse one.
    pub(crate) fn bytes_read(&self, query: &[f32], scan: impl Fn(usize) -> Scan) -> usize {
        let coarse_query = coarse::CoarseQuery::new(query);
        let dead = self.delta.as_ref().map_or(&[][..], |d| &d.dead);
        let tables = std::iter::once((&self.base, dead)).chain(self.delta.as_ref().map(|d| (&d.table, &[][..])));
        tables
            .map(|(table, dead)| {
                let per_row = 8 + 4 + 4 + table.dims;
                match scan(table.rows) {
                    Scan::Exact => table.rows * per_row,
                    Scan::Coarse { candidates } => {
                        let rescored: usize =
                            table.coarse_candidates(&coarse_query, candidates, dead).iter().map(|r| r.len()).sum();
                        starts_bytes(table.rows) + table.rows * coarse::code_bytes(table.dims) + rescored * per_row
                    }
                }
            })
            .sum()
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

    /// The notes a search for the `k` nearest should rank, each with its best chunk's exact
    /// cosine (note id, cosine, chunk seq), in no particular order. Below
    /// [`COARSE_FROM_ROWS`] rows every note (as [`FlatVectors::best_per_note`]); above, the
    /// notes the sign codes put nearest, rescored from the int8 rows. None when the query has
    /// other dimensions than the stored vectors.
    pub(crate) fn nearest_notes(&self, query: &[f32], k: usize) -> Option<Vec<(i64, f32, usize)>> {
        self.nearest_notes_by(query, |rows| Scan::for_rows(rows, k))
    }

    /// As [`FlatVectors::nearest_notes`], scanning each table (base, delta) as `scan` says for
    /// its row count.
    pub(crate) fn nearest_notes_by(
        &self,
        query: &[f32],
        scan: impl Fn(usize) -> Scan,
    ) -> Option<Vec<(i64, f32, usize)>> {
        if query.len() != self.base.dims {
            return None;
        }
        let (base_scan, delta_scan) = (scan(self.base.rows), self.delta.as_ref().map(|d| scan(d.table.rows)));
        if base_scan == Scan::Exact && delta_scan.is_none_or(|s| s == Scan::Exact) {
            return self.best_per_note(query);
        }
        let coarse_query = coarse::CoarseQuery::new(query);
        let dead = self.delta.as_ref().map_or(&[][..], |d| &d.dead);
        let by = |table: &Table, scan: Scan, dead: &[i64]| {
            let mut hits = match scan {
                Scan::Exact => table.best_per_note(query),
                Scan::Coarse { candidates } => {
                    table.rescore(&table.coarse_candidates(&coarse_query, candidates, dead), query)
                }
            };
            // The coarse pass strikes dead notes by their first row, which the note-start
            // bits say; filtering the answers too means a damaged bit can never bring back a
            // note the delta replaced.
            hits.retain(|hit| dead.binary_search(&hit.0).is_err());
            hits
        };
        let mut best = by(&self.base, base_scan, dead);
        if let (Some(delta), Some(scan)) = (&self.delta, delta_scan) {
            best.extend(by(&delta.table, scan, &[]));
        }
        Some(best)
    }
}

/// The columns search reads.
struct Columns<'a> {
    notes: &'a [u8],
    seqs: &'a [u8],
    scales: &'a [u8],
    starts: &'a [u8],
    codes: &'a [u8],
    vectors: &'a [u8],
    dims: usize,
    code_bytes: usize,
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

    /// Whether `row` is the first of its note's rows.
    fn starts_note(&self, row: usize) -> bool {
        u64::from_le_bytes(word(self.starts, row / 64)) >> (row % 64) & 1 == 1
    }

    /// Each note's best coarse score over `rows`, (first row, score); the first group may
    /// continue a note from before `rows`.
    fn coarse_groups(&self, rows: std::ops::Range<usize>, query: &coarse::CoarseQuery) -> Vec<(u32, i32)> {
        let mut scores = vec![0i32; rows.len()];
        coarse::score(&self.codes[rows.start * self.code_bytes..rows.end * self.code_bytes], query, &mut scores);
        let mut groups: Vec<(u32, i32)> = Vec::with_capacity(rows.len() / 2);
        let mut starts = 0u64;
        for (row, score) in rows.zip(scores) {
            if row % 64 == 0 || groups.is_empty() {
                starts = u64::from_le_bytes(word(self.starts, row / 64)) >> (row % 64);
            }
            let starts_note = starts & 1 == 1;
            starts >>= 1;
            match groups.last_mut() {
                Some(last) if !starts_note => last.1 = last.1.max(score),
                _ => groups.push((row as u32, score)),
            }
        }
        groups
    }

    /// The first row of `note` (rows are in note order), if it has any.
    fn first_row_of(&self, note: i64) -> Option<usize> {
        let rows = self.notes.len() / 8;
        let first = partition_point(rows, |row| i64::from_le_bytes(word(self.notes, row)) < note);
        (first < rows && i64::from_le_bytes(word(self.notes, first)) == note).then_some(first)
    }
}

/// The first index in 0..len for which `before` is false (`before` is true, then false).
fn partition_point(len: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut low, mut high) = (0, len);
    while low < high {
        let middle = low + (high - low) / 2;
        if before(middle) {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    low
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
    use crate::store::coarse::tests::stream;

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

    /// A row laid out by hand: note, seq, scale, int8 components.
    type Row = (i64, u32, f32, Vec<i8>);

    /// The columns of a table of `rows`, laid out by hand from the format's description.
    fn table_bytes_of(rows: &[Row]) -> Vec<u8> {
        let mut bytes = Vec::new();
        rows.iter().for_each(|r| bytes.extend_from_slice(&r.0.to_le_bytes()));
        rows.iter().for_each(|r| bytes.extend_from_slice(&r.1.to_le_bytes()));
        rows.iter().for_each(|r| bytes.extend_from_slice(&r.2.to_le_bytes()));
        rows.iter().for_each(|_| bytes.extend_from_slice(&[0u8; KEY]));
        let mut starts = vec![0u8; rows.len().div_ceil(64) * 8];
        for (i, row) in rows.iter().enumerate() {
            if i == 0 || rows[i - 1].0 != row.0 {
                starts[i / 8] |= 1 << (i % 8);
            }
        }
        bytes.extend(starts);
        for row in rows {
            let components: Vec<u8> = row.3.iter().map(|&v| v as u8).collect();
            coarse::encode(&components, &mut bytes);
        }
        rows.iter().for_each(|r| bytes.extend(r.3.iter().map(|&v| v as u8)));
        bytes
    }

    /// A base file stamped `stamp`, with `magic`.
    fn base_bytes(magic: &[u8; 8], stamp: Stamp, dims: usize, rows: &[Row]) -> Vec<u8> {
        let mut bytes = magic.to_vec();
        bytes.extend_from_slice(&(dims as u32).to_le_bytes());
        bytes.extend_from_slice(&(rows.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&stamp.0.to_le_bytes());
        bytes.extend_from_slice(&stamp.1.to_le_bytes());
        bytes.extend(table_bytes_of(rows));
        bytes
    }

    /// A delta file bringing the base stamped `base` to `stamp`.
    fn delta_by_hand(magic: &[u8; 8], stamp: Stamp, base: Stamp, dims: usize, dead: &[i64], rows: &[Row]) -> Vec<u8> {
        let mut bytes = magic.to_vec();
        for n in [dims, rows.len(), dead.len(), 0] {
            bytes.extend_from_slice(&(n as u32).to_le_bytes());
        }
        for n in [stamp.0, stamp.1, base.0, base.1] {
            bytes.extend_from_slice(&n.to_le_bytes());
        }
        dead.iter().for_each(|n| bytes.extend_from_slice(&n.to_le_bytes()));
        bytes.extend(table_bytes_of(rows));
        bytes
    }

    #[test]
    fn damaged_foreign_and_old_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vectors.flat");
        assert!(FlatVectors::load(&path, (1, 1)).is_none(), "missing");
        let rows = [(5, 0, 1.0, vec![1, 2])];
        let bytes = base_bytes(MAGIC, (7, 3), 2, &rows);
        std::fs::write(&path, &bytes).unwrap();
        let flat = FlatVectors::load(&path, (7, 3)).expect("a whole file from this state");
        assert_eq!(flat.best_per_note(&[1.0, 1.0]), Some(vec![(5, 3.0, 0)]));
        assert!(flat.best_per_note(&[1.0]).is_none(), "other dimensions");
        assert!(FlatVectors::load(&path, (8, 3)).is_none(), "another catalog write");
        assert!(FlatVectors::load(&path, (7, 4)).is_none(), "another vector version");
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(FlatVectors::load(&path, (7, 3)).is_none(), "truncated");
        // Version 2 (no note starts, no sign codes) is not read, even from the right state.
        let mut version_2 = base_bytes(b"EXOFLAT2", (7, 3), 2, &rows);
        version_2.truncate(HEADER + rows.len() * (ROW_FIXED + 2));
        version_2.extend_from_slice(&[1, 2]);
        std::fs::write(&path, &version_2).unwrap();
        assert!(FlatVectors::load(&path, (7, 3)).is_none(), "an old version");
        assert_eq!(stamp_on_disk(&path), None, "so the next fill writes it again");
        std::fs::write(&path, base_bytes(b"EXOFLAT2", (7, 3), 2, &rows)).unwrap();
        assert!(FlatVectors::load(&path, (7, 3)).is_none(), "another version's magic");
        // A delta of the old version does not apply: the files hold the base's state.
        std::fs::write(&path, &bytes).unwrap();
        let delta = delta_by_hand(b"EXODELT1", (9, 3), (7, 3), 2, &[5], &[(5, 0, 1.0, vec![3, 3])]);
        std::fs::write(delta_path(&path), &delta).unwrap();
        assert_eq!(stamp_on_disk(&path), Some((7, 3)));
        assert!(FlatVectors::load(&path, (9, 3)).is_none());
        let delta = delta_by_hand(DELTA_MAGIC, (9, 3), (7, 3), 2, &[5], &[(5, 0, 1.0, vec![3, 3])]);
        std::fs::write(delta_path(&path), &delta).unwrap();
        let flat = FlatVectors::load(&path, (9, 3)).expect("base and delta");
        assert_eq!(flat.best_per_note(&[1.0, 1.0]), Some(vec![(5, 6.0, 0)]));
    }

    /// A flat file of one-dimensional rows: (note, seq, component) each, scale 1.
    fn flat_file(dir: &Path, rows: &[(i64, u32, i8)]) -> FlatVectors {
        let path = dir.join("vectors.flat");
        let rows: Vec<Row> = rows.iter().map(|&(note, seq, v)| (note, seq, 1.0, vec![v])).collect();
        std::fs::write(&path, base_bytes(MAGIC, (1, 1), 1, &rows)).unwrap();
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

    fn int8_row(vector: &[f32]) -> (f32, Vec<i8>) {
        let mut row = Vec::new();
        let scale = quantize(vector, &mut row);
        (scale, row)
    }

    const DIMS: usize = 32;

    /// `notes` notes of 1–7 random chunks each (about 4 rows a note), and a query with ten
    /// notes planted near it: each has one chunk, not its first, close to the query. One
    /// planted note straddles the first coarse task boundary, its near chunk after it.
    fn seeded_set(notes: i64) -> (Vec<Row>, Vec<f32>, Vec<i64>) {
        let mut next = stream(42);
        let random = |next: &mut dyn FnMut() -> u64| -> Vec<f32> {
            let v: Vec<f32> = (0..DIMS).map(|_| (next() % 2001) as f32 / 1000.0 - 1.0).collect();
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.iter().map(|x| x / norm).collect()
        };
        let query = random(&mut next);
        let mut rows: Vec<Row> = Vec::new();
        let mut planted = Vec::new();
        let straddler = |rows: &Vec<Row>| rows.len() + 8 > COARSE_ROWS_PER_TASK && rows.len() < COARSE_ROWS_PER_TASK;
        for note in 0..notes {
            let straddles = planted.len() < 10 && straddler(&rows);
            let plant = straddles || (planted.len() < 10 && note % (notes / 12) == 7);
            let chunks = if straddles { 12 } else { 1 + next() % 7 };
            let near = if straddles { (COARSE_ROWS_PER_TASK - rows.len() + 2) as u64 } else { chunks - 1 };
            if plant {
                planted.push(note);
            }
            for seq in 0..chunks {
                let vector = if plant && seq == near && (straddles || chunks > 1) {
                    let noise = random(&mut next);
                    let near: Vec<f32> = query.iter().zip(&noise).map(|(q, n)| q + 0.3 * n).collect();
                    let norm = near.iter().map(|x| x * x).sum::<f32>().sqrt();
                    near.iter().map(|x| x / norm).collect()
                } else {
                    random(&mut next)
                };
                let (scale, row) = int8_row(&vector);
                rows.push((note, seq as u32, scale, row));
            }
        }
        (rows, query, planted)
    }

    fn write_base(dir: &Path, rows: &[Row]) -> PathBuf {
        let path = dir.join("vectors.flat");
        std::fs::write(&path, base_bytes(MAGIC, (1, 1), DIMS, rows)).unwrap();
        path
    }

    /// The `k` best, by cosine then note id.
    fn top(mut hits: Vec<(i64, f32, usize)>, k: usize) -> Vec<(i64, f32, usize)> {
        hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        hits.truncate(k);
        hits
    }

    fn no_note_twice(hits: &[(i64, f32, usize)]) -> bool {
        let mut notes: Vec<i64> = hits.iter().map(|h| h.0).collect();
        notes.sort_unstable();
        notes.windows(2).all(|pair| pair[0] != pair[1])
    }

    #[test]
    fn the_coarse_pass_finds_the_exact_top_ten_with_fifty_candidates() {
        let (rows, query, planted) = seeded_set(12_000);
        assert!(rows.len() > 2 * COARSE_ROWS_PER_TASK, "{}", rows.len());
        let dir = tempfile::tempdir().unwrap();
        let flat = FlatVectors::load(&write_base(dir.path(), &rows), (1, 1)).unwrap();
        let exact = flat.best_per_note(&query).unwrap();
        let coarse = flat.nearest_notes_by(&query, |_| Scan::Coarse { candidates: 50 }).unwrap();
        assert!(coarse.len() <= 50 && no_note_twice(&coarse), "{}", coarse.len());
        // The same notes, cosines and chunks as the exact scan, the planted ones first.
        assert_eq!(top(coarse.clone(), 10), top(exact.clone(), 10));
        let mut found: Vec<i64> = top(coarse.clone(), 10).iter().map(|h| h.0).collect();
        found.sort_unstable();
        assert_eq!(found, planted);
        // Every candidate's cosine is its exact best.
        for hit in &coarse {
            assert!(exact.contains(hit), "{hit:?}");
        }
    }

    #[test]
    fn a_coarse_pass_over_every_note_is_the_exact_scan() {
        let (rows, query, _) = seeded_set(9_000);
        let dir = tempfile::tempdir().unwrap();
        let flat = FlatVectors::load(&write_base(dir.path(), &rows), (1, 1)).unwrap();
        let exact = flat.best_per_note(&query).unwrap();
        let mut coarse = flat.nearest_notes_by(&query, |_| Scan::Coarse { candidates: 9_000 }).unwrap();
        coarse.sort_by_key(|hit| hit.0);
        assert_eq!(coarse, exact);
    }

    #[test]
    fn small_tables_stay_exact() {
        assert_eq!(Scan::for_rows(COARSE_FROM_ROWS - 1, 10), Scan::Exact);
        let Scan::Coarse { candidates } = Scan::for_rows(COARSE_FROM_ROWS, 10) else { panic!("not coarse") };
        let dir = tempfile::tempdir().unwrap();
        for rows in [COARSE_FROM_ROWS - 1, COARSE_FROM_ROWS] {
            // A note a row, so an exact scan answers every note.
            let table: Vec<Row> = (0..rows as i64).map(|n| (n, 0, 1.0, vec![(n % 97) as i8, 1])).collect();
            let path = dir.path().join("vectors.flat");
            std::fs::write(&path, base_bytes(MAGIC, (1, 1), 2, &table)).unwrap();
            let flat = FlatVectors::load(&path, (1, 1)).unwrap();
            let answered = flat.nearest_notes(&[1.0, 0.0], 10).unwrap().len();
            let expected = if rows < COARSE_FROM_ROWS { rows } else { candidates };
            assert_eq!(answered, expected, "{rows} rows");
        }
    }

    #[test]
    fn a_delta_gives_the_coarse_pass_the_answers_of_a_base_written_again() {
        let (rows, query, planted) = seeded_set(12_000);
        let dir = tempfile::tempdir().unwrap();
        let base_path = write_base(dir.path(), &rows);
        // The delta: the second planted note moves away from the query, a note is deleted,
        // a note far down gains a chunk near the query, and a new note arrives (ids past the end).
        let (moved, deleted, gained, added) = (planted[1], 100, 11_000, 12_000);
        let far = int8_row(&[-1.0f32; DIMS].map(|v| v / (DIMS as f32).sqrt()));
        let near = int8_row(&query);
        let mut delta_rows: Vec<Row> = Vec::new();
        delta_rows.push((moved, 0, far.0, far.1.clone()));
        let gained_rows: Vec<Row> = rows.iter().filter(|r| r.0 == gained).cloned().collect();
        let next_seq = gained_rows.len() as u32;
        delta_rows.extend(gained_rows);
        delta_rows.push((gained, next_seq, near.0, near.1.clone()));
        delta_rows.push((added, 0, near.0, near.1.clone()));
        let mut dead = [moved, deleted, gained];
        dead.sort_unstable();
        assert!(moved < gained, "delta rows in note order");
        std::fs::write(delta_path(&base_path), delta_by_hand(DELTA_MAGIC, (2, 1), (1, 1), DIMS, &dead, &delta_rows))
            .unwrap();
        let patched = FlatVectors::load(&base_path, (2, 1)).expect("base and delta");
        // The same state written as one base.
        let mut whole: Vec<Row> = rows.iter().filter(|r| !dead.contains(&r.0)).cloned().collect();
        whole.extend(delta_rows);
        whole.sort_by_key(|r| (r.0, r.1));
        let other = tempfile::tempdir().unwrap();
        let rewritten = FlatVectors::load(&write_base(other.path(), &whole), (1, 1)).unwrap();
        let scan = |_| Scan::Coarse { candidates: 50 };
        let answer = top(patched.nearest_notes_by(&query, scan).unwrap(), 10);
        assert_eq!(answer, top(rewritten.nearest_notes_by(&query, scan).unwrap(), 10));
        assert_eq!(answer, top(rewritten.best_per_note(&query).unwrap(), 10));
        let notes: Vec<i64> = answer.iter().map(|h| h.0).collect();
        assert!(notes.contains(&added) && notes.contains(&gained) && !notes.contains(&moved), "{notes:?}");
        assert!(no_note_twice(&patched.nearest_notes_by(&query, scan).unwrap()));
    }

    #[test]
    fn the_writers_lay_the_files_out_as_described() {
        let (rows, _, _) = seeded_set(300);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vectors.flat");
        let bytes_of = |row: &Row| row.3.iter().map(|&v| v as u8).collect::<Vec<u8>>();
        write_base_with(&path, (1, 1), |writer| {
            for row in &rows {
                writer.push(row.0, row.1, [0; KEY], row.2, &bytes_of(row))?;
            }
            Ok(DIMS)
        })
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), base_bytes(MAGIC, (1, 1), DIMS, &rows));
        let delta = DeltaRows {
            dims: DIMS,
            notes: rows.iter().map(|r| r.0).collect(),
            seqs: rows.iter().map(|r| r.1).collect(),
            scales: rows.iter().map(|r| r.2).collect(),
            keys: vec![[0; KEY]; rows.len()],
            vectors: rows.iter().flat_map(bytes_of).collect(),
        };
        let by_hand = delta_by_hand(DELTA_MAGIC, (2, 1), (1, 1), DIMS, &[3, 9], &rows);
        assert_eq!(delta_bytes((2, 1), (1, 1), &[3, 9], &delta), by_hand);
    }

    #[test]
    fn the_cut_takes_the_best_groups_and_ties_in_row_order() {
        const DEAD: i32 = i32::MIN;
        let groups: Vec<(u32, i32)> =
            [5, 9, -3, 9, DEAD, 7, 9, 2, 15].iter().enumerate().map(|(row, &score)| (row as u32, score)).collect();
        assert_eq!(best_groups(&groups, 1, 15, DEAD), vec![8]);
        // 15, then two of the three 9s: the earlier two.
        assert_eq!(best_groups(&groups, 3, 15, DEAD), vec![1, 3, 8]);
        assert_eq!(best_groups(&groups, 5, 15, DEAD), vec![1, 3, 5, 6, 8]);
        // More than there are: every live group, never the dead one.
        assert_eq!(best_groups(&groups, 100, 15, DEAD), vec![0, 1, 2, 3, 5, 6, 7, 8]);
        assert_eq!(best_groups(&groups, 0, 15, DEAD), Vec::<usize>::new());
    }

    #[test]
    fn row_keys_are_the_content_keys_first_bytes() {
        let hash = blake3::hash(b"a chunk").to_hex().to_string();
        assert_eq!(row_key(&hash).to_vec(), blake3::hash(b"a chunk").as_bytes()[..KEY].to_vec());
        assert_ne!(row_key("not hex at all, but long enough to fill a key"), row_key("another one"));
    }
}
