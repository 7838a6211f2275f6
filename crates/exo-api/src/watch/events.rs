//! The operating system's file events (inotify, FSEvents, ReadDirectoryChangesW through
//! `notify`), debounced per path and turned into [`Signal`]s for the watch loop.
//!
//! Only events that can mean new content pass: opening or reading a file does not (a
//! reconcile reads every changed note, and those reads must not look like edits).

use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::time::Duration;

use notify_debouncer_full::notify::event::{AccessKind, AccessMode};
use notify_debouncer_full::notify::{self, EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer};

/// What the event thread tells the loop.
#[derive(Debug)]
pub(crate) enum Signal {
    /// These paths were created, written, removed or renamed (not yet judged relevant).
    Changed(Vec<PathBuf>),
    /// The OS dropped events (its queue overflowed): only a full look can tell what changed.
    Overflow,
    /// The watch is failing or incomplete (a watch limit was reached): events may be missed.
    Trouble(String),
    /// Another writer committed an index since the watch last looked (a hook's `exo index`
    /// that refreshed stat records): the word names an index that is gone, so look at the
    /// files again to give it for this one, instead of at the next rescan.
    LookAgain,
}

/// A running watch; dropping it stops the events.
pub(crate) type OsWatch = Debouncer<RecommendedWatcher, RecommendedCache>;

/// Watches everything under `root`, recursively, sending each debounced batch to `signals`.
pub(crate) fn watch(root: &Path, debounce: Duration, signals: Sender<Signal>) -> Result<OsWatch, String> {
    let mut debouncer = new_debouncer(debounce, None, move |result: DebounceEventResult| {
        for signal in signals_of(result) {
            // The loop has gone: nobody is left to tell.
            let _ = signals.send(signal);
        }
    })
    .map_err(|e| describe(&e))?;
    debouncer.watch(root, RecursiveMode::Recursive).map_err(|e| describe(&e))?;
    Ok(debouncer)
}

fn signals_of(result: DebounceEventResult) -> Vec<Signal> {
    match result {
        Ok(events) => {
            let overflow = events.iter().any(|event| event.need_rescan());
            let paths: Vec<PathBuf> = events
                .into_iter()
                .filter(|event| !event.need_rescan() && may_change_content(&event.kind))
                .flat_map(|event| event.event.paths)
                .collect();
            let mut signals = Vec::new();
            if overflow {
                signals.push(Signal::Overflow);
            }
            if !paths.is_empty() {
                signals.push(Signal::Changed(paths));
            }
            signals
        }
        Err(errors) => errors.iter().map(|e| Signal::Trouble(describe(e))).collect(),
    }
}

/// Creations, writes, removals, renames and metadata changes (a `touch`, a `chmod`) can
/// change what the index holds; opening or reading a file cannot.
fn may_change_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Other => false,
        EventKind::Any | EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
    }
}

/// One line a person can act on.
fn describe(error: &notify::Error) -> String {
    match &error.kind {
        notify::ErrorKind::MaxFilesWatch => {
            "the system's limit on watched folders is reached (on Linux, raise fs.inotify.max_user_watches)".into()
        }
        _ => match error.paths.first() {
            Some(path) => format!("{}: {error}", path.display()),
            None => error.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, ModifyKind, RemoveKind};

    #[test]
    fn reads_are_not_changes() {
        assert!(!may_change_content(&EventKind::Access(AccessKind::Open(AccessMode::Any))));
        assert!(!may_change_content(&EventKind::Access(AccessKind::Close(AccessMode::Read))));
        assert!(may_change_content(&EventKind::Access(AccessKind::Close(AccessMode::Write))));
        assert!(may_change_content(&EventKind::Create(CreateKind::File)));
        assert!(may_change_content(&EventKind::Modify(ModifyKind::Any)));
        assert!(may_change_content(&EventKind::Remove(RemoveKind::Folder)));
    }

    #[test]
    fn the_watch_limit_says_which_setting_to_raise() {
        let error = notify::Error::new(notify::ErrorKind::MaxFilesWatch);
        assert!(describe(&error).contains("max_user_watches"));
    }
}
