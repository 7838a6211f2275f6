//! The Rust tokenizer and forward pass against golden data made by the reference tokenizer
//! (HF `tokenizers`) and a float32 numpy forward pass (model/convert.py, model/reference.py).

use exo_embed::{BuiltinMiniLm, Embedder, Kernel};
use serde::Deserialize;

#[derive(Deserialize)]
struct Golden {
    text: String,
    input_ids: Vec<u32>,
    embedding_f32: Vec<f32>,
    embedding_int8: Vec<f32>,
}

fn golden() -> Vec<Golden> {
    serde_json::from_str(include_str!("../model/golden.json")).unwrap()
}

/// Every kernel this CPU can run, each forced in turn: the VNNI kernels where the CPU has
/// them, and always the portable int8 one and the f32 one.
fn models() -> Vec<BuiltinMiniLm> {
    let available = Kernel::ALL.into_iter().filter(|k| k.is_available());
    available.map(|k| BuiltinMiniLm::with_kernel(k).unwrap()).collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

#[test]
fn tokenizer_matches_the_reference_exactly() {
    let model = BuiltinMiniLm::new();
    for case in golden() {
        assert_eq!(model.tokenize(&case.text).unwrap(), case.input_ids, "text {:?}", case.text);
    }
}

#[test]
fn the_default_kernel_is_the_fastest_available() {
    let kernel = BuiltinMiniLm::new().kernel();
    assert!(kernel.is_available());
    assert_ne!(kernel, Kernel::Int8Portable, "the portable int8 kernel is slower than f32");
    let fastest = [Kernel::Amx, Kernel::Avx512Vnni, Kernel::AvxVnni].into_iter().find(|k| k.is_available());
    assert_eq!(kernel, fastest.unwrap_or(Kernel::F32));
}

#[test]
fn embeddings_match_the_reference_forward_pass() {
    let cases = golden();
    let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    for model in models() {
        let kernel = model.kernel();
        let vectors = model.embed(&texts).unwrap();
        let (mut worst_same, mut worst_original) = (1f32, 1f32);
        for (case, vector) in cases.iter().zip(&vectors) {
            assert_eq!(vector.len(), 384);
            let norm: f32 = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "{kernel}: not unit length: {norm}");
            // Same int8 weights as the reference: with f32 activations only float rounding
            // may differ; the int8 kernels also round each token's activations to 8 bits.
            let same_weights = cosine(vector, &case.embedding_int8);
            let bound = if kernel.is_int8() { INT8_VS_REFERENCE } else { 0.9999 };
            assert!(same_weights > bound, "{kernel}: {:?}: cosine vs int8 reference {same_weights}", case.text);
            let original = cosine(vector, &case.embedding_f32);
            assert!(original > 0.998, "{kernel}: {:?}: cosine vs f32 model {original}", case.text);
            worst_same = worst_same.min(same_weights);
            worst_original = worst_original.min(original);
        }
        eprintln!("{kernel}: worst cosine vs int8-weight reference {worst_same:.5}, vs f32 model {worst_original:.5}");
    }
}

/// The least cosine an int8 kernel's vector may have with the reference's vector from the
/// same int8 weights and f32 activations.
const INT8_VS_REFERENCE: f32 = 0.9998;

/// Which build of the encoder layer a kernel runs: AMX runs attention on the tiles in bf16
/// (every CPU with AMX has AMX-BF16), AVX-512 VNNI attention in fused multiply-adds, the
/// others the SGEMM attention.
fn layer_build(kernel: Kernel) -> &'static str {
    match kernel {
        Kernel::Amx => "amx bf16 attention",
        Kernel::Avx512Vnni => "avx512",
        _ => "sgemm attention",
    }
}

/// The least cosine with the portable kernel's vector: float rounding alone across the f32
/// attention builds; bf16 attention rounds q, k, v and the probabilities to 8 significant
/// bits, about as much as the int8 activations already do (worst measured 0.99979 on
/// Emerald Rapids; its cosine with the f32 model is no worse than the other kernels').
fn bound_vs_portable(kernel: Kernel) -> f32 {
    if kernel == Kernel::Amx { 0.9997 } else { 0.99999 }
}

#[test]
fn int8_kernels_give_the_same_vectors_bit_for_bit_within_a_layer_build() {
    // The kernels' integer sums are exact, and everything after them is the same code within
    // a build of the layer; across builds only attention's float rounding differs.
    let cases = golden();
    let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    let int8: Vec<BuiltinMiniLm> = models().into_iter().filter(|m| m.kernel().is_int8()).collect();
    let portable = BuiltinMiniLm::with_kernel(Kernel::Int8Portable).unwrap().embed(&texts).unwrap();
    let mut first_of_build: Vec<(&str, Kernel, Vec<Vec<f32>>)> =
        vec![("sgemm attention", Kernel::Int8Portable, portable.clone())];
    for model in int8 {
        let (kernel, vectors) = (model.kernel(), model.embed(&texts).unwrap());
        match first_of_build.iter().find(|(build, ..)| *build == layer_build(kernel)) {
            Some((_, first, same)) => assert!(vectors == *same, "{kernel} differs from {first}, the same build"),
            None => first_of_build.push((layer_build(kernel), kernel, vectors.clone())),
        }
        for (a, b) in vectors.iter().zip(&portable) {
            let bound = bound_vs_portable(kernel);
            assert!(cosine(a, b) > bound, "{kernel}: cosine with the portable kernel {}", cosine(a, b));
        }
    }
}

#[test]
fn batching_and_order_do_not_change_vectors() {
    for model in models() {
        batching_and_order_do_not_change(&model);
    }
}

fn batching_and_order_do_not_change(model: &BuiltinMiniLm) {
    let cases = golden();
    let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    let together = model.embed(&texts).unwrap();
    let mut reversed: Vec<&str> = texts.clone();
    reversed.reverse();
    let apart = model.embed(&reversed).unwrap();
    for (i, vector) in together.iter().enumerate() {
        let other = &apart[texts.len() - 1 - i];
        assert!(cosine(vector, other) > 0.99999, "{}: text {i} changed with batching", model.kernel());
    }
    let one = model.embed(&[texts[0]]).unwrap();
    assert!(cosine(&one[0], &together[0]) > 0.99999);
}

#[test]
fn similar_sentences_are_closer_than_unrelated_ones() {
    for model in models() {
        similar_sentences_are_closer(&model);
    }
}

fn similar_sentences_are_closer(model: &BuiltinMiniLm) {
    let v = model
        .embed(&["A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby."])
        .unwrap();
    assert!(cosine(&v[0], &v[1]) > 0.7);
    assert!(cosine(&v[0], &v[2]) < 0.2);
    assert!(model.embed(&[]).unwrap().is_empty());
    assert_eq!(model.embed(&[""]).unwrap()[0].len(), 384);
}
