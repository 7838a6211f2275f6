//! `watch`: the self-heal loop. It follows the vault's file events and, once they go quiet,
//! reconciles through [`Exo::sync`] — the path `exo index` and the git hooks take, vectors
//! included — so the index follows a person typing in Obsidian without a commit.
//!
//! Invariants:
//! - The writer lock is taken only inside `sync`, one reconcile at a time; between
//!   reconciles the loop holds nothing, so hooks, `exo index` and an MCP server interleave.
//! - Events are judged by the vault's own rules ([`relevance`]): `.git/`, `.exo/`,
//!   `.obsidian/`, hidden and ignored paths and editor scratch files never start a reconcile;
//!   a `git checkout` is seen through the files it changes, never through `.git/`.
//! - A burst is one reconcile: the debouncer waits for each path to go quiet, the loop waits
//!   until no path is released for a while, and whatever arrives during a reconcile is the
//!   next batch, taken as one.
//! - The events are a shortcut, never the truth: a periodic rescan (the stat fast path, no
//!   lock unless something differs) catches what the OS dropped, and takes over at a short
//!   interval when the watch cannot be set up or fails.
//! - The library never prints: every happening is a [`WatchEvent`] handed to the caller.
//! - While events are trusted, the watch vouches for the index to queries on
//!   `.exo/watch.sock` ([`vouch`]), with
//!   `Vouch::begin`/`Vouch::finish` around each look at the files (the rescan, and each
//!   reconcile's closing check, which the watch runs itself by the files alone), and trouble or
//!   polling takes the word back for good.

mod events;
mod relevance;
mod vouch;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use exo_index::vectors::Coverage;
use exo_index::{Health, SyncState};
use serde::Serialize;

use crate::{ApiError, Exo, Result, SyncAnswer, SyncProgress, SyncRequest, VaultChoice};
use events::{OsWatch, Signal};
use relevance::{Relevance, Verdict};
use vouch::Vouch;

/// How the loop runs. `Default` is what `exo watch` does without flags.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// How long a path must be quiet before its events count (an editor's save is several).
    pub debounce: Duration,
    /// The safety rescan: how often to compare files and index without any event.
    pub rescan: Duration,
    /// The rescan interval while file events cannot be trusted (no watch, a watch limit, a
    /// failing watch) or are not wanted (`poll`); never longer than `rescan`.
    pub fallback_rescan: Duration,
    /// Use no file events at all, only the rescan (network file systems deliver none).
    pub poll: bool,
    /// How long a reconcile waits for another writer (a hook, `exo index`) to finish.
    pub lock_wait: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            debounce: Duration::from_millis(150),
            rescan: Duration::from_secs(60),
            fallback_rescan: Duration::from_secs(5),
            poll: false,
            lock_wait: Duration::from_secs(30),
        }
    }
}

/// Asks a running watch to stop: it finishes the reconcile under way (if any), then returns.
/// Clones share the flag; a face sets it from Ctrl-C, SIGTERM or its own shutdown.
#[derive(Debug, Clone, Default)]
pub struct StopSignal(Arc<AtomicBool>);

impl StopSignal {
    pub fn new() -> StopSignal {
        StopSignal::default()
    }

    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// The flag itself, for a signal handler that can only set an atomic.
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0)
    }
}

/// Why a reconcile ran. Ordered: a batch that has several reasons reports the last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// The first look when the watch starts: whatever changed while nobody watched.
    Start,
    /// The periodic rescan found files that differ from the index.
    Rescan,
    /// File events.
    Changes,
    /// The OS dropped events; the reconcile looked at everything.
    Overflow,
    /// `exo.toml` or an ignore file changed: the settings were read again first.
    Settings,
}

/// Where the watch gets its news from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchMode {
    /// File events, with the rescan as a safety net.
    Events,
    /// The rescan alone, at the fallback interval.
    Polling,
}

/// One reconcile, as a log line's worth of facts.
#[derive(Debug, Clone, Serialize)]
pub struct Reconciled {
    pub trigger: Trigger,
    /// Distinct changed paths the events named (0 for a start or a rescan).
    pub paths: usize,
    pub new: usize,
    pub modified: usize,
    pub deleted: usize,
    pub renamed: usize,
    /// A few of the notes written or removed, for the log line.
    pub examples: Vec<String>,
    /// Why the whole index was rebuilt, when it was.
    pub rebuilt: Option<String>,
    /// Chunks embedded by this run.
    pub embedded: usize,
    /// Why embedding stopped early; text and graph are current regardless.
    pub vectors_error: Option<String>,
    /// The whole run: reconcile, vectors and the look afterwards.
    pub elapsed_ms: u64,
    pub status: SyncState,
    pub health: Health,
    pub notes: usize,
    /// Notes that differ again already (edited during the run): the next batch takes them.
    pub stale: usize,
    pub vectors: Option<Coverage>,
}

/// Everything a watch has to say, in order. A face renders each as one log line.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WatchEvent {
    /// The watch is set up (said once, before the first reconcile).
    Watching {
        root: PathBuf,
        mode: WatchMode,
        debounce_ms: u64,
        rescan_secs: u64,
    },
    Reconciled(Reconciled),
    /// A reconcile failed (another writer held the lock too long, a bad `exo.toml`, a full
    /// disk); the watch goes on and tries again on the next change or rescan.
    ReconcileFailed {
        trigger: Trigger,
        error: String,
    },
    /// File events cannot be had or trusted; said once, then the rescan runs every
    /// `rescan_secs`.
    WatchUnavailable {
        reason: String,
        rescan_secs: u64,
    },
    /// Queries cannot take this watch's word that nothing changed (a symlink in the vault, a
    /// network file system, another watch answering): they check the files themselves, as
    /// without a watch. Said once, at the start or when the word is withdrawn for good.
    NotVouching {
        reason: String,
    },
    /// The stop signal was honoured.
    Stopped {
        reconciles: usize,
    },
}

/// How often an idle loop looks at the stop flag and at the vault folder itself.
const WAKE: Duration = Duration::from_millis(250);
/// How soon to look again when another writer's commit withheld the word.
const LOOK_AGAIN_AFTER: Duration = Duration::from_secs(1);
/// How many changed paths a log line names.
const EXAMPLES: usize = 3;

impl Exo {
    /// Watches the vault and keeps its index in line until `stop` is set, handing each
    /// happening to `on_event` (from the calling thread). Runs where it is called: a server
    /// calls it from a thread of its own.
    ///
    /// Returns an error only when watching cannot go on: the vault's folder was moved or
    /// deleted. A failed reconcile is a [`WatchEvent::ReconcileFailed`], and the loop goes on.
    pub fn watch(&self, options: &WatchOptions, stop: &StopSignal, on_event: &mut dyn FnMut(WatchEvent)) -> Result<()> {
        Watch::start(self, options, on_event)?.run(stop)
    }
}

/// Changes seen since the last reconcile.
struct Batch {
    trigger: Trigger,
    paths: HashSet<PathBuf>,
    last_at: Instant,
}

struct Watch<'a> {
    opened: &'a Exo,
    /// The vault opened again after its settings changed.
    reopened: Option<Exo>,
    options: &'a WatchOptions,
    on_event: &'a mut dyn FnMut(WatchEvent),
    root: PathBuf,
    root_identity: Option<FolderIdentity>,
    relevance: Relevance,
    signals: Receiver<Signal>,
    /// Keeps the channel open when there is no OS watch (polling).
    _sender: Sender<Signal>,
    /// The OS watch (None while polling); dropping it stops its events.
    os_watch: Option<OsWatch>,
    /// The word given to queries (None while polling, or when the vault cannot be vouched
    /// for); dropping it removes the socket.
    vouch: Option<Vouch>,
    /// Why queries cannot take the word, until said ([`WatchEvent::NotVouching`]).
    not_vouching: Option<String>,
    /// Said already (once is enough).
    said_not_vouching: bool,
    rescan_every: Duration,
    next_rescan: Instant,
    batch: Option<Batch>,
    settings_changed: bool,
    last_failed: bool,
    troubled: bool,
    reconciles: usize,
}

impl<'a> Watch<'a> {
    fn start(exo: &'a Exo, options: &'a WatchOptions, on_event: &'a mut dyn FnMut(WatchEvent)) -> Result<Watch<'a>> {
        let root = exo.vault().root().to_path_buf();
        let root_identity = folder_identity(&root);
        if root_identity.is_none() {
            return Err(ApiError::VaultGone { path: root });
        }
        let (sender, signals) = mpsc::channel();
        let fallback = options.fallback_rescan.min(options.rescan);
        let mut watch = Watch {
            opened: exo,
            reopened: None,
            options,
            on_event,
            relevance: Relevance::of(exo.vault()),
            root_identity,
            signals,
            _sender: sender.clone(),
            os_watch: None,
            vouch: None,
            not_vouching: None,
            said_not_vouching: false,
            rescan_every: fallback,
            next_rescan: Instant::now(),
            batch: None,
            settings_changed: false,
            last_failed: false,
            troubled: options.poll,
            reconciles: 0,
            root,
        };
        if !options.poll {
            match events::watch(&watch.root, options.debounce, sender.clone()) {
                Ok(os_watch) => {
                    watch.os_watch = Some(os_watch);
                    watch.rescan_every = options.rescan;
                    match Vouch::start(exo, sender) {
                        Ok(vouch) => watch.vouch = Some(vouch),
                        Err(reason) => watch.not_vouching = Some(reason),
                    }
                }
                Err(reason) => watch.trouble(reason),
            }
        }
        Ok(watch)
    }

    fn run(mut self, stop: &StopSignal) -> Result<()> {
        let mode = if self.os_watch.is_some() { WatchMode::Events } else { WatchMode::Polling };
        self.emit(WatchEvent::Watching {
            root: self.root.clone(),
            mode,
            debounce_ms: self.options.debounce.as_millis() as u64,
            rescan_secs: self.rescan_every.as_secs(),
        });
        self.say_if_not_vouching();
        self.reconcile(Trigger::Start);
        while !stop.is_stopped() {
            self.check_root()?;
            match self.signals.recv_timeout(self.until_next_work().min(WAKE)) {
                Ok(signal) => self.take(signal),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => self.trouble("the file watch stopped".into()),
            }
            while let Ok(signal) = self.signals.try_recv() {
                self.take(signal);
            }
            if stop.is_stopped() {
                break;
            }
            self.check_root()?;
            self.work_if_due();
            self.say_if_not_vouching();
        }
        let reconciles = self.reconciles;
        self.emit(WatchEvent::Stopped { reconciles });
        Ok(())
    }

    /// Says once why queries cannot take the word: from the start, or once the vouch has
    /// withdrawn it for good. Not when the watch itself is in trouble: that is said already.
    fn say_if_not_vouching(&mut self) {
        if self.said_not_vouching || self.troubled {
            return;
        }
        let reason = self.not_vouching.take().or_else(|| self.vouch.as_ref().and_then(Vouch::broken_reason));
        if let Some(reason) = reason {
            self.said_not_vouching = true;
            self.emit(WatchEvent::NotVouching { reason });
        }
    }

    fn exo(&self) -> &Exo {
        self.reopened.as_ref().unwrap_or(self.opened)
    }

    fn emit(&mut self, event: WatchEvent) {
        (self.on_event)(event);
    }

    /// The debouncer releases each path once it has been quiet for `debounce`, on ticks a
    /// quarter of that apart; a batch is complete once no path is released for two ticks.
    fn quiet(&self) -> Duration {
        self.options.debounce / 2
    }

    fn until_next_work(&self) -> Duration {
        let due = match &self.batch {
            Some(batch) => batch.last_at + self.quiet(),
            None => self.next_rescan,
        };
        due.saturating_duration_since(Instant::now())
    }

    fn take(&mut self, signal: Signal) {
        match signal {
            Signal::Changed(paths) => {
                for path in paths {
                    match self.relevance.judge(&path) {
                        Verdict::Ignore => {}
                        Verdict::Content => self.add(Trigger::Changes, Some(path)),
                        Verdict::Settings => {
                            self.settings_changed = true;
                            self.add(Trigger::Settings, Some(path));
                        }
                    }
                }
            }
            Signal::Overflow => self.add(Trigger::Overflow, None),
            Signal::Trouble(reason) => self.trouble(reason),
            Signal::LookAgain => self.next_rescan = Instant::now(),
        }
    }

    fn add(&mut self, trigger: Trigger, path: Option<PathBuf>) {
        let now = Instant::now();
        let batch = self.batch.get_or_insert_with(|| Batch { trigger, paths: HashSet::new(), last_at: now });
        batch.trigger = batch.trigger.max(trigger);
        batch.paths.extend(path);
        batch.last_at = now;
    }

    /// Events can no longer be trusted: say so once, look at once, then rescan often.
    fn trouble(&mut self, reason: String) {
        if let Some(vouch) = &self.vouch {
            vouch.distrust();
        }
        if self.troubled {
            return;
        }
        self.troubled = true;
        self.rescan_every = self.options.fallback_rescan.min(self.options.rescan);
        self.next_rescan = Instant::now();
        let rescan_secs = self.rescan_every.as_secs();
        self.emit(WatchEvent::WatchUnavailable { reason, rescan_secs });
    }

    fn work_if_due(&mut self) {
        let now = Instant::now();
        if let Some(batch) = &self.batch {
            if now.duration_since(batch.last_at) >= self.quiet() {
                let trigger = batch.trigger;
                let paths = batch.paths.len();
                self.batch = None;
                self.reconcile_batch(trigger, paths);
            }
        } else if now >= self.next_rescan {
            self.rescan();
        }
    }

    /// The safety net: the stat fast path (no lock, nothing written) decides whether a
    /// reconcile is needed at all.
    fn rescan(&mut self) {
        self.next_rescan = Instant::now() + self.rescan_every;
        let needed = self.settings_changed || self.last_failed || !self.files_in_line();
        if needed {
            self.reconcile(Trigger::Rescan);
        }
    }

    /// The stat fast path, by the files alone (never this watch's own word), bracketed so
    /// that the word is given again if they are in line and nothing changed meanwhile.
    fn files_in_line(&mut self) -> bool {
        self.vouch_begin();
        let in_line = matches!(self.exo().index.freshness_by_files(), Ok((SyncState::Synced, _)));
        self.vouch_finish(in_line);
        in_line
    }

    fn vouch_begin(&self) {
        if let Some(vouch) = &self.vouch {
            vouch.begin(self.exo());
        }
    }

    fn vouch_finish(&mut self, in_line: bool) {
        let withheld_by_a_commit = self.vouch.as_ref().is_some_and(|vouch| vouch.finish(self.exo(), in_line));
        if withheld_by_a_commit {
            // Another writer committed during the look: look again soon (not at once, so a
            // fill committing batch after batch costs a look a second, not a busy loop).
            self.next_rescan = self.next_rescan.min(Instant::now() + LOOK_AGAIN_AFTER);
        }
    }

    fn reconcile(&mut self, trigger: Trigger) {
        self.reconcile_batch(trigger, 0);
    }

    fn reconcile_batch(&mut self, trigger: Trigger, paths: usize) {
        if self.settings_changed {
            if let Err(error) = self.reload() {
                self.last_failed = true;
                self.emit(WatchEvent::ReconcileFailed { trigger, error: error.to_string() });
                return;
            }
            self.settings_changed = false;
        }
        let started = Instant::now();
        // The closing check is the watch's own, bracketed for its word: the reconcile's
        // would walk after the writer lock is released, so a hook's `exo index` (built from
        // an older walk, or by other rules) could commit meanwhile, and that index was never
        // compared with the files. One walk serves both the log line and the word.
        let request =
            SyncRequest { wait_secs: self.options.lock_wait.as_secs(), check: false, ..SyncRequest::default() };
        // A reconcile looks at everything: the next rescan can wait a full interval (set first,
        // so a look the closing check asks for below is not overwritten).
        self.next_rescan = Instant::now() + self.rescan_every;
        let result = self.exo().sync_trusting(&request, SyncProgress::default(), exo_index::Trust::Files).and_then(
            |mut answer| {
                self.vouch_begin();
                let status = self.exo().index.status_by_files();
                self.vouch_finish(matches!(&status, Ok(status) if status.status == SyncState::Synced));
                answer.status = Some(status?);
                Ok(answer)
            },
        );
        self.reconciles += 1;
        self.last_failed = result.is_err();
        let event = match result {
            Ok(answer) => WatchEvent::Reconciled(reconciled(trigger, paths, &answer, started.elapsed())),
            Err(error) => WatchEvent::ReconcileFailed { trigger, error: error.to_string() },
        };
        self.emit(event);
    }

    /// Reads `exo.toml` and the ignore rules again; on error the old settings stay.
    fn reload(&mut self) -> Result<()> {
        let choice = VaultChoice { flag: Some(self.root.clone()), env: None, cwd: self.root.clone() };
        let exo = Exo::open(&choice)?;
        self.relevance = Relevance::of(exo.vault());
        self.reopened = Some(exo);
        Ok(())
    }

    /// The vault's folder still where it was, and the same folder: watches follow inodes,
    /// so a vault moved or replaced under the watch would silently go unwatched.
    fn check_root(&self) -> Result<()> {
        match folder_identity(&self.root) == self.root_identity {
            true => Ok(()),
            false => Err(ApiError::VaultGone { path: self.root.clone() }),
        }
    }
}

fn reconciled(trigger: Trigger, paths: usize, answer: &SyncAnswer, elapsed: Duration) -> Reconciled {
    let report = &answer.report;
    let examples = (report.new.iter().chain(&report.modified).chain(&report.deleted))
        .chain(report.renamed.iter().map(|r| &r.to))
        .take(EXAMPLES)
        .cloned()
        .collect();
    let status = answer.status.as_ref();
    Reconciled {
        trigger,
        paths,
        new: report.new.len(),
        modified: report.modified.len(),
        deleted: report.deleted.len(),
        renamed: report.renamed.len(),
        examples,
        rebuilt: report.rebuilt.clone(),
        embedded: answer.vectors.embedded,
        vectors_error: answer.vectors.error.clone(),
        elapsed_ms: elapsed.as_millis() as u64,
        status: status.map_or(SyncState::OutOfSync, |s| s.status),
        health: status.map_or(Health::Progressing, |s| s.health),
        notes: status.map_or(report.notes, |s| s.notes),
        stale: status.map_or(0, |s| s.new.len() + s.modified.len() + s.deleted.len()),
        vectors: status.and_then(|s| s.vectors.clone()),
    }
}

/// Device and inode of a folder; None when it is gone or no longer a folder.
type FolderIdentity = (u64, u64);

#[cfg(unix)]
fn folder_identity(path: &Path) -> Option<FolderIdentity> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().filter(|m| m.is_dir()).map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn folder_identity(path: &Path) -> Option<FolderIdentity> {
    std::fs::metadata(path).ok().filter(|m| m.is_dir()).map(|_| (0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::RecvTimeoutError;

    const DEADLINE: Duration = Duration::from_secs(30);

    fn next(events: &Receiver<WatchEvent>) -> WatchEvent {
        match events.recv_timeout(DEADLINE) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) => panic!("no watch event within {DEADLINE:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the watch ended"),
        }
    }

    /// A watch limit reached or a watch that died: said once, then the rescan takes over at
    /// the fallback interval, looking at once for what may have been missed.
    #[test]
    fn watch_trouble_is_said_once_and_the_rescan_takes_over() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("exo.toml"), "[embed]\nprovider = \"none\"\n").unwrap();
        let choice = VaultChoice { flag: Some(dir.path().to_path_buf()), env: None, cwd: dir.path().to_path_buf() };
        let exo = Exo::open(&choice).unwrap();
        let options = WatchOptions::default();
        let mut said = Vec::new();
        let mut on_event = |event: WatchEvent| said.push(event);
        let mut watch = Watch::start(&exo, &options, &mut on_event).unwrap();
        assert_eq!(watch.rescan_every, options.rescan);
        watch.next_rescan = Instant::now() + Duration::from_secs(3600);

        watch.take(Signal::Trouble("the system's limit on watched folders is reached".into()));
        watch.take(Signal::Trouble("again".into()));
        assert_eq!(watch.rescan_every, options.fallback_rescan);
        assert!(watch.next_rescan <= Instant::now(), "a look at once");
        drop(watch);
        assert_eq!(said.len(), 1, "said once: {said:?}");
        assert!(
            matches!(&said[0], WatchEvent::WatchUnavailable { reason, rescan_secs: 5 } if reason.contains("limit"))
        );
    }

    /// What a server does: the loop on a thread of its own, events sent back over a channel,
    /// and a stop signal from elsewhere that ends it cleanly.
    #[test]
    fn runs_on_a_background_thread_until_stopped() {
        fn send<T: Send>() {}
        send::<Exo>();
        send::<StopSignal>();
        send::<WatchEvent>();

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("exo.toml"), "[embed]\nprovider = \"none\"\n").unwrap();
        std::fs::write(dir.path().join("first.md"), "# First\n").unwrap();
        let choice = VaultChoice { flag: Some(dir.path().to_path_buf()), env: None, cwd: dir.path().to_path_buf() };
        let exo = Exo::open(&choice).unwrap();
        let stop = StopSignal::new();
        let (sender, events) = mpsc::channel();
        let thread = std::thread::spawn({
            let stop = stop.clone();
            move || exo.watch(&WatchOptions::default(), &stop, &mut |event| sender.send(event).unwrap())
        });

        assert!(matches!(next(&events), WatchEvent::Watching { mode: WatchMode::Events, .. }));
        let WatchEvent::Reconciled(start) = next(&events) else { panic!("no start reconcile") };
        assert_eq!((start.trigger, start.new, start.status), (Trigger::Start, 1, SyncState::Synced));

        std::fs::write(dir.path().join("second.md"), "# Second\n").unwrap();
        let WatchEvent::Reconciled(change) = next(&events) else { panic!("no reconcile for the change") };
        assert_eq!((change.trigger, change.paths, change.new), (Trigger::Changes, 1, 1));
        assert_eq!(change.examples, ["second.md"]);
        assert_eq!((change.status, change.notes), (SyncState::Synced, 2));

        stop.stop();
        thread.join().unwrap().unwrap();
        assert!(matches!(next(&events), WatchEvent::Stopped { reconciles: 2 }));
    }
}
