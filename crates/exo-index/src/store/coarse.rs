//! Sign codes for the coarse pass of vector search: one bit per dimension, set where the int8
//! row's component is positive — 48 bytes a chunk at 384 dimensions against the row's 384.
//!
//! A query is scored against a code asymmetrically: its components, quantised to 16 odd
//! levels (−15…15), are summed over the code's set bits, which ranks rows as the query's dot
//! product with each row's sign vector does. The sum is taken a bit plane of the query at a
//! time with popcount: `2·Σ_j 2^j·popcount(plane_j & code) − 15·popcount(code)`. On SciFact
//! this needed half the candidates that Hamming distance between two sign codes needs for the
//! same recall (and a correction by each row's L1 norm gained nothing measurable).
//!
//! The popcounts run on AVX-512 VPOPCNTDQ when the CPU has it, otherwise on the `popcnt`
//! instruction or plain Rust; every kernel gives the same integers (tested).

/// 64-bit words in a code of `dims` dimensions.
pub(crate) fn words(dims: usize) -> usize {
    dims.div_ceil(64)
}

/// Bytes of a code of `dims` dimensions (the last word's spare bits are zero).
pub(crate) fn code_bytes(dims: usize) -> usize {
    words(dims) * 8
}

/// No coarse score of a code of `dims` dimensions lies outside ±this.
pub(crate) fn score_bound(dims: usize) -> i32 {
    15 * (words(dims) * 64) as i32
}

/// Appends the sign code of an int8 row (its bytes as stored) to `out`.
pub(crate) fn encode(row: &[u8], out: &mut Vec<u8>) {
    for part in row.chunks(64) {
        let word = part.iter().enumerate().fold(0u64, |word, (i, &v)| word | (u64::from(v as i8 > 0) << i));
        out.extend_from_slice(&word.to_le_bytes());
    }
}

/// Bit planes of the query's quantised components: a component q becomes the level
/// `round(q / step + 7.5)` in 0..=15, standing for `step · (level − 7.5)`.
pub(crate) struct CoarseQuery {
    /// Per code word, the four planes (bit j of each level).
    planes: Vec<[u64; 4]>,
}

impl CoarseQuery {
    pub(crate) fn new(query: &[f32]) -> CoarseQuery {
        let largest = query.iter().fold(0.0f32, |m, q| m.max(q.abs()));
        let step = if largest > 0.0 && largest.is_finite() { largest / 7.5 } else { 1.0 };
        let mut planes = vec![[0u64; 4]; words(query.len())];
        for (i, q) in query.iter().enumerate() {
            // NaN maps to 0 under `as`: a damaged query scores nothing, it does not panic.
            let level = (q / step + 7.5).round().clamp(0.0, 15.0) as u64;
            for (j, plane) in planes[i / 64].iter_mut().enumerate() {
                *plane |= ((level >> j) & 1) << (i % 64);
            }
        }
        CoarseQuery { planes }
    }

    fn code_bytes(&self) -> usize {
        self.planes.len() * 8
    }
}

/// Which popcount runs (tests pick each one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kernel {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Popcnt,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Kernel {
    /// The fastest kernel this CPU runs.
    pub(crate) fn detect() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512vpopcntdq")
            {
                return Kernel::Avx512;
            }
            if std::arch::is_x86_feature_detected!("popcnt") {
                return Kernel::Popcnt;
            }
        }
        Kernel::Portable
    }

    /// Whether this CPU runs the kernel.
    #[cfg(test)]
    pub(crate) fn available(self) -> bool {
        match self {
            Kernel::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Popcnt => std::arch::is_x86_feature_detected!("popcnt"),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512vpopcntdq")
            }
        }
    }
}

/// `out[r]` = the coarse score of the r-th code in `codes` (higher is nearer), with the
/// detected kernel.
pub(crate) fn score(codes: &[u8], query: &CoarseQuery, out: &mut [i32]) {
    score_with(Kernel::detect(), codes, query, out);
}

/// As [`score`], with `kernel`, which the caller has checked this CPU runs.
pub(crate) fn score_with(kernel: Kernel, codes: &[u8], query: &CoarseQuery, out: &mut [i32]) {
    match kernel {
        Kernel::Portable => score_portable(codes, query, out),
        // SAFETY: `Kernel::detect` (or the test's `available`) checked the CPU's features.
        #[cfg(target_arch = "x86_64")]
        Kernel::Popcnt => unsafe { score_popcnt(codes, query, out) },
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 => unsafe { avx512::score(codes, query, out) },
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn score_popcnt(codes: &[u8], query: &CoarseQuery, out: &mut [i32]) {
    score_portable(codes, query, out);
}

#[inline(always)]
fn score_portable(codes: &[u8], query: &CoarseQuery, out: &mut [i32]) {
    for (code, out) in codes.chunks_exact(query.code_bytes()).zip(out) {
        let mut sum = 0i32;
        for (word, planes) in code.chunks_exact(8).zip(&query.planes) {
            let word = u64::from_le_bytes(std::array::from_fn(|i| word[i]));
            let weighted = planes.iter().rev().fold(0u32, |acc, plane| 2 * acc + (word & plane).count_ones());
            sum += 2 * weighted as i32 - 15 * word.count_ones() as i32;
        }
        *out = sum;
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::CoarseQuery;

    /// Eight code words to a register, the last block of a code masked.
    #[target_feature(enable = "avx512f,avx512vpopcntdq")]
    pub(super) fn score(codes: &[u8], query: &CoarseQuery, out: &mut [i32]) {
        let words = query.planes.len();
        let blocks = words.div_ceil(8);
        // The planes as registers: [block][plane].
        let planes: Vec<[__m512i; 4]> = (0..blocks)
            .map(|block| {
                std::array::from_fn(|plane| {
                    let lanes: [u64; 8] =
                        std::array::from_fn(|lane| query.planes.get(block * 8 + lane).map_or(0, |p| p[plane]));
                    // SAFETY: `lanes` is 64 readable bytes.
                    unsafe { _mm512_loadu_si512(lanes.as_ptr().cast()) }
                })
            })
            .collect();
        let masks: Vec<__mmask8> =
            (0..blocks).map(|block| (0xffu16 >> (8 - (words - block * 8).min(8))) as u8).collect();
        for (code, out) in codes.chunks_exact(words * 8).zip(out) {
            let mut acc = _mm512_setzero_si512();
            for ((block, planes), &mask) in planes.iter().enumerate().zip(&masks) {
                // SAFETY: the mask keeps the load within this code's `words` words (lanes
                // masked off are not read and cannot fault).
                let word = unsafe { _mm512_maskz_loadu_epi64(mask, code.as_ptr().add(block * 64).cast()) };
                let count = |plane: __m512i| _mm512_popcnt_epi64(_mm512_and_si512(word, plane));
                let mut weighted = count(planes[3]);
                for plane in planes[..3].iter().rev() {
                    weighted = _mm512_add_epi64(_mm512_slli_epi64::<1>(weighted), count(*plane));
                }
                let ones = _mm512_popcnt_epi64(word);
                // 2·weighted − 15·ones
                let fifteen = _mm512_sub_epi64(_mm512_slli_epi64::<4>(ones), ones);
                acc = _mm512_add_epi64(acc, _mm512_sub_epi64(_mm512_slli_epi64::<1>(weighted), fifteen));
            }
            *out = _mm512_reduce_add_epi64(acc) as i32;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A deterministic pseudo-random stream (xorshift), no dependency; the flat file's tests
    /// draw from it too.
    pub(crate) fn stream(seed: u64) -> impl FnMut() -> u64 {
        let mut state = seed | 1;
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// The coarse score worked out one component at a time from its definition.
    fn by_definition(row: &[u8], query: &[f32]) -> i32 {
        let largest = query.iter().fold(0.0f32, |m, q| m.max(q.abs()));
        let step = largest / 7.5;
        row.iter()
            .zip(query)
            .filter(|(v, _)| **v as i8 > 0)
            .map(|(_, q)| 2 * (q / step + 7.5).round().clamp(0.0, 15.0) as i32 - 15)
            .sum()
    }

    #[test]
    fn every_kernel_gives_the_definitions_scores() {
        let mut next = stream(7);
        // 384 (six words, one masked block), 5 (one word), 600 (two blocks), 1024 (full blocks).
        for dims in [384usize, 5, 600, 1024] {
            let rows = 37;
            let int8: Vec<u8> = (0..rows * dims).map(|_| next() as u8).collect();
            let query: Vec<f32> = (0..dims).map(|_| (next() % 2001) as f32 / 1000.0 - 1.0).collect();
            let mut codes = Vec::new();
            int8.chunks_exact(dims).for_each(|row| encode(row, &mut codes));
            assert_eq!(codes.len(), rows * code_bytes(dims));
            let expected: Vec<i32> = int8.chunks_exact(dims).map(|row| by_definition(row, &query)).collect();
            let coarse = CoarseQuery::new(&query);
            let mut kernels = vec![Kernel::Portable];
            #[cfg(target_arch = "x86_64")]
            kernels.extend([Kernel::Popcnt, Kernel::Avx512]);
            let mut ran = Vec::new();
            for kernel in kernels.into_iter().filter(|k| k.available()) {
                let mut out = vec![0i32; rows];
                score_with(kernel, &codes, &coarse, &mut out);
                assert_eq!(out, expected, "{kernel:?} at {dims} dimensions");
                ran.push(kernel);
            }
            // The kernel search would choose on this CPU is among those checked.
            assert!(ran.contains(&Kernel::detect()), "{:?} not tested", Kernel::detect());
        }
    }

    #[test]
    fn the_coarse_score_ranks_like_the_sign_vectors_dot_product() {
        // Rows that agree with the query's signs on more of its large components score higher.
        let query: Vec<f32> = (0..64).map(|i| if i % 2 == 0 { 0.5 } else { -0.1 }).collect();
        let row = |agree: usize| -> Vec<u8> {
            (0..64).map(|i| if i % 2 == 0 && i / 2 < agree { 100u8 } else { (-100i8) as u8 }).collect()
        };
        let coarse = CoarseQuery::new(&query);
        let scores: Vec<i32> = [0, 8, 16, 32]
            .iter()
            .map(|&agree| {
                let mut code = Vec::new();
                encode(&row(agree), &mut code);
                let mut out = [0i32];
                score(&code, &coarse, &mut out);
                out[0]
            })
            .collect();
        assert!(scores.windows(2).all(|pair| pair[0] < pair[1]), "{scores:?}");
    }
}
