//! For `exo-bench vector-recall` only (hidden from the docs): flat files written from given
//! vectors, and the exact and coarse scans over them, so recall and latency can be measured
//! with the code search runs on sets larger than a vault one would index for a benchmark (a
//! million chunks of real vectors).

use std::path::Path;

use crate::store::flat;

/// How to scan a flat file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// Every row, exactly.
    Exact,
    /// Sign codes first, then this many candidate notes rescored exactly (at any size).
    Coarse { candidates: usize },
    /// What search does for the file's size and the number of notes asked for.
    Default,
}

impl Scan {
    fn for_rows(self, rows: usize, k: usize) -> flat::Scan {
        match self {
            Scan::Exact => flat::Scan::Exact,
            Scan::Coarse { candidates } => flat::Scan::Coarse { candidates },
            Scan::Default => flat::Scan::for_rows(rows, k),
        }
    }
}

/// Writes a flat file at `path` from `rows` — (note id, chunk seq, unit vector) in (note,
/// seq) order — quantised and coded as the index writes them.
pub fn write(path: &Path, rows: impl IntoIterator<Item = (i64, u32, Vec<f32>)>) -> crate::Result<()> {
    flat::write_base_with(path, (0, 0), |writer| {
        let (mut dims, mut quantized, mut bytes) = (0, Vec::new(), Vec::new());
        for (note, seq, vector) in rows {
            dims = vector.len();
            quantized.clear();
            let scale = flat::quantize(&vector, &mut quantized);
            bytes.clear();
            bytes.extend(quantized.iter().map(|&q| q as u8));
            writer.push(note, seq, [0; flat::KEY], scale, &bytes)?;
        }
        Ok(dims)
    })
}

/// A flat file mapped in as one search maps it in.
pub struct Opened(flat::FlatVectors);

/// Opens the file at `path` and maps in what a scan as `scan` reads first (as each `exo
/// search` process does); None when it is missing or damaged.
pub fn open(path: &Path, scan: Scan) -> Option<Opened> {
    // One mapping: the row count decides which columns to page in.
    flat::FlatVectors::open_unstamped(path, |rows| matches!(scan.for_rows(rows, 0), flat::Scan::Coarse { .. }))
        .map(Opened)
}

impl Opened {
    pub fn rows(&self) -> usize {
        self.0.rows()
    }

    /// The `k` nearest notes, (note id, cosine of its best chunk), best first, ties by note
    /// id; empty when the query has other dimensions.
    pub fn nearest(&self, query: &[f32], k: usize, scan: Scan) -> Vec<(i64, f32)> {
        let mut hits = self.0.nearest_notes_by(query, |rows| scan.for_rows(rows, k)).unwrap_or_default();
        let order = |a: &(i64, f32, usize), b: &(i64, f32, usize)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        // A selection, then the few ordered, as search does.
        if k > 0 && k < hits.len() {
            hits.select_nth_unstable_by(k - 1, order);
        }
        hits.truncate(k);
        hits.sort_unstable_by(order);
        hits.into_iter().map(|(note, cosine, _)| (note, cosine)).collect()
    }

    /// Bytes of the file the scan reads for this query.
    pub fn bytes_read(&self, query: &[f32], k: usize, scan: Scan) -> usize {
        self.0.bytes_read(query, |rows| scan.for_rows(rows, k))
    }
}
