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

use crate::catalog::Catalog;
use crate::error::{Result, SqlContext};

const MAGIC: &[u8; 8] = b"EXOFLAT1";
const HEADER: usize = 32;

/// The state a flat file was written from: (when the catalog was last written, vector
/// store version).
pub(crate) type Stamp = (i64, i64);

/// Which state of the catalog and the vector store the search would read now. The store
/// must be attached as `vec`.
pub(crate) fn current_stamp(catalog: &Catalog) -> Result<Stamp> {
    let version: Option<String> = catalog
        .conn
        .query_row("SELECT value FROM vec.meta WHERE key = ?1", [crate::vectors::VERSION_KEY], |r| r.get(0))
        .optional()
        .at(&catalog.path)?;
    let indexed_at = catalog.meta(crate::catalog::meta_keys::INDEXED_AT_NS)?;
    Ok((indexed_at.and_then(|ns| ns.parse().ok()).unwrap_or(0), version.and_then(|v| v.parse().ok()).unwrap_or(0)))
}

/// Rewrites the flat file unless it is already from the current state. Only the writer
/// calls this, under `.exo/lock`; the file is replaced by a rename, so a reader sees the
/// old file or the new one, never half of one.
pub(crate) fn refresh(catalog: &Catalog, path: &Path) -> Result<()> {
    let stamp = current_stamp(catalog)?;
    if read_stamp(path) == Some(stamp) {
        return Ok(());
    }
    crate::write_replacing(path, &build(catalog, stamp)?).map_err(crate::error::io_err(path))
}

fn read_stamp(path: &Path) -> Option<Stamp> {
    parse_header(&crate::read_prefix::<HEADER>(path)?).map(|(_, _, stamp)| stamp)
}

fn parse_header(bytes: &[u8]) -> Option<(usize, usize, Stamp)> {
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return None;
    }
    let u32_at = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
    let i64_at = |at: usize| i64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or([0; 8]));
    Some((u32_at(8), u32_at(12), (i64_at(16), i64_at(24))))
}

fn build(catalog: &Catalog, stamp: Stamp) -> Result<Vec<u8>> {
    let path = &catalog.path;
    let mut stmt = catalog
        .conn
        .prepare(
            "SELECT c.note_id, c.seq, v.vector FROM chunks c JOIN vec.vectors v ON v.embed_hash = c.embed_hash
             ORDER BY c.note_id, c.seq",
        )
        .at(path)?;
    let mut rows = stmt.query([]).at(path)?;
    let (mut notes, mut seqs, mut scales, mut vectors) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut dims = 0;
    while let Some(row) = rows.next().at(path)? {
        let blob = row.get_ref(2).at(path)?.as_blob().unwrap_or(&[]);
        let vector = crate::vectors::decode(blob);
        if notes.is_empty() {
            dims = vector.len();
        }
        if vector.len() != dims {
            continue;
        }
        notes.push(row.get::<_, i64>(0).at(path)?);
        seqs.push(row.get::<_, i64>(1).at(path)? as u32);
        scales.push(quantize(&vector, &mut vectors));
    }
    let mut out = Vec::with_capacity(HEADER + notes.len() * 16 + vectors.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(dims as u32).to_le_bytes());
    out.extend_from_slice(&(notes.len() as u32).to_le_bytes());
    out.extend_from_slice(&stamp.0.to_le_bytes());
    out.extend_from_slice(&stamp.1.to_le_bytes());
    notes.iter().for_each(|n| out.extend_from_slice(&n.to_le_bytes()));
    seqs.iter().for_each(|s| out.extend_from_slice(&s.to_le_bytes()));
    scales.iter().for_each(|s| out.extend_from_slice(&s.to_le_bytes()));
    out.extend(vectors.iter().map(|&q| q as u8));
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
    bytes: memmap2::Mmap,
}

/// Rows scored per task: enough to amortise a task, few enough to use both cores at 10k.
const ROWS_PER_TASK: usize = 4096;

impl FlatVectors {
    /// None when the file is missing, damaged or from another state than `stamp`.
    pub(crate) fn load(path: &Path, stamp: Stamp) -> Option<FlatVectors> {
        use std::io::Read;
        let mut file = std::fs::File::open(path).ok()?;
        let mut header = [0u8; HEADER];
        file.read_exact(&mut header).ok()?;
        // A file from another state is not worth paging in.
        let (dims, rows, stamped) = parse_header(&header).filter(|(_, _, stamped)| *stamped == stamp)?;
        let expected = HEADER.checked_add(rows.checked_mul(16 + dims)?)?;
        // SAFETY: the mapping is only sound while nobody truncates or rewrites the file in
        // place. exo never does: the writer replaces it whole by a rename (`write_replacing`),
        // which leaves this mapping on the old inode. (`.exo/` is exo's own; another program
        // truncating this file under a running search would crash that search.) The length
        // is checked below before any row is read.
        let bytes = unsafe { memmap2::MmapOptions::new().populate().map(&file) }.ok()?;
        let whole = parse_header(&bytes) == Some((dims, rows, stamped)) && bytes.len() == expected && dims > 0;
        whole.then_some(FlatVectors { dims, rows, bytes })
    }

    /// Each note's best chunk by cosine with `query`: (note id, cosine, chunk seq), in note
    /// id order. None when the query has other dimensions than the stored vectors.
    pub(crate) fn best_per_note(&self, query: &[f32]) -> Option<Vec<(i64, f32, usize)>> {
        if query.len() != self.dims {
            return None;
        }
        let (notes, rest) = self.bytes[HEADER..].split_at(self.rows * 8);
        let (seqs, rest) = rest.split_at(self.rows * 4);
        let (scales, vectors) = rest.split_at(self.rows * 4);
        let columns = Columns { notes, seqs, scales, vectors, dims: self.dims };
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

/// The flat file's columns: note ids (i64), chunk seqs (u32), scales (f32), int8 rows.
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
    crate::vectors::dot_encoded(vector, query, |[byte]: [u8; 1]| f32::from(byte as i8))
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
}
