//! The Rust tokenizer and forward pass against golden data made by the reference tokenizer
//! (HF `tokenizers`) and a float32 numpy forward pass (model/convert.py, model/reference.py).

use exo_embed::{BuiltinMiniLm, Embedder};
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
fn embeddings_match_the_reference_forward_pass() {
    let model = BuiltinMiniLm::new();
    let cases = golden();
    let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    let vectors = model.embed(&texts).unwrap();
    for (case, vector) in cases.iter().zip(&vectors) {
        assert_eq!(vector.len(), 384);
        let norm: f32 = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "not unit length: {norm}");
        // Same int8 weights as the reference: only float rounding may differ.
        let same_weights = cosine(vector, &case.embedding_int8);
        assert!(same_weights > 0.9999, "{:?}: cosine vs int8 reference {same_weights}", case.text);
        let original = cosine(vector, &case.embedding_f32);
        assert!(original > 0.998, "{:?}: cosine vs f32 model {original}", case.text);
    }
}

#[test]
fn batching_and_order_do_not_change_vectors() {
    let model = BuiltinMiniLm::new();
    let cases = golden();
    let texts: Vec<&str> = cases.iter().map(|c| c.text.as_str()).collect();
    let together = model.embed(&texts).unwrap();
    let mut reversed: Vec<&str> = texts.clone();
    reversed.reverse();
    let apart = model.embed(&reversed).unwrap();
    for (i, vector) in together.iter().enumerate() {
        let other = &apart[texts.len() - 1 - i];
        assert!(cosine(vector, other) > 0.99999, "text {i} changed with batching");
    }
    let one = model.embed(&[texts[0]]).unwrap();
    assert!(cosine(&one[0], &together[0]) > 0.99999);
}

#[test]
fn similar_sentences_are_closer_than_unrelated_ones() {
    let model = BuiltinMiniLm::new();
    let v = model
        .embed(&["A man is eating food.", "A man is eating a piece of bread.", "The girl is carrying a baby."])
        .unwrap();
    assert!(cosine(&v[0], &v[1]) > 0.7);
    assert!(cosine(&v[0], &v[2]) < 0.2);
    assert!(model.embed(&[]).unwrap().is_empty());
    assert_eq!(model.embed(&[""]).unwrap()[0].len(), 384);
}
