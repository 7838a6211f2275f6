//! A running `exo watch` vouches for the index (`.exo/watch.sock`), so `exo status` and every
//! query's freshness badge skip the stat of every note. The one promise under test: never a
//! false Synced. Each change is made and judged at once, with no sleep in between, and a
//! Synced on the watcher's word is checked against what the index really holds.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{TestVault, list};
use crate::watch::{DEADLINE, Watcher};

/// How many times each kind of change is raced against the question.
const ROUNDS: usize = 20;

/// A git repository with a few notes, vectors off, indexed.
fn vault() -> TestVault {
    let vault = TestVault::git_repo();
    let config = std::fs::read_to_string(vault.root.join("exo.toml")).unwrap();
    vault.write("exo.toml", &format!("{config}\n[embed]\nprovider = \"none\"\n"));
    vault.write("notes/first.md", "# First\n\nThe first note of the vault.\n");
    vault.write("notes/second.md", "# Second\n\nAnother note.\n");
    vault.commit_all("first");
    vault.exo_ok(["index"]);
    vault
}

/// `exo status` says `state`, checked by `by` (the watcher's word or the files).
fn assert_status(vault: &TestVault, state: &str, by: &str) {
    let status = vault.status_json();
    assert_eq!((status["status"].as_str(), checked_by(&status)), (Some(state), by), "{status}");
}

fn checked_by(status: &Value) -> &str {
    status["checked_by"].as_str().unwrap_or_else(|| panic!("no checked_by: {status}"))
}

/// Waits until `exo status` says Synced on the watcher's word (the watch has settled).
fn until_vouched(vault: &TestVault) -> Value {
    let started = Instant::now();
    loop {
        let status = vault.status_json();
        if status["status"] == "Synced" && checked_by(&status) == "watcher" {
            return status;
        }
        assert!(started.elapsed() < DEADLINE, "the watch never vouched: {status}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A word only one version of one note holds (letters only, so it is one token).
fn word(kind: &str, round: usize) -> String {
    let letters: String = format!("{round:03}").bytes().map(|b| char::from(b'a' + (b - b'0'))).collect();
    format!("vouch{kind}{letters}")
}

/// The notes whose text holds `word`, by a bm25 search.
fn notes_with(vault: &TestVault, word: &str) -> Vec<String> {
    let out = vault.exo(["search", word, "--mode", "bm25", "--json"]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("search --json ({e})"));
    json["hits"].as_array().unwrap().iter().map(|hit| hit["path"].as_str().unwrap().to_string()).collect()
}

/// The status right after a change: OutOfSync, or Synced only if the index already holds
/// the change (`reflected`).
fn judge(status: &Value, what: &str, reflected: impl Fn() -> bool) {
    match status["status"].as_str() {
        Some("OutOfSync") => {}
        Some("Synced") => {
            assert!(reflected(), "{what}: Synced by {} but the index does not hold it: {status}", checked_by(status));
        }
        other => panic!("{what}: unexpected status {other:?}: {status}"),
    }
}

#[test]
fn status_and_search_never_take_a_stale_word() {
    let vault = vault();
    let _watcher = Watcher::start(&vault, &[]);
    let status = until_vouched(&vault);
    assert_eq!(status["notes"], 2, "{status}");
    assert!(vault.exo_ok(["status"]).contains("checked by exo watch"));
    let search: Value = serde_json::from_str(&vault.exo_ok(["search", "note", "--json"])).unwrap();
    assert_eq!(search["index_status"], "Synced", "{search}");

    let mut out_of_sync = 0;
    for round in 0..ROUNDS {
        let word = word("edit", round);
        vault.write("notes/first.md", &format!("# First\n\nEdited: {word}.\n"));
        let status = vault.status_json();
        judge(&status, &format!("edit {round}"), || notes_with(&vault, &word) == ["notes/first.md"]);
        out_of_sync += usize::from(status["status"] == "OutOfSync");
        until_vouched(&vault);
    }
    for round in 0..ROUNDS {
        let path = format!("notes/new/n{round}.md");
        vault.write(&path, &format!("# New {round}\n\n{}.\n", word("new", round)));
        let status = vault.status_json();
        judge(&status, &format!("create {round}"), || vault.index_contents().notes.contains_key(&path));
        out_of_sync += usize::from(status["status"] == "OutOfSync");
        until_vouched(&vault);
    }
    for round in 0..ROUNDS {
        let path = format!("notes/new/n{round}.md");
        vault.remove(&path);
        let status = vault.status_json();
        judge(&status, &format!("delete {round}"), || !vault.index_contents().notes.contains_key(&path));
        out_of_sync += usize::from(status["status"] == "OutOfSync");
        until_vouched(&vault);
    }
    // A folder made and a note written into it at once: the folder is watched before
    // anything is marked, so the note cannot slip between the listing and the watch.
    for round in 0..ROUNDS {
        let path = format!("fresh{round}/deeper/note.md");
        vault.write(&path, &format!("# Deep {round}\n"));
        let status = vault.status_json();
        judge(&status, &format!("new folder {round}"), || vault.index_contents().notes.contains_key(&path));
        out_of_sync += usize::from(status["status"] == "OutOfSync");
        until_vouched(&vault);
    }
    // The race was real: at least a quarter of the answers came before the watch had reconciled.
    assert!(out_of_sync >= ROUNDS, "only {out_of_sync} answers were OutOfSync; the race was not exercised");

    // Queries take the same word through their freshness badge.
    for round in 0..ROUNDS {
        let word = word("search", round);
        vault.write("notes/second.md", &format!("# Second\n\n{word}.\n"));
        let out = vault.exo(["search", &word, "--mode", "bm25", "--json"]);
        let search: Value = serde_json::from_slice(&out.stdout).unwrap();
        let hits: Vec<&str> = search["hits"].as_array().unwrap().iter().map(|h| h["path"].as_str().unwrap()).collect();
        match search["index_status"].as_str() {
            Some("OutOfSync") => {}
            Some("Synced") => assert_eq!(hits, ["notes/second.md"], "search {round}: Synced but stale: {search}"),
            other => panic!("search {round}: {other:?}: {search}"),
        }
        until_vouched(&vault);
    }
}

#[test]
fn a_foreign_index_or_a_killed_watch_falls_back_to_the_files() {
    let vault = vault();
    let watcher = Watcher::start(&vault, &[]);
    until_vouched(&vault);

    // A commit and the no-op `exo index` a post-commit hook runs record a new revision and
    // nothing else: the files are as in line as before, and the word stands.
    vault.write("notes/third.md", "# Third\n");
    until_vouched(&vault);
    vault.commit_all("third");
    vault.exo_ok(["index"]);
    assert_status(&vault, "Synced", "watcher");

    // Someone else writes the index (here: its write time, as any run that changes it
    // does): it is no longer the one the watch vouched for, so the files are walked until
    // the watch looks again.
    let db = rusqlite::Connection::open(vault.root.join(".exo/index.sqlite")).unwrap();
    db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'indexed_at_ns'", []).unwrap();
    assert_status(&vault, "Synced", "files");
    vault.write("notes/third.md", "# Third\n\nEdited.\n");
    until_vouched(&vault);

    // A writer killed after recording its intent (as `exo index` does before it writes)
    // leaves a pending path that a walk reports: no word while one is there.
    db.execute("INSERT INTO pending(path) VALUES ('notes/first.md')", []).unwrap();
    assert_status(&vault, "OutOfSync", "files");
    db.execute("DELETE FROM pending", []).unwrap();
    until_vouched(&vault);

    // `--verify` promises to hash every note: never the watch's word.
    let verified: Value = serde_json::from_str(&vault.exo_ok(["status", "--verify", "--json"])).unwrap();
    assert_eq!(checked_by(&verified), "files", "{verified}");

    // Killed: its socket is left behind, refuses connections, and the files are walked.
    watcher.kill();
    assert!(vault.root.join(".exo/watch.sock").exists(), "the killed watch's socket stays");
    assert_status(&vault, "Synced", "files");
    vault.write("notes/first.md", "# First\n\nChanged while nobody watched.\n");
    assert_status(&vault, "OutOfSync", "files");

    // A new watch replaces the stale socket and vouches again once it has looked.
    let _watcher = Watcher::start(&vault, &[]);
    until_vouched(&vault);
}

/// `exo index --json` with `extra` arguments.
fn index_json(vault: &TestVault, extra: &[&str]) -> Value {
    let args: Vec<&str> = ["index", "--json"].into_iter().chain(extra.iter().copied()).collect();
    serde_json::from_str(&vault.exo_ok(args)).unwrap()
}

/// A run with nothing to do takes the word too (no stat of every note), but only for what
/// the word covers: the notes. Anything else the walk reads (a folder's entries, here a
/// hidden file the watch rightly ignores) sends it back to a walk, once; `--verify` always.
#[test]
fn a_noop_index_takes_the_word_only_for_what_it_covers() {
    let vault = vault();
    // A walk (and a note's stat record) is trusted later only when it is older than two
    // seconds (a change in the same clock tick would go unseen): this run refreshes the
    // notes' records and records the walk.
    let racy_window = Duration::from_millis(2100);
    std::thread::sleep(racy_window);
    vault.exo_ok(["index"]);
    let _watcher = Watcher::start(&vault, &[]);
    until_vouched(&vault);
    let noop = index_json(&vault, &[]);
    assert_eq!((noop["checked_by"].as_str(), noop["notes"].as_u64()), (Some("watcher"), Some(2)), "{noop}");
    assert_eq!(noop["status"]["status"], "Synced", "{noop}");

    let verified = index_json(&vault, &["--verify"]);
    assert_eq!(verified["checked_by"], "files", "{verified}");

    // A hidden file: no note, no event worth a word, but a folder of the walk changed.
    vault.write("notes/.hidden.md", "# Hidden\n");
    assert_status(&vault, "Synced", "watcher");
    std::thread::sleep(racy_window);
    let walked = index_json(&vault, &[]);
    assert_eq!(walked["checked_by"], "files", "{walked}");
    assert_eq!(index_json(&vault, &[])["checked_by"], "watcher", "the walk was recorded again");

    // An edit made just before `exo index` is in the index when it returns, whoever
    // indexed it (the watch, or the run, after a walk).
    for round in 0..5 {
        let word = word("index", round);
        vault.write("notes/first.md", &format!("# First\n\n{word}.\n"));
        let after = index_json(&vault, &[]);
        assert_eq!(notes_with(&vault, &word), ["notes/first.md"], "round {round}: {after}");
    }
}

/// Another writer's commit takes the word away (it names an index that is gone) only until
/// the watch looks again, which the first question after the commit asks for: not a
/// rescan later (ten minutes here; a minute by default), with every query walking meanwhile.
#[test]
fn the_word_comes_back_at_once_after_another_writer_commits() {
    let vault = vault();
    let _watcher = Watcher::start(&vault, &["--rescan", "600"]);
    until_vouched(&vault);
    let db = rusqlite::Connection::open(vault.root.join(".exo/index.sqlite")).unwrap();
    for round in 0..3 {
        // A commit that changes no note (as `exo index --verify` refreshing stat records).
        db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'indexed_at_ns'", []).unwrap();
        assert_status(&vault, "Synced", "files");
        let status = until_vouched(&vault);
        assert_eq!(status["notes"], 2, "round {round}: {status}");
    }
}

#[test]
fn a_polling_watch_never_vouches() {
    let vault = vault();
    let _watcher = Watcher::start(&vault, &["--poll"]);
    assert_status(&vault, "Synced", "files");
    assert!(!vault.root.join(".exo/watch.sock").exists());
}

/// The walk's rules that live outside the notes (git's global excludes, `.git/info/exclude`,
/// a `.gitignore`): a change to any of them can hide a note without touching it, so the
/// watch's word no longer holds.
#[test]
fn a_change_to_the_ignore_rules_is_never_answered_synced() {
    let vault = vault();
    let global = vault.home().join("global-ignore");
    std::fs::write(&global, "").unwrap();
    std::fs::write(vault.home().join(".gitconfig"), format!("[core]\n\texcludesFile = {}\n", global.display()))
        .unwrap();
    vault.exo_ok(["index"]);
    let _watcher = Watcher::start(&vault, &[]);
    until_vouched(&vault);

    let hidden = |status: &Value| list(status, "deleted") == ["notes/second.md"];
    // A client whose git config hides a note walks by its own rules, not the watch's.
    let other_home = tempfile::tempdir().unwrap();
    let other_ignore = other_home.path().join("ignore");
    std::fs::write(&other_ignore, "second.md\n").unwrap();
    let gitconfig = format!("[core]\n\texcludesFile = {}\n", other_ignore.display());
    std::fs::write(other_home.path().join(".gitconfig"), gitconfig).unwrap();
    let out = vault.exo_cmd().args(["status", "--json"]).env("HOME", other_home.path()).output().unwrap();
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(hidden(&status) && checked_by(&status) == "files", "another HOME: {status}");
    until_vouched(&vault);

    std::fs::write(&global, "second.md\n").unwrap();
    let status = vault.status_json();
    assert!(hidden(&status) && checked_by(&status) == "files", "global excludes: {status}");
    std::fs::write(&global, "").unwrap();
    // Nothing in the vault changed, so nothing reconciles: the word comes back with the
    // next look at the files.
    vault.write("notes/first.md", "# First\n\nTouched so the watch looks again.\n");
    until_vouched(&vault);

    std::fs::write(vault.root.join(".git/info/exclude"), "second.md\n").unwrap();
    let status = vault.status_json();
    assert!(hidden(&status) && checked_by(&status) == "files", ".git/info/exclude: {status}");
    std::fs::write(vault.root.join(".git/info/exclude"), "").unwrap();
    vault.write("notes/first.md", "# First\n\nTouched again.\n");
    until_vouched(&vault);

    vault.write("notes/.gitignore", "second.md\n");
    let status = vault.status_json();
    assert_eq!(status["status"], "OutOfSync", "a new .gitignore: {status}");
}

/// The walk follows symlinks inside the vault, into hidden folders no watch covers: a vault
/// with one is never vouched for again, and an edit behind the link is seen by the walk.
#[test]
fn a_symlink_ends_the_word_for_good() {
    let vault = vault();
    vault.write(".private/real.md", "# Real\n\nBehind a link.\n");
    let mut watcher = Watcher::start(&vault, &[]);
    until_vouched(&vault);

    std::os::unix::fs::symlink(vault.root.join(".private/real.md"), vault.root.join("notes/link.md")).unwrap();
    // The watch says why, once, in its log.
    let said = loop {
        let event = watcher.next_event();
        if event["event"] == "not_vouching" {
            break event;
        }
    };
    let reason = said["reason"].as_str().unwrap();
    assert!(reason.contains("notes/link.md") && reason.contains("symlink"), "{said}");
    let started = Instant::now();
    while !vault.index_contents().notes.contains_key("notes/link.md") {
        assert!(started.elapsed() < DEADLINE, "the link was never indexed");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_status(&vault, "Synced", "files");

    vault.write(".private/real.md", "# Real\n\nEdited behind the link.\n");
    assert_status(&vault, "OutOfSync", "files");
}

/// A whitelist line (`!.drafts/`) makes the walk read a hidden folder the watch does not
/// follow: no word while one is there, and the word comes back when it is gone.
#[test]
fn a_whitelisted_hidden_folder_is_walked_not_vouched_for() {
    let vault = vault();
    vault.write(".gitignore", "!.drafts/\n");
    vault.write(".drafts/idea.md", "# Idea\n");
    vault.exo_ok(["index"]);
    assert!(vault.index_contents().notes.contains_key(".drafts/idea.md"), "the walk reads the whitelisted folder");
    let _watcher = Watcher::start(&vault, &[]);

    vault.write(".drafts/idea.md", "# Idea\n\nGrown.\n");
    assert_status(&vault, "OutOfSync", "files");

    vault.write(".gitignore", "\n");
    until_vouched(&vault);
}

/// Two folders swapped in one step (`mv --exchange`, `renameat2(RENAME_EXCHANGE)`): each is
/// watched under its new name, so an edit in either, or in a folder made inside one, is
/// never answered Synced before the index holds it.
#[cfg(target_os = "linux")]
#[test]
fn folders_swapped_in_one_step_stay_watched() {
    let vault = vault();
    vault.write("notes/a/x.md", "# X\n\nIn folder a.\n");
    vault.write("notes/b/y.md", "# Y\n\nIn folder b.\n");
    vault.exo_ok(["index"]);
    let _watcher = Watcher::start(&vault, &[]);
    until_vouched(&vault);

    let path = |p: &str| std::ffi::CString::new(vault.root.join(p).into_os_string().into_encoded_bytes()).unwrap();
    let (a, b) = (path("notes/a"), path("notes/b"));
    // SAFETY: two valid NUL-terminated paths; renameat2 reads them only.
    let swapped =
        unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
    assert_eq!(swapped, 0, "renameat2: {}", std::io::Error::last_os_error());
    until_vouched(&vault);
    assert!(vault.index_contents().notes.contains_key("notes/b/x.md"), "the swap was not indexed");

    for round in 0..ROUNDS {
        let (word_x, word_y) = (word("swapx", round), word("swapy", round));
        vault.write("notes/b/x.md", &format!("# X\n\n{word_x}.\n"));
        let status = vault.status_json();
        judge(&status, &format!("edit in the swapped folder {round}"), || {
            notes_with(&vault, &word_x) == ["notes/b/x.md"]
        });
        until_vouched(&vault);
        vault.write("notes/a/y.md", &format!("# Y\n\n{word_y}.\n"));
        let status = vault.status_json();
        judge(&status, &format!("edit in the other swapped folder {round}"), || {
            notes_with(&vault, &word_y) == ["notes/a/y.md"]
        });
        until_vouched(&vault);
    }
    let inner = "notes/b/inner/z.md";
    vault.write(inner, "# Z\n");
    until_vouched(&vault);
    for round in 0..ROUNDS {
        let word = word("swapz", round);
        vault.write(inner, &format!("# Z\n\n{word}.\n"));
        let status = vault.status_json();
        judge(&status, &format!("edit in a folder made after the swap {round}"), || {
            notes_with(&vault, &word) == [inner]
        });
        until_vouched(&vault);
    }
}

/// A vault the watch cannot vouch for from the start says so at once, with the path.
#[test]
fn a_vault_with_a_symlink_is_said_not_vouched_for_at_the_start() {
    let vault = vault();
    vault.write(".private/real.md", "# Real\n");
    std::os::unix::fs::symlink(vault.root.join(".private/real.md"), vault.root.join("notes/link.md")).unwrap();
    vault.exo_ok(["index"]);
    let watcher = Watcher::start(&vault, &[]);
    let said = watcher.not_vouching.as_ref().expect("no not_vouching event before the first reconcile");
    let reason = said["reason"].as_str().unwrap();
    assert!(reason.contains("notes/link.md") && reason.contains("symlink"), "{said}");
    assert_status(&vault, "Synced", "files");
}
