//! One sequence's self-attention on the AMX tiles in bf16 (AMX-BF16), for the AMX kernel.
//!
//! With the linear layers in int8 on the tiles, attention in f32 fused multiply-adds was a
//! third of the forward pass. Here both of its products run as `tdpbf16ps`: a 16 × 16 tile of
//! scores is one instruction over a 32-wide head, and a 16-row tile of the context takes one
//! instruction per 32 keys and half a head. Q, K, V and the probabilities are rounded to
//! bf16 (8 significant bits, what the int8 activations already keep); the sums stay f32,
//! and so does the softmax between the products, which writes the probabilities as bf16.
//!
//! Layouts, per head (all tiles 16 rows × 64 bytes, [`TileConfig::uniform`]):
//! * queries: [rows][32] bf16, rows padded to 16: an A tile is 16 query rows.
//! * keys: [padded / 16][16 pairs of dimensions][16 keys][2]: a B tile, whose row r holds each
//!   key's dimensions 2r and 2r + 1 side by side, as `tdpbf16ps` pairs them.
//! * values: [padded / 32][2 halves][16 pairs of keys][16 dimensions][2]: a B tile per 32 keys
//!   and 16 dimensions, row r holding keys 2r and 2r + 1 of each dimension.
//! * scores: [rows][padded] f32, where `tilestored` puts them and the softmax reads them.
//! * probabilities: [rows + 16][padded] bf16, zero past the sequence in each row: an A tile
//!   per 32 keys.
//!
//! Must never run without [`crate::kernel::has_amx_bf16`]: a tile instruction faults.

use std::arch::asm;
use std::arch::x86_64::*;

use crate::int8::{TileConfig, tile_asm};

/// A head's width: one A tile row of bf16 (64 bytes).
pub(crate) const HEAD_DIM: usize = 32;
const TILE_ROWS: usize = 16;
/// Keys per step of the context product: one A tile row of bf16 probabilities.
const KEYS_PER_STEP: usize = 32;
/// bf16 values in one tile (16 rows × 64 bytes).
const TILE_VALUES: usize = TILE_ROWS * 32;

/// The buffers, kept across heads, sequences and layers.
#[derive(Default)]
pub(crate) struct Scratch {
    queries: Vec<u16>,
    keys: Vec<u16>,
    values: Vec<u16>,
    scores: Vec<f32>,
    probabilities: Vec<u16>,
    /// Up to 32 rows of the context, [32][32] f32, before the valid rows are copied.
    context: Vec<f32>,
}

/// 16 lanes rounded to bf16 (to nearest, ties to even), as their 16 bits. Finite inputs only
/// (a NaN may come out as an infinity or zero): q, k, v and probabilities are finite.
///
/// # Safety
/// The CPU has AVX-512F.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn bf16_lanes(x: __m512) -> __m256i {
    // SAFETY: AVX-512F, which the caller vouches for.
    _mm512_cvtepi32_epi16(_mm512_srli_epi32::<16>(unsafe { bf16_high(x) }))
}

/// `out[..src.len()]` = bf16 of `src`; `src.len()` a multiple of 16.
///
/// # Safety
/// The CPU has AVX-512F.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn to_bf16(src: &[f32], out: &mut [u16]) {
    assert!(src.len().is_multiple_of(16) && out.len() >= src.len());
    for (i, chunk) in src.chunks_exact(16).enumerate() {
        // SAFETY: 16 floats read from `chunk`, 16 u16s written inside `out` (the assert);
        // both unaligned.
        unsafe {
            let lanes = bf16_lanes(_mm512_loadu_ps(chunk.as_ptr()));
            _mm256_storeu_si256(out.as_mut_ptr().add(16 * i).cast(), lanes);
        }
    }
}

/// Rows `offset..offset + len` of q, k, v ([tokens × `hidden`] f32) attended per head; the
/// context goes to the same rows of `context`. The scores are scaled by 1/√32 before the
/// softmax, as BERT's are.
///
/// # Safety
/// The CPU has AMX-BF16, AVX-512F and AVX-512BW, and the OS has let this process use the
/// tiles ([`crate::kernel::has_amx_bf16`]).
#[target_feature(enable = "avx512f,avx512bw")]
pub(crate) unsafe fn attention(
    (q, k, v): (&[f32], &[f32], &[f32]),
    hidden: usize,
    offset: usize,
    len: usize,
    context: &mut [f32],
    s: &mut Scratch,
) {
    if len == 0 {
        return;
    }
    assert!(
        hidden.is_multiple_of(HEAD_DIM)
            && (offset + len) * hidden <= q.len().min(k.len()).min(v.len()).min(context.len())
    );
    let rows = len.next_multiple_of(TILE_ROWS);
    let padded = len.next_multiple_of(KEYS_PER_STEP);
    // Only the values must be zero past the sequence: a probability there is zero, and a
    // stale value could be an infinity (0 · ∞ is NaN). Everything else is overwritten before
    // it is read, or lands only in rows past the sequence, which are never copied out:
    // queries past `len` make score rows no softmax reads; keys past `len` make score columns
    // the softmax masks; probability rows past `len` (one spare tile of them, as the context
    // runs query tiles in pairs) make context rows that stay in the scratch. So the buffers
    // keep what they held (no zeroing of up to a megabyte per sequence and layer).
    s.values.clear();
    s.values.resize(padded * HEAD_DIM, 0);
    s.queries.resize(rows * HEAD_DIM, 0);
    s.keys.resize(padded * HEAD_DIM, 0);
    s.probabilities.resize((rows + TILE_ROWS) * padded, 0);
    s.scores.resize(rows * padded, 0.0);
    s.context.resize(2 * TILE_ROWS * HEAD_DIM, 0.0);
    let config = TileConfig::uniform();
    // SAFETY: the caller vouches for AMX and the OS's permission; the configuration is the
    // 64 bytes `ldtilecfg` reads.
    unsafe { asm!("ldtilecfg [{}]", in(reg) config.0.as_ptr(), options(nostack, readonly)) };
    for head in (0..hidden).step_by(HEAD_DIM) {
        let at = |i: usize| (offset + i) * hidden + head..(offset + i) * hidden + head + HEAD_DIM;
        for i in 0..len {
            // SAFETY: AVX-512F, which the caller vouches for.
            unsafe {
                to_bf16(&q[at(i)], &mut s.queries[i * HEAD_DIM..]);
                lay_out_key(&mut s.keys, i, &k[at(i)]);
            }
        }
        for j in (0..len).step_by(2) {
            let second = (j + 1 < len).then(|| &v[at(j + 1)]);
            // SAFETY: AVX-512F, which the caller vouches for.
            unsafe { lay_out_values(&mut s.values, j, &v[at(j)], second) };
        }
        for tile in 0..rows / TILE_ROWS {
            // SAFETY: the tiles are configured; the queries' tile and every key block lie
            // inside their buffers, and 16 rows of `padded / 16` score blocks inside
            // `scores` (`rows` × `padded`).
            unsafe { scores_tile(&s.queries, &s.keys, &mut s.scores, tile, padded) };
        }
        let scale = 1.0 / (HEAD_DIM as f32).sqrt();
        for (row, out) in s.scores.chunks_exact_mut(padded).zip(s.probabilities.chunks_exact_mut(padded)).take(len) {
            // SAFETY: AVX-512F, which the caller vouches for.
            unsafe { softmax_to_bf16(row, len, scale, out) };
        }
        for tile in (0..rows / TILE_ROWS).step_by(2) {
            // SAFETY: as above, for two query tiles of the probabilities (the second may be
            // the spare tile past `rows`) and the value tiles.
            unsafe { context_pair(&s.probabilities, &s.values, &mut s.context, tile, padded) };
            let first = tile * TILE_ROWS;
            for (r, sums) in s.context.chunks_exact(HEAD_DIM).take(len - first).enumerate() {
                context[(offset + first + r) * hidden + head..][..HEAD_DIM].copy_from_slice(sums);
            }
        }
    }
    // SAFETY: releases the tiles configured above.
    unsafe { asm!("tilerelease", options(nostack, nomem)) };
}

/// 16 lanes rounded to bf16 in the top 16 bits of each lane (the low 16 bits are noise).
///
/// # Safety
/// The CPU has AVX-512F.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn bf16_high(x: __m512) -> __m512i {
    let bits = _mm512_castps_si512(x);
    let odd = _mm512_and_si512(_mm512_srli_epi32::<16>(bits), _mm512_set1_epi32(1));
    _mm512_add_epi32(bits, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff)))
}

/// One row of scores into probabilities, rounded to bf16 into `out`: softmax(scale · row) over
/// the first `len`, zeros past it (`row` and `out` are a whole number of 16 lanes long).
/// The probabilities are kept to 8 significant bits, so exp is 2^t as a quartic on
/// t's fraction (relative error under 6e-5) scaled by its whole part (`vscalefps`); three passes
/// over the row (max, exp and sum, normalise and round).
///
/// # Safety
/// The CPU has AVX-512F.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn softmax_to_bf16(row: &mut [f32], len: usize, scale: f32, out: &mut [u16]) {
    const LN2: f32 = std::f32::consts::LN_2;
    assert!(len > 0 && len <= row.len() && row.len().is_multiple_of(16) && out.len() >= row.len());
    let chunks = len.div_ceil(16);
    let mask = |c: usize| -> __mmask16 {
        if c + 1 < chunks || len.is_multiple_of(16) { 0xffff } else { (1 << (len % 16)) - 1 }
    };
    let at = |c: usize| 16 * c;
    // SAFETY: every load and store below is of 16 lanes at 16 · c for c < row.len() / 16
    // (the assert), masked to the first `len` lanes where it reads scores.
    unsafe {
        let mut max = _mm512_set1_ps(f32::NEG_INFINITY);
        for c in 0..chunks {
            max = _mm512_max_ps(max, _mm512_mask_loadu_ps(max, mask(c), row.as_ptr().add(at(c))));
        }
        let k = _mm512_set1_ps(scale * std::f32::consts::LOG2_E);
        let shift = _mm512_set1_ps(-_mm512_reduce_max_ps(max) * scale * std::f32::consts::LOG2_E);
        let mut sum = _mm512_setzero_ps();
        for c in 0..chunks {
            let x = _mm512_maskz_loadu_ps(mask(c), row.as_ptr().add(at(c)));
            let t = _mm512_max_ps(_mm512_fmadd_ps(x, k, shift), _mm512_set1_ps(-126.0));
            let whole = _mm512_roundscale_ps::<0>(t);
            let f = _mm512_sub_ps(t, whole);
            // 2^f = e^(f ln 2), Taylor to the fourth power, f in [-0.5, 0.5].
            let mut p = _mm512_set1_ps(LN2 * LN2 * LN2 * LN2 / 24.0);
            p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(LN2 * LN2 * LN2 / 6.0));
            p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(LN2 * LN2 / 2.0));
            p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(LN2));
            p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0));
            let e = _mm512_maskz_mov_ps(mask(c), _mm512_scalef_ps(p, whole));
            sum = _mm512_add_ps(sum, e);
            _mm512_storeu_ps(row.as_mut_ptr().add(at(c)), e);
        }
        let inv = _mm512_set1_ps(1.0 / _mm512_reduce_add_ps(sum));
        for c in 0..row.len() / 16 {
            let p = if c < chunks {
                _mm512_mul_ps(_mm512_loadu_ps(row.as_ptr().add(at(c))), inv)
            } else {
                _mm512_setzero_ps()
            };
            _mm256_storeu_si256(out.as_mut_ptr().add(at(c)).cast(), bf16_lanes(p));
        }
    }
}

/// Key `j`'s 32 dimensions into the keys' layout: block j / 16, row r = dimensions 2r and
/// 2r + 1 (one u32), column j % 16.
///
/// # Safety
/// The CPU has AVX-512F.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn lay_out_key(keys: &mut [u16], j: usize, key: &[f32]) {
    assert!(key.len() == HEAD_DIM);
    let block = &mut keys[j / TILE_ROWS * TILE_VALUES..][..TILE_VALUES];
    // Pair r (dimensions 2r, 2r + 1, one u32) goes to u32 r · 16 + j % 16 of the block: one
    // scatter, where 32 stores of a u16 each were a tenth of attention's time.
    let column = (j % TILE_ROWS) as i32;
    // SAFETY: 32 floats read from `key` (the assert); the scatter writes u32 number
    // r · 16 + column < 256 for r < 16, inside the block's 512 u16s (1 KiB); a scatter needs
    // no alignment (the block's u32s are only 2-byte aligned).
    unsafe {
        let (low, high) = (_mm512_loadu_ps(key.as_ptr()), _mm512_loadu_ps(key.as_ptr().add(16)));
        let pairs = _mm512_inserti64x4::<1>(_mm512_castsi256_si512(bf16_lanes(low)), bf16_lanes(high));
        let at = _mm512_add_epi32(
            _mm512_setr_epi32(0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240),
            _mm512_set1_epi32(column),
        );
        _mm512_i32scatter_epi32::<4>(block.as_mut_ptr().cast(), at, pairs);
    }
}

/// Value rows `j` and `j + 1` (`j` even; `second` None past the sequence) into the values'
/// layout: step j / 32, each half of the head its own tile, row (j % 32) / 2, each column's
/// pair the two rows' values.
///
/// # Safety
/// The CPU has AVX-512F.
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn lay_out_values(values: &mut [u16], j: usize, first: &[f32], second: Option<&[f32]>) {
    assert!(j.is_multiple_of(2) && first.len() == HEAD_DIM && second.is_none_or(|v| v.len() == HEAD_DIM));
    let step = &mut values[j / KEYS_PER_STEP * 2 * TILE_VALUES..][..2 * TILE_VALUES];
    let row = (j % KEYS_PER_STEP) / 2;
    for half in 0..2 {
        let out = &mut step[half * TILE_VALUES + row * 32..][..32];
        // SAFETY: 16 floats read from each row at `half * 16` (the assert bounds them), 64
        // bytes written to `out`.
        unsafe {
            let low = _mm512_srli_epi32::<16>(bf16_high(_mm512_loadu_ps(first.as_ptr().add(half * 16))));
            let high = match second {
                Some(second) => _mm512_and_si512(
                    bf16_high(_mm512_loadu_ps(second.as_ptr().add(half * 16))),
                    _mm512_set1_epi32(0xffff_0000u32 as i32),
                ),
                None => _mm512_setzero_si512(),
            };
            _mm512_storeu_si512(out.as_mut_ptr().cast(), _mm512_or_si512(low, high));
        }
    }
}

/// Scores of query tile `tile` against every key block: `padded / 16` products, each stored
/// as 16 × 16 f32 into `scores` ([rows][padded]), two blocks at a time.
///
/// # Safety
/// Tiles configured as [`TileConfig::uniform`] on a CPU with AMX-BF16; the buffers as laid out
/// by [`attention`] for `padded` keys, with `tile` one of its query tiles.
#[inline]
unsafe fn scores_tile(queries: &[u16], keys: &[u16], scores: &mut [f32], tile: usize, padded: usize) {
    let blocks = padded / TILE_ROWS;
    assert!((tile + 1) * TILE_ROWS * HEAD_DIM <= queries.len() && blocks * TILE_VALUES <= keys.len());
    // Two blocks per pass (two sums in flight: a tile is not renamed, so one tile reused each
    // pass waited for its store); `padded` is a multiple of 32 keys.
    assert!((tile + 1) * TILE_ROWS * padded <= scores.len() && blocks > 0 && blocks.is_multiple_of(2));
    // SAFETY: the asserts bound the A tile (16 rows of 64 bytes), every B tile (1 KiB per
    // block) and every store (16 rows of 64 bytes, `padded` floats apart).
    unsafe {
        tile_asm!(
            "tileloadd tmm0, [{q} + {row} * 1]",
            "2:",
            "tilezero tmm1",
            "tilezero tmm3",
            "tileloadd tmm2, [{k} + {row} * 1]",
            "tileloadd tmm4, [{k} + {row} * 1 + 1024]",
            "tdpbf16ps tmm1, tmm0, tmm2",
            "tdpbf16ps tmm3, tmm0, tmm4",
            "tilestored [{s} + {stride} * 1], tmm1",
            "tilestored [{s} + {stride} * 1 + 64], tmm3",
            "add {k}, 2048",
            "add {s}, 128",
            "sub {blocks}, 2",
            "jnz 2b",
            q = in(reg) queries.as_ptr().add(tile * TILE_ROWS * HEAD_DIM),
            k = inout(reg) keys.as_ptr() => _,
            s = inout(reg) scores.as_mut_ptr().add(tile * TILE_ROWS * padded) => _,
            blocks = inout(reg) blocks => _,
            row = in(reg) 64usize,
            stride = in(reg) padded * 4,
        );
    }
}

/// The context of query tiles `tile` and `tile + 1`, [32][32] f32 into `out`: the
/// probabilities' 32-key steps against the values' two tiles per step. Two query tiles share
/// each step's value tiles and keep four sums in flight.
///
/// # Safety
/// As [`scores_tile`]; `probabilities` holds the two tiles' 32 rows; `out` 32 × 32 floats.
#[inline]
unsafe fn context_pair(probabilities: &[u16], values: &[u16], out: &mut [f32], tile: usize, padded: usize) {
    let steps = padded / KEYS_PER_STEP;
    assert!((tile + 2) * TILE_ROWS * padded <= probabilities.len() && steps * 2 * TILE_VALUES <= values.len());
    assert!(out.len() >= 2 * TILE_ROWS * HEAD_DIM && steps > 0);
    let p = probabilities[tile * TILE_ROWS * padded..].as_ptr();
    // SAFETY: the asserts bound every A tile (16 rows of 64 bytes, `padded` bf16 apart; the
    // second 16 rows further), every pair of B tiles (2 KiB per step) and the stores (32 rows
    // of 128 bytes).
    unsafe {
        tile_asm!(
            "tilezero tmm4",
            "tilezero tmm5",
            "tilezero tmm6",
            "tilezero tmm7",
            "2:",
            "tileloadd tmm0, [{p} + {stride} * 1]",
            "tileloadd tmm1, [{p1} + {stride} * 1]",
            "tileloadd tmm2, [{v} + {row} * 1]",
            "tileloadd tmm3, [{v} + {row} * 1 + 1024]",
            "tdpbf16ps tmm4, tmm0, tmm2",
            "tdpbf16ps tmm5, tmm0, tmm3",
            "tdpbf16ps tmm6, tmm1, tmm2",
            "tdpbf16ps tmm7, tmm1, tmm3",
            "add {p}, 64",
            "add {p1}, 64",
            "add {v}, 2048",
            "dec {steps}",
            "jnz 2b",
            "tilestored [{out} + {out_stride} * 1], tmm4",
            "tilestored [{out} + {out_stride} * 1 + 64], tmm5",
            "tilestored [{out} + {out_stride} * 1 + 2048], tmm6",
            "tilestored [{out} + {out_stride} * 1 + 2112], tmm7",
            p = inout(reg) p => _,
            p1 = inout(reg) p.add(TILE_ROWS * padded) => _,
            v = inout(reg) values.as_ptr() => _,
            steps = inout(reg) steps => _,
            out = in(reg) out.as_mut_ptr(),
            row = in(reg) 64usize,
            stride = in(reg) padded * 2,
            out_stride = in(reg) HEAD_DIM * 4,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `x` rounded to bf16 (to nearest, ties to even), as its 16 bits.
    fn bf16(x: f32) -> u16 {
        let bits = x.to_bits();
        (bits.wrapping_add(0x7fff + ((bits >> 16) & 1)) >> 16) as u16
    }

    #[test]
    fn the_lanes_round_as_the_scalar_reference() {
        if !std::arch::is_x86_feature_detected!("avx512f") {
            return;
        }
        let xs: Vec<f32> = (0..64).map(|i| (i as f32 - 31.5) * 0.377 + 1.0 / 256.0 * (i % 3) as f32).collect();
        let mut out = vec![0u16; 64];
        // SAFETY: AVX-512F, checked above.
        unsafe { to_bf16(&xs, &mut out) };
        assert_eq!(out, xs.iter().map(|&x| bf16(x)).collect::<Vec<u16>>());
    }

    #[test]
    fn bf16_rounds_to_nearest_even() {
        assert_eq!(bf16(1.0), 0x3f80);
        // 1 + 2^-8 is halfway between two bf16 values: ties go to the even one (1.0).
        assert_eq!(bf16(1.0 + 1.0 / 256.0), 0x3f80);
        // 1 + 3 · 2^-8 is halfway too: to even, up.
        assert_eq!(bf16(1.0 + 3.0 / 256.0), 0x3f82);
        assert_eq!(bf16(-2.5), 0xc020);
        assert_eq!(bf16(0.1), 0x3dcd, "0.1 is 0x3dcccccd in f32: the dropped half 0xcccd rounds up");
    }

    fn widen(x: u16) -> f32 {
        f32::from_bits(u32::from(x) << 16)
    }

    /// Attention of one sequence computed plainly, with q, k, v and the probabilities
    /// rounded to bf16 as the tiles see them.
    fn reference(q: &[f32], k: &[f32], v: &[f32], hidden: usize, offset: usize, len: usize) -> Vec<f32> {
        let round = |x: f32| widen(bf16(x));
        let mut out = vec![0f32; len * hidden];
        for head in (0..hidden).step_by(HEAD_DIM) {
            for i in 0..len {
                let mut row: Vec<f32> = (0..len)
                    .map(|j| {
                        (0..HEAD_DIM)
                            .map(|d| {
                                round(q[(offset + i) * hidden + head + d]) * round(k[(offset + j) * hidden + head + d])
                            })
                            .sum()
                    })
                    .collect();
                plain_softmax(&mut row);
                for d in 0..HEAD_DIM {
                    out[i * hidden + head + d] =
                        (0..len).map(|j| round(row[j]) * round(v[(offset + j) * hidden + head + d])).sum();
                }
            }
        }
        out
    }

    fn plain_softmax(row: &mut [f32]) {
        let scale = 1.0 / (HEAD_DIM as f32).sqrt();
        let max = row.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x)) * scale;
        row.iter_mut().for_each(|x| *x = (*x * scale - max).exp());
        let sum: f32 = row.iter().sum();
        row.iter_mut().for_each(|x| *x /= sum);
    }

    #[test]
    fn the_softmax_is_within_bf16_rounding_of_the_exact_one() {
        if !std::arch::is_x86_feature_detected!("avx512f") {
            return;
        }
        for len in [1usize, 5, 16, 17, 40, 64] {
            let padded = len.next_multiple_of(32);
            let scores: Vec<f32> = (0..padded).map(|i| ((i * 37 % 23) as f32 - 11.0) * 1.7).collect();
            let mut row = scores.clone();
            let mut out = vec![0xffffu16; padded];
            // SAFETY: AVX-512F, checked above.
            unsafe { softmax_to_bf16(&mut row, len, 0.25, &mut out) };
            let mut exact = scores[..len].to_vec();
            let max = exact.iter().fold(f32::NEG_INFINITY, |m, &x| m.max(x));
            exact.iter_mut().for_each(|x| *x = ((*x - max) * 0.25).exp());
            let sum: f32 = exact.iter().sum();
            for (i, &bits) in out.iter().enumerate() {
                let got = widen(bits);
                let want = if i < len { exact[i] / sum } else { 0.0 };
                assert!((got - want).abs() <= want * (1.0 / 256.0) + 1e-7, "len {len}, key {i}: {got} vs {want}");
            }
        }
    }

    #[test]
    fn tiles_give_the_plain_attention_of_bf16_inputs() {
        // Without AMX-BF16 there is nothing to run; the golden tests cover the other layers.
        if !crate::kernel::has_amx_bf16() {
            return;
        }
        let hidden = 3 * HEAD_DIM;
        // Lengths around the tile and step sizes; a sequence in the middle of the batch; one
        // scratch for all, a long sequence first, as the layer reuses it across sequences.
        let mut scratch = Scratch::default();
        // Infinite values leave infinities in the scratch; the shorter sequences after must not
        // read them past their end (a zero probability times an infinity is NaN).
        let (finite, infinite) = (vec![0.5f32; 80 * hidden], vec![f32::INFINITY; 80 * hidden]);
        let mut ignored = vec![0f32; 80 * hidden];
        // SAFETY: the CPU has AMX-BF16 (checked above), which implies AVX-512F and BW.
        unsafe { attention((&finite, &finite, &infinite), hidden, 0, 80, &mut ignored, &mut scratch) };
        for (offset, len) in [(0, 70), (0, 1), (3, 15), (2, 33), (1, 16), (5, 17)] {
            let tokens = offset + len + 2;
            let mut seed = (offset * 131 + len) as u32;
            let mut noise = || {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (seed >> 8) as f32 / (1 << 24) as f32 * 4.0 - 2.0
            };
            let (q, k, v): (Vec<f32>, Vec<f32>, Vec<f32>) = (
                (0..tokens * hidden).map(|_| noise()).collect(),
                (0..tokens * hidden).map(|_| noise()).collect(),
                (0..tokens * hidden).map(|_| noise()).collect(),
            );
            let mut context = vec![7f32; tokens * hidden];
            // SAFETY: the CPU has AMX-BF16 (checked above), which implies AVX-512F and BW.
            unsafe { attention((&q, &k, &v), hidden, offset, len, &mut context, &mut scratch) };
            let expected = reference(&q, &k, &v, hidden, offset, len);
            for (i, (got, want)) in context[offset * hidden..][..len * hidden].iter().zip(&expected).enumerate() {
                // A probability whose exp lands on the other side of a bf16 rounding step
                // moves by one step (2^-8 of it): far under what a wrong layout gives.
                assert!((got - want).abs() < 2e-3, "len {len}, value {i}: {got} vs {want}");
            }
            let outside = context[..offset * hidden].iter().chain(&context[(offset + len) * hidden..]);
            assert!(outside.into_iter().all(|&x| x == 7.0), "len {len}: rows of other sequences changed");
        }
    }
}
