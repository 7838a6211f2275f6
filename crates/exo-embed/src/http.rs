//! An OpenAI-compatible embeddings client (`POST /v1/embeddings`): llama.cpp server, Ollama,
//! vLLM, TEI, OpenAI. Batches, a timeout per request, retries with backoff on connection
//! errors, 429 and 5xx; vectors are L2-normalised on arrival so every provider looks alike.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{EmbedError, Result};
use crate::{EmbedSettings, Embedder, EmbedderId};

#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    pub endpoint: String,
    pub model: String,
    pub dims: usize,
    pub api_key: Option<String>,
    pub timeout: Duration,
    pub batch_size: usize,
    pub retries: u32,
}

impl HttpConfig {
    pub fn from_settings(settings: &EmbedSettings) -> Result<HttpConfig> {
        let missing = |key: &str| EmbedError::Config(format!("provider = \"http\" needs {key}"));
        let url = settings.url.clone().ok_or_else(|| missing("url"))?;
        let url = url.trim_end_matches('/');
        let endpoint = if url.ends_with("/embeddings") { url.to_string() } else { format!("{url}/v1/embeddings") };
        let api_key = match &settings.api_key_env {
            None => None,
            Some(var) => Some(std::env::var(var).map_err(|_| {
                EmbedError::Config(format!("api_key_env = {var:?}, but that environment variable is not set"))
            })?),
        };
        Ok(HttpConfig {
            endpoint,
            model: settings.model.clone().ok_or_else(|| missing("model"))?,
            dims: settings.dims.ok_or_else(|| missing("dims"))?,
            api_key,
            timeout: Duration::from_secs(settings.timeout_secs.max(1)),
            batch_size: settings.batch_size.max(1),
            retries: settings.retries,
        })
    }
}

pub struct HttpEmbedder {
    config: HttpConfig,
    agent: ureq::Agent,
}

#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    input: &'a [&'a str],
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    #[serde(default)]
    index: Option<usize>,
    embedding: Vec<f32>,
}

impl HttpEmbedder {
    pub fn new(config: HttpConfig) -> Result<HttpEmbedder> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(HttpEmbedder { config, agent })
    }

    fn error(&self, message: impl Into<String>) -> EmbedError {
        EmbedError::Http { url: self.config.endpoint.clone(), message: message.into() }
    }

    fn post_once(&self, texts: &[&str]) -> std::result::Result<Vec<Vec<f32>>, (bool, EmbedError)> {
        let mut request = self.agent.post(&self.config.endpoint);
        if let Some(key) = &self.config.api_key {
            request = request.header("Authorization", &format!("Bearer {key}"));
        }
        let mut response = request
            .send_json(Request { model: &self.config.model, input: texts })
            .map_err(|e| (true, self.error(format!("{e} — is the server running?"))))?;
        let status = response.status().as_u16();
        if status != 200 {
            let body = response.body_mut().read_to_string().unwrap_or_default();
            let retry = status == 429 || status >= 500;
            let excerpt: String = body.chars().take(200).collect();
            return Err((retry, self.error(format!("HTTP {status}: {excerpt}"))));
        }
        let parsed: Response =
            response.body_mut().read_json().map_err(|e| (false, self.error(format!("unreadable response: {e}"))))?;
        self.arrange(parsed, texts.len()).map_err(|e| (false, e))
    }

    /// Puts vectors in input order (by `index` when given), checks their size, normalises.
    fn arrange(&self, response: Response, expected: usize) -> Result<Vec<Vec<f32>>> {
        if response.data.len() != expected {
            return Err(self.error(format!("sent {expected} texts, got {} vectors", response.data.len())));
        }
        let mut out = vec![Vec::new(); expected];
        for (position, item) in response.data.into_iter().enumerate() {
            let slot = item.index.unwrap_or(position);
            if slot >= expected || !out[slot].is_empty() {
                return Err(self.error(format!("response has a bad index {slot}")));
            }
            if item.embedding.len() != self.config.dims {
                return Err(self.error(format!(
                    "vectors have {} dims, exo.toml says dims = {}",
                    item.embedding.len(),
                    self.config.dims
                )));
            }
            let mut vector = item.embedding;
            crate::normalize(&mut vector);
            out[slot] = vector;
        }
        Ok(out)
    }
}

impl Embedder for HttpEmbedder {
    fn id(&self) -> EmbedderId {
        EmbedderId {
            model: format!("http:{}", self.config.model),
            dims: self.config.dims,
            quantization: "server".into(),
            version: "1".into(),
        }
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for batch in texts.chunks(self.config.batch_size) {
            let mut attempt = 0;
            loop {
                match self.post_once(batch) {
                    Ok(vectors) => {
                        out.extend(vectors);
                        break;
                    }
                    Err((retry, error)) if retry && attempt < self.config.retries => {
                        attempt += 1;
                        std::thread::sleep(Duration::from_millis(200 * (1 << attempt)));
                        let _ = error;
                    }
                    Err((_, error)) => return Err(error),
                }
            }
        }
        Ok(out)
    }

    fn batch_size(&self) -> usize {
        self.config.batch_size
    }
}
