//! `exo mcp --http`: the server over MCP's streamable HTTP at `/mcp`, for clients that cannot
//! start a process. Three checks stand in front of every request:
//! 1. a bearer token (`Authorization: Bearer …`, compared in constant time): 401 without it;
//! 2. the `Host` header must name this server (loopback names, or the address it was told to
//!    serve): 403 otherwise, against DNS rebinding;
//! 3. a present `Origin` must be a loopback page: 403 otherwise (the spec's MUST).
//!
//! Binding anything but a loopback address needs `allow_remote`, and still needs the token.
//! Sessions are optional: a 2026-07-28 client's requests carry their own protocol version and
//! client info, so they keep working across a server restart; older clients get a session at
//! `initialize` as before.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use crate::token::tokens_match;
use crate::{ExoServer, ServeError};

/// Where the MCP endpoint is mounted.
pub const MCP_PATH: &str = "/mcp";

/// The address `exo mcp --http` binds when given none.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8765";

/// How the HTTP server was asked to run.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    pub addr: SocketAddr,
    /// The bearer token every request must carry.
    pub token: String,
    /// Allow a non-loopback `addr`.
    pub allow_remote: bool,
    /// More `Host` names to accept (a remote server's DNS name), beyond loopback and `addr`.
    pub extra_hosts: Vec<String>,
}

const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
const LOOPBACK_ORIGINS: [&str; 3] = ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"];

/// Serves until Ctrl-C or SIGTERM. `listening` is told the bound address (useful with port 0)
/// once the socket is open.
pub async fn serve_http(
    server: ExoServer,
    options: HttpOptions,
    listening: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    if !options.addr.ip().is_loopback() && !options.allow_remote {
        return Err(ServeError::NotLoopback { addr: options.addr });
    }
    let shutdown = crate::stdio::Shutdown::install();
    let stop = CancellationToken::new();
    let app = router(server, &options, stop.child_token());
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .map_err(|source| ServeError::Bind { addr: options.addr, source })?;
    listening(listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.wait().await;
            // Ends the open event streams, which graceful shutdown would otherwise wait for.
            stop.cancel();
        })
        .await?;
    Ok(())
}

/// The axum app: the MCP service at [`MCP_PATH`] behind the token check.
fn router(server: ExoServer, options: &HttpOptions, stop: CancellationToken) -> axum::Router {
    let mut hosts: Vec<String> = LOOPBACK_HOSTS.iter().map(|h| h.to_string()).collect();
    if options.allow_remote && !options.addr.ip().is_unspecified() {
        hosts.push(options.addr.ip().to_string());
    }
    hosts.extend(options.extra_hosts.iter().cloned());
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_allowed_origins(LOOPBACK_ORIGINS)
        .enforce_origin_validation()
        .with_cancellation_token(stop);
    let service =
        StreamableHttpService::new(move || Ok(server.clone()), Arc::new(LocalSessionManager::default()), config);
    let token = Arc::new(options.token.clone());
    axum::Router::new()
        .nest_service(MCP_PATH, service)
        .fallback(|| async { (StatusCode::NOT_FOUND, format!("exo's MCP endpoint is {MCP_PATH}\n")) })
        .layer(middleware::from_fn_with_state(token, require_token))
}

/// 401 unless the request carries `Authorization: Bearer <token>`.
async fn require_token(State(token): State<Arc<String>>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, presented)| presented.trim());
    match presented {
        Some(presented) if tokens_match(presented.as_bytes(), token.as_bytes()) => next.run(request).await,
        _ => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "exo mcp: missing or wrong bearer token; send `Authorization: Bearer <token>` with the token from \
             EXO_MCP_TOKEN or the file `exo mcp token` made\n",
        )
            .into_response(),
    }
}
