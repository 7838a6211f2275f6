//! exo-embed: turning text into vectors. The [`Embedder`] trait, the built-in
//! all-MiniLM-L6-v2 (int8 weights compiled into the binary, so vectors work offline with no
//! set-up), and an OpenAI-compatible HTTP provider for bigger or multilingual models.
//!
//! It must never know about the index, touch the vault, or print; the HTTP provider must
//! never send anything but the texts it is given to the server the user configured.

#![deny(clippy::print_stdout, clippy::print_stderr)]

#[cfg(target_arch = "x86_64")]
mod attention_amx;
mod builtin;
mod error;
mod http;
mod int8;
mod kernel;
mod minilm;
mod quant_step;
#[cfg(target_arch = "x86_64")]
mod quantize_avx512;
mod tensors;
mod wordpiece;

use serde::{Deserialize, Serialize};

pub use builtin::BuiltinMiniLm;
pub use error::{EmbedError, Result};
pub use http::{HttpConfig, HttpEmbedder};
pub use kernel::Kernel;

/// What made a set of vectors: stored in the index so a change of model is noticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmbedderId {
    pub model: String,
    pub dims: usize,
    pub quantization: String,
    pub version: String,
}

impl std::fmt::Display for EmbedderId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} dims, {}, v{})", self.model, self.dims, self.quantization, self.version)
    }
}

pub trait Embedder: Send + Sync {
    fn id(&self) -> EmbedderId;

    /// Unit vectors (L2 norm 1), one per text, in order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;

    /// How many texts to send per call for good throughput.
    fn batch_size(&self) -> usize {
        64
    }
}

/// `[embed]` in exo.toml.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbedSettings {
    /// "builtin" (default), "http", or "none" for no vectors.
    pub provider: String,
    /// For http: the server's base URL (`/v1/embeddings` is appended unless present).
    pub url: Option<String>,
    pub model: Option<String>,
    pub dims: Option<usize>,
    /// The environment variable holding the API key (never the key itself).
    pub api_key_env: Option<String>,
    pub timeout_secs: u64,
    pub batch_size: usize,
    pub retries: u32,
}

impl Default for EmbedSettings {
    fn default() -> Self {
        EmbedSettings {
            provider: "builtin".into(),
            url: None,
            model: None,
            dims: None,
            api_key_env: None,
            timeout_secs: 30,
            batch_size: 32,
            retries: 2,
        }
    }
}

impl EmbedSettings {
    pub fn from_table(table: &toml::Table) -> Result<EmbedSettings> {
        toml::Value::Table(table.clone())
            .try_into()
            .map_err(|e: toml::de::Error| EmbedError::Config(e.message().to_string()))
    }

    /// The configured embedder; None when vectors are turned off.
    pub fn build(&self) -> Result<Option<Box<dyn Embedder>>> {
        match self.provider.as_str() {
            "builtin" => Ok(Some(Box::new(BuiltinMiniLm::new()))),
            "none" => Ok(None),
            "http" => Ok(Some(Box::new(HttpEmbedder::new(HttpConfig::from_settings(self)?)?))),
            other => Err(EmbedError::Config(format!("provider = {other:?}: use \"builtin\", \"http\" or \"none\""))),
        }
    }
}

/// Scales `vector` to unit length in place, so a dot product is a cosine; a zero vector stays
/// zero. Every vector exo stores or compares goes through here.
pub fn normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
}
