//! Linear layers as int8 × int8 → int32, for CPUs with VNNI (`vpdpbusd`).
//!
//! The weights are already int8 with a scale per output row. Activations are quantised per
//! token (per input row) to u8 with a scale and a zero point, because `vpdpbusd` multiplies
//! unsigned by signed bytes:
//!
//! ```text
//! x[r][k] ≈ sa[r] · (u[r][k] − z[r])        w[j][k] = sw[j] · q[j][k]
//! out[r][j] = sa[r] · sw[j] · (Σ_k u[r][k]·q[j][k] − z[r] · Σ_k q[j][k])
//!           + sw[j] · Σ_t x[r][k_t] · q[j][k_t] + bias[j]
//! ```
//!
//! where k_t are the token's few largest inputs ([`OUTLIERS`]), taken out of the int8 row
//! (u = z there) and applied in f32: BERT's outlier channels would otherwise set the step.
//!
//! The bracket is computed exactly in int32 (|Σ u·q| ≤ 1536 · 255 · 128 < 2³¹), so every
//! kernel gives the same integers bit for bit and the same floats after. A zero point per
//! token, rather than the fixed +128 of a symmetric scheme, spends all 256 levels on the
//! token's own range: after GELU that range is mostly positive, and symmetric quantisation
//! would waste half of it.
//!
//! Weights are repacked once for the kernels: for each block of 16 output columns and each
//! group of 4 inputs, the 16 columns' 4 bytes side by side (64 bytes, one 512-bit register),
//! so one broadcast of a token's 4 bytes and one `vpdpbusd` add 4 products to 16 outputs.

use std::ops::Range;

use rayon::prelude::*;

use crate::kernel::Kernel;
use crate::quant_step::Step;

/// Output columns per packed block: one 512-bit register of int32 sums.
pub const BLOCK: usize = 16;
/// Bytes of one (block, group of 4 inputs) cell: 16 columns × 4 inputs.
const CELL: usize = BLOCK * 4;
/// Inputs per AMX tile product: a tile row is 64 bytes.
const AMX_STEP_INPUTS: usize = 64;

/// Int8 weights [outputs × inputs] laid out for the kernels (see the module doc).
pub struct PackedWeights {
    /// [block][group][column in block][input in group]; zero past `outputs` and `inputs`.
    data: Vec<i8>,
    /// Σ_k q[j][k] per output column j.
    rowsums: Vec<i32>,
    outputs: usize,
    groups: usize,
    blocks: usize,
}

impl PackedWeights {
    /// `weight` is row-major [outputs × inputs], as PyTorch stores a linear layer's weight.
    pub fn pack(weight: &[i8], outputs: usize, inputs: usize) -> PackedWeights {
        assert_eq!(weight.len(), outputs * inputs, "weight is not {outputs}x{inputs}");
        // Whole steps of 16 groups (64 inputs), one AMX tile's depth; the zero padding adds
        // nothing to any kernel's sums (384 and 1536 inputs need none).
        let groups = inputs.div_ceil(AMX_STEP_INPUTS) * (AMX_STEP_INPUTS / 4);
        let blocks = outputs.div_ceil(BLOCK);
        let mut data = vec![0i8; blocks * groups * CELL];
        let mut rowsums = Vec::with_capacity(outputs);
        let rows: Vec<&[i8]> = weight.chunks_exact(inputs.max(1)).take(outputs).collect();
        // Every process that embeds packs the model afresh (a one-note `exo index`, each
        // query), so this runs on the critical path: runs of 4 bytes, never a byte at a time,
        // and one layout only (byte by byte, with a transposed copy beside it for the
        // outliers, it was 16 ms, an eighth of a one-note run at 10k).
        for (block, block_rows) in rows.chunks(BLOCK).enumerate() {
            let cells = &mut data[block * groups * CELL..(block + 1) * groups * CELL];
            // A cell holds 4 inputs of each of the block's 16 columns: a row's inputs in
            // runs of 4, one run per cell.
            for (column, row) in block_rows.iter().enumerate() {
                // Exact chunks: a run of a length the compiler knows is one 4-byte move; with
                // `chunks` each run was a call to `memmove` (9% of a one-note run at 10k).
                let quads = row.chunks_exact(4);
                let (tail, tail_at) = (quads.remainder(), row.len() / 4 * CELL + column * 4);
                for (group, quad) in quads.enumerate() {
                    let at = group * CELL + column * 4;
                    cells[at..at + 4].copy_from_slice(quad);
                }
                if !tail.is_empty() {
                    cells[tail_at..tail_at + tail.len()].copy_from_slice(tail);
                }
            }
            rowsums.extend(block_rows.iter().map(|row| row.iter().map(|&q| i32::from(q)).sum::<i32>()));
        }
        PackedWeights { data, rowsums, outputs, groups, blocks }
    }

    /// Bytes per quantised activation row: inputs rounded up to a whole group of 4.
    pub fn stride(&self) -> usize {
        self.groups * 4
    }

    /// One block's cells, `groups` × 64 bytes.
    fn block_bytes(&self) -> usize {
        self.groups * CELL
    }

    /// The cell holding input `k` of the 16 columns of `block`: byte `column · 4 + k % 4`
    /// is column's weight for input k. (What the outlier correction reads: an outlier input's
    /// weights for a block, without a transposed copy of the whole layer.)
    fn cell(&self, block: usize, k: usize) -> &[i8; CELL] {
        let at = block * self.block_bytes() + (k / 4) * CELL;
        self.data[at..at + CELL].first_chunk::<CELL>().expect("a cell is CELL bytes")
    }
}

/// Inputs per token kept out of the int8 sums and applied in f32 instead: the largest in
/// magnitude. BERT's normalised activations have a few channels far larger than the rest
/// (up to 30 against a typical 1.5 here); left in, they would set every token's step and
/// bury the other channels in rounding noise.
pub const OUTLIERS: usize = 4;

/// Activation rows quantised to u8, each with its own scale and zero point, and its
/// `OUTLIERS` largest inputs kept aside in f32.
#[derive(Default)]
pub struct Quantized {
    /// [rows × stride]; the padding past `inputs` is zero (its weights are zero too), and an
    /// outlier's byte is the zero point, so it adds nothing to the exact sums.
    data: Vec<u8>,
    scales: Vec<f32>,
    zero_points: Vec<i32>,
    /// [rows × OUTLIERS]: which inputs, and their values (0.0 in unused slots).
    outlier_inputs: Vec<u32>,
    outlier_values: Vec<f32>,
    stride: usize,
    /// One row being worked on, outliers zeroed, and the inputs that may be outliers.
    row: Vec<f32>,
    candidates: Vec<u32>,
    /// The candidates' magnitudes (the AVX-512 quantiser's picks).
    magnitudes: Vec<f32>,
}

impl Quantized {
    /// Quantises `input` [rows × inputs] into `self`, reusing its buffers. Inlined into the
    /// forward pass, which is compiled with AVX2 where the CPU has it: rounding is then one
    /// instruction, not a call to libm's `rintf`.
    /// With `kernel` one of the AVX-512 ones, each row is quantised in AVX-512 registers
    /// (`quantize_avx512`): the same bytes, picks and scales, in fewer passes.
    #[inline(always)]
    pub fn quantize(&mut self, input: &[f32], rows: usize, inputs: usize, stride: usize, kernel: Kernel) {
        self.stride = stride;
        self.data.clear();
        self.data.resize(rows * stride, 0);
        self.scales.clear();
        self.zero_points.clear();
        self.outlier_inputs.clear();
        self.outlier_inputs.resize(rows * OUTLIERS, 0);
        self.outlier_values.clear();
        self.outlier_values.resize(rows * OUTLIERS, 0.0);
        let sources = input.chunks_exact(inputs.max(1)).take(rows);
        let outliers =
            self.outlier_inputs.chunks_exact_mut(OUTLIERS).zip(self.outlier_values.chunks_exact_mut(OUTLIERS));
        #[cfg(target_arch = "x86_64")]
        let avx512 = quantises_in_avx512(kernel, inputs);
        #[cfg(not(target_arch = "x86_64"))]
        let _ = kernel;
        for ((src, dst), (which, values)) in sources.zip(self.data.chunks_exact_mut(stride.max(1))).zip(outliers) {
            #[cfg(target_arch = "x86_64")]
            if avx512 {
                // SAFETY: AVX-512F and BW checked above (`has_avx512vnni` covers both); `src`
                // is `inputs` long, a multiple of 16 up to 4,096, and so is `dst[..inputs]`;
                // OUTLIERS ≤ 16.
                let (scale, zero_point) = unsafe {
                    crate::quantize_avx512::quantize_row(
                        src,
                        &mut dst[..inputs],
                        which,
                        values,
                        &mut self.candidates,
                        &mut self.magnitudes,
                    )
                };
                self.scales.push(scale);
                self.zero_points.push(zero_point);
                continue;
            }
            self.row.clear();
            self.row.extend_from_slice(src);
            take_outliers(&mut self.row, &mut self.candidates, which, values);
            let dst = &mut dst[..inputs];
            let (scale, zero_point) = quantize_row(&self.row, dst);
            for (&k, &value) in which.iter().zip(values.iter()) {
                if value != 0.0 {
                    dst[k as usize] = zero_point as u8;
                }
            }
            self.scales.push(scale);
            self.zero_points.push(zero_point);
        }
    }
}

/// Lanes of the min/max scan: independent partial results, so the loop vectorises.
const LANES: usize = 16;

/// Moves the `which.len()` (at most 16) largest-magnitude values of `row` into `which` and
/// `values`, largest first, ties to the lower index, leaving zeros in their place.
///
/// One vectorised pass takes the largest magnitude in each of 16 lanes (position mod 16).
/// The T-th largest of those, θ, is a floor for the T largest of the row (the T lanes above
/// it hold T distinct values ≥ θ), so a second pass need only note the few values ≥ θ, and
/// the picks are made among those.
#[inline(always)]
fn take_outliers(row: &mut [f32], candidates: &mut Vec<u32>, which: &mut [u32], values: &mut [f32]) {
    let mut lanes = [0f32; LANES];
    let chunks = row.chunks_exact(LANES);
    for (lane, v) in lanes.iter_mut().zip(chunks.remainder()) {
        *lane = v.abs();
    }
    for chunk in chunks {
        for l in 0..LANES {
            let v = chunk[l].abs();
            lanes[l] = if v > lanes[l] { v } else { lanes[l] };
        }
    }
    lanes.sort_unstable_by(|a, b| b.total_cmp(a));
    let Some(&floor) = lanes.get(which.len().saturating_sub(1)) else { return };
    // Zeros are never outliers: a row with fewer than T non-zero values keeps them all.
    let floor = if floor > 0.0 { floor } else { f32::MIN_POSITIVE };
    candidates.clear();
    for (start, chunk) in (0..).step_by(LANES).zip(row.chunks(LANES)) {
        // Without a short-circuit, so the test of 16 values is one vector compare.
        if chunk.iter().fold(false, |hit, v| hit | (v.abs() >= floor)) {
            let hits = chunk.iter().enumerate().filter(|(_, v)| v.abs() >= floor);
            candidates.extend(hits.map(|(i, _)| (start + i) as u32));
        }
    }
    for (slot, value) in which.iter_mut().zip(values.iter_mut()) {
        // The largest magnitude left; `max_by` keeps the last of equals, so scan in reverse.
        let best = candidates
            .iter()
            .enumerate()
            .rev()
            .max_by(|a, b| row[*a.1 as usize].abs().total_cmp(&row[*b.1 as usize].abs()));
        let Some((at, &k)) = best else { return };
        *slot = k;
        *value = row[k as usize];
        row[k as usize] = 0.0;
        candidates.remove(at);
    }
}

/// Whether rows of `inputs` values are quantised by the AVX-512 quantiser under `kernel`: an
/// int8 kernel on a CPU with AVX-512 VNNI, rows a multiple of 16 up to 4,096 values.
#[cfg(target_arch = "x86_64")]
fn quantises_in_avx512(kernel: Kernel, inputs: usize) -> bool {
    matches!(kernel, Kernel::Amx | Kernel::Avx512Vnni)
        && inputs > 0
        && inputs.is_multiple_of(16)
        && inputs <= 4096
        && crate::kernel::has_avx512vnni()
}

/// `x` limited to [0, 255], a NaN to 0 (as `vmaxps`/`vminps` do in the AVX-512 quantiser):
/// not `clamp`, which keeps a NaN, whose payload's low byte would become the level.
#[inline(always)]
fn level(x: f32) -> f32 {
    let x = if x > 0.0 { x } else { 0.0 };
    if x < 255.0 { x } else { 255.0 }
}

/// `src` ≈ scale · (dst − zero_point). The range is widened to include 0 so the zero point
/// is a level in [0, 255]; a row of zeros (or non-finite values) quantises to zeros with a
/// zero scale, so it contributes nothing.
#[inline(always)]
fn quantize_row(src: &[f32], dst: &mut [u8]) -> (f32, i32) {
    let (mut lo, mut hi) = ([0f32; LANES], [0f32; LANES]);
    let chunks = src.chunks_exact(LANES);
    for &v in chunks.remainder() {
        lo[0] = if v < lo[0] { v } else { lo[0] };
        hi[0] = if v > hi[0] { v } else { hi[0] };
    }
    for chunk in chunks {
        for l in 0..LANES {
            lo[l] = if chunk[l] < lo[l] { chunk[l] } else { lo[l] };
            hi[l] = if chunk[l] > hi[l] { chunk[l] } else { hi[l] };
        }
    }
    let lo = lo.iter().fold(0f32, |a, &b| a.min(b));
    let hi = hi.iter().fold(0f32, |a, &b| a.max(b));
    let Some(Step { scale, inv, zero_point }) = Step::of(lo, hi) else {
        dst.fill(0);
        return (0.0, 0);
    };
    for (d, &v) in dst.iter_mut().zip(src) {
        // Adding 2^23 rounds a value in [0, 255] to the nearest whole number, ties to even,
        // and leaves it in the low mantissa byte: a saturating `as u8` does not vectorise.
        *d = (level(v * inv + zero_point) + 8_388_608.0).to_bits() as u8;
    }
    (scale, zero_point as i32)
}

/// Receives the int32 sums of one row and one block of 16 columns (columns past the
/// layer's outputs hold zeros).
pub trait Sink {
    fn store(&mut self, row: usize, block: usize, sums: &[i32; BLOCK]);

    /// The AVX-512 kernel's way out, the sums still in a register; by default they go
    /// through memory to `store`.
    ///
    /// # Safety
    /// The CPU has AVX-512F.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn store_avx512(&mut self, row: usize, block: usize, sums: std::arch::x86_64::__m512i) {
        let mut out = [0i32; BLOCK];
        // SAFETY: the caller vouches for AVX-512F; `out` is 16 i32s, 64 bytes, and the
        // store is unaligned.
        unsafe { std::arch::x86_64::_mm512_storeu_si512(out.as_mut_ptr().cast(), sums) };
        self.store(row, block, &out);
    }

    /// The AMX kernel's way out: rows first..first + n of one block, `sums` holding 16 i32s
    /// per row; by default a row at a time through `store_avx512`.
    ///
    /// # Safety
    /// The CPU has AVX-512F.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn store_tile_avx512(&mut self, first: usize, block: usize, sums: &[i32]) {
        for (i, row) in sums.chunks_exact(BLOCK).enumerate() {
            // SAFETY: the caller vouches for AVX-512F; `row` is 16 i32s; the load is unaligned.
            unsafe {
                let v = std::arch::x86_64::_mm512_loadu_si512(row.as_ptr().cast());
                self.store_avx512(first + i, block, v);
            }
        }
    }
}

/// Turns sums into the layer's f32 outputs (the last line of the module doc), written
/// row-major into `out`, whose columns start at column `first` of the layer.
struct Dequantize<'a> {
    out: &'a mut [f32],
    width: usize,
    first: usize,
    activations: &'a Quantized,
    weights: &'a PackedWeights,
    weight_scales: &'a [f32],
    bias: &'a [f32],
}

impl Sink for Dequantize<'_> {
    #[inline(always)]
    fn store(&mut self, row: usize, block: usize, sums: &[i32; BLOCK]) {
        let start = block * BLOCK;
        let a = self.activations;
        let (scale, zero_point) = (a.scales[row], a.zero_points[row]);
        let outliers = self.outliers(row, start);
        let rowsums = &self.weights.rowsums[start..];
        let (weight_scales, bias) = (&self.weight_scales[start..], &self.bias[start..]);
        let mut values = [0f32; BLOCK];
        // A whole block as fixed-size arrays: the loop then compiles to straight vector code.
        let whole = (rowsums.first_chunk::<BLOCK>(), weight_scales.first_chunk::<BLOCK>(), bias.first_chunk::<BLOCK>());
        if let (Some(r), Some(w), Some(b)) = whole {
            for c in 0..BLOCK {
                values[c] = finish(sums[c], zero_point, r[c], scale, outliers[c], w[c], b[c]);
            }
        } else {
            let columns = rowsums.iter().zip(weight_scales).zip(bias).take(BLOCK);
            for (c, ((&r, &w), &b)) in columns.enumerate() {
                values[c] = finish(sums[c], zero_point, r, scale, outliers[c], w, b);
            }
        }
        let count = (self.weights.outputs - start).min(BLOCK);
        let at = row * self.width + start - self.first;
        self.out[at..at + count].copy_from_slice(&values[..count]);
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn store_avx512(&mut self, row: usize, block: usize, sums: std::arch::x86_64::__m512i) {
        // SAFETY: the caller vouches for AVX-512F, all the body needs.
        unsafe { self.store_avx512_body(row, block, sums) }
    }

    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn store_tile_avx512(&mut self, first: usize, block: usize, sums: &[i32]) {
        // SAFETY: the caller vouches for AVX-512F, all the body needs.
        unsafe { self.store_tile_avx512_body(first, block, sums) }
    }
}

impl Dequantize<'_> {
    /// `store` in AVX-512 registers: the portable form compiled to 8-lane code, shuffles and
    /// a call to memcpy, and cost more than the kernel's products. The same operations in the
    /// same order (no fused multiply-adds), so the bits are the same as `store`'s.
    ///
    /// # Safety
    /// The CPU has AVX-512F.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn store_avx512_body(&mut self, row: usize, block: usize, sums: std::arch::x86_64::__m512i) {
        // SAFETY: the caller vouches for AVX-512F.
        unsafe { self.store_rows_avx512(row, 1, block, |_| sums) }
    }

    /// `store_avx512` for `rows` consecutive rows whose sums sit in memory, 16 i32s a row:
    /// one call per AMX sums tile, the block's constants loaded once for all of them.
    ///
    /// # Safety
    /// The CPU has AVX-512F.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn store_tile_avx512_body(&mut self, first: usize, block: usize, sums: &[i32]) {
        let rows = sums.len() / BLOCK;
        // SAFETY: the caller vouches for AVX-512F; row i's 16 sums are inside `sums`, and
        // the load is unaligned.
        unsafe {
            self.store_rows_avx512(first, rows, block, |i| {
                std::arch::x86_64::_mm512_loadu_si512(sums[i * BLOCK..][..BLOCK].as_ptr().cast())
            })
        }
    }

    /// Rows first..first + rows of one block, row i's sums from `sums(i)`.
    ///
    /// # Safety
    /// The CPU has AVX-512F; only called from functions compiled with it, into which it is
    /// inlined.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn store_rows_avx512(
        &mut self,
        first: usize,
        rows: usize,
        block: usize,
        sums: impl Fn(usize) -> std::arch::x86_64::__m512i,
    ) {
        use std::arch::x86_64::*;
        let (a, w) = (self.activations, self.weights);
        let start = block * BLOCK;
        let count = (w.outputs - start).min(BLOCK);
        let mask: __mmask16 = if count == BLOCK { 0xffff } else { (1u16 << count) - 1 };
        let (rowsums, weight_scales, bias) = (&w.rowsums[start..], &self.weight_scales[start..], &self.bias[start..]);
        assert!(rowsums.len().min(weight_scales.len()).min(bias.len()) >= count);
        // SAFETY: the caller vouches for AVX-512F. A masked load touches only the lanes in
        // its mask, the first `count`, which the assert above bounds; the loads are unaligned.
        let (rowsums, weight_scales, bias) = unsafe {
            (
                _mm512_maskz_loadu_epi32(mask, rowsums.as_ptr()),
                _mm512_maskz_loadu_ps(mask, weight_scales.as_ptr()),
                _mm512_maskz_loadu_ps(mask, bias.as_ptr()),
            )
        };
        for (i, row) in (first..first + rows).enumerate() {
            // SAFETY: as above, for AVX-512F.
            let mut outliers = unsafe { _mm512_setzero_ps() };
            let slots = row * OUTLIERS..(row + 1) * OUTLIERS;
            for (&k, &value) in a.outlier_inputs[slots.clone()].iter().zip(&a.outlier_values[slots]) {
                let cell = w.cell(block, k as usize);
                // Input k's byte in each column's 4 moved to the top, then shifted back down
                // with its sign: the 16 weights as i32 lanes.
                let up = 8 * (3 - k % 4);
                // SAFETY: AVX-512F as above; `cell` is 64 bytes; the load is unaligned.
                outliers = unsafe {
                    let cell = _mm512_loadu_si512(cell.as_ptr().cast());
                    let q = _mm512_srai_epi32::<24>(_mm512_sllv_epi32(cell, _mm512_set1_epi32(up as i32)));
                    _mm512_add_ps(outliers, _mm512_mul_ps(_mm512_set1_ps(value), _mm512_cvtepi32_ps(q)))
                };
            }
            let at = row * self.width + start - self.first;
            let out = &mut self.out[at..at + count];
            // SAFETY: AVX-512F as above; the masked store writes only the first `count`
            // lanes, all inside `out`.
            unsafe {
                let (scale, zero_point) = (_mm512_set1_ps(a.scales[row]), _mm512_set1_epi32(a.zero_points[row]));
                let exact = _mm512_sub_epi32(sums(i), _mm512_mullo_epi32(zero_point, rowsums));
                let values = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(exact), scale), outliers);
                let values = _mm512_add_ps(_mm512_mul_ps(values, weight_scales), bias);
                _mm512_mask_storeu_ps(out.as_mut_ptr(), mask, values);
            }
        }
    }

    /// The outliers' part of a row's outputs for the block at column `start`, in units of
    /// the weights' int8 steps.
    #[inline(always)]
    fn outliers(&self, row: usize, start: usize) -> [f32; BLOCK] {
        let (a, w) = (self.activations, self.weights);
        let mut sums = [0f32; BLOCK];
        let slots = row * OUTLIERS..(row + 1) * OUTLIERS;
        for (&k, &value) in a.outlier_inputs[slots.clone()].iter().zip(&a.outlier_values[slots]) {
            let cell = w.cell(start / BLOCK, k as usize);
            for (c, sum) in sums.iter_mut().enumerate() {
                *sum += value * f32::from(cell[c * 4 + k as usize % 4]);
            }
        }
        sums
    }
}

/// One output from its exact int32 sum: sa · sw · (sum − z · rowsum) + sw · outliers + bias,
/// in one fixed order of float operations, so every kernel gives the same bits.
#[inline(always)]
fn finish(sum: i32, zero_point: i32, rowsum: i32, scale: f32, outliers: f32, weight_scale: f32, bias: f32) -> f32 {
    ((sum - zero_point * rowsum) as f32 * scale + outliers) * weight_scale + bias
}

/// Rows per task, at most, for which a layer's output columns are split across the rayon
/// pool (a query); a bigger batch runs on one thread, beside the other batches.
const PARALLEL_ROWS: usize = 48;
/// Blocks of 16 columns per task when split: 384 or 1536 columns make 2 or 8 tasks.
const BLOCKS_PER_TASK: usize = 12;

/// One linear layer's inputs, weights and bias: out[rows × outputs] = input · (sw ⊙ q)ᵀ + bias.
pub struct Layer<'a> {
    pub weights: &'a PackedWeights,
    pub weight_scales: &'a [f32],
    pub bias: &'a [f32],
}

impl Layer<'_> {
    /// Runs `kernel` on `activations` (`rows` rows quantised with this layer's stride) into
    /// `out` [rows × outputs].
    pub fn apply(&self, kernel: Kernel, activations: &Quantized, rows: usize, out: &mut [f32]) {
        let w = self.weights;
        assert_eq!(activations.stride, w.stride(), "activations quantised for another layer");
        if rows > PARALLEL_ROWS || w.blocks <= BLOCKS_PER_TASK {
            self.run(kernel, activations, rows, 0..w.blocks, out, w.outputs);
            return;
        }
        let parts: Vec<(usize, Vec<f32>)> = (0..w.blocks.div_ceil(BLOCKS_PER_TASK))
            .into_par_iter()
            .map(|task| {
                let blocks = task * BLOCKS_PER_TASK..((task + 1) * BLOCKS_PER_TASK).min(w.blocks);
                let first = blocks.start * BLOCK;
                let width = (blocks.end * BLOCK).min(w.outputs) - first;
                let mut part = vec![0f32; rows * width];
                self.run(kernel, activations, rows, blocks, &mut part, width);
                (first, part)
            })
            .collect();
        for (first, part) in parts {
            let width = part.len() / rows.max(1);
            for (r, values) in part.chunks_exact(width.max(1)).enumerate() {
                out[r * w.outputs + first..][..width].copy_from_slice(values);
            }
        }
    }

    /// Columns `blocks` of the output into `out`, `width` columns per row.
    fn run(&self, kernel: Kernel, a: &Quantized, rows: usize, blocks: Range<usize>, out: &mut [f32], width: usize) {
        let mut sink = Dequantize {
            out,
            width,
            first: blocks.start * BLOCK,
            activations: a,
            weights: self.weights,
            weight_scales: self.weight_scales,
            bias: self.bias,
        };
        gemm(kernel, &a.data, rows, self.weights, blocks, &mut sink);
    }
}

/// sums(r, j) = Σ_k a[r][k] · q[j][k] for rows 0..rows and the columns of `blocks`, handed to
/// `sink` a row and a block at a time. `a` is [rows × w.stride()] u8. The SIMD kernels run
/// only where the CPU has them; otherwise (and for `Kernel::F32`) the portable one does.
pub fn gemm<S: Sink>(kernel: Kernel, a: &[u8], rows: usize, w: &PackedWeights, blocks: Range<usize>, sink: &mut S) {
    // The SIMD kernels read through raw pointers: these bound every byte they can touch.
    assert!(a.len() >= rows * w.stride(), "activations are shorter than {rows} rows");
    assert!(blocks.start <= blocks.end && blocks.end <= w.blocks, "blocks {blocks:?} out of {}", w.blocks);
    #[cfg(target_arch = "x86_64")]
    match kernel {
        Kernel::Avx512Vnni if crate::kernel::has_avx512vnni() => {
            // SAFETY: the CPU has just been checked for the kernel's features, and the
            // asserts above are the bounds the kernel relies on.
            unsafe { avx512::gemm(a, rows, w, blocks, sink) };
            return;
        }
        Kernel::Amx if crate::kernel::has_amx() => {
            // SAFETY: the CPU has AMX-INT8 and AVX-512, the OS lets this process use the
            // tiles, and the asserts above are the bounds the kernel relies on.
            unsafe { amx::gemm(a, rows, w, blocks, sink) };
            return;
        }
        Kernel::AvxVnni if crate::kernel::has_avxvnni() => {
            // SAFETY: as above, for AVX2 and AVX-VNNI.
            unsafe { avxvnni::gemm(a, rows, w, blocks, sink) };
            return;
        }
        _ => {}
    }
    portable(a, rows, w, blocks, sink);
}

/// The kernels' arithmetic in plain Rust, over the same packed layout.
fn portable<S: Sink>(a: &[u8], rows: usize, w: &PackedWeights, blocks: Range<usize>, sink: &mut S) {
    let stride = w.stride();
    for block in blocks {
        let cells = &w.data[block * w.block_bytes()..(block + 1) * w.block_bytes()];
        for (r, row) in a.chunks_exact(stride.max(1)).take(rows).enumerate() {
            let mut sums = [0i32; BLOCK];
            for (cell, x) in cells.chunks_exact(CELL).zip(row.chunks_exact(4)) {
                for (c, sum) in sums.iter_mut().enumerate() {
                    for t in 0..4 {
                        *sum += i32::from(x[t]) * i32::from(cell[c * 4 + t]);
                    }
                }
            }
            sink.store(r, block, &sums);
        }
    }
}

/// Rows per pass over a panel of weights: a chunk of activations stays in L2 while every
/// panel of the layer's weights goes past it.
#[cfg(target_arch = "x86_64")]
const CHUNK_ROWS: usize = 192;

/// Calls `tile(rows, blocks)` over `rows × blocks` in tiles of at most `mr` rows and `nr`
/// blocks, in chunks of rows that stay in cache; full tiles first in each direction.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn tiles(rows: usize, blocks: Range<usize>, mr: usize, nr: usize, mut tile: impl FnMut(Range<usize>, Range<usize>)) {
    for chunk in (0..rows).step_by(CHUNK_ROWS) {
        let chunk = chunk..(chunk + CHUNK_ROWS).min(rows);
        let mut b = blocks.start;
        while b < blocks.end {
            let nb = nr.min(blocks.end - b);
            let mut r = chunk.start;
            while r < chunk.end {
                let m = mr.min(chunk.end - r);
                tile(r..r + m, b..b + nb);
                r += m;
            }
            b += nb;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;
    use std::ops::Range;

    use super::{CELL, PackedWeights, Sink, tiles};

    /// A tile is 6 rows × 4 blocks (64 columns): 24 accumulators, 4 weight registers and a
    /// broadcast fit the 32 zmm registers, with 10 loads per 24 `vpdpbusd`.
    const MR: usize = 6;
    const NR: usize = 4;

    /// # Safety
    /// `a` holds `rows` rows of `w.stride()` bytes and `blocks` lies within `w`'s blocks.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub(super) unsafe fn gemm<S: Sink>(a: &[u8], rows: usize, w: &PackedWeights, blocks: Range<usize>, sink: &mut S) {
        tiles(rows, blocks, MR, NR, |r, b| {
            // SAFETY: `tiles` keeps r within 0..rows and b within `blocks`, which the caller
            // vouches for; the match gives each tile its exact size.
            unsafe {
                match (r.len(), b.len()) {
                    (MR, NR) => tile::<MR, NR, S>(a, w, r.start, b.start, sink),
                    (_, NR) => r.for_each(|row| tile::<1, NR, S>(a, w, row, b.start, sink)),
                    (MR, _) => b.for_each(|block| tile::<MR, 1, S>(a, w, r.start, block, sink)),
                    _ => r.for_each(|row| b.clone().for_each(|block| tile::<1, 1, S>(a, w, row, block, sink))),
                }
            }
        });
    }

    /// Sums for rows row..row+M and blocks block..block+N.
    ///
    /// # Safety
    /// Those rows lie within `a` (`w.stride()` bytes each) and those blocks within `w`.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    #[inline]
    unsafe fn tile<const M: usize, const N: usize, S: Sink>(
        a: &[u8],
        w: &PackedWeights,
        row: usize,
        block: usize,
        sink: &mut S,
    ) {
        let stride = w.stride();
        let x = a[row * stride..].as_ptr();
        let cells = w.data[block * w.block_bytes()..].as_ptr();
        let mut acc = [[_mm512_setzero_si512(); N]; M];
        for g in 0..w.groups {
            let mut weights = [_mm512_setzero_si512(); N];
            for (j, v) in weights.iter_mut().enumerate() {
                // SAFETY: cell g of block `block + j` is 64 bytes inside `w.data`, by the
                // caller's bound on the blocks; the load is unaligned.
                *v = unsafe { _mm512_loadu_si512(cells.add(j * w.block_bytes() + g * CELL).cast()) };
            }
            for (i, sums) in acc.iter_mut().enumerate() {
                // SAFETY: bytes 4g..4g+4 of row `row + i` are inside `a` (g < groups and a row
                // is 4·groups bytes), by the caller's bound on the rows.
                let four = unsafe { x.add(i * stride + g * 4).cast::<i32>().read_unaligned() };
                let broadcast = _mm512_set1_epi32(four);
                for (sum, &weight) in sums.iter_mut().zip(&weights) {
                    *sum = _mm512_dpbusd_epi32(*sum, broadcast, weight);
                }
            }
        }
        for (i, sums) in acc.iter().enumerate() {
            for (j, &sum) in sums.iter().enumerate() {
                // SAFETY: this function runs only with AVX-512F (its target features).
                unsafe { sink.store_avx512(row + i, block + j, sum) };
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) use amx::TileConfig;

/// `asm!` for AMX code: every tile register declared clobbered (the compiler never uses
/// them, but the contract is to say so), and `options(nostack)`.
#[cfg(target_arch = "x86_64")]
macro_rules! tile_asm {
    ($($body:tt)*) => {
        std::arch::asm!(
            $($body)*
            out("tmm0") _, out("tmm1") _, out("tmm2") _, out("tmm3") _,
            out("tmm4") _, out("tmm5") _, out("tmm6") _, out("tmm7") _,
            options(nostack),
        )
    };
}
#[cfg(target_arch = "x86_64")]
pub(crate) use tile_asm;

/// int8 products on AMX tiles (`tdpbusd`; Sapphire Rapids and later): one instruction is 16
/// rows × 16 columns × 64 inputs, sixteen `vpdpbusd`s' work. The packed layout is already
/// what a B tile wants: a (block, group) cell is one tile row (16 columns × 4 bytes), and 16
/// consecutive cells of a block are one tile, 64 bytes apart. An A tile is 16 activation
/// rows × 64 bytes, copied tile by tile first (`pack_chunk`); the integer sums are the same as
/// every other kernel's.
///
/// Stable Rust has no AMX intrinsics (`x86_amx_intrinsics` is unstable in 1.95), so the tile
/// instructions are inline assembly. The compiler never uses the tile registers, so the
/// configuration loaded at the start of [`gemm`] holds until its `tilerelease`; the OS saves
/// the tiles across a context switch once the process has asked for them
/// (`kernel::has_amx`).
#[cfg(target_arch = "x86_64")]
mod amx {
    use std::arch::asm;
    use std::arch::x86_64::*;
    use std::ops::Range;

    use super::{AMX_STEP_INPUTS, BLOCK, CELL, PackedWeights, Sink};

    /// Rows of an activation tile and of a sums tile.
    const TILE_ROWS: usize = 16;
    /// Bytes from one step's B tile to the next within a block: 16 cells.
    const B_STEP: usize = AMX_STEP_INPUTS / 4 * CELL;
    /// i32s in one sums tile.
    const TILE_SUMS: usize = TILE_ROWS * BLOCK;
    /// Bytes of one activation tile: 16 rows × 64 inputs.
    const TILE_BYTES: usize = TILE_ROWS * AMX_STEP_INPUTS;
    /// Rows per pass over the weights (a whole number of tiles): the chunk's activations stay
    /// in L1/L2 while the layer's weight tiles stream past them.
    const CHUNK_ROWS: usize = 64;

    /// The tile configuration `ldtilecfg` reads: palette 1, all eight tiles 16 rows × 64
    /// bytes (bytes 16–31: bytes per row of each tile, u16; bytes 48–55: rows of each tile).
    #[repr(C, align(64))]
    pub(crate) struct TileConfig(pub(crate) [u8; 64]);

    impl TileConfig {
        pub(crate) fn uniform() -> TileConfig {
            let mut config = [0u8; 64];
            config[0] = 1;
            for tile in 0..8 {
                config[16 + 2 * tile] = 64;
                config[48 + tile] = TILE_ROWS as u8;
            }
            TileConfig(config)
        }
    }

    /// Four sums tiles as `tilestored` writes them: [tile][row][column].
    #[repr(C, align(64))]
    struct Sums([i32; 4 * TILE_SUMS]);

    /// # Safety
    /// The CPU has AMX-INT8 and AVX-512F and the OS has let this process use the tiles; `a`
    /// holds `rows` rows of `w.stride()` bytes and `blocks` lies within `w`'s blocks.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) unsafe fn gemm<S: Sink>(a: &[u8], rows: usize, w: &PackedWeights, blocks: Range<usize>, sink: &mut S) {
        let stride = w.stride();
        let steps = stride / AMX_STEP_INPUTS;
        if rows == 0 || blocks.is_empty() || steps == 0 {
            // No inputs: every sum is zero (the loop below needs at least one step).
            let zeros = _mm512_setzero_si512();
            for row in 0..rows {
                // SAFETY: this function runs only with AVX-512F.
                blocks.clone().for_each(|block| unsafe { sink.store_avx512(row, block, zeros) });
            }
            return;
        }
        // A chunk's activations laid out tile by tile (see `pack_chunk`).
        let mut tiles = vec![0u8; CHUNK_ROWS / TILE_ROWS * steps * TILE_BYTES];
        let block_tile = |block: usize| w.data[block * w.block_bytes()..].as_ptr();
        let config = TileConfig::uniform();
        // SAFETY: the caller vouches for AMX and the OS's permission; the configuration is
        // 64 bytes, as `ldtilecfg` reads.
        unsafe { asm!("ldtilecfg [{}]", in(reg) config.0.as_ptr(), options(nostack, readonly)) };
        let mut sums = Sums([0; 4 * TILE_SUMS]);
        for chunk in (0..rows).step_by(CHUNK_ROWS) {
            let chunk_end = (chunk + CHUNK_ROWS).min(rows);
            pack_chunk(a, stride, chunk..chunk_end, &mut tiles);
            let row_tile = |start: usize| tiles[(start - chunk) / TILE_ROWS * steps * TILE_BYTES..].as_ptr();
            let mut block = blocks.start;
            while block < blocks.end {
                let nb = (blocks.end - block).min(2);
                let mut row = chunk;
                while row < chunk_end {
                    let nt = if chunk_end - row > TILE_ROWS { 2 } else { 1 };
                    let out = sums.0.as_mut_ptr();
                    // SAFETY: every tile read is one of a row tile's `steps` tiles inside
                    // `tiles`, or 16 cells of a block inside `w.data` (`steps` steps of 16
                    // groups make up a block's `groups`); `out` holds four tiles of sums.
                    unsafe {
                        if (nt, nb) == (2, 2) {
                            let (a0, a1) = (row_tile(row), row_tile(row + TILE_ROWS));
                            product_2x2(a0, a1, block_tile(block), block_tile(block + 1), steps, out);
                        } else {
                            for t in 0..nt {
                                for j in 0..nb {
                                    let at = out.add((2 * t + j) * TILE_SUMS);
                                    product_1x1(row_tile(row + t * TILE_ROWS), block_tile(block + j), steps, at);
                                }
                            }
                        }
                    }
                    for t in 0..nt {
                        let first = row + t * TILE_ROWS;
                        let valid = TILE_ROWS.min(chunk_end - first) * BLOCK;
                        for j in 0..nb {
                            let tile = &sums.0[(2 * t + j) * TILE_SUMS..][..valid];
                            // SAFETY: this function runs only with AVX-512F.
                            unsafe { sink.store_tile_avx512(first, block + j, tile) };
                        }
                    }
                    row += nt * TILE_ROWS;
                }
                block += nb;
            }
        }
        // SAFETY: releases the tiles this function configured.
        unsafe { asm!("tilerelease", options(nostack, nomem)) };
    }

    /// Copies rows `rows` of `a` (`stride` bytes each) into `tiles` as AMX reads them best:
    /// [row tile][step][16 rows][64 bytes], each tile 1 KiB in one piece, rows past the end
    /// zero. Read in place, a tile's 16 rows lay 384 or 1536 bytes apart and its loads were
    /// the kernel's largest cost.
    #[inline(always)]
    fn pack_chunk(a: &[u8], stride: usize, rows: Range<usize>, tiles: &mut [u8]) {
        let steps = stride / AMX_STEP_INPUTS;
        for (t, tile_rows) in tiles.chunks_exact_mut(steps * TILE_BYTES).enumerate() {
            for (step, tile) in tile_rows.chunks_exact_mut(TILE_BYTES).enumerate() {
                for (i, line) in tile.chunks_exact_mut(AMX_STEP_INPUTS).enumerate() {
                    let row = rows.start + t * TILE_ROWS + i;
                    if row < rows.end {
                        line.copy_from_slice(&a[row * stride + step * AMX_STEP_INPUTS..][..AMX_STEP_INPUTS]);
                    } else {
                        line.fill(0);
                    }
                }
            }
        }
    }

    /// Sums of two row tiles × two blocks into four tiles at `out` ([tile][16][16] i32, tile
    /// 2t + j for row tile t and block j): per step, four tile loads feed four products.
    ///
    /// # Safety
    /// Tiles configured as [`TileConfig::uniform`]; `a0`, `a1` start `steps` packed tiles
    /// (1 KiB each, `pack_chunk`), `b0`, `b1` start `steps` × 1 KiB of cells; `out` holds
    /// 4 × 256 i32s; `steps` ≥ 1.
    #[inline(always)]
    unsafe fn product_2x2(a0: *const u8, a1: *const u8, b0: *const i8, b1: *const i8, steps: usize, out: *mut i32) {
        // SAFETY: the caller's bounds cover every tile read and store.
        unsafe {
            tile_asm!(
                "tilezero tmm0",
                "tilezero tmm1",
                "tilezero tmm2",
                "tilezero tmm3",
                "2:",
                "tileloadd tmm4, [{a0} + {row} * 1]",
                "tileloadd tmm5, [{a1} + {row} * 1]",
                "tileloadd tmm6, [{b0} + {row} * 1]",
                "tileloadd tmm7, [{b1} + {row} * 1]",
                "tdpbusd tmm0, tmm4, tmm6",
                "tdpbusd tmm1, tmm4, tmm7",
                "tdpbusd tmm2, tmm5, tmm6",
                "tdpbusd tmm3, tmm5, tmm7",
                "add {a0}, {a_step}",
                "add {a1}, {a_step}",
                "add {b0}, {b_step}",
                "add {b1}, {b_step}",
                "dec {steps}",
                "jnz 2b",
                "tilestored [{out} + {row} * 1], tmm0",
                "tilestored [{out} + {row} * 1 + 1024], tmm1",
                "tilestored [{out} + {row} * 1 + 2048], tmm2",
                "tilestored [{out} + {row} * 1 + 3072], tmm3",
                a0 = inout(reg) a0 => _,
                a1 = inout(reg) a1 => _,
                b0 = inout(reg) b0 => _,
                b1 = inout(reg) b1 => _,
                steps = inout(reg) steps => _,
                row = in(reg) 64usize,
                out = in(reg) out,
                a_step = const TILE_BYTES,
                b_step = const B_STEP,
            );
        }
    }

    /// Sums of one row tile × one block into one tile at `out`.
    ///
    /// # Safety
    /// As [`product_2x2`], for one tile of each.
    #[inline(always)]
    unsafe fn product_1x1(a: *const u8, b: *const i8, steps: usize, out: *mut i32) {
        // SAFETY: the caller's bounds cover every tile read and the store.
        unsafe {
            tile_asm!(
                "tilezero tmm0",
                "2:",
                "tileloadd tmm4, [{a} + {row} * 1]",
                "tileloadd tmm6, [{b} + {row} * 1]",
                "tdpbusd tmm0, tmm4, tmm6",
                "add {a}, {a_step}",
                "add {b}, {b_step}",
                "dec {steps}",
                "jnz 2b",
                "tilestored [{out} + {row} * 1], tmm0",
                a = inout(reg) a => _,
                b = inout(reg) b => _,
                steps = inout(reg) steps => _,
                row = in(reg) 64usize,
                out = in(reg) out,
                a_step = const TILE_BYTES,
                b_step = const B_STEP,
            );
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod avxvnni {
    use std::arch::x86_64::*;
    use std::ops::Range;

    use super::{BLOCK, CELL, PackedWeights, Sink, tiles};

    /// A tile is 4 rows × 1 block: a block of 16 columns is two ymm registers, so 8
    /// accumulators, 2 weight registers and a broadcast fit the 16 ymm registers.
    const MR: usize = 4;

    /// # Safety
    /// `a` holds `rows` rows of `w.stride()` bytes and `blocks` lies within `w`'s blocks.
    #[target_feature(enable = "avx2,avxvnni")]
    pub(super) unsafe fn gemm<S: Sink>(a: &[u8], rows: usize, w: &PackedWeights, blocks: Range<usize>, sink: &mut S) {
        tiles(rows, blocks, MR, 1, |r, b| {
            // SAFETY: `tiles` keeps r within 0..rows and b within `blocks`, which the caller
            // vouches for.
            unsafe {
                if r.len() == MR {
                    tile::<MR, S>(a, w, r.start, b.start, sink);
                } else {
                    r.for_each(|row| tile::<1, S>(a, w, row, b.start, sink));
                }
            }
        });
    }

    /// Sums for rows row..row+M and one block.
    ///
    /// # Safety
    /// Those rows lie within `a` (`w.stride()` bytes each) and the block within `w`.
    #[target_feature(enable = "avx2,avxvnni")]
    #[inline]
    unsafe fn tile<const M: usize, S: Sink>(a: &[u8], w: &PackedWeights, row: usize, block: usize, sink: &mut S) {
        let stride = w.stride();
        let x = a[row * stride..].as_ptr();
        let cells = w.data[block * w.block_bytes()..].as_ptr();
        let mut acc = [[_mm256_setzero_si256(); 2]; M];
        for g in 0..w.groups {
            // SAFETY: cell g of the block is 64 bytes inside `w.data`, by the caller's bound;
            // the two halves are columns 0-7 and 8-15; the loads are unaligned.
            let (low, high) = unsafe {
                let cell = cells.add(g * CELL);
                (_mm256_loadu_si256(cell.cast()), _mm256_loadu_si256(cell.add(32).cast()))
            };
            for (i, sums) in acc.iter_mut().enumerate() {
                // SAFETY: bytes 4g..4g+4 of row `row + i` are inside `a`, by the caller's bound.
                let four = unsafe { x.add(i * stride + g * 4).cast::<i32>().read_unaligned() };
                let broadcast = _mm256_set1_epi32(four);
                sums[0] = _mm256_dpbusd_avx_epi32(sums[0], broadcast, low);
                sums[1] = _mm256_dpbusd_avx_epi32(sums[1], broadcast, high);
            }
        }
        let mut out = [0i32; BLOCK];
        for (i, sums) in acc.iter().enumerate() {
            // SAFETY: `out` is 16 i32s: two unaligned 32-byte stores fill it.
            unsafe {
                _mm256_storeu_si256(out.as_mut_ptr().cast(), sums[0]);
                _mm256_storeu_si256(out.as_mut_ptr().add(8).cast(), sums[1]);
            }
            sink.store(row + i, block, &out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scalar reference: sums(r, j) = Σ_k a[r][k] · q[j][k], straight from the unpacked
    /// row-major weights, so it checks the packing as well as the kernels.
    fn reference(a: &[u8], rows: usize, stride: usize, weight: &[i8], outputs: usize, inputs: usize) -> Vec<i32> {
        let mut out = vec![0i32; rows * outputs];
        for r in 0..rows {
            for j in 0..outputs {
                let x = &a[r * stride..r * stride + inputs];
                let q = &weight[j * inputs..(j + 1) * inputs];
                out[r * outputs + j] = x.iter().zip(q).map(|(&x, &q)| i32::from(x) * i32::from(q)).sum();
            }
        }
        out
    }

    /// Keeps the raw sums, [rows × outputs].
    struct Raw {
        out: Vec<i32>,
        outputs: usize,
    }

    impl Sink for Raw {
        fn store(&mut self, row: usize, block: usize, sums: &[i32; BLOCK]) {
            for (c, &sum) in sums.iter().enumerate() {
                let j = block * BLOCK + c;
                if j < self.outputs {
                    self.out[row * self.outputs + j] = sum;
                } else {
                    assert_eq!(sum, 0, "padding column {j} is not zero");
                }
            }
        }
    }

    /// A deterministic xorshift stream, so a failure reproduces.
    struct Noise(u64);

    impl Noise {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    fn int_kernels() -> Vec<Kernel> {
        Kernel::ALL.into_iter().filter(|k| k.is_int8()).collect()
    }

    /// Every weight where the kernels read it: cells [block][group][column][input in group]
    /// (also through `cell`, as the outlier correction reads them), row sums; zero past the
    /// outputs and inputs.
    #[test]
    fn pack_puts_every_weight_where_the_kernels_read_it() {
        let mut noise = Noise(0x5eed);
        for (outputs, inputs) in [(1, 1), (15, 3), (16, 64), (17, 65), (33, 130), (100, 384), (40, 17)] {
            let weight: Vec<i8> = (0..outputs * inputs).map(|_| noise.next() as i8).collect();
            let packed = PackedWeights::pack(&weight, outputs, inputs);
            for j in 0..packed.blocks * BLOCK {
                for k in 0..packed.groups * 4 {
                    let expected = if j < outputs && k < inputs { weight[j * inputs + k] } else { 0 };
                    let (block, column) = (j / BLOCK, j % BLOCK);
                    let cell = packed.data[block * packed.groups * CELL + (k / 4) * CELL + column * 4 + k % 4];
                    assert_eq!(cell, expected, "cell of output {j}, input {k} ({outputs}x{inputs})");
                    assert_eq!(packed.cell(block, k)[column * 4 + k % 4], expected, "`cell` of {j}, {k}");
                }
            }
            let sums: Vec<i32> =
                weight.chunks_exact(inputs).map(|row| row.iter().map(|&q| i32::from(q)).sum()).collect();
            assert_eq!(packed.rowsums, sums);
        }
    }

    #[test]
    fn every_kernel_matches_the_scalar_reference_bit_for_bit() {
        let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
        let row_counts = [1, 2, 5, 6, 7, 13, 16, 33, 64, 65, 200];
        let input_counts = [1, 3, 4, 5, 63, 64, 65, 130, 384];
        let output_counts = [1, 15, 16, 17, 63, 65, 100];
        let mut checked = 0;
        for &rows in &row_counts {
            for &inputs in &input_counts {
                for &outputs in &output_counts {
                    let weight: Vec<i8> = (0..outputs * inputs).map(|_| noise.next() as i8).collect();
                    let packed = PackedWeights::pack(&weight, outputs, inputs);
                    let stride = packed.stride();
                    // Extremes included: 0 and 255 against -128 and 127, the largest products.
                    let mut a: Vec<u8> = (0..rows * stride).map(|_| noise.next() as u8).collect();
                    a[0] = 255;
                    // The padding bytes of a row are zero, as `Quantized` leaves them.
                    for row in a.chunks_exact_mut(stride) {
                        row[inputs..].fill(0);
                    }
                    let expected = reference(&a, rows, stride, &weight, outputs, inputs);
                    for kernel in int_kernels() {
                        if !kernel.is_available() {
                            continue;
                        }
                        let mut raw = Raw { out: vec![i32::MIN; rows * outputs], outputs };
                        gemm(kernel, &a, rows, &packed, 0..packed.blocks, &mut raw);
                        assert!(
                            raw.out == expected,
                            "{kernel}: rows {rows}, inputs {inputs}, outputs {outputs} differ from the reference"
                        );
                        checked += 1;
                    }
                }
            }
        }
        // Every kernel the CPU has ran every shape: at least the portable one, and the one
        // the CPU would choose.
        let shapes = row_counts.len() * input_counts.len() * output_counts.len();
        let available = int_kernels().into_iter().filter(|k| k.is_available()).count();
        assert_eq!(checked, shapes * available);
        let detected = Kernel::detect();
        assert!(
            detected == Kernel::F32 || int_kernels().into_iter().any(|k| k == detected && k.is_available()),
            "the detected kernel {detected} was not tested"
        );
    }

    #[test]
    fn every_kernel_gives_the_same_layer_outputs_bit_for_bit() {
        // The whole way out (outliers, zero points, scales, bias, the last partial block)
        // on top of the sums: the kernels hand their sums out differently (a row, a register
        // or a tile at a time), and must still give the portable kernel's floats.
        let (inputs, outputs) = (100, 100);
        let mut noise = Noise(23);
        let weight: Vec<i8> = (0..outputs * inputs).map(|_| noise.next() as i8).collect();
        let weight_scales: Vec<f32> = (0..outputs).map(|j| 0.002 + j as f32 * 3e-5).collect();
        let bias: Vec<f32> = (0..outputs).map(|j| j as f32 * 0.01 - 0.5).collect();
        let packed = PackedWeights::pack(&weight, outputs, inputs);
        let layer = Layer { weights: &packed, weight_scales: &weight_scales, bias: &bias };
        for rows in [1, 7, 16, 33, 50, 130] {
            let mut input: Vec<f32> = (0..rows * inputs).map(|_| (noise.next() % 1000) as f32 / 300.0 - 1.0).collect();
            for r in 0..rows {
                input[r * inputs + (r * 7) % inputs] = 25.0 + r as f32; // an outlier per row
            }
            let mut activations = Quantized::default();
            activations.quantize(&input, rows, inputs, packed.stride(), Kernel::Int8Portable);
            let run = |kernel| {
                let mut out = vec![f32::NAN; rows * outputs];
                layer.apply(kernel, &activations, rows, &mut out);
                out.iter().map(|v| v.to_bits()).collect::<Vec<u32>>()
            };
            let portable = run(Kernel::Int8Portable);
            for kernel in int_kernels().into_iter().filter(|k| k.is_available()) {
                assert!(run(kernel) == portable, "{kernel}: {rows} rows differ from the portable kernel");
            }
        }
    }

    #[test]
    fn a_range_of_blocks_gives_those_columns_only() {
        let (rows, inputs, outputs) = (9, 70, 100);
        let mut noise = Noise(7);
        let weight: Vec<i8> = (0..outputs * inputs).map(|_| noise.next() as i8).collect();
        let packed = PackedWeights::pack(&weight, outputs, inputs);
        let a: Vec<u8> = (0..rows * packed.stride())
            .map(|i| if i % packed.stride() < inputs { noise.next() as u8 } else { 0 })
            .collect();
        let expected = reference(&a, rows, packed.stride(), &weight, outputs, inputs);
        for kernel in int_kernels().into_iter().filter(|k| k.is_available()) {
            let mut raw = Raw { out: vec![i32::MIN; rows * outputs], outputs };
            gemm(kernel, &a, rows, &packed, 2..5, &mut raw);
            for r in 0..rows {
                for j in 0..outputs {
                    let got = raw.out[r * outputs + j];
                    let want = if (32..80).contains(&j) { expected[r * outputs + j] } else { i32::MIN };
                    assert_eq!(got, want, "{kernel}: row {r}, column {j}");
                }
            }
        }
    }

    /// The AVX-512 quantisation is the portable one, bit for bit, on rows made to trip it:
    /// ties in magnitude (the lower position wins), more candidates than a word of bits,
    /// zeros, negative zeros, subnormals, NaNs, a single huge input, and plain noise.
    #[test]
    fn avx512_quantisation_is_the_portable_one_bit_for_bit() {
        if !crate::kernel::has_avx512vnni() {
            return;
        }
        let inputs = 384;
        let mut noise = Noise(29);
        let mut uniform = |scale: f32| ((noise.next() % 20_001) as f32 / 10_000.0 - 1.0) * scale;
        let mut rows: Vec<Vec<f32>> = Vec::new();
        for r in 0..40 {
            rows.push((0..inputs).map(|_| uniform(1.5 + r as f32)).collect());
        }
        rows.push(vec![0.0; inputs]);
        rows.push((0..inputs).map(|i| if i % 2 == 0 { -0.0 } else { 0.0 }).collect());
        rows.push((0..inputs).map(|i| if i % 3 == 0 { 3.0 } else { -3.0 }).collect()); // all tied
        rows.push((0..inputs).map(|i| if i % 5 == 0 { f32::MIN_POSITIVE / 4.0 } else { 0.0 }).collect());
        let mut with_nan: Vec<f32> = (0..inputs).map(|_| uniform(2.0)).collect();
        with_nan[7] = f32::NAN;
        with_nan[8] = f32::from_bits(0x7fc0_0001); // a NaN whose payload's low byte is 1
        with_nan[9] = -f32::NAN;
        with_nan[200] = -30.0;
        rows.push(with_nan);
        rows.push(vec![1e-37; inputs]); // a subnormal range: no finite inverse
        let mut one_huge = vec![0.25; inputs];
        one_huge[383] = -1e6;
        rows.push(one_huge);
        // Ties across lanes among the outliers: positions 1, 17, 33 share a magnitude.
        let mut ties: Vec<f32> = (0..inputs).map(|_| uniform(1.0)).collect();
        (ties[1], ties[17], ties[33], ties[300]) = (9.0, -9.0, 9.0, 12.0);
        rows.push(ties);
        let input: Vec<f32> = rows.concat();
        let (rows, stride) = (rows.len(), 448);
        // The comparison below is between two quantisers only if this one takes the other.
        assert!(quantises_in_avx512(Kernel::Avx512Vnni, inputs) && !quantises_in_avx512(Kernel::Int8Portable, inputs));
        let (mut portable, mut avx512) = (Quantized::default(), Quantized::default());
        portable.quantize(&input, rows, inputs, stride, Kernel::Int8Portable);
        avx512.quantize(&input, rows, inputs, stride, Kernel::Avx512Vnni);
        for r in 0..rows {
            let bytes = r * stride..(r + 1) * stride;
            let slots = r * OUTLIERS..(r + 1) * OUTLIERS;
            assert_eq!(avx512.data[bytes.clone()], portable.data[bytes], "row {r}: bytes");
            assert_eq!(avx512.scales[r].to_bits(), portable.scales[r].to_bits(), "row {r}: scale");
            assert_eq!(avx512.zero_points[r], portable.zero_points[r], "row {r}: zero point");
            assert_eq!(avx512.outlier_inputs[slots.clone()], portable.outlier_inputs[slots.clone()], "row {r}: picks");
            let bits = |q: &Quantized| q.outlier_values[slots.clone()].iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&avx512), bits(&portable), "row {r}: outlier values");
        }
    }

    #[test]
    fn quantised_rows_round_trip_within_half_a_step_outliers_exactly() {
        let mut noise = Noise(11);
        let inputs = 37;
        let mut input: Vec<f32> = (0..3 * inputs).map(|_| (noise.next() % 2001) as f32 / 100.0 - 3.0).collect();
        input[inputs..2 * inputs].fill(0.0); // an all-zero row
        input[2 * inputs + 20] = -40.0; // outliers, one in the same run of 16 as another
        input[2 * inputs + 21] = 35.0;
        let mut q = Quantized::default();
        q.quantize(&input, 3, inputs, 40, Kernel::Int8Portable);
        for r in 0..3 {
            let (scale, zero_point) = (q.scales[r], q.zero_points[r]);
            let row = &input[r * inputs..(r + 1) * inputs];
            let slots = r * OUTLIERS..(r + 1) * OUTLIERS;
            let outliers: Vec<(usize, f32)> = q.outlier_inputs[slots.clone()]
                .iter()
                .zip(&q.outlier_values[slots])
                .filter(|(_, v)| **v != 0.0)
                .map(|(&k, &v)| (k as usize, v))
                .collect();
            // The outliers are the largest magnitudes, kept exactly.
            let mut magnitudes: Vec<f32> = row.iter().map(|v| v.abs()).collect();
            magnitudes.sort_by(|a, b| b.total_cmp(a));
            for (i, &(k, v)) in outliers.iter().enumerate() {
                assert_eq!(v, row[k], "row {r}: outlier {k}");
                assert_eq!(v.abs(), magnitudes[i], "row {r}: outlier {i} is not the {i}th largest");
                assert_eq!(i32::from(q.data[r * 40 + k]), zero_point, "row {r}: outlier {k} adds to the sums");
            }
            for (k, &x) in row.iter().enumerate().filter(|(k, _)| !outliers.iter().any(|o| o.0 == *k)) {
                let back = scale * (i32::from(q.data[r * 40 + k]) - zero_point) as f32;
                assert!((back - x).abs() <= scale * 0.5 + 1e-6, "row {r}: {x} came back as {back}");
            }
            assert!(q.data[r * 40 + inputs..(r + 1) * 40].iter().all(|&b| b == 0), "padding is not zero");
        }
        assert_eq!(q.scales[1], 0.0);
        assert!(q.outlier_values[OUTLIERS..2 * OUTLIERS].iter().all(|&v| v == 0.0));
        // The other values span 20; with the outliers in, the step would be 75 / 255.
        assert!(q.scales[2] < 21.0 / 255.0, "the outliers still set the step: {}", q.scales[2]);
    }

    #[test]
    fn an_int8_layer_is_close_to_the_f32_layer() {
        let (rows, inputs, outputs) = (60, 96, 400);
        let mut noise = Noise(5);
        let weight: Vec<i8> = (0..outputs * inputs).map(|_| noise.next() as i8).collect();
        let weight_scales: Vec<f32> = (0..outputs).map(|j| 0.001 + j as f32 * 1e-4).collect();
        let bias: Vec<f32> = (0..outputs).map(|j| j as f32 * 0.01 - 0.2).collect();
        // Skewed like a GELU output: mostly positive, a small negative tail.
        let input: Vec<f32> = (0..rows * inputs).map(|_| (noise.next() % 1000) as f32 / 200.0 - 0.17).collect();
        let packed = PackedWeights::pack(&weight, outputs, inputs);
        let layer = Layer { weights: &packed, weight_scales: &weight_scales, bias: &bias };
        for kernel in int_kernels().into_iter().filter(|k| k.is_available()) {
            // 60 rows run on one thread; 6 rows split the 25 blocks of columns across the pool.
            for rows in [rows, 6] {
                let mut out = vec![f32::NAN; rows * outputs];
                let mut activations = Quantized::default();
                activations.quantize(&input[..rows * inputs], rows, inputs, packed.stride(), Kernel::Int8Portable);
                layer.apply(kernel, &activations, rows, &mut out);
                for r in 0..rows {
                    for j in 0..outputs {
                        let exact: f32 = (0..inputs)
                            .map(|k| input[r * inputs + k] * weight[j * inputs + k] as f32 * weight_scales[j])
                            .sum::<f32>()
                            + bias[j];
                        let got = out[r * outputs + j];
                        // Half a quantisation step per input, times the weights' size, bounds it.
                        let bound = 0.5 * 5.17 / 255.0 * 128.0 * weight_scales[j] * (inputs as f32).sqrt() * 3.0;
                        assert!((got - exact).abs() <= bound, "{kernel}: ({r}, {j}) {got} vs {exact}");
                    }
                }
            }
        }
    }
}
