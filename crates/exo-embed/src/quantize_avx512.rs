//! One activation row quantised in AVX-512 registers: the same picks, scale, zero point and
//! bytes as the portable `int8::take_outliers` + `int8::quantize_row` (tested bit for bit),
//! in three passes over the row instead of five, without a copy of it, and with the min/max
//! scan in vector registers (the portable lanes compiled to scalar `vmaxss`: with the copy
//! and the sort of the lane maxima, 13% of an AMX embedding's time).
//!
//! 1. The largest magnitude in each of 16 lanes; the T-th largest of those is the floor θ
//!    every outlier reaches (as in `take_outliers`).
//! 2. The inputs at or above θ noted as candidates; min and max over all the others.
//! 3. The picks made among the candidates; the candidates not picked folded into min and
//!    max (the picks count as zeros, as in the portable row, and zero is in the range
//!    anyway); then every input quantised, and the picks' bytes set to the zero point.

use std::arch::x86_64::*;

use crate::quant_step::Step;

const LANES: usize = 16;
/// The longest row, in chunks of 16: the widest layer input (1,536) and then some.
const MAX_CHUNKS: usize = 256;

/// `src` quantised into `dst` (as long as `src`), its largest-magnitude inputs into `which`
/// and `values` (unused slots left as they are: zeros); returns (scale, zero point).
/// `candidates` and `magnitudes` are scratch.
///
/// # Safety
/// The CPU has AVX-512F and AVX-512BW; `src.len()` is a multiple of 16, at most 4,096, and
/// equals `dst.len()`; `which.len() == values.len()` and is at most 16.
#[target_feature(enable = "avx512f,avx512bw")]
pub(crate) unsafe fn quantize_row(
    src: &[f32],
    dst: &mut [u8],
    which: &mut [u32],
    values: &mut [f32],
    candidates: &mut Vec<u32>,
    magnitudes: &mut Vec<f32>,
) -> (f32, i32) {
    assert!(src.len().is_multiple_of(LANES) && src.len() <= MAX_CHUNKS * LANES);
    assert!(dst.len() == src.len() && which.len() == values.len());
    assert!(which.len() <= LANES);
    let chunks = src.len() / LANES;
    // Plain loads in the loops, no closure: a closure is not compiled with this function's
    // target features, and a call per 16 inputs cost more than the work.
    let at = src.as_ptr();
    // 1. Lane maxima of the magnitudes, in two chains (the order of a max does not matter).
    let (mut even, mut odd) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    for c in (0..chunks).step_by(2) {
        // max(|v|, lane): |v| when it is larger; a NaN never is (as `if v > lane`).
        // SAFETY: chunk c < chunks lies inside `src` (a multiple of 16 long); unaligned load.
        let v = unsafe { _mm512_loadu_ps(at.add(c * LANES)) };
        even = _mm512_max_ps(_mm512_abs_ps(v), even);
        if c + 1 < chunks {
            // SAFETY: as above, for chunk c + 1 < chunks.
            let v = unsafe { _mm512_loadu_ps(at.add((c + 1) * LANES)) };
            odd = _mm512_max_ps(_mm512_abs_ps(v), odd);
        }
    }
    let floor = floor_of(_mm512_max_ps(even, odd), which.len());
    // 2. Min/max of the inputs under the floor; which chunks hold candidates, noted as bits
    //    first: a push (a possible call) in this loop kept min and max on the stack.
    let floor_v = _mm512_set1_ps(floor);
    let (mut lo, mut hi) = (_mm512_setzero_ps(), _mm512_setzero_ps());
    let mut found = [0u16; MAX_CHUNKS];
    for (c, bits) in found.iter_mut().enumerate().take(chunks) {
        // SAFETY: as in pass 1.
        let v = unsafe { _mm512_loadu_ps(at.add(c * LANES)) };
        let at_least = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(_mm512_abs_ps(v), floor_v);
        // `min(v, lo)` is v only when v < lo, so a NaN is passed over (as `if v < lo`).
        lo = _mm512_mask_min_ps(lo, !at_least, v, lo);
        hi = _mm512_mask_max_ps(hi, !at_least, v, hi);
        *bits = at_least;
    }
    candidates.clear();
    for (c, &bits) in found.iter().enumerate().take(chunks).filter(|(_, bits)| **bits != 0) {
        let mut bits = bits;
        while bits != 0 {
            candidates.push((c * LANES) as u32 + bits.trailing_zeros());
            bits &= bits - 1;
        }
    }
    let picked = pick(src, candidates, magnitudes, which, values);
    let (mut lo, mut hi) = (_mm512_reduce_min_ps(lo).min(0.0), _mm512_reduce_max_ps(hi).max(0.0));
    for &k in candidates.iter().filter(|&&k| !picked.contains(&k)) {
        let v = src[k as usize];
        lo = if v < lo { v } else { lo };
        hi = if v > hi { v } else { hi };
    }
    // 3. The bytes.
    let Some(Step { scale, inv, zero_point }) = Step::of(lo, hi) else {
        dst.fill(0);
        return (0.0, 0);
    };
    let (inv_v, zero_v) = (_mm512_set1_ps(inv), _mm512_set1_ps(zero_point));
    let (top, rounder) = (_mm512_set1_ps(255.0), _mm512_set1_ps(8_388_608.0));
    for c in 0..chunks {
        // SAFETY: as in pass 1.
        let v = unsafe { _mm512_loadu_ps(at.add(c * LANES)) };
        let x = _mm512_add_ps(_mm512_mul_ps(v, inv_v), zero_v);
        // max then min, as the portable form: a NaN becomes 0 in both.
        let x = _mm512_min_ps(_mm512_max_ps(x, _mm512_setzero_ps()), top);
        let bits = _mm512_castps_si512(_mm512_add_ps(x, rounder));
        // SAFETY: bytes c·16..c·16+16 lie inside `dst` (as long as `src`); unaligned store.
        unsafe { _mm_storeu_si128(dst.as_mut_ptr().add(c * LANES).cast(), _mm512_cvtepi32_epi8(bits)) };
    }
    for &k in picked.iter().take_while(|&&k| k != u32::MAX) {
        dst[k as usize] = zero_point as u8;
    }
    (scale, zero_point as i32)
}

/// The `t`-th largest of the 16 lane maxima (none is a NaN), or the smallest normal float
/// when it is zero: zeros are never outliers. In registers: a scalar scan with a branch per
/// lane mispredicted its way to a twentieth of the quantiser's time.
#[target_feature(enable = "avx512f")]
fn floor_of(lanes: __m512, t: usize) -> f32 {
    let mut maxima = lanes;
    let mut floor = 0.0;
    for _ in 0..t {
        floor = _mm512_reduce_max_ps(maxima);
        // One lane holding it (the lowest) leaves the race: the rest may hold it too.
        let holding = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(maxima, _mm512_set1_ps(floor));
        maxima = _mm512_mask_mov_ps(maxima, holding & holding.wrapping_neg(), _mm512_set1_ps(f32::NEG_INFINITY));
    }
    if floor > 0.0 { floor } else { f32::MIN_POSITIVE }
}

/// The picks among `candidates` (ascending positions): the largest magnitude first, ties to
/// the lower position, into `which` and `values`; the positions picked, u32::MAX past them.
/// `magnitudes` is scratch. Branch-free scans: which candidate wins is data, not a pattern
/// a branch predictor learns.
fn pick(
    src: &[f32],
    candidates: &[u32],
    magnitudes: &mut Vec<f32>,
    which: &mut [u32],
    values: &mut [f32],
) -> [u32; LANES] {
    magnitudes.clear();
    magnitudes.extend(candidates.iter().map(|&k| src[k as usize].abs()));
    let mut picked = [u32::MAX; LANES];
    for (slot, (k_out, v_out)) in which.iter_mut().zip(values.iter_mut()).enumerate() {
        // Taken candidates are marked -1: below every magnitude, so never picked again.
        let (mut best, mut best_magnitude) = (usize::MAX, -1.0f32);
        for (i, &magnitude) in magnitudes.iter().enumerate() {
            let better = magnitude > best_magnitude;
            best = if better { i } else { best };
            best_magnitude = if better { magnitude } else { best_magnitude };
        }
        if best == usize::MAX {
            break;
        }
        let k = candidates[best];
        (*k_out, *v_out) = (k, src[k as usize]);
        picked[slot] = k;
        magnitudes[best] = -1.0;
    }
    picked
}
