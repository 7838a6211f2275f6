//! `exo mcp`: the server over stdin/stdout, the way Claude Code and Claude Desktop start it.
//! stdout carries only protocol messages; the process ends when the client closes stdin, or
//! on Ctrl-C / SIGTERM.

use rmcp::ServiceExt;

use crate::{ExoServer, ServeError};

/// Serves `server` on stdio until the client goes away or a signal says stop.
pub async fn serve_stdio(server: ExoServer) -> Result<(), ServeError> {
    let shutdown = Shutdown::install();
    let running =
        server.serve(rmcp::transport::stdio_pipes()).await.map_err(|e| ServeError::Transport(e.to_string()))?;
    let token = running.cancellation_token();
    tokio::select! {
        quit = running.waiting() => {
            quit.map_err(|e| ServeError::Transport(e.to_string()))?;
        }
        () = shutdown.wait() => token.cancel(),
    }
    Ok(())
}

/// Ctrl-C or SIGTERM (what a client or a service manager sends to stop a server). The
/// handlers are installed when this is made, so a signal that arrives before anyone awaits it
/// (right after the server says it is listening) still stops the server cleanly.
pub(crate) struct Shutdown {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Shutdown {
    pub(crate) fn install() -> Shutdown {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let signals = signal(SignalKind::interrupt()).ok().zip(signal(SignalKind::terminate()).ok());
            Shutdown { signals }
        }
        #[cfg(not(unix))]
        Shutdown {}
    }

    /// Waits for either signal (forever, if the handlers could not be installed).
    pub(crate) async fn wait(self) {
        #[cfg(unix)]
        match self.signals {
            Some((mut interrupt, mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {}
                    _ = terminate.recv() => {}
                }
            }
            None => std::future::pending::<()>().await,
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
