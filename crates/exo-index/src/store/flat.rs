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

use std::path::Path;

use rayon::prelude::*;
use rusqlite::OptionalExtension;

use crate::error::{Result, SqlContext};
use crate::store::catalog::Catalog;

const MAGIC: &[u8; 8] = b"EXOFLAT2";
const HEADER: usize = 32;
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

/// Rewrites the flat file unless it is already from the current state. Only the writer
/// calls this, under `.exo/lock`; the file is replaced by a rename, so a reader sees the
/// old file or the new one, never half of one. Rows of the old file are reused by content
/// key, so a small change decodes only its own vectors: rebuilding from every f32 blob made
/// a one-note `exo index` at 100k notes with vectors take 4.6 s and 1 GB.
pub(crate) fn refresh(catalog: &Catalog, path: &Path) -> Result<()> {
    let stamp = current_stamp(catalog)?;
    if read_stamp(path) == Some(stamp) {
        return Ok(());
    }
    let old = FlatVectors::open(path);
    crate::store::write_replacing(path, &build(catalog, stamp, old.as_ref())?).map_err(crate::error::io_err(path))
}

/// Called when the store's vectors are discarded (a new embedder): the old rows must not
/// be reused for the same texts.
pub(crate) fn forget(path: &Path) {
    let _ = std::fs::remove_file(path);
}

fn read_stamp(path: &Path) -> Option<Stamp> {
    parse_header(&crate::store::read_prefix::<HEADER>(path)?).map(|(_, _, stamp)| stamp)
}

fn parse_header(bytes: &[u8]) -> Option<(usize, usize, Stamp)> {
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return None;
    }
    let u32_at = |at: usize| u32::from_le_bytes(word(&bytes[at..], 0)) as usize;
    let i64_at = |at: usize| i64::from_le_bytes(word(&bytes[at..], 0));
    Some((u32_at(8), u32_at(12), (i64_at(16), i64_at(24))))
}

/// The first 16 bytes of a chunk's content key (blake3, hex): what a row is reused by.
fn row_key(embed_hash: &str) -> [u8; KEY] {
    let hex = embed_hash.as_bytes();
    let nibble = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let decoded: Option<Vec<u8>> =
        hex.chunks_exact(2).take(KEY).map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?)).collect();
    match decoded.filter(|bytes| bytes.len() == KEY) {
        Some(bytes) => std::array::from_fn(|i| bytes[i]),
        // Not blake3 hex (never written by exo): a key of its own all the same.
        None => std::array::from_fn(|i| blake3::hash(hex).as_bytes()[i]),
    }
}

fn build(catalog: &Catalog, stamp: Stamp, old: Option<&FlatVectors>) -> Result<Vec<u8>> {
    let path = &catalog.path;
    // The covering (embed_hash, note_id, seq) index, then note order: no chunk text is read.
    let mut chunks: Vec<(i64, u32, String)> = {
        let mut stmt = catalog.conn.prepare("SELECT note_id, seq, embed_hash FROM chunks").at(path)?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u32, r.get(2)?))).at(path)?;
        rows.collect::<rusqlite::Result<_>>().at(path)?
    };
    chunks.sort_unstable_by_key(|c| (c.0, c.1));
    let reusable = old.map(FlatVectors::rows_by_key).unwrap_or_default();
    let mut vector_of = catalog.conn.prepare("SELECT vector FROM vec.vectors WHERE embed_hash = ?1").at(path)?;
    let mut dims = old.map_or(0, |old| old.dims);
    let (mut notes, mut seqs, mut scales, mut keys, mut vectors) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::<u8>::new());
    for (note, seq, embed_hash) in chunks {
        let key = row_key(&embed_hash);
        let (scale, row) = match reusable.get(&key).and_then(|&row| old.map(|old| old.row(row))) {
            Some((scale, row)) => (scale, row.to_vec()),
            None => {
                let Some(blob) = vector_of.query_row([&embed_hash], |r| r.get::<_, Vec<u8>>(0)).optional().at(path)?
                else {
                    continue;
                };
                let vector = crate::store::vector_store::decode(&blob);
                if dims == 0 {
                    dims = vector.len();
                }
                let mut row = Vec::with_capacity(vector.len());
                let scale = quantize(&vector, &mut row);
                (scale, row.into_iter().map(|q| q as u8).collect())
            }
        };
        if row.len() != dims {
            continue;
        }
        notes.push(note);
        seqs.push(seq);
        scales.push(scale);
        keys.push(key);
        vectors.extend_from_slice(&row);
    }
    let mut out = Vec::with_capacity(HEADER + notes.len() * ROW_FIXED + vectors.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(dims as u32).to_le_bytes());
    out.extend_from_slice(&(notes.len() as u32).to_le_bytes());
    out.extend_from_slice(&stamp.0.to_le_bytes());
    out.extend_from_slice(&stamp.1.to_le_bytes());
    notes.iter().for_each(|n| out.extend_from_slice(&n.to_le_bytes()));
    seqs.iter().for_each(|s| out.extend_from_slice(&s.to_le_bytes()));
    scales.iter().for_each(|s| out.extend_from_slice(&s.to_le_bytes()));
    keys.iter().for_each(|k| out.extend_from_slice(k));
    out.extend_from_slice(&vectors);
    Ok(out)
}

/// Symmetric int8 with one scale per vector: the largest component maps to ±127.
fn quantize(vector: &[f32], out: &mut Vec<i8>) -> f32 {
    let largest = vector.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let scale = if largest > 0.0 { largest / 127.0 } else { 1.0 };
    out.extend(vector.iter().map(|v| (v / scale).round().clamp(-127.0, 127.0) as i8));
    scale
}

/// A flat file mapped into memory, checked against the state the search reads. Mapped, not
/// read: at 100k notes the file is 135 MB, and copying it into a fresh allocation took a
/// fifth of a hybrid search.
pub(crate) struct FlatVectors {
    dims: usize,
    rows: usize,
    stamp: Stamp,
    bytes: memmap2::Mmap,
}

/// Rows scored per task: enough to amortise a task, few enough to use both cores at 10k.
const ROWS_PER_TASK: usize = 4096;

impl FlatVectors {
    /// None when the file is missing, damaged or from another state than `stamp`.
    pub(crate) fn load(path: &Path, stamp: Stamp) -> Option<FlatVectors> {
        // A file from another state is not worth paging in.
        if read_stamp(path)? != stamp {
            return None;
        }
        FlatVectors::open(path).filter(|flat| flat.stamp == stamp)
    }

    /// The whole file, whatever state it is from (None when missing or damaged).
    fn open(path: &Path) -> Option<FlatVectors> {
        let file = std::fs::File::open(path).ok()?;
        // SAFETY: the mapping is only sound while nobody truncates or rewrites the file in
        // place. exo never does: the writer replaces it whole by a rename (`write_replacing`),
        // which leaves this mapping on the old inode. (`.exo/` is exo's own; another program
        // truncating this file under a running search would crash that search.) The length
        // is checked below before any row is read.
        let bytes = unsafe { memmap2::MmapOptions::new().populate().map(&file) }.ok()?;
        let (dims, rows, stamp) = parse_header(&bytes)?;
        let expected = HEADER.checked_add(rows.checked_mul(ROW_FIXED + dims)?)?;
        (bytes.len() == expected && dims > 0).then_some(FlatVectors { dims, rows, stamp, bytes })
    }

    /// The file's columns: note ids (i64), chunk seqs (u32), scales (f32), content keys,
    /// int8 rows.
    fn columns(&self) -> (Columns<'_>, &[u8]) {
        let (notes, rest) = self.bytes[HEADER..].split_at(self.rows * 8);
        let (seqs, rest) = rest.split_at(self.rows * 4);
        let (scales, rest) = rest.split_at(self.rows * 4);
        let (keys, vectors) = rest.split_at(self.rows * KEY);
        (Columns { notes, seqs, scales, vectors, dims: self.dims }, keys)
    }

    /// Row index by content key.
    fn rows_by_key(&self) -> std::collections::HashMap<[u8; KEY], usize> {
        let (_, keys) = self.columns();
        keys.chunks_exact(KEY).enumerate().map(|(row, key)| (std::array::from_fn(|i| key[i]), row)).collect()
    }

    /// A row's scale and int8 values.
    fn row(&self, row: usize) -> (f32, &[u8]) {
        let (columns, _) = self.columns();
        (f32::from_le_bytes(word(columns.scales, row)), &columns.vectors[row * self.dims..(row + 1) * self.dims])
    }

    /// Each note's best chunk by cosine with `query`: (note id, cosine, chunk seq), in note
    /// id order. None when the query has other dimensions than the stored vectors.
    pub(crate) fn best_per_note(&self, query: &[f32]) -> Option<Vec<(i64, f32, usize)>> {
        if query.len() != self.dims {
            return None;
        }
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
