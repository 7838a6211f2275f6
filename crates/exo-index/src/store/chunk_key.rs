//! The content key of a chunk's vector: blake3 of exactly the text the embedder sees, so a
//! vector is reused wherever that text recurs and re-made when a word of it changes.

/// The text the embedder sees for a chunk: the note's title gives every chunk its context.
pub fn embed_text(title: &str, chunk: &str) -> String {
    format!("{title}\n\n{chunk}")
}

pub fn embed_key(title: &str, chunk: &str) -> String {
    blake3::hash(embed_text(title, chunk).as_bytes()).to_hex().to_string()
}
