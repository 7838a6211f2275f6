//! `exo watch`: the real binary as a child process on a vault in a real git repository, its
//! `--json` lines read with deadlines. Whether a change was indexed is judged by `exo status`
//! and by the index files themselves, never by sleeping and hoping.

use std::io::{BufRead, BufReader};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::TestVault;

/// Generous: CI machines are slow and these tests share two cores with the rest.
pub(crate) const DEADLINE: Duration = Duration::from_secs(30);

/// A running `exo watch --json`, its stdout lines parsed as they come (also `watch_vouch.rs`'s).
pub(crate) struct Watcher {
    /// What the watch said before its first reconcile when queries cannot take its word.
    pub(crate) not_vouching: Option<Value>,
    child: Child,
    events: Receiver<Value>,
    stderr: Receiver<String>,
}

impl Watcher {
    /// Starts the watch and waits for its first reconcile (the look on start).
    pub(crate) fn start(vault: &TestVault, extra: &[&str]) -> Watcher {
        let mut child = vault
            .exo_cmd()
            .args(["watch", "--json"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (events_tx, events) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let event = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                if events_tx.send(event).is_err() {
                    break;
                }
            }
        });
        let (stderr_tx, stderr) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let text: Vec<String> = BufReader::new(err).lines().map_while(Result::ok).collect();
            let _ = stderr_tx.send(text.join("\n"));
        });
        let mut watcher = Watcher { not_vouching: None, child, events, stderr };
        let watching = watcher.next_event();
        assert_eq!(watching["event"], "watching", "{watching}");
        let mut first = watcher.next_event();
        if first["event"] == "not_vouching" {
            // A vault queries cannot take the watch's word for (say, a network file system
            // under the test's temp dir): said before the first reconcile, and nothing more.
            watcher.not_vouching = Some(first);
            first = watcher.next_event();
        }
        assert_eq!(
            (first["event"].as_str(), first["trigger"].as_str()),
            (Some("reconciled"), Some("start")),
            "{first}"
        );
        watcher
    }

    pub(crate) fn next_event(&mut self) -> Value {
        match self.events.recv_timeout(DEADLINE) {
            Ok(event) => event,
            Err(RecvTimeoutError::Timeout) => panic!("no event from exo watch within {DEADLINE:?}"),
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.wait().unwrap();
                panic!("exo watch ended ({status}): {}", self.stderr.recv().unwrap_or_default())
            }
        }
    }

    /// Every event up to and including the first reconcile after which `done` holds.
    fn events_until(&mut self, vault: &TestVault, done: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let event = self.next_event();
            assert_ne!(event["event"], "reconcile_failed", "{event}");
            let reconciled = event["event"] == "reconciled";
            seen.push(event);
            if reconciled && done(&vault.status_json()) {
                return seen;
            }
        }
    }

    /// Events already written, without waiting.
    fn drain(&mut self) -> Vec<Value> {
        self.events.try_iter().collect()
    }

    /// SIGTERM, as a service manager sends it; waits for the exit.
    fn terminate(mut self) -> (ExitStatus, Vec<Value>) {
        let pid = self.child.id().to_string();
        let kill = std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(kill.success());
        let status = wait_with_deadline(&mut self.child);
        let mut rest = Vec::new();
        while let Ok(event) = self.events.recv_timeout(Duration::from_secs(5)) {
            rest.push(event);
        }
        (status, rest)
    }
}

impl Watcher {
    /// SIGKILL: no chance to clean up (its socket, a reconcile under way).
    pub(crate) fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_with_deadline(child: &mut Child) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(started.elapsed() < DEADLINE, "exo watch did not exit within {DEADLINE:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A vault in a git repository with one note, indexed; vectors off unless asked for (the
/// built-in model is slow in debug builds, and only one test is about vectors).
fn vault(vectors: bool) -> TestVault {
    let vault = TestVault::git_repo();
    if !vectors {
        let config = std::fs::read_to_string(vault.root.join("exo.toml")).unwrap();
        vault.write("exo.toml", &format!("{config}\n[embed]\nprovider = \"none\"\n"));
    }
    vault.write("notes/first.md", "# First\n\nThe first note of the vault.\n");
    vault.commit_all("first");
    vault
}

fn synced(status: &Value) -> bool {
    status["status"] == "Synced"
}

fn synced_with_vectors(status: &Value) -> bool {
    let vectors = &status["vectors"];
    synced(status) && vectors["chunks"].as_u64() > Some(0) && vectors["embedded"] == vectors["chunks"]
}

fn indexed_paths(vault: &TestVault) -> Vec<String> {
    vault.index_contents().notes.into_keys().collect()
}

fn reconciles(events: &[Value]) -> Vec<&Value> {
    events.iter().filter(|e| e["event"] == "reconciled").collect()
}

#[test]
fn create_modify_delete_and_rename_each_become_synced_with_vectors() {
    let vault = vault(true);
    let mut watcher = Watcher::start(&vault, &[]);

    vault.write("notes/cats.md", "# Cats\n\nCats sleep most of the day and hunt at dusk.\n");
    watcher.events_until(&vault, synced_with_vectors);
    assert!(indexed_paths(&vault).contains(&"notes/cats.md".to_string()));
    let chunks_before = vault.status_json()["vectors"]["chunks"].as_u64();

    vault.write("notes/cats.md", "# Cats\n\nCats sleep.\n\n## Hunting\n\nThey hunt mice at dusk, alone.\n");
    let events = watcher.events_until(&vault, synced_with_vectors);
    assert!(reconciles(&events).iter().any(|e| e["modified"] == 1), "{events:?}");
    assert!(vault.status_json()["vectors"]["chunks"].as_u64() > chunks_before, "the new section has its vector");
    let hash = blake3::hash(&std::fs::read(vault.root.join("notes/cats.md")).unwrap()).to_hex().to_string();
    assert_eq!(vault.index_contents().notes["notes/cats.md"], hash);

    std::fs::rename(vault.root.join("notes/cats.md"), vault.root.join("notes/felines.md")).unwrap();
    let events = watcher.events_until(&vault, synced);
    assert!(reconciles(&events).iter().any(|e| e["renamed"] == 1), "{events:?}");
    assert_eq!(indexed_paths(&vault), ["notes/felines.md", "notes/first.md"]);

    vault.remove("notes/felines.md");
    watcher.events_until(&vault, synced);
    assert_eq!(indexed_paths(&vault), ["notes/first.md"]);
}

#[test]
fn a_folder_renamed_moves_its_notes_in_the_index() {
    let vault = vault(false);
    vault.write("notes/projects/alpha.md", "# Alpha\n\nFirst project.\n");
    vault.write("notes/projects/deep/beta.md", "# Beta\n\nSecond project.\n");
    let mut watcher = Watcher::start(&vault, &[]);

    std::fs::rename(vault.root.join("notes/projects"), vault.root.join("archive")).unwrap();
    let events = watcher.events_until(&vault, |status| synced(status) && status["notes"] == 3);
    assert_eq!(reconciles(&events).iter().map(|e| e["renamed"].as_u64().unwrap()).sum::<u64>(), 2, "{events:?}");
    assert_eq!(indexed_paths(&vault), ["archive/alpha.md", "archive/deep/beta.md", "notes/first.md"]);

    // The moved folder is still watched under its new name.
    vault.write("archive/deep/gamma.md", "# Gamma\n");
    watcher.events_until(&vault, |status| synced(status) && status["notes"] == 4);
    assert!(indexed_paths(&vault).contains(&"archive/deep/gamma.md".to_string()));
}

#[test]
fn editor_saves_through_temp_files_and_backups_are_seen() {
    let vault = vault(false);
    let mut watcher = Watcher::start(&vault, &[]);
    let note = vault.root.join("notes/first.md");

    // Atomic save (VS Code, Obsidian plugins, most libraries): a temp file renamed over the note.
    let temp = vault.root.join("notes/.first.md.tmp-81723");
    std::fs::write(&temp, "# First\n\nSaved through a temp file.\n").unwrap();
    std::fs::rename(&temp, &note).unwrap();
    watcher.events_until(&vault, synced);
    let hash = blake3::hash(&std::fs::read(&note).unwrap()).to_hex().to_string();
    assert_eq!(vault.index_contents().notes["notes/first.md"], hash, "the index holds the renamed-in text");

    // vim: probe the folder with `4913`, move the note to a `~` backup, write anew, drop the backup.
    let probe = vault.root.join("notes/4913");
    std::fs::write(&probe, "").unwrap();
    std::fs::remove_file(&probe).unwrap();
    let backup = vault.root.join("notes/first.md~");
    std::fs::rename(&note, &backup).unwrap();
    std::fs::write(&note, "# First\n\nSaved the way vim saves.\n").unwrap();
    std::fs::remove_file(&backup).unwrap();
    watcher.events_until(&vault, synced);
    let hash = blake3::hash(&std::fs::read(&note).unwrap()).to_hex().to_string();
    assert_eq!(vault.index_contents().notes["notes/first.md"], hash);
    assert_eq!(indexed_paths(&vault), ["notes/first.md"], "no scratch file was indexed");
}

#[test]
fn a_checkout_of_a_thousand_files_is_one_batch_not_a_thousand_runs() {
    let vault = vault(false);
    vault.git_ok(["checkout", "-q", "-b", "big"]);
    for i in 0..1000 {
        vault.write(&format!("notes/bulk/{:02}/n{i:04}.md", i % 40), &format!("# Note {i}\n\nBody of note {i}.\n"));
    }
    vault.commit_all("a thousand notes");
    vault.git_ok(["checkout", "-q", "main"]);
    let mut watcher = Watcher::start(&vault, &[]);

    vault.git_ok(["checkout", "-q", "big"]);
    let events = watcher.events_until(&vault, |status| synced(status) && status["notes"] == 1001);
    assert_eq!(indexed_paths(&vault).len(), 1001);
    let new: u64 = reconciles(&events).iter().map(|e| e["new"].as_u64().unwrap()).sum();
    assert_eq!(new, 1000, "{events:?}");
    let runs = reconciles_after_start(watcher);
    assert!(runs < 20, "{runs} reconciles for one checkout");
    eprintln!("a checkout of 1,000 notes took {runs} reconcile(s)");

    // And back: the files it removes are one batch too.
    let mut watcher = Watcher::start(&vault, &[]);
    vault.git_ok(["checkout", "-q", "main"]);
    watcher.events_until(&vault, |status| synced(status) && status["notes"] == 1);
    assert_eq!(indexed_paths(&vault), ["notes/first.md"]);
    let runs = reconciles_after_start(watcher);
    assert!(runs < 20, "{runs} reconciles for one checkout");
}

/// Stops the watch and counts every reconcile it ran after its first, including any still
/// queued when the change was already indexed (the count comes from the watch itself).
fn reconciles_after_start(watcher: Watcher) -> u64 {
    let (status, rest) = watcher.terminate();
    assert_eq!(status.code(), Some(0));
    let stopped = rest.iter().find(|e| e["event"] == "stopped").expect("a stopped event");
    stopped["reconciles"].as_u64().unwrap() - 1
}

#[test]
fn obsidian_churn_and_scratch_files_start_no_reconcile() {
    let vault = vault(false);
    vault.write(".gitignore", ".exo/\nbuild/\n");
    let mut watcher = Watcher::start(&vault, &[]);

    for i in 0..20 {
        vault.write(".obsidian/workspace.json", &format!("{{\"active\": {i}}}"));
        vault.write(".obsidian/plugins/sync/data.json", &format!("{{\"n\": {i}}}"));
    }
    vault.write("notes/.first.md.swp", "swap");
    vault.write("notes/first.md~", "backup");
    vault.write("notes/#first.md#", "emacs");
    vault.write("build/out.md", "# ignored by .gitignore");
    vault.write(".trash/old.md", "# Obsidian's trash");
    // Reading notes (as exo itself and every viewer does) is no change either.
    let _ = std::fs::read(vault.root.join("notes/first.md")).unwrap();
    vault.git_ok(["add", "-A"]);
    vault.git_ok(["commit", "-q", "-m", "scratch"]);

    // A sentinel: the next reconcile must be for this note alone.
    vault.write("notes/sentinel.md", "# Sentinel\n");
    let events = watcher.events_until(&vault, |status| synced(status) && status["notes"] == 2);
    let runs = reconciles(&events);
    assert_eq!(runs.len(), 1, "only the sentinel starts a reconcile: {events:?}");
    assert_eq!((runs[0]["paths"].as_u64(), runs[0]["new"].as_u64()), (Some(1), Some(1)), "{events:?}");
    assert_eq!(indexed_paths(&vault), ["notes/first.md", "notes/sentinel.md"]);
}

#[test]
fn changes_to_the_ignore_rules_are_applied_while_watching() {
    let vault = vault(false);
    vault.write("drafts/wip.md", "# Work in progress\n");
    let mut watcher = Watcher::start(&vault, &[]);
    assert_eq!(indexed_paths(&vault), ["drafts/wip.md", "notes/first.md"]);

    let config = std::fs::read_to_string(vault.root.join("exo.toml")).unwrap();
    vault.write("exo.toml", &config.replace("ignore = []", "ignore = [\"drafts/\"]"));
    let events = watcher.events_until(&vault, |status| synced(status) && status["notes"] == 1);
    assert!(reconciles(&events).iter().any(|e| e["trigger"] == "settings" && e["deleted"] == 1), "{events:?}");

    // Now drafts/ is not the vault's: writing there starts nothing; the sentinel does.
    vault.write("drafts/more.md", "# More\n");
    vault.write("notes/sentinel.md", "# Sentinel\n");
    let events = watcher.events_until(&vault, |status| synced(status) && status["notes"] == 2);
    let runs = reconciles(&events);
    assert_eq!(runs.len(), 1, "{events:?}");
    assert_eq!(runs[0]["paths"], 1, "{events:?}");
}

#[test]
fn the_vault_folder_moved_away_ends_the_watch_with_a_clear_error() {
    let vault = vault(false);
    let mut watcher = Watcher::start(&vault, &[]);
    let moved = vault.root.with_file_name("vault-moved");
    std::fs::rename(&vault.root, &moved).unwrap();

    let status = wait_with_deadline(&mut watcher.child);
    assert_eq!(status.code(), Some(2), "{status}");
    let stderr = watcher.stderr.recv_timeout(DEADLINE).unwrap();
    assert!(stderr.contains("moved or deleted") && stderr.contains(&*vault.root.to_string_lossy()), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one clear line: {stderr}");
}

#[test]
fn sigterm_stops_the_watch_cleanly() {
    let vault = vault(false);
    let watcher = Watcher::start(&vault, &[]);
    let (status, rest) = watcher.terminate();
    assert_eq!(status.code(), Some(0), "{status}");
    assert_eq!(rest.last().map(|e| e["event"].clone()), Some("stopped".into()), "{rest:?}");
}

#[test]
fn polling_without_file_events_still_catches_every_change() {
    let vault = vault(false);
    let mut watcher = Watcher::start(&vault, &["--poll", "--rescan", "1"]);
    vault.write("notes/polled.md", "# Polled\n");
    let events = watcher.events_until(&vault, |status| synced(status) && status["notes"] == 2);
    assert!(reconciles(&events).iter().all(|e| e["trigger"] == "rescan"), "{events:?}");
    // Nothing changed: the rescans look (stat only) but start no reconcile.
    std::thread::sleep(Duration::from_millis(2500));
    assert!(reconciles(&watcher.drain()).is_empty());
}

#[test]
fn a_watch_killed_mid_reconcile_leaves_no_false_synced_and_the_next_one_repairs() {
    let vault = vault(false);
    vault.exo_ok(["index", "--quiet"]);
    for i in 0..1500 {
        vault.write(&format!("notes/many/n{i:04}.md"), &format!("# Many {i}\n\nText {i} [[first]].\n"));
    }
    let mut first =
        vault.exo_cmd().args(["watch", "--json"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    // Kill it while its first reconcile has recorded its intent and not yet committed.
    let db = rusqlite::Connection::open(vault.root.join(".exo/index.sqlite")).unwrap();
    let started = Instant::now();
    loop {
        let pending: i64 = db.query_row("SELECT count(*) FROM pending", [], |r| r.get(0)).unwrap_or(0);
        if pending > 0 {
            break;
        }
        assert!(started.elapsed() < DEADLINE, "never saw the reconcile under way");
        assert!(first.try_wait().unwrap().is_none(), "the watch ended before it could be killed");
        std::thread::sleep(Duration::from_millis(2));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(vault.index_contents().pending > 0, "killed mid-way");
    assert_eq!(vault.status(), "OutOfSync", "a killed reconcile never reads as Synced");

    let mut next = Watcher::start(&vault, &[]);
    let contents = vault.index_contents();
    assert_eq!(contents.pending, 0);
    assert_eq!(contents.notes, vault.files_on_disk(), "the next watch's first reconcile repaired the index");
    assert_eq!(contents.text_paths, contents.notes.keys().cloned().collect::<Vec<_>>());
    assert_eq!(vault.status(), "Synced");
    assert!(next.drain().is_empty());
}
