//! all-MiniLM-L6-v2 forward pass on the CPU: BERT encoder (6 layers, hidden 384, 12 heads),
//! mean pooling over the tokens, L2 normalisation. Linear layers run as one GEMM over every
//! token of a batch (sequences are stacked, never padded); attention runs per sequence.

use rayon::prelude::*;

use crate::error::{EmbedError, Result};
use crate::int8::{PackedWeights, Quantized};
use crate::kernel::Kernel;
use crate::tensors::{Rows, Tensors};
use crate::wordpiece::WordPiece;

pub const HIDDEN: usize = 384;
const HEADS: usize = 12;
const HEAD_DIM: usize = HIDDEN / HEADS;
const LAYERS: usize = 6;
const INTERMEDIATE: usize = 1536;
const LN_EPS: f32 = 1e-12;
/// Longest input in tokens, [CLS] and [SEP] included (the model's max_seq_length).
pub const MAX_TOKENS: usize = 256;
/// Tokens per GEMM batch: big enough to keep the kernels busy, small enough that a batch's
/// activations stay in the core's L2 cache between the steps of a layer (about 16 KB a
/// token; the 1,536-wide intermediate is 6 KB of it). At 2,048 every step streamed its input
/// back from memory; 512 embeds 1.2–1.5× more tokens per CPU-second on AMX and AVX-512 VNNI,
/// the f32 path unchanged (`exo-bench embed --limit 300`, alternating, Emerald Rapids);
/// 256 was no faster than 512. It must hold the longest input (`MAX_TOKENS`).
const BATCH_TOKENS: usize = 512;
const _: () = assert!(BATCH_TOKENS >= MAX_TOKENS);

struct Linear {
    /// [out][in], as PyTorch stores it; int8 with a scale per output row, or f32.
    weight: Rows<'static>,
    /// The f32 form, made on first use by a large batch (indexing), kept for the process.
    dense: std::sync::OnceLock<Vec<f32>>,
    /// The int8 weights laid out for the VNNI kernels, made on first use by an int8 kernel.
    packed: std::sync::OnceLock<PackedWeights>,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

/// Up to this many tokens, linear layers read the int8 weights directly (a query never pays
/// for dequantising the model); above it, they dequantise once and use the GEMM kernel.
const SMALL_BATCH_TOKENS: usize = 48;

struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    intermediate: Linear,
    output: Linear,
    output_norm: Norm,
}

pub struct MiniLm {
    tokenizer: WordPiece<'static>,
    word_embeddings: Rows<'static>,
    positions: Vec<f32>,
    token_type: Vec<f32>,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    kernel: Kernel,
}

impl MiniLm {
    /// `kernel` must be one this CPU can run ([`Kernel::checked`]); one it cannot falls back
    /// to plain Rust for the int8 kernels.
    pub fn load(tensors: &Tensors<'static>, vocab: &'static str, kernel: Kernel) -> Result<MiniLm> {
        let linear = |name: &str, outputs: usize, inputs: usize| -> Result<Linear> {
            Ok(Linear {
                weight: tensors.rows(&format!("{name}.weight"), inputs)?,
                dense: std::sync::OnceLock::new(),
                packed: std::sync::OnceLock::new(),
                bias: tensors.vector(&format!("{name}.bias"), outputs)?,
                inputs,
                outputs,
            })
        };
        let norm = |name: &str| -> Result<Norm> {
            Ok(Norm {
                gamma: tensors.vector(&format!("{name}.weight"), HIDDEN)?,
                beta: tensors.vector(&format!("{name}.bias"), HIDDEN)?,
            })
        };
        // Layers load in parallel (their int8 rows are borrowed; scales and biases are
        // copied): loading is on the path of every hybrid query.
        let layers = (0..LAYERS).into_par_iter().map(|i| {
            let p = format!("encoder.layer.{i}");
            Ok(Layer {
                query: linear(&format!("{p}.attention.self.query"), HIDDEN, HIDDEN)?,
                key: linear(&format!("{p}.attention.self.key"), HIDDEN, HIDDEN)?,
                value: linear(&format!("{p}.attention.self.value"), HIDDEN, HIDDEN)?,
                attention_out: linear(&format!("{p}.attention.output.dense"), HIDDEN, HIDDEN)?,
                attention_norm: norm(&format!("{p}.attention.output.LayerNorm"))?,
                intermediate: linear(&format!("{p}.intermediate.dense"), INTERMEDIATE, HIDDEN)?,
                output: linear(&format!("{p}.output.dense"), HIDDEN, INTERMEDIATE)?,
                output_norm: norm(&format!("{p}.output.LayerNorm"))?,
            })
        });
        let layers = layers.collect::<Result<Vec<Layer>>>()?;
        let positions = tensors.matrix("embeddings.position_embeddings.weight", 512, HIDDEN)?;
        let token_type = tensors.matrix("embeddings.token_type_embeddings.weight", 2, HIDDEN)?;
        Ok(MiniLm {
            tokenizer: WordPiece::from_vocab(vocab),
            word_embeddings: tensors.rows("embeddings.word_embeddings.weight", HIDDEN)?,
            positions,
            token_type: token_type[..HIDDEN].to_vec(),
            embedding_norm: norm("embeddings.LayerNorm")?,
            layers,
            kernel,
        })
    }

    pub fn tokenize(&self, text: &str) -> Vec<u32> {
        self.tokenizer.encode(text, MAX_TOKENS)
    }

    /// Unit vectors, one per text, in order. Batches run in parallel on the rayon pool.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let encoded: Vec<Vec<u32>> = texts.par_iter().map(|t| self.tokenize(t)).collect();
        self.embed_ids(&encoded)
    }

    pub fn embed_ids(&self, encoded: &[Vec<u32>]) -> Result<Vec<Vec<f32>>> {
        // Similar lengths together keeps attention blocks even; results go back in order.
        let mut order: Vec<usize> = (0..encoded.len()).collect();
        order.sort_by_key(|&i| encoded[i].len());
        let mut batches: Vec<Vec<usize>> = Vec::new();
        let mut tokens = 0;
        for i in order {
            if batches.is_empty() || tokens + encoded[i].len() > BATCH_TOKENS {
                batches.push(Vec::new());
                tokens = 0;
            }
            tokens += encoded[i].len();
            if let Some(batch) = batches.last_mut() {
                batch.push(i);
            }
        }
        let done: Vec<Vec<(usize, Vec<f32>)>> = batches
            .par_iter()
            .map(|batch| {
                let seqs: Vec<&[u32]> = batch.iter().map(|&i| encoded[i].as_slice()).collect();
                self.forward(&seqs).map(|vectors| batch.iter().copied().zip(vectors).collect())
            })
            .collect::<Result<_>>()?;
        let mut out = vec![Vec::new(); encoded.len()];
        for (i, vector) in done.into_iter().flatten() {
            out[i] = vector;
        }
        Ok(out)
    }

    fn forward(&self, seqs: &[&[u32]]) -> Result<Vec<Vec<f32>>> {
        let total: usize = seqs.iter().map(|s| s.len()).sum();
        let mut x = vec![0f32; total * HIDDEN];
        let mut row = 0;
        for seq in seqs {
            if seq.len() > 512 {
                return Err(EmbedError::Input(format!("{} tokens is more than the model's 512", seq.len())));
            }
            for (pos, &id) in seq.iter().enumerate() {
                let out = &mut x[row * HIDDEN..(row + 1) * HIDDEN];
                self.word_embeddings.dequantize_into(id as usize, out)?;
                let position = &self.positions[pos * HIDDEN..(pos + 1) * HIDDEN];
                for ((o, p), t) in out.iter_mut().zip(position).zip(&self.token_type) {
                    *o += p + t;
                }
                row += 1;
            }
        }
        layer_norm(&mut x, &self.embedding_norm);
        let mut scratch = Scratch::new(total);
        for layer in &self.layers {
            run_layer(layer, seqs, &mut x, &mut scratch, self.kernel);
        }
        Ok(pool(seqs, &x))
    }
}

/// One encoder layer, compiled four times: for the baseline x86-64 and, chosen at run time,
/// with AVX2 and FMA, which doubles the width of the elementwise loops (GELU, softmax, norms)
/// that the GEMM kernel does not cover, with AVX-512 for the AVX-512 VNNI kernel, and with
/// AVX-512 and attention on the tiles for the AMX kernel.
fn run_layer(layer: &Layer, seqs: &[&[u32]], x: &mut [f32], s: &mut Scratch, kernel: Kernel) {
    #[cfg(target_arch = "x86_64")]
    if kernel == Kernel::Amx && crate::kernel::has_amx_bf16() && has_avx2_fma() {
        // SAFETY: the CPU and the OS have just been checked for every feature it uses.
        unsafe { layer_amx(layer, seqs, x, s, kernel) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if matches!(kernel, Kernel::Amx | Kernel::Avx512Vnni) && crate::kernel::has_avx512vnni() && has_avx2_fma() {
        // SAFETY: the CPU has just been checked for every feature the variant enables.
        unsafe { layer_avx512(layer, seqs, x, s, kernel) };
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU has just been checked for both features.
        unsafe { layer_avx2(layer, seqs, x, s, kernel) };
        return;
    }
    layer_forward::<SGEMM_ATTENTION>(layer, seqs, x, s, kernel);
}

/// Whether the `*_avx2` variants may run (the check is cached by the standard library).
#[cfg(target_arch = "x86_64")]
fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn layer_avx2(layer: &Layer, seqs: &[&[u32]], x: &mut [f32], s: &mut Scratch, kernel: Kernel) {
    layer_forward::<SGEMM_ATTENTION>(layer, seqs, x, s, kernel);
}

/// The layer again with AVX-512, for the AVX-512 VNNI kernel (and AMX on a CPU without
/// AMX-BF16): once the matrix products are int8, softmax, GELU and the norms are a third of
/// the time, and this doubles their width (no operation reordered or fused there). Attention
/// is the exception: fused multiply-adds in registers ([`attention_fused`]) instead of the
/// SGEMM, so its vectors differ from the SGEMM variants' by float rounding (cosine > 0.99999).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx2,fma")]
fn layer_avx512(layer: &Layer, seqs: &[&[u32]], x: &mut [f32], s: &mut Scratch, kernel: Kernel) {
    layer_forward::<AVX512_ATTENTION>(layer, seqs, x, s, kernel);
}

/// The AVX-512 layer with attention on the AMX tiles in bf16 ([`crate::attention_amx`]):
/// attention in f32 registers was a third of the AMX kernel's time. Its vectors differ from
/// the other variants' by bf16 rounding of q, k, v and the probabilities.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx2,fma")]
fn layer_amx(layer: &Layer, seqs: &[&[u32]], x: &mut [f32], s: &mut Scratch, kernel: Kernel) {
    layer_forward::<AMX_ATTENTION>(layer, seqs, x, s, kernel);
}

/// How a layer variant computes attention: by SGEMMs, by [`attention_fused`] in AVX-512
/// registers (or, as the tests' reference, the same arithmetic in portable code), or on the
/// AMX tiles in bf16. On AVX2 the SGEMM kernel was faster than the fused form (3,848 against
/// 3,448 tokens per CPU-second for the f32 kernel), so only the AVX-512 variant fuses.
const SGEMM_ATTENTION: u8 = 0;
#[cfg(test)]
const PORTABLE_ATTENTION: u8 = 1;
const AVX512_ATTENTION: u8 = 2;
const AMX_ATTENTION: u8 = 3;
#[cfg(target_arch = "x86_64")]
const _: () = assert!(HEAD_DIM == crate::attention_amx::HEAD_DIM, "a head is one bf16 tile row");

#[inline(always)]
fn layer_forward<const ATTENTION: u8>(layer: &Layer, seqs: &[&[u32]], x: &mut [f32], s: &mut Scratch, kernel: Kernel) {
    let total = x.len() / HIDDEN;
    let quantized = &mut s.quantized;
    // Q, K and V read the same input: with an int8 kernel it is quantised once, for Q.
    apply(&layer.query, x, total, &mut s.q, kernel, quantized, Input::Fresh);
    apply(&layer.key, x, total, &mut s.k, kernel, quantized, Input::Quantized);
    apply(&layer.value, x, total, &mut s.v, kernel, quantized, Input::Quantized);
    let mut offset = 0;
    for seq in seqs {
        if ATTENTION == SGEMM_ATTENTION {
            attention(&s.q, &s.k, &s.v, offset, seq.len(), &mut s.context, &mut s.attention.scores);
        } else if ATTENTION == AMX_ATTENTION {
            #[cfg(target_arch = "x86_64")]
            {
                let (qkv, amx) = ((&s.q[..], &s.k[..], &s.v[..]), &mut s.attention.amx);
                // SAFETY: this mode runs only in `layer_amx`, after `has_amx_bf16`.
                unsafe { crate::attention_amx::attention(qkv, HIDDEN, offset, seq.len(), &mut s.context, amx) };
            }
        } else {
            attention_fused::<ATTENTION>(&s.q, &s.k, &s.v, offset, seq.len(), &mut s.context, &mut s.attention);
        }
        offset += seq.len();
    }
    apply(&layer.attention_out, &s.context, total, &mut s.projected, kernel, quantized, Input::Fresh);
    add_in_place(x, &s.projected);
    layer_norm(x, &layer.attention_norm);
    apply(&layer.intermediate, x, total, &mut s.hidden, kernel, quantized, Input::Fresh);
    s.hidden.iter_mut().for_each(|h| *h = gelu(*h));
    apply(&layer.output, &s.hidden, total, &mut s.projected, kernel, quantized, Input::Fresh);
    add_in_place(x, &s.projected);
    layer_norm(x, &layer.output_norm);
}

struct Scratch {
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    context: Vec<f32>,
    projected: Vec<f32>,
    hidden: Vec<f32>,
    attention: AttentionScratch,
    /// The last input quantised for an int8 kernel.
    quantized: Quantized,
}

impl Scratch {
    fn new(total: usize) -> Scratch {
        let hidden = vec![0f32; total * HIDDEN];
        Scratch {
            q: hidden.clone(),
            k: hidden.clone(),
            v: hidden.clone(),
            context: hidden.clone(),
            projected: hidden,
            hidden: vec![0f32; total * INTERMEDIATE],
            attention: AttentionScratch::default(),
            quantized: Quantized::default(),
        }
    }
}

/// Whether an int8 kernel must quantise `input`, or may reuse what the previous call left in
/// the scratch (the same input: Q, K and V).
#[derive(Clone, Copy, PartialEq)]
enum Input {
    Fresh,
    Quantized,
}

/// out[rows × outputs] = input[rows × inputs] · weightᵀ + bias.
#[inline(always)]
fn apply(
    linear: &Linear,
    input: &[f32],
    rows: usize,
    out: &mut [f32],
    kernel: Kernel,
    quantized: &mut Quantized,
    fresh: Input,
) {
    let (k, n) = (linear.inputs, linear.outputs);
    if kernel.is_int8()
        && let Rows::Int8 { data, scales, .. } = &linear.weight
    {
        let weights = linear.packed.get_or_init(|| PackedWeights::pack(data, n, k));
        let layer = crate::int8::Layer { weights, weight_scales: scales, bias: &linear.bias };
        if fresh == Input::Fresh {
            quantized.quantize(input, rows, k, weights.stride(), kernel);
        }
        layer.apply(kernel, quantized, rows, out);
        return;
    }
    if rows <= SMALL_BATCH_TOKENS
        && let Rows::Int8 { data, scales, .. } = &linear.weight
    {
        Int8Linear { weight: data, scales, bias: &linear.bias, input, rows, k }.apply(n, out);
        return;
    }
    for r in 0..rows {
        out[r * n..(r + 1) * n].copy_from_slice(&linear.bias);
    }
    let weight = match &linear.weight {
        Rows::Float { data, .. } => data.as_slice(),
        Rows::Int8 { data, scales, width } => {
            linear.dense.get_or_init(|| crate::tensors::dequantize(data, scales, *width)).as_slice()
        }
    };
    // weightᵀ is weight read with swapped strides: element (kk, j) is weight[j * k + kk].
    gemm(rows, k, n, input, (k, 1), weight, (1, k), out, (n, 1), 1.0);
}

/// Output columns per task: 384 or 1536 columns make 2 to 8 tasks, enough to keep two
/// cores busy (the only size measured: 35 -> 19 ms per query here).
const COLUMNS_PER_TASK: usize = 192;

struct Int8Linear<'a> {
    weight: &'a [i8],
    scales: &'a [f32],
    bias: &'a [f32],
    input: &'a [f32],
    rows: usize,
    k: usize,
}

impl Int8Linear<'_> {
    /// out[rows × n] = input · (scale ⊙ weight)ᵀ + bias straight from the int8 rows: each
    /// weight row is read once and dotted with every input row. A query is a handful of rows,
    /// which left one core doing all of its forward pass; the output columns are split into
    /// blocks computed on the rayon pool (column-major per block), then laid out row-major.
    fn apply(&self, n: usize, out: &mut [f32]) {
        let rows = self.rows;
        let blocks: Vec<Vec<f32>> = (0..n.div_ceil(COLUMNS_PER_TASK))
            .into_par_iter()
            .map(|block| {
                let columns = block * COLUMNS_PER_TASK..((block + 1) * COLUMNS_PER_TASK).min(n);
                let mut values = vec![0f32; columns.len() * rows];
                self.columns(columns, &mut values);
                values
            })
            .collect();
        for (block, values) in blocks.iter().enumerate() {
            for (offset, column) in values.chunks_exact(rows.max(1)).enumerate() {
                let j = block * COLUMNS_PER_TASK + offset;
                for (r, &value) in column.iter().enumerate() {
                    out[r * n + j] = value;
                }
            }
        }
    }

    /// `values[(j - start) * rows + r]` = output (r, j) for j in `columns`. Compiled with AVX2
    /// and FMA when the CPU has them: this runs on pool threads, outside `layer_avx2`.
    fn columns(&self, columns: std::ops::Range<usize>, values: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            // SAFETY: the CPU has just been checked for both features.
            unsafe { self.columns_avx2(columns, values) };
            return;
        }
        self.columns_body(columns, values);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn columns_avx2(&self, columns: std::ops::Range<usize>, values: &mut [f32]) {
        self.columns_body(columns, values);
    }

    #[inline(always)]
    fn columns_body(&self, columns: std::ops::Range<usize>, values: &mut [f32]) {
        let (k, rows) = (self.k, self.rows);
        for (offset, j) in columns.enumerate() {
            let row = &self.weight[j * k..(j + 1) * k];
            for r in 0..rows {
                values[offset * rows + r] =
                    dot_i8(&self.input[r * k..(r + 1) * k], row) * self.scales[j] + self.bias[j];
            }
        }
    }
}

/// x · w with sixteen independent partial sums, so the loop vectorises (a single running
/// float sum must keep its order and cannot).
#[inline(always)]
fn dot_i8(x: &[f32], w: &[i8]) -> f32 {
    const LANES: usize = 16;
    let mut acc = [0f32; LANES];
    let (xc, wc) = (x.chunks_exact(LANES), w.chunks_exact(LANES));
    let tail: f32 = xc.remainder().iter().zip(wc.remainder()).map(|(a, &q)| a * q as f32).sum();
    for (xs, ws) in xc.zip(wc) {
        for l in 0..LANES {
            acc[l] += xs[l] * ws[l] as f32;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// One sequence's multi-head self-attention, rows `offset..offset + len` of q, k, v, through
/// the general SGEMM: the path of CPUs without FMA, where [`attention_fused`]'s `mul_add`
/// would be a libm call per product.
#[inline(always)]
fn attention(q: &[f32], k: &[f32], v: &[f32], offset: usize, len: usize, context: &mut [f32], scores: &mut Vec<f32>) {
    let scale = 1.0 / (HEAD_DIM as f32).sqrt();
    scores.clear();
    scores.resize(len * len, 0.0);
    let base = offset * HIDDEN;
    for head in 0..HEADS {
        let at = base + head * HEAD_DIM;
        // scores = q_h · k_hᵀ, both read in place from the stacked [tokens × HIDDEN] rows.
        gemm(len, HEAD_DIM, len, &q[at..], (HIDDEN, 1), &k[at..], (1, HIDDEN), scores, (len, 1), 0.0);
        for row in scores.chunks_exact_mut(len) {
            softmax(row, scale);
        }
        gemm(len, len, HEAD_DIM, scores, (len, 1), &v[at..], (HIDDEN, 1), &mut context[at..], (HIDDEN, 1), 0.0);
    }
}

/// Keys per block of the transposed keys, and scores per row of a pass: two AVX-512
/// registers, so a pass over 4 query rows keeps 8 independent sums in flight (a fused
/// multiply-add takes 4 cycles and two can start each cycle).
const ATTENTION_KEYS: usize = 32;
/// Query rows per pass of the attention products: each loaded row of Kᵀ or V feeds four.
const ATTENTION_ROWS: usize = 4;

/// Attention's buffers, kept across sequences and layers.
#[derive(Default)]
struct AttentionScratch {
    /// [len × padded] scores, then probabilities, of one head.
    scores: Vec<f32>,
    /// One head's keys transposed in blocks of 32 keys, [padded / 32][HEAD_DIM][32], zero
    /// past `len`.
    keys: Vec<f32>,
    /// The AMX variant's bf16 layouts.
    #[cfg(target_arch = "x86_64")]
    amx: crate::attention_amx::Scratch,
}

/// [`attention`] for CPUs with FMA, without the SGEMM's packing: a sequence is a few hundred
/// tokens and a head 32 wide, so the packing cost half as much as the products. Scores are
/// q·kᵀ against the head's keys laid out transposed once; the context is p·v straight from
/// V's rows. Each sum is one fixed sequence of fused multiply-adds (every step exactly
/// rounded), so however a build blocks the loops, AVX2 and AVX-512 give the same bits.
#[inline(always)]
fn attention_fused<const MODE: u8>(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    offset: usize,
    len: usize,
    context: &mut [f32],
    s: &mut AttentionScratch,
) {
    let scale = 1.0 / (HEAD_DIM as f32).sqrt();
    let padded = len.next_multiple_of(ATTENTION_KEYS);
    s.scores.clear();
    s.scores.resize(len * padded, 0.0);
    s.keys.clear();
    s.keys.resize(HEAD_DIM * padded, 0.0);
    let rows = offset * HIDDEN..(offset + len) * HIDDEN;
    let (queries, keys, values) = (&q[rows.clone()], &k[rows.clone()], &v[rows.clone()]);
    let out = &mut context[rows];
    for head in (0..HIDDEN).step_by(HEAD_DIM) {
        for (j, key) in keys.chunks_exact(HIDDEN).enumerate() {
            let block = &mut s.keys[j / ATTENTION_KEYS * HEAD_DIM * ATTENTION_KEYS + j % ATTENTION_KEYS..];
            for (d, &value) in key[head..head + HEAD_DIM].iter().enumerate() {
                block[d * ATTENTION_KEYS] = value;
            }
        }
        let mut i = 0;
        while i < len {
            let r = if len - i >= ATTENTION_ROWS { ATTENTION_ROWS } else { 1 };
            let (keys, scores) = (&s.keys, &mut s.scores);
            match (MODE, r) {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: each mode is used only by the layer variant compiled with its features.
                (AVX512_ATTENTION, ATTENTION_ROWS) => unsafe {
                    scores_avx512::<ATTENTION_ROWS>(queries, i, head, keys, padded, scores)
                },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: as above.
                (AVX512_ATTENTION, _) => unsafe { scores_avx512::<1>(queries, i, head, keys, padded, scores) },
                (_, ATTENTION_ROWS) => scores_block::<ATTENTION_ROWS>(queries, i, head, keys, padded, scores),
                _ => scores_block::<1>(queries, i, head, keys, padded, scores),
            }
            i += r;
        }
        for row in s.scores.chunks_exact_mut(padded) {
            softmax(&mut row[..len], scale);
        }
        let mut i = 0;
        while i < len {
            let r = if len - i >= ATTENTION_ROWS { ATTENTION_ROWS } else { 1 };
            match (MODE, r) {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: as above.
                (AVX512_ATTENTION, ATTENTION_ROWS) => unsafe {
                    context_avx512::<ATTENTION_ROWS>(&s.scores, padded, i, values, head, out)
                },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: as above.
                (AVX512_ATTENTION, _) => unsafe { context_avx512::<1>(&s.scores, padded, i, values, head, out) },
                (_, ATTENTION_ROWS) => context_block::<ATTENTION_ROWS>(&s.scores, padded, i, values, head, out),
                _ => context_block::<1>(&s.scores, padded, i, values, head, out),
            }
            i += r;
        }
    }
}

/// scores[i + r][j] = Σ_d q[i + r][head + d] · k[j][head + d], d ascending, for r < R and
/// every j (padded; keys past the sequence are zero).
#[inline(always)]
fn scores_block<const R: usize>(
    queries: &[f32],
    i: usize,
    head: usize,
    keys: &[f32],
    padded: usize,
    scores: &mut [f32],
) {
    const HALF: usize = ATTENTION_KEYS / 2;
    let mut q = [[0f32; HEAD_DIM]; R];
    for (r, row) in q.iter_mut().enumerate() {
        row.copy_from_slice(&queries[(i + r) * HIDDEN + head..][..HEAD_DIM]);
    }
    for (block, transposed) in keys.chunks_exact(HEAD_DIM * ATTENTION_KEYS).enumerate() {
        for half in [0, HALF] {
            let mut acc = [[0f32; HALF]; R];
            for d in 0..HEAD_DIM {
                let key = &transposed[d * ATTENTION_KEYS + half..][..HALF];
                for r in 0..R {
                    let x = q[r][d];
                    for l in 0..HALF {
                        acc[r][l] = x.mul_add(key[l], acc[r][l]);
                    }
                }
            }
            for (r, sums) in acc.iter().enumerate() {
                scores[(i + r) * padded + block * ATTENTION_KEYS + half..][..HALF].copy_from_slice(sums);
            }
        }
    }
}

/// out[i + r][head..head + 32] = Σ_j p[i + r][j] · v[j][head..head + 32], j ascending, for
/// r < R.
#[inline(always)]
fn context_block<const R: usize>(
    probabilities: &[f32],
    padded: usize,
    i: usize,
    values: &[f32],
    head: usize,
    out: &mut [f32],
) {
    let mut acc = [[0f32; HEAD_DIM]; R];
    for (j, row) in values.chunks_exact(HIDDEN).enumerate() {
        let value = &row[head..head + HEAD_DIM];
        for r in 0..R {
            let weight = probabilities[(i + r) * padded + j];
            for l in 0..HEAD_DIM {
                acc[r][l] = weight.mul_add(value[l], acc[r][l]);
            }
        }
    }
    for (r, sums) in acc.iter().enumerate() {
        out[(i + r) * HIDDEN + head..][..HEAD_DIM].copy_from_slice(sums);
    }
}

/// [`scores_block`] in AVX-512 registers: the same fused multiply-adds in the same order
/// (so the same bits), 2 × R sums in flight. The compiler left the portable form scalar
/// once the sums outgrew 16 lanes.
///
/// # Safety
/// The CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn scores_avx512<const R: usize>(
    queries: &[f32],
    i: usize,
    head: usize,
    keys: &[f32],
    padded: usize,
    scores: &mut [f32],
) {
    use std::arch::x86_64::*;
    // The raw reads below stay inside these bounds.
    assert!((i + R) * HIDDEN <= queries.len() && head + HEAD_DIM <= HIDDEN);
    assert!(keys.len() >= padded / ATTENTION_KEYS * HEAD_DIM * ATTENTION_KEYS && (i + R) * padded <= scores.len());
    for (block, transposed) in keys.chunks_exact(HEAD_DIM * ATTENTION_KEYS).enumerate() {
        let mut acc = [[_mm512_setzero_ps(); 2]; R];
        for d in 0..HEAD_DIM {
            // SAFETY: row d of the block is 32 floats inside `transposed`; loads unaligned.
            let (k0, k1) = unsafe {
                let at = transposed.as_ptr().add(d * ATTENTION_KEYS);
                (_mm512_loadu_ps(at), _mm512_loadu_ps(at.add(16)))
            };
            for (r, sums) in acc.iter_mut().enumerate() {
                // SAFETY: row i + r < i + R, column head + d < HIDDEN, by the asserts.
                let x = _mm512_set1_ps(unsafe { *queries.as_ptr().add((i + r) * HIDDEN + head + d) });
                sums[0] = _mm512_fmadd_ps(x, k0, sums[0]);
                sums[1] = _mm512_fmadd_ps(x, k1, sums[1]);
            }
        }
        for (r, sums) in acc.iter().enumerate() {
            let out = &mut scores[(i + r) * padded + block * ATTENTION_KEYS..][..ATTENTION_KEYS];
            // SAFETY: `out` is 32 floats; stores unaligned.
            unsafe {
                _mm512_storeu_ps(out.as_mut_ptr(), sums[0]);
                _mm512_storeu_ps(out.as_mut_ptr().add(16), sums[1]);
            }
        }
    }
}

/// [`context_block`] in AVX-512 registers, the same fused multiply-adds in the same order.
///
/// # Safety
/// The CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
#[inline]
unsafe fn context_avx512<const R: usize>(
    probabilities: &[f32],
    padded: usize,
    i: usize,
    values: &[f32],
    head: usize,
    out: &mut [f32],
) {
    use std::arch::x86_64::*;
    let len = values.len() / HIDDEN;
    // The raw reads below stay inside these bounds.
    assert!(len <= padded && (i + R) * padded <= probabilities.len() && head + HEAD_DIM <= HIDDEN);
    let mut acc = [[_mm512_setzero_ps(); 2]; R];
    for j in 0..len {
        // SAFETY: row j < len of `values`, columns head..head + 32 < HIDDEN; loads unaligned.
        let (v0, v1) = unsafe {
            let at = values.as_ptr().add(j * HIDDEN + head);
            (_mm512_loadu_ps(at), _mm512_loadu_ps(at.add(16)))
        };
        for (r, sums) in acc.iter_mut().enumerate() {
            // SAFETY: (i + r) * padded + j < (i + R) * padded, by the assert.
            let w = _mm512_set1_ps(unsafe { *probabilities.as_ptr().add((i + r) * padded + j) });
            sums[0] = _mm512_fmadd_ps(w, v0, sums[0]);
            sums[1] = _mm512_fmadd_ps(w, v1, sums[1]);
        }
    }
    for (r, sums) in acc.iter().enumerate() {
        let row = &mut out[(i + r) * HIDDEN + head..][..HEAD_DIM];
        // SAFETY: `row` is 32 floats; stores unaligned.
        unsafe {
            _mm512_storeu_ps(row.as_mut_ptr(), sums[0]);
            _mm512_storeu_ps(row.as_mut_ptr().add(16), sums[1]);
        }
    }
}

/// c = a · b + beta · c with arbitrary row/column strides (in elements).
#[allow(clippy::too_many_arguments)]
fn gemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    (rsa, csa): (usize, usize),
    b: &[f32],
    (rsb, csb): (usize, usize),
    c: &mut [f32],
    (rsc, csc): (usize, usize),
    beta: f32,
) {
    if m == 0 || n == 0 {
        return;
    }
    let last = |rows: usize, cols: usize, rs: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs;
    // The kernel reads through raw pointers: every index it can touch must be in bounds.
    assert!(k == 0 || (last(m, k, rsa, csa) < a.len() && last(k, n, rsb, csb) < b.len()));
    assert!(last(m, n, rsc, csc) < c.len());
    // SAFETY: the asserts above bound every element the kernel reads or writes, and `c`
    // is borrowed mutably, so it aliases neither `a` nor `b`.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            rsa as isize,
            csa as isize,
            b.as_ptr(),
            rsb as isize,
            csb as isize,
            beta,
            c.as_mut_ptr(),
            rsc as isize,
            csc as isize,
        );
    }
}

#[inline(always)]
fn softmax(row: &mut [f32], scale: f32) {
    let larger = |m: f32, v: f32| if v > m { v } else { m };
    let max = fold_lanes(row, f32::NEG_INFINITY, larger, larger) * scale;
    for v in row.iter_mut() {
        *v = fast_exp(*v * scale - max);
    }
    let sum = sum_lanes(row);
    let inv = 1.0 / sum;
    row.iter_mut().for_each(|v| *v *= inv);
}

/// `op(acc, value)` folded over `x` in sixteen independent lanes, whose results are then
/// merged with `merge`. A single running sum or max must keep its order, so it cannot
/// vectorise: it ran one add per 4 cycles, and the softmax and norm sums cost as much as
/// the int8 matrix products.
#[inline(always)]
fn fold_lanes(x: &[f32], init: f32, op: impl Fn(f32, f32) -> f32, merge: impl Fn(f32, f32) -> f32) -> f32 {
    const LANES: usize = 16;
    let mut acc = [init; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder().iter().fold(init, |a, &v| op(a, v));
    for chunk in chunks {
        for l in 0..LANES {
            acc[l] = op(acc[l], chunk[l]);
        }
    }
    acc.iter().fold(tail, |a, &v| merge(a, v))
}

#[inline(always)]
fn sum_lanes(x: &[f32]) -> f32 {
    fold_lanes(x, 0.0, |a, v| a + v, |a, b| a + b)
}

#[inline(always)]
fn layer_norm(x: &mut [f32], norm: &Norm) {
    for row in x.chunks_exact_mut(HIDDEN) {
        let mean = sum_lanes(row) / HIDDEN as f32;
        let var = fold_lanes(row, 0.0, |a, v| a + (v - mean) * (v - mean), |a, b| a + b) / HIDDEN as f32;
        let inv = 1.0 / (var + LN_EPS).sqrt();
        for ((v, g), b) in row.iter_mut().zip(&norm.gamma).zip(&norm.beta) {
            *v = (*v - mean) * inv * g + b;
        }
    }
}

#[inline(always)]
fn add_in_place(x: &mut [f32], y: &[f32]) {
    x.iter_mut().zip(y).for_each(|(a, b)| *a += b);
}

/// GELU in its exact erf form, as BERT uses.
#[inline(always)]
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + fast_erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

// The two nonlinearities run billions of times when a vault is embedded; libm's versions
// are exact but branchy and do not vectorise. These are branch-free, accurate to a few ulp
// over the range that matters, and the golden tests hold them to the reference.

/// e^x for x ≤ 88: x = n·ln2 + r with |r| ≤ ln2/2, e^r by a degree-6 polynomial, 2^n from
/// the exponent bits.
#[inline(always)]
fn fast_exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // Adding and subtracting 1.5·2^23 rounds to the nearest integer without a branch.
    const ROUNDER: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2_E + ROUNDER) - ROUNDER;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // 2^n from the bits: n + 127 + 2^23 holds n + 127 in its low mantissa bits (exactly: n
    // is a whole number in [-126, 127]), and the shift moves them into the exponent field.
    // `n as i32` would do the same, but a saturating float-to-int cast does not vectorise.
    let scale = f32::from_bits((n + (127.0 + 8_388_608.0)).to_bits() << 23);
    p * scale
}

/// erf(x) as a rational function of x² on [-4, 4] (beyond it erf is ±1 in f32), with
/// coefficients from the widely used float approximation in Eigen and XLA.
#[inline(always)]
fn fast_erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
    p = x2 * p + -2.101_024e-6;
    p = x2 * p + -5.692_506_3e-5;
    p = x2 * p + -7.349_906_3e-4;
    p = x2 * p + -2.954_6e-3;
    p = x2 * p + -1.609_603_3e-2;
    p *= x;
    let mut q = x2 * -1.456_607_2e-5 + -2.133_740_5e-4;
    q = x2 * q + -1.682_827e-3;
    q = x2 * q + -7.373_329_3e-3;
    q = x2 * q + -1.426_474e-2;
    p / q
}

/// Mean over each sequence's tokens, then L2-normalised.
fn pool(seqs: &[&[u32]], x: &[f32]) -> Vec<Vec<f32>> {
    let mut out = Vec::with_capacity(seqs.len());
    let mut row = 0;
    for seq in seqs {
        let mut mean = vec![0f32; HIDDEN];
        for t in 0..seq.len() {
            add_in_place(&mut mean, &x[(row + t) * HIDDEN..(row + t + 1) * HIDDEN]);
        }
        row += seq.len();
        crate::normalize(&mut mean);
        out.push(mean);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_exp_is_accurate() {
        let mut x = -80.0f32;
        while x < 80.0 {
            let (fast, exact) = (fast_exp(x), x.exp());
            assert!(((fast - exact) / exact).abs() < 2e-6, "exp({x}): {fast} vs {exact}");
            x += 0.137;
        }
        assert!((fast_exp(-1000.0) - (-87.0f32).exp()).abs() < 1e-40);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn attention_avx512_for_test(
        q: &[f32],
        k: &[f32],
        v: &[f32],
        offset: usize,
        len: usize,
        context: &mut [f32],
        s: &mut AttentionScratch,
    ) {
        attention_fused::<AVX512_ATTENTION>(q, k, v, offset, len, context, s);
    }

    #[test]
    fn fused_attention_matches_the_sgemm_attention() {
        // Sequences of every length class: shorter than the 4-row and 16-key blocks, whole
        // blocks, and ragged ones, stacked as a batch stacks them.
        let lengths = [1usize, 3, 4, 5, 16, 17, 38];
        let total: usize = lengths.iter().sum();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut noise = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % 2001) as f32 / 500.0 - 2.0
        };
        let [q, k, v]: [Vec<f32>; 3] = std::array::from_fn(|_| (0..total * HIDDEN).map(|_| noise()).collect());
        let (mut expected, mut got) = (vec![f32::NAN; total * HIDDEN], vec![f32::NAN; total * HIDDEN]);
        let (mut scores, mut scratch) = (Vec::new(), AttentionScratch::default());
        let mut offset = 0;
        for &len in &lengths {
            attention(&q, &k, &v, offset, len, &mut expected, &mut scores);
            attention_fused::<PORTABLE_ATTENTION>(&q, &k, &v, offset, len, &mut got, &mut scratch);
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx512f") {
                let mut wide = vec![f32::NAN; total * HIDDEN];
                wide[..offset * HIDDEN].copy_from_slice(&got[..offset * HIDDEN]);
                // SAFETY: the CPU has just been checked for AVX-512F.
                unsafe { attention_avx512_for_test(&q, &k, &v, offset, len, &mut wide, &mut scratch) };
                let rows = offset * HIDDEN..(offset + len) * HIDDEN;
                assert!(wide[rows.clone()] == got[rows], "the AVX-512 attention differs from the portable one");
            }

            offset += len;
        }
        for (i, (e, g)) in expected.iter().zip(&got).enumerate() {
            // Both sum 32 or `len` products of values ≤ 2 in another order.
            assert!((e - g).abs() <= 2e-5 * (1.0 + e.abs()), "token {}, column {}: {g} vs {e}", i / HIDDEN, i % HIDDEN);
        }
    }

    #[test]
    fn fast_erf_is_accurate() {
        let mut x = -6.0f32;
        while x < 6.0 {
            let (fast, exact) = (fast_erf(x), libm::erff(x));
            assert!((fast - exact).abs() < 2e-6, "erf({x}): {fast} vs {exact}");
            x += 0.0173;
        }
    }
}
