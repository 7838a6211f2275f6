#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("embedding model: {0}")]
    Model(String),

    #[error("embedding input: {0}")]
    Input(String),

    #[error("embedding server {url}: {message}")]
    Http { url: String, message: String },

    #[error("exo.toml [embed]: {0}")]
    Config(String),
}

pub type Result<T, E = EmbedError> = std::result::Result<T, E>;
