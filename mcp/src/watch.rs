//! `exo mcp --watch`: exo-api's watch loop ([`exo_api::Exo::watch`]) on a thread of its own
//! beside the server, so a note a person saves is searchable by the agent within a reconcile.
//!
//! Invariants: the watch opens the same vault the server serves; it never keeps the process
//! alive (the server's end stops it, and [`BackgroundWatch::finish`] waits for it, at most the
//! reconcile under way); a watch that cannot go on (the vault folder moved) ends the server, so
//! the process exits non-zero instead of serving an index nobody keeps current; and, like the
//! rest of this crate, it never prints: each event goes to the face's callback.

use std::thread::JoinHandle;

use exo_api::{Exo, StopSignal, VaultChoice, WatchEvent, WatchOptions};
use tokio_util::sync::CancellationToken;

use crate::ServeError;

/// What `--watch` asks for: how the loop runs, and who hears its events (the face, which
/// logs them; on stdio, to stderr).
pub struct ServeWatch {
    pub options: WatchOptions,
    pub on_event: Box<dyn FnMut(WatchEvent) + Send>,
}

impl std::fmt::Debug for ServeWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeWatch").field("options", &self.options).finish_non_exhaustive()
    }
}

/// The running watch thread.
pub(crate) struct BackgroundWatch {
    stop: StopSignal,
    /// Cancelled when the thread ends, for whatever reason (an error, a panic, the stop).
    ended: CancellationToken,
    thread: JoinHandle<exo_api::Result<()>>,
}

impl BackgroundWatch {
    /// Starts watching the vault `choice` names (the server's own, already found).
    pub(crate) fn start(choice: VaultChoice, watch: ServeWatch) -> Result<BackgroundWatch, ServeError> {
        let stop = StopSignal::new();
        let ended = CancellationToken::new();
        let (thread_stop, thread_ended) = (stop.clone(), ended.clone());
        let ServeWatch { options, mut on_event } = watch;
        let thread = std::thread::Builder::new().name("exo-watch".into()).spawn(move || {
            // Dropped on return and on a panic alike: the server hears of either.
            let _ended = thread_ended.drop_guard();
            // Opened here: an `Exo` holds SQLite handles, which stay on the thread that made them.
            let exo = Exo::open(&choice)?;
            exo.watch(&options, &thread_stop, &mut *on_event)
        })?;
        Ok(BackgroundWatch { stop, ended, thread })
    }

    /// Resolves when the watch thread has ended; while the server runs, that means it failed.
    pub(crate) fn ended(&self) -> CancellationToken {
        self.ended.clone()
    }

    pub(crate) fn has_ended(&self) -> bool {
        self.ended.is_cancelled()
    }

    /// Stops the watch and waits for it (after the reconcile under way, if any); its error,
    /// if it had one.
    pub(crate) fn finish(self) -> Result<(), ServeError> {
        self.stop.stop();
        match self.thread.join() {
            Ok(watched) => Ok(watched?),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".to_string());
                Err(ServeError::WatchPanicked(what))
            }
        }
    }
}
