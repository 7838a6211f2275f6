//! The watch's word for queries: "nothing changed since I last found the files in line with
//! index T" (git's fsmonitor, for exo). Queries ask it on `.exo/watch.sock` instead of a stat
//! of every note; the protocol and the client live in `exo_index::vouch`.
//!
//! Invariants (the one promise: never a false Synced):
//! - Its own raw inotify watch, not the debounced one: the debouncer holds events back per
//!   path, and notify's recursive watch reports a new folder's creation before it watches
//!   the folder (a note written into it in between would be missed). Here a new folder is
//!   watched first, and only then is anything marked dirty.
//! - `dirty` is cleared just before a look at the files starts ([`Vouch::begin`]) and a
//!   word is given after it ([`Vouch::finish`]) only if the look found the files in line,
//!   and the index and the rules the walk reads from outside the vault are the same before
//!   and after. Any event that could change what the walk finds sets `dirty`; any folder
//!   moving has the whole tree watched again.
//! - An answer waits for the event of a cookie file created on receiving the question: one
//!   inotify queue is delivered in order, so every change made before the question has been
//!   seen by then. No cookie event in time: `unknown`.
//! - The word names the index it was given for; once another writer has committed one (a
//!   hook's `exo index --verify`, say), it is not given, and the first question to find so
//!   asks the event loop to look again at once (once per index), not at the next rescan.
//! - Anything it cannot watch as the walk reads it (a symlink, another file system, a watch
//!   that cannot be added, a network or unknown file system) and it never answers `clean`.
//! - Linux only (inotify); elsewhere there is no vouch and queries walk as before.

#[cfg(target_os = "linux")]
pub(crate) use linux::Vouch;

#[cfg(not(target_os = "linux"))]
pub(crate) use elsewhere::Vouch;

#[cfg(not(target_os = "linux"))]
mod elsewhere {
    use std::sync::mpsc::Sender;

    use crate::Exo;
    use crate::watch::events::Signal;

    /// No vouching without inotify: queries walk the files.
    pub(crate) struct Vouch;

    impl Vouch {
        pub(crate) fn start(_exo: &Exo, _look_again: Sender<Signal>) -> Result<Vouch, String> {
            Err("vouching needs inotify (Linux); queries check the files".into())
        }
        pub(crate) fn begin(&self, _exo: &Exo) {}
        pub(crate) fn finish(&self, _exo: &Exo, _in_line: bool) -> bool {
            false
        }
        pub(crate) fn distrust(&self) {}
        pub(crate) fn broken_reason(&self) -> Option<String> {
            None
        }
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::collections::{HashMap, HashSet};
    use std::ffi::{OsStr, OsString};
    use std::io::{BufRead, BufReader, Read, Write};
    use std::mem::MaybeUninit;
    use std::os::fd::{AsFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::net::{UnixListener, UnixStream};
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::mpsc::Sender;
    use std::sync::{Arc, Condvar, Mutex, MutexGuard};
    use std::thread::JoinHandle;
    use std::time::{Duration, Instant};

    use exo_index::vouch::{self as protocol, CLEAN, COOKIE_WAIT, DIRTY, REQUEST, UNKNOWN};
    use exo_vault::config::never_walked;
    use rustix::fs::inotify::{self, ReadFlags, WatchFlags};
    use rustix::io::Errno;

    use crate::Exo;
    use crate::watch::events::Signal;

    /// How long a connected client may take to send its one line.
    const REQUEST_WAIT: Duration = Duration::from_millis(100);
    /// Cookie names remembered without a waiting question (a stale one, a stop cookie).
    const SEEN_LIMIT: usize = 1024;
    /// The name of the cookie that wakes the event thread to stop.
    const STOP_COOKIE: &str = "stop";

    /// The word as given: for which index, and the rules outside the vault as they were.
    #[derive(Clone)]
    struct Word {
        token: String,
        rules: String,
    }

    #[derive(Default)]
    struct State {
        /// Something may have changed since the last check of the files began.
        dirty: bool,
        /// The word, from the last check that found the files in line; None while a check
        /// runs, after one that did not, or before the first.
        word: Option<Word>,
        /// The rules and the index when the running check began.
        begun: Option<(Option<String>, Option<String>)>,
        /// Why the word is never given again (the vault cannot be watched as the walk reads
        /// it), the first time: for the watch to say once.
        broken_reason: Option<String>,
        /// Cookie files whose creation the event thread has seen.
        cookies: HashSet<OsString>,
        /// Ignore files in the vault with a whitelist line that may un-hide a hidden name
        /// (the walk then reads what is not watched here): no word while there is one.
        unhiding: HashSet<PathBuf>,
    }

    struct Shared {
        state: Mutex<State>,
        cookie_seen: Condvar,
        stop: AtomicBool,
        seq: AtomicU64,
        root: PathBuf,
        cookies: PathBuf,
        socket: PathBuf,
    }

    impl Shared {
        fn lock(&self) -> MutexGuard<'_, State> {
            self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
        }

        fn mark_dirty(&self) {
            self.lock().dirty = true;
        }

        /// Reads the ignore file at `path` (again) for lines that may un-hide a hidden name.
        fn judge_rules_file(&self, path: &Path) {
            let unhides = file_unhides(path);
            let mut state = self.lock();
            match unhides {
                true => state.unhiding.insert(path.to_path_buf()),
                false => state.unhiding.remove(path),
            };
        }

        fn mark_broken(&self, reason: String) {
            let mut state = self.lock();
            state.broken_reason.get_or_insert(reason);
            state.dirty = true;
            state.word = None;
        }
    }

    /// The running vouch: an event thread, a socket thread, and the state they share with
    /// the watch loop. Dropping it stops both and removes the socket.
    pub(crate) struct Vouch {
        shared: Arc<Shared>,
        events: Option<JoinHandle<()>>,
        listener: Option<JoinHandle<()>>,
        /// Device and inode of the socket bound, so only ours is removed at the end.
        socket_identity: Option<(u64, u64)>,
    }

    impl Vouch {
        /// Sets up the watch and the socket; Err(why) when the vault cannot be vouched for
        /// (then queries walk the files, as without a watch).
        pub(crate) fn start(exo: &Exo, look_again: Sender<Signal>) -> Result<Vouch, String> {
            let root = exo.vault().root().to_path_buf();
            if !local_file_system(&root) {
                return Err(
                    "the vault is on a network or unknown file system, whose changes inotify may not see".into()
                );
            }
            let index_dir = exo.index.layout().dir.clone();
            let cookies = protocol::cookies_dir(&index_dir);
            std::fs::create_dir_all(&cookies).map_err(|e| format!("cannot make {}: {e}", cookies.display()))?;
            clear_folder(&cookies);
            let socket = protocol::socket_path(&index_dir);
            let shared = Arc::new(Shared {
                state: Mutex::new(State::default()),
                cookie_seen: Condvar::new(),
                stop: AtomicBool::new(false),
                seq: AtomicU64::new(0),
                root,
                cookies,
                socket,
            });
            let mut events = RawWatch::new(Arc::clone(&shared)).ok_or("inotify cannot be set up")?;
            events.watch_cookies().map_err(|Unwatchable(why)| why)?;
            let root_watched = |events: &RawWatch| events.watches.values().any(|(path, _)| *path == events.shared.root);
            events.watch_tree(&shared.root).map_err(|Unwatchable(why)| why)?;
            if !root_watched(&events) {
                return Err("the vault folder cannot be watched".into());
            }
            let listener = bind(&shared.socket)?;
            let socket_identity = std::fs::metadata(&shared.socket).ok().map(|m| (m.dev(), m.ino()));
            let events = std::thread::Builder::new().name("exo-vouch-events".into()).spawn(move || events.run()).ok();
            let listening = Arc::clone(&shared);
            let mut stale =
                StaleWord { index: exo_index::Index::new(exo.vault().clone()), look_again, asked_for: None };
            let listener = std::thread::Builder::new()
                .name("exo-vouch-socket".into())
                .spawn(move || serve(&listening, &listener, &mut stale))
                .ok();
            let vouch = Vouch { shared, events, listener, socket_identity };
            match vouch.events.is_some() && vouch.listener.is_some() {
                true => Ok(vouch),
                false => Err("its threads could not be started".into()),
            }
        }

        /// A check of the files is about to begin: take the word back and start counting
        /// changes from here.
        pub(crate) fn begin(&self, exo: &Exo) {
            let rules = protocol::rules_word(&self.shared.root, exo.vault().config());
            let mut state = self.shared.lock();
            state.dirty = false;
            state.word = None;
            drop(state);
            // Read after `dirty` is cleared, before the check: a writer that commits in
            // between changes the token, and a look then gives no word.
            let token = exo.index.vouch_token().ok().flatten();
            self.shared.lock().begun = Some((rules, token));
        }

        /// The look begun by [`Vouch::begin`] is over; `in_line` when it found the files in
        /// line with the index. The word is given only if nothing changed meanwhile, the index
        /// included: another writer may commit an index made from an older walk (or by other
        /// rules) while the look runs, and that one was never compared with the files.
        /// True when only another writer's finished commit withheld the word: worth another
        /// look soon, since no question will ask for one (they stop at the missing word).
        pub(crate) fn finish(&self, exo: &Exo, in_line: bool) -> bool {
            if !in_line {
                // No word: nothing to read of the index or the rules.
                let mut state = self.shared.lock();
                (state.begun, state.word) = (None, None);
                return false;
            }
            let token = exo.index.vouch_token().ok().flatten();
            let config = exo.vault().config().clone();
            let rules = protocol::rules_word(&self.shared.root, &config);
            // What the walk reads beyond what is watched: hidden notes folders, or a whitelist
            // line outside the vault that may un-hide a hidden name.
            let unwatched =
                config.notes.iter().any(|folder| {
                    Path::new(folder)
                        .components()
                        .any(|c| matches!(c, std::path::Component::Normal(name) if never_walked(name)))
                }) || exo_vault::rules_files(&self.shared.root, &config).iter().any(|file| file_unhides(file));
            let mut state = self.shared.lock();
            let Some((rules_begun, token_begun)) = state.begun.take() else { return false };
            let same_index = token_begun == token;
            // A writer still at work (paths pending: no token) is looked at again by the
            // rescan after it, not every second while it runs.
            let committed = token.is_some();
            let watched = !state.dirty && state.broken_reason.is_none() && !unwatched && state.unhiding.is_empty();
            state.word = match (token, rules) {
                (Some(token), Some(rules)) if watched && same_index && rules_begun.as_ref() == Some(&rules) => {
                    Some(Word { token, rules })
                }
                _ => None,
            };
            watched && !same_index && committed
        }

        /// The loop's own events can no longer be trusted (a watch limit, a failed watch,
        /// polling): no word until the watch is started again.
        pub(crate) fn distrust(&self) {
            self.shared.mark_broken("file events can no longer be trusted".into());
        }

        /// Why the word is withdrawn for good, once it is.
        pub(crate) fn broken_reason(&self) -> Option<String> {
            self.shared.lock().broken_reason.clone()
        }
    }

    impl Drop for Vouch {
        fn drop(&mut self) {
            self.shared.stop.store(true, Ordering::SeqCst);
            // Wakes the event thread (blocked reading inotify) and the listener (in accept);
            // a thread that cannot be woken (the cookie folder gone, the socket another
            // watch's now) is left to end with the process rather than waited for forever.
            let woken = std::fs::File::create(self.shared.cookies.join(STOP_COOKIE)).is_ok();
            if let Some(events) = self.events.take().filter(|_| woken) {
                let _ = events.join();
            }
            let found = std::fs::symlink_metadata(&self.shared.socket).ok().map(|m| (m.dev(), m.ino()));
            let ours = found.is_some() && found == self.socket_identity;
            if let Some(listener) =
                self.listener.take().filter(|_| ours && UnixStream::connect(&self.shared.socket).is_ok())
            {
                let _ = listener.join();
            }
            if ours {
                let _ = std::fs::remove_file(&self.shared.socket);
            }
            clear_folder(&self.shared.cookies);
        }
    }

    /// Binds the socket, replacing a stale one (nobody answers on it); Err when another
    /// watch answers there, the path is too long for a socket address, or binding fails.
    fn bind(socket: &Path) -> Result<UnixListener, String> {
        if std::fs::symlink_metadata(socket).is_ok() {
            // Never blocking: a stopped watch with a full queue of connections would hang us.
            if protocol::connect(socket).is_some() {
                return Err("another exo watch already answers for this vault".into());
            }
            std::fs::remove_file(socket).map_err(|e| format!("cannot remove the stale {}: {e}", socket.display()))?;
        }
        UnixListener::bind(socket).map_err(|e| format!("cannot listen on {}: {e}", socket.display()))
    }

    /// Answers one question per connection, in turn, until stopped.
    /// What the answering thread needs to notice a word that names an index which is gone.
    struct StaleWord {
        /// The vault's index, for its current token.
        index: exo_index::Index,
        look_again: Sender<Signal>,
        /// The index the watch was last asked to look again for: once per index, so a writer
        /// that commits batch after batch (a long fill) costs one look each, not one per query.
        asked_for: Option<String>,
    }

    impl StaleWord {
        /// Whether `word` still names the index in the catalog; if another writer has
        /// committed one since, asks the event loop to look again (once for that index).
        fn current_or_look_again(&mut self, word: &Word) -> bool {
            let current = match self.index.vouch_token() {
                Ok(Some(current)) => current,
                // Paths pending (a writer at work) or an unreadable catalog: no word, and no
                // look until a committed index is there to give it for.
                Ok(None) | Err(_) => return false,
            };
            if current == word.token {
                return true;
            }
            if self.asked_for.as_ref() != Some(&current) {
                let _ = self.look_again.send(Signal::LookAgain);
                self.asked_for = Some(current);
            }
            false
        }
    }

    fn serve(shared: &Shared, listener: &UnixListener, stale: &mut StaleWord) {
        for stream in listener.incoming() {
            if shared.stop.load(Ordering::SeqCst) {
                break;
            }
            match stream {
                Ok(stream) => answer_client(shared, stream, stale),
                // Out of file descriptors, say: retrying at once would spin a core.
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    fn answer_client(shared: &Shared, mut stream: UnixStream, stale: &mut StaleWord) {
        if stream.set_read_timeout(Some(REQUEST_WAIT)).is_err() || stream.set_write_timeout(Some(REQUEST_WAIT)).is_err()
        {
            return;
        }
        let mut line = String::new();
        let asked = match stream.try_clone() {
            Ok(reader) => BufReader::new(reader.take(256)).read_line(&mut line).is_ok(),
            Err(_) => false,
        };
        let reply = match asked && line.trim_end() == REQUEST {
            true => answer(shared, stale),
            false => UNKNOWN.to_string(),
        };
        let _ = stream.write_all(format!("{reply}\n").as_bytes());
    }

    /// `clean <token> <rules>`, `dirty` or `unknown`, after every change made before the question
    /// has reached the event thread (the cookie's event comes after theirs).
    fn answer(shared: &Shared, stale: &mut StaleWord) -> String {
        {
            let state = shared.lock();
            if state.broken_reason.is_some() || state.word.is_none() {
                return DIRTY.to_string();
            }
        }
        let name = OsString::from(format!("{}-{}", std::process::id(), shared.seq.fetch_add(1, Ordering::SeqCst)));
        let cookie = shared.cookies.join(&name);
        if std::fs::File::create(&cookie).is_err() {
            return UNKNOWN.to_string();
        }
        let word = wait_for_cookie(shared, &name);
        let _ = std::fs::remove_file(&cookie);
        match word {
            Err(()) => UNKNOWN.to_string(),
            // The client compares the rules with its own (`exo_index::vouch::vouched`, under its
            // HOME): judging them here as well cost every query a second stamp of them.
            Ok(Some(word)) if stale.current_or_look_again(&word) => format!("{CLEAN} {} {}", word.token, word.rules),
            Ok(_) => DIRTY.to_string(),
        }
    }

    /// Waits for the event thread to see the cookie `name`; then the word, if it still
    /// stands. Err(()) when the cookie's event does not come within [`COOKIE_WAIT`].
    fn wait_for_cookie(shared: &Shared, name: &OsStr) -> Result<Option<Word>, ()> {
        let deadline = Instant::now() + COOKIE_WAIT;
        let mut state = shared.lock();
        while !state.cookies.remove(name) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(());
            }
            state = match shared.cookie_seen.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        Ok(match state.dirty || state.broken_reason.is_some() || !state.unhiding.is_empty() {
            true => None,
            false => state.word.clone(),
        })
    }

    /// What a watched folder is to the event thread.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Kind {
        /// A folder the walk reads: any change of a name it does not skip is dirt.
        Content,
        /// A `.git` folder: only its `info/` (where `exclude` lives) matters.
        GitDir,
        /// `.git/info/`: the exclude file the walk reads.
        GitInfo,
        /// `.exo/cookies/`: the answers' cookies, never dirt.
        Cookies,
    }

    /// The raw inotify watch: one queue, read in order on one thread.
    struct RawWatch {
        fd: OwnedFd,
        shared: Arc<Shared>,
        watches: HashMap<i32, (PathBuf, Kind)>,
        root_device: u64,
    }

    /// A change a folder can see that can change what the walk finds. No opens, reads or
    /// closes after reading: a reconcile reads every changed note.
    fn mask() -> WatchFlags {
        WatchFlags::CREATE
            | WatchFlags::DELETE
            | WatchFlags::MODIFY
            | WatchFlags::ATTRIB
            | WatchFlags::CLOSE_WRITE
            | WatchFlags::MOVED_FROM
            | WatchFlags::MOVED_TO
            | WatchFlags::DELETE_SELF
            | WatchFlags::MOVE_SELF
            | WatchFlags::ONLYDIR
            | WatchFlags::DONT_FOLLOW
    }

    /// Why a folder cannot be watched as the walk reads it, said as the watch's reason.
    #[derive(Debug)]
    struct Unwatchable(String);

    impl RawWatch {
        fn new(shared: Arc<Shared>) -> Option<RawWatch> {
            let fd = inotify::init(inotify::CreateFlags::CLOEXEC).ok()?;
            let root_device = std::fs::metadata(&shared.root).ok()?.dev();
            Some(RawWatch { fd, shared, watches: HashMap::new(), root_device })
        }

        fn watch_cookies(&mut self) -> Result<(), Unwatchable> {
            let cookies = self.shared.cookies.clone();
            match self.add(&cookies, Kind::Cookies)? {
                true => Ok(()),
                false => Err(Unwatchable(format!("{} vanished", cookies.display()))),
            }
        }

        /// Watches `path`; Ok(false) when it is gone already (its removal is an event too).
        fn add(&mut self, path: &Path, kind: Kind) -> Result<bool, Unwatchable> {
            match inotify::add_watch(self.fd.as_fd(), path, mask()) {
                Ok(wd) => {
                    self.watches.insert(wd, (path.to_path_buf(), kind));
                    Ok(true)
                }
                Err(Errno::NOENT | Errno::NOTDIR) => Ok(false),
                Err(Errno::NOSPC) => Err(Unwatchable(format!(
                    "cannot watch {}: the inotify watch limit is reached (sysctl fs.inotify.max_user_watches)",
                    path.display()
                ))),
                Err(e) => Err(Unwatchable(format!("cannot watch {}: {e}", path.display()))),
            }
        }

        /// Watches `top` and every folder under it the walk reads, each before it is listed,
        /// so nothing created in one goes unseen by both this watch and the listing.
        fn watch_tree(&mut self, top: &Path) -> Result<(), Unwatchable> {
            let mut folders = vec![top.to_path_buf()];
            while let Some(folder) = folders.pop() {
                match std::fs::symlink_metadata(&folder) {
                    Ok(meta) if meta.dev() != self.root_device => {
                        return Err(Unwatchable(format!("{} is another file system", folder.display())));
                    }
                    // Replaced since it was listed: the replacement's own event says so.
                    Ok(meta) if !meta.is_dir() => continue,
                    Ok(_) => {}
                    Err(e) if gone(&e) => continue,
                    Err(e) => return Err(Unwatchable(format!("cannot read {}: {e}", folder.display()))),
                }
                if !self.add(&folder, Kind::Content)? {
                    continue;
                }
                // A folder that cannot be listed (no search permission, out of file
                // descriptors) would leave its subfolders unwatched while the walk may read
                // them later: no word at all, rather than one with a hole in it.
                let entries = match std::fs::read_dir(&folder) {
                    Ok(entries) => entries,
                    Err(e) if gone(&e) => continue,
                    Err(e) => return Err(Unwatchable(format!("cannot list {}: {e}", folder.display()))),
                };
                for entry in entries {
                    let entry = entry.map_err(|e| Unwatchable(format!("cannot list {}: {e}", folder.display())))?;
                    let name = entry.file_name();
                    let file_type = match entry.file_type() {
                        Ok(file_type) => file_type,
                        Err(e) if gone(&e) => continue,
                        Err(e) => return Err(Unwatchable(format!("cannot read {}: {e}", entry.path().display()))),
                    };
                    if never_walked(&name) {
                        if name == ".git" && file_type.is_dir() {
                            self.watch_git(&entry.path())?;
                        } else if name == ".git" && folder != self.shared.root {
                            // A submodule's: its exclude file lives where nothing watches.
                            return Err(Unwatchable(submodule(&entry.path())));
                        }
                        if is_ignore_file(&name) {
                            self.shared.judge_rules_file(&entry.path());
                        }
                        continue;
                    }
                    if file_type.is_symlink() {
                        // The walk follows links inside the vault, to places not watched here.
                        return Err(Unwatchable(symlink(&entry.path())));
                    }
                    if file_type.is_dir() {
                        folders.push(entry.path());
                    }
                }
            }
            Ok(())
        }

        fn watch_git(&mut self, git: &Path) -> Result<(), Unwatchable> {
            if self.add(git, Kind::GitDir)? && self.add(&git.join("info"), Kind::GitInfo)? {
                self.shared.judge_rules_file(&git.join("info/exclude"));
            }
            Ok(())
        }

        /// Watches the whole tree again, after a folder moved or the event queue overflowed
        /// (events lost): the same folder keeps its
        /// watch (adding it again returns it, now under its new path), and every ignore file
        /// is judged afresh. Forgetting the old path instead broke on an exchange of two
        /// folders (`mv --exchange a b`: the second `moved from` named the path the first
        /// folder had just been watched under). Watches of folders moved out of the vault
        /// stay; their events only ever mark dirt.
        fn rewatch_all(&mut self) {
            self.shared.lock().unhiding.clear();
            let root = self.shared.root.clone();
            match self.watch_tree(&root) {
                Ok(()) => self.shared.mark_dirty(),
                Err(Unwatchable(why)) => self.shared.mark_broken(why),
            }
        }

        fn run(mut self) {
            let mut buffer = [MaybeUninit::<u8>::uninit(); 64 * 1024];
            let fd = self.fd.try_clone();
            let Ok(fd) = fd else { return self.shared.mark_broken("inotify cannot be read".into()) };
            let mut reader = inotify::Reader::new(fd, &mut buffer);
            while !self.shared.stop.load(Ordering::SeqCst) {
                match reader.next() {
                    Ok(event) => {
                        let name = event.file_name().map(|n| OsStr::from_bytes(n.to_bytes()).to_os_string());
                        self.take(event.wd(), event.events(), name);
                        if self.shared.lock().broken_reason.is_some() {
                            // No word will be given again: nothing left to watch for.
                            return;
                        }
                    }
                    Err(Errno::INTR) => {}
                    Err(e) => return self.shared.mark_broken(format!("inotify cannot be read: {e}")),
                }
            }
        }

        /// One event, in queue order: new folders are watched before anything is marked.
        fn take(&mut self, wd: i32, flags: ReadFlags, name: Option<OsString>) {
            if flags.contains(ReadFlags::QUEUE_OVERFLOW) {
                // Events were lost, new folders and removed ignore files among them perhaps:
                // watch everything again and judge every ignore file afresh.
                return self.rewatch_all();
            }
            let Some((folder, kind)) = self.watches.get(&wd).cloned() else {
                // A watch already forgotten (moved away); its last events count as dirt.
                return self.shared.mark_dirty();
            };
            if flags.contains(ReadFlags::IGNORED) {
                self.watches.remove(&wd);
                return match kind {
                    Kind::Cookies => self.shared.mark_broken(format!("{} was removed", folder.display())),
                    _ => self.shared.mark_dirty(),
                };
            }
            match kind {
                Kind::Cookies => self.take_cookie(flags, name),
                Kind::GitInfo => {
                    self.shared.judge_rules_file(&folder.join("exclude"));
                    self.shared.mark_dirty();
                }
                Kind::GitDir => self.take_git(&folder, flags, name),
                Kind::Content => self.take_content(&folder, flags, name),
            }
        }

        fn take_cookie(&mut self, flags: ReadFlags, name: Option<OsString>) {
            let Some(name) = name.filter(|_| flags.intersects(ReadFlags::CREATE | ReadFlags::MOVED_TO)) else {
                return;
            };
            let mut state = self.shared.lock();
            if state.cookies.len() >= SEEN_LIMIT {
                state.cookies.clear();
            }
            state.cookies.insert(name);
            self.shared.cookie_seen.notify_all();
        }

        fn take_git(&mut self, folder: &Path, flags: ReadFlags, name: Option<OsString>) {
            match name {
                Some(name) if name == "info" => {
                    if flags.intersects(ReadFlags::CREATE | ReadFlags::MOVED_TO)
                        && let Err(Unwatchable(why)) = self.add(&folder.join("info"), Kind::GitInfo)
                    {
                        return self.shared.mark_broken(why);
                    }
                    self.shared.judge_rules_file(&folder.join("info/exclude"));
                    self.shared.mark_dirty();
                }
                Some(_) => {}
                None => self.shared.mark_dirty(),
            }
        }

        fn take_content(&mut self, folder: &Path, flags: ReadFlags, name: Option<OsString>) {
            let Some(name) = name else {
                // The folder itself: removed, moved, its permissions changed.
                return self.shared.mark_dirty();
            };
            let path = folder.join(&name);
            let arrived = flags.intersects(ReadFlags::CREATE | ReadFlags::MOVED_TO);
            if never_walked(&name) {
                let rules = is_ignore_file(&name);
                if name == ".git" {
                    let watched = match (arrived, std::fs::symlink_metadata(&path)) {
                        (true, Ok(meta)) if meta.is_dir() => self.watch_git(&path),
                        // A submodule's `.git` file: its exclude file lives where nothing watches.
                        (true, Ok(_)) if folder != self.shared.root => Err(Unwatchable(submodule(&path))),
                        _ => Ok(()),
                    };
                    if let Err(Unwatchable(why)) = watched {
                        return self.shared.mark_broken(why);
                    }
                    return self.shared.mark_dirty();
                }
                if rules {
                    self.shared.judge_rules_file(&path);
                    self.shared.mark_dirty();
                }
                return;
            }
            if flags.intersects(ReadFlags::MOVED_FROM | ReadFlags::MOVED_TO) && flags.contains(ReadFlags::ISDIR) {
                return self.rewatch_all();
            }
            if arrived {
                let watched = match std::fs::symlink_metadata(&path) {
                    Ok(meta) if meta.file_type().is_symlink() => Err(Unwatchable(symlink(&path))),
                    Ok(meta) if meta.is_dir() => self.watch_tree(&path),
                    _ => Ok(()),
                };
                if let Err(Unwatchable(why)) = watched {
                    return self.shared.mark_broken(why);
                }
            }
            self.shared.mark_dirty();
        }
    }

    fn symlink(path: &Path) -> String {
        format!("{} is a symlink (the walk follows links to places no watch covers)", path.display())
    }

    fn submodule(path: &Path) -> String {
        format!("{} is a submodule's (its exclude file lives where no watch covers)", path.display())
    }

    /// The path is no longer there (or no longer a folder): its removal is an event of its own.
    fn gone(error: &std::io::Error) -> bool {
        matches!(error.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory)
    }

    fn is_ignore_file(name: &OsStr) -> bool {
        exo_vault::config::IGNORE_FILES.iter().any(|file| name == *file)
    }

    /// Whether the ignore file at `path` has a whitelist line that may match a hidden name
    /// (a `.` component, or a glob): hidden names are skipped by the walk only when no
    /// whitelist matches them. Unreadable or missing: no.
    fn file_unhides(path: &Path) -> bool {
        let Ok(text) = std::fs::read(path) else { return false };
        String::from_utf8_lossy(&text).lines().any(|line| match line.trim().strip_prefix('!') {
            Some(pattern) => {
                pattern.contains(['*', '?', '[', '\\']) || pattern.split('/').any(|part| part.starts_with('.'))
            }
            None => false,
        })
    }

    /// File systems whose changes all pass through this kernel, so inotify sees every one.
    /// Network and FUSE file systems (changed by other machines or processes unseen) are not.
    fn local_file_system(root: &Path) -> bool {
        const LOCAL: &[i64] = &[
            0xEF53,      // ext2, ext3, ext4
            0x5846_5342, // xfs
            0x9123_683E, // btrfs
            0x0102_1994, // tmpfs
            0xF2F5_2010, // f2fs
            0x2FC1_2FC1, // zfs
        ];
        match rustix::fs::statfs(root) {
            #[allow(clippy::unnecessary_cast)] // i64 on 64-bit targets, narrower elsewhere
            Ok(info) => LOCAL.contains(&(info.f_type as i64)),
            Err(_) => false,
        }
    }

    fn clear_folder(folder: &Path) {
        if let Ok(entries) = std::fs::read_dir(folder) {
            for entry in entries.flatten() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use exo_index::vouch::ask;

    use super::Vouch;
    use crate::{Exo, SyncProgress, SyncRequest, VaultChoice};

    /// Gives the word again (as the loop does after a check) once the last round's events
    /// are in, and waits until a question is answered `clean`.
    fn give_word(vouch: &Vouch, exo: &Exo, index_dir: &Path) {
        let started = Instant::now();
        while ask(index_dir).is_none() {
            assert!(started.elapsed() < Duration::from_secs(30), "the word was never given");
            std::thread::sleep(Duration::from_millis(2));
            vouch.begin(exo);
            vouch.finish(exo, true);
        }
    }

    /// The race the cookie exists for, in one process so the window is as short as it gets:
    /// a change, then at once a question. Answered without waiting for the cookie, some
    /// rounds come back `clean` before the event thread has seen the change.
    #[test]
    fn a_change_made_before_the_question_is_never_answered_clean() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("exo.toml"), "[embed]\nprovider = \"none\"\n").unwrap();
        let note = dir.path().join("note.md");
        std::fs::write(&note, "# Note\n").unwrap();
        let choice = VaultChoice { flag: Some(dir.path().to_path_buf()), env: None, cwd: dir.path().to_path_buf() };
        let exo = Exo::open(&choice).unwrap();
        exo.sync(&SyncRequest::default(), SyncProgress::default()).unwrap();
        let (look_again, _) = std::sync::mpsc::channel();
        let vouch = Vouch::start(&exo, look_again).expect("a vault on a local file system is vouched for");
        let index_dir = exo.index.layout().dir.clone();

        assert_eq!(ask(&index_dir), None, "no word before the first check");
        for round in 0..1000 {
            give_word(&vouch, &exo, &index_dir);
            std::fs::write(&note, format!("# Note\n\nround {round}\n")).unwrap();
            assert_eq!(ask(&index_dir), None, "round {round}: clean right after a change");
        }
        // A new folder and a note in it: never clean either.
        give_word(&vouch, &exo, &index_dir);
        std::fs::create_dir(dir.path().join("new")).unwrap();
        std::fs::write(dir.path().join("new/deep.md"), "# Deep\n").unwrap();
        assert_eq!(ask(&index_dir), None, "clean after a new folder");

        // Dropped: the socket is gone, and nobody answers.
        let socket = exo_index::vouch::socket_path(&index_dir);
        drop(vouch);
        assert!(!socket.exists());
        assert_eq!(ask(&index_dir), None);
    }
}
