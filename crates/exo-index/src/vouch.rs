//! Asking a running `exo watch` whether anything changed, instead of a stat of every note:
//! git's fsmonitor, for exo. The watch (exo-api's `watch::vouch`) answers on a Unix socket in
//! `.exo/`; this module holds the protocol both sides share, and the client.
//!
//! The one promise: never a false Synced. The watcher answers `clean <token>` only when no
//! file event has arrived since its last check of the files found them in line with the
//! index, and only after it has seen the event of a *cookie* file it created on receiving the
//! question, so every change made before the question was asked has reached it. The token
//! names the index it checked against; the client trusts the answer only when it still names
//! the index in the catalog now. Anything else (no watcher, a stale socket, a slow or odd
//! answer, another token) and the caller walks the files as it always did.
//!
//! The same kind of word from this process itself: [`InLine`], a walk that has just found the
//! files in line with an index (an `exo index` with nothing to do), which stands for the
//! check after it for a moment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Result;
use crate::store::catalog::Catalog;

/// The socket a watch answers on, inside the index folder.
const SOCKET: &str = "watch.sock";
/// The folder, inside the index folder, where the watch creates its cookie files.
const COOKIES: &str = "cookies";
/// What a client sends: one line.
pub const REQUEST: &str = "exo-vouch 1";
/// `clean <token> <rules>`: nothing changed since the files were last found in line with that
/// index, under those walk rules ([`rules_word`]).
pub const CLEAN: &str = "clean";
/// Something changed, or the watch cannot say: walk the files.
pub const DIRTY: &str = "dirty";
/// The cookie's event did not come in time: walk the files.
pub const UNKNOWN: &str = "unknown";
/// How long the watch waits for its cookie's event before it answers `unknown`.
pub const COOKIE_WAIT: Duration = Duration::from_millis(200);
/// How long a client waits for the answer; longer than [`COOKIE_WAIT`].
const ANSWER_WAIT: Duration = Duration::from_millis(300);

/// Where the watch of the index in `index_dir` (`.exo/`) answers.
pub fn socket_path(index_dir: &Path) -> PathBuf {
    index_dir.join(SOCKET)
}

/// Where the watch of the index in `index_dir` creates its cookies.
pub fn cookies_dir(index_dir: &Path) -> PathBuf {
    index_dir.join(COOKIES)
}

/// The index as a word that changes with every write that can change what it holds: the
/// time of the last write that changed anything. Not the commit it records: an `exo index`
/// that finds nothing to do (a post-commit hook's) records a new commit and nothing else,
/// and the files are as in line as before. None while paths are pending (a reconcile under
/// way, or killed): a walk reports those, so no word may.
pub(crate) fn token_of(catalog: &Catalog) -> Result<Option<String>> {
    let (written, pending) = catalog.stamp_and_pending()?;
    if pending {
        return Ok(None);
    }
    Ok(Some(written.unwrap_or_default().to_string()))
}

/// The rules the walk reads from outside the notes (ignore files above the vault, git's
/// global excludes, the root's `info/exclude`, `exo.toml`'s walk settings) as one word. The
/// client computes its own: a watch with another `HOME` resolves another global excludes file.
pub fn rules_word(root: &Path, config: &exo_vault::Config) -> Option<String> {
    exo_vault::rules_stamp(root, config).map(|stamp| blake3::hash(stamp.as_bytes()).to_hex().to_string())
}

/// A walk of this process that found the files in line with an index (an `exo index` that
/// had nothing to do): for a moment, a word like a watch's, so the check after the run need
/// not walk again.
#[derive(Debug, Clone)]
pub(crate) struct InLine {
    /// The index ([`token_of`]).
    pub token: String,
    /// When the walk ended.
    pub walked_at: std::time::Instant,
}

/// How long a run's walk may stand for the check after it: less than a walk of 100k notes
/// takes, so the check sees no less than a fresh walk would have begun to. A run that waited
/// longer (for a writer's lock in the embed step) is checked afresh.
pub(crate) const WALK_STANDS_FOR: Duration = Duration::from_millis(150);

impl InLine {
    /// Whether this walk stands for a check of `catalog`'s index now.
    pub(crate) fn stands_for(&self, catalog: &Catalog) -> bool {
        // A catalog that cannot say its token only costs the reuse: the files are walked.
        self.walked_at.elapsed() <= WALK_STANDS_FOR
            && token_of(catalog).ok().flatten().is_some_and(|token| token == self.token)
    }
}

/// A watch's `clean` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clean {
    /// The index it found the files in line with ([`token_of`]).
    pub token: String,
    /// The walk rules then ([`rules_word`]).
    pub rules: String,
}

/// Whether a running watch vouches that the files are as `catalog`'s index last found them,
/// under the rules this process would walk by. False on any doubt, and cheap when no watch
/// runs (one stat of the socket's path).
pub(crate) fn vouched(index: &crate::Index, catalog: &Catalog) -> bool {
    let Some(clean) = ask(&index.layout().dir) else { return false };
    let same_index = matches!(token_of(catalog), Ok(Some(current)) if current == clean.token);
    same_index && rules_word(index.vault().root(), index.vault().config()).as_ref() == Some(&clean.rules)
}

/// The answer of the watch of the index in `index_dir`, if it is `clean` and comes in time.
#[cfg(unix)]
pub fn ask(index_dir: &Path) -> Option<Clean> {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut stream = connect(&socket_path(index_dir))?;
    stream.set_read_timeout(Some(ANSWER_WAIT)).ok()?;
    stream.set_write_timeout(Some(ANSWER_WAIT)).ok()?;
    stream.write_all(format!("{REQUEST}\n").as_bytes()).ok()?;
    let mut line = String::new();
    BufReader::new(stream.take(512)).read_line(&mut line).ok()?;
    let mut words = line.strip_suffix('\n')?.split(' ');
    let (answer, token, rules) = (words.next()?, words.next()?, words.next()?);
    let whole = answer == CLEAN && !token.is_empty() && !rules.is_empty() && words.next().is_none();
    whole.then(|| Clean { token: token.to_string(), rules: rules.to_string() })
}

#[cfg(not(unix))]
pub fn ask(_index_dir: &Path) -> Option<Clean> {
    None
}

/// Connects without ever blocking: a watch that is stopped (Ctrl-Z) with its queue of
/// connections full would otherwise hold every query up (and a new watch probing for a
/// live one). A stale socket refuses at once.
#[cfg(unix)]
pub fn connect(path: &Path) -> Option<std::os::unix::net::UnixStream> {
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType, connect, socket_with};
    if !path.exists() {
        return None;
    }
    let address = SocketAddrUnix::new(path).ok()?;
    let flags = SocketFlags::CLOEXEC | SocketFlags::NONBLOCK;
    let socket = socket_with(AddressFamily::UNIX, SocketType::STREAM, flags, None).ok()?;
    connect(&socket, &address).ok()?;
    let stream = std::os::unix::net::UnixStream::from(socket);
    stream.set_nonblocking(false).ok()?;
    Some(stream)
}
