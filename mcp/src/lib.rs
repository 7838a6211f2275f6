//! exo-mcp: exo's MCP server face. Agents (Claude Code, Claude Desktop, the nightly gardener)
//! search the vault, walk its link graph and write notes through it, and every write lands as
//! one reviewable git commit authored "<client> via exo".
//!
//! Each tool is the same few lines as a CLI command: deserialize the arguments into an exo-api
//! request type (`deny_unknown_fields`, so a guessed parameter name is an error, never silently
//! ignored), make ONE exo-api call on a blocking thread (SQLite is not `Send` across awaits),
//! and return the answer as structured content with its output schema. Errors are `isError`
//! results that say what to do ([`errors`]); the server never exits on bad input.
//!
//! Transports: stdio ([`serve_stdio`]) and streamable HTTP ([`http::serve_http`]: bearer token,
//! Host and Origin checks, loopback unless told otherwise). Either can run exo-api's watch
//! loop beside it ([`ServeWatch`], `exo mcp --watch`), so search follows a person's edits.
//!
//! Must never: print to stdout (on stdio it is the protocol), read the process environment
//! (the face passes the vault, the token and the config folder in), hold the index's writer
//! lock between requests, answer from a stale view of the vault (the vault is reopened per
//! request), or rely on an MCP session for identity (2026-07-28 clients have none).

#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod errors;
pub mod http;
mod portable;
mod server;
mod stdio;
pub mod token;
mod tools;
mod watch;

pub use server::{ExoServer, ServerOptions};
pub use stdio::serve_stdio;
pub use watch::ServeWatch;

/// What stops a server from starting or keeps it from running.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Api(#[from] exo_api::ApiError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "refusing to listen on {addr}: it is not a loopback address; pass --allow-remote to serve other machines (the bearer token is still required)"
    )]
    NotLoopback { addr: std::net::SocketAddr },
    #[error("the MCP connection failed: {0}")]
    Transport(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the vault watch stopped unexpectedly ({0}); this is a bug in exo: please report it")]
    WatchPanicked(String),
}

/// Which transport `exo mcp` serves on.
#[derive(Debug, Clone)]
pub enum Transport {
    Stdio,
    Http(http::HttpOptions),
}

/// Runs the server until its client leaves (stdio) or a signal stops it, on a runtime of its
/// own: the face stays synchronous. `listening` is told the HTTP address once it is bound.
/// With `watch`, the vault is watched alongside; a watch that cannot go on ends the server
/// with its error.
pub fn run(
    options: ServerOptions,
    transport: Transport,
    watch: Option<ServeWatch>,
    listening: impl FnOnce(std::net::SocketAddr),
) -> Result<(), ServeError> {
    let server = ExoServer::new(options)?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let watching =
        watch.map(|watch| watch::BackgroundWatch::start(server.vault_choice().clone(), watch)).transpose()?;
    let watch_ended = watching.as_ref().map(watch::BackgroundWatch::ended);
    let served = runtime.block_on(async move {
        let serving = async move {
            match transport {
                Transport::Stdio => serve_stdio(server).await,
                Transport::Http(http) => http::serve_http(server, http, listening).await,
            }
        };
        match watch_ended {
            None => serving.await,
            Some(ended) => tokio::select! {
                served = serving => served,
                // The watch's error is collected below, from its thread.
                () = ended.cancelled() => Ok(()),
            },
        }
    });
    let Some(watching) = watching else { return served };
    let watch_failed = watching.has_ended();
    let watched = watching.finish();
    if watch_failed {
        // The client may still hold stdin open, and a read of it blocks the runtime's drop.
        runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    }
    served.and(watched)
}
