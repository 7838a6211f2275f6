//! A row's quantisation step: what the portable quantiser (`int8`) and the AVX-512 one
//! (`quantize_avx512`) share so they agree to the bit. A leaf: it uses neither.
//!
//! Must never: depend on a quantiser, or round differently from the scalar code in `int8`.

/// A row's quantisation step, shared by every quantiser so they agree to the bit.
pub(crate) struct Step {
    pub scale: f32,
    /// 1 / scale, what the values are multiplied by.
    pub inv: f32,
    /// The level that stands for 0.0, a whole number in [0, 255].
    pub zero_point: f32,
}

impl Step {
    /// The step for values in [lo, hi] (lo ≤ 0 ≤ hi); None for a row of zeros, of
    /// non-finite values or of a subnormal range, which quantises to zeros with a zero scale.
    #[inline(always)]
    pub(crate) fn of(lo: f32, hi: f32) -> Option<Step> {
        let scale = (hi - lo) / 255.0;
        let inv = 1.0 / scale;
        // A subnormal range has no finite inverse: as good as zeros.
        if !(scale.is_finite() && scale > 0.0 && inv.is_finite()) {
            return None;
        }
        Some(Step { scale, inv, zero_point: (-lo * inv).round_ties_even().clamp(0.0, 255.0) })
    }
}
