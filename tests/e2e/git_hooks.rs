//! Git hooks as the reconciler: commits, pulls, checkouts and rebases leave the index Synced,
//! at once for text and graph, while a detached exo fills the vectors in; hooks find exo off
//! PATH, and chain into other tools' hooks without ever disabling them.

use std::fs::{File, TryLockError};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::*;

/// Vectors off, for tests about text and graph: a background fill still running when a test
/// ends would outlive its temp dir (the vector tests wait for theirs).
fn vault_without_vectors() -> TestVault {
    let vault = TestVault::git_repo();
    vault.write("exo.toml", "[embed]\nprovider = \"none\"\n");
    vault
}

fn vault_with_hooks() -> TestVault {
    let vault = vault_without_vectors();
    vault.write("index.md", "# Home\n\n[[a]]\n");
    vault.write("a.md", "# A\n");
    let out = vault.exo_ok(["hooks", "install"]);
    assert!(out.contains("hooks active"), "{out}");
    let out = vault.commit_all("first");
    assert!(out.contains("exo: index reconciled (Synced)"), "post-commit output: {out}");
    vault
}

#[test]
fn commit_runs_the_hook_and_leaves_the_index_synced() {
    let vault = vault_with_hooks();
    assert_eq!(vault.status(), "Synced");
    let head = vault.git_ok(["rev-parse", "HEAD"]).trim().to_string();
    assert_eq!(vault.status_json()["revision"], head.as_str());
    vault.write("b.md", "# B");
    assert_eq!(vault.status(), "OutOfSync");
    let out = vault.commit_all("add b");
    assert!(out.contains("exo: index reconciled (Synced)"), "{out}");
    assert_eq!(vault.status(), "Synced");
}

#[test]
fn untracked_notes_count_even_after_a_commit() {
    let vault = vault_with_hooks();
    vault.write("scratch.md", "# not committed");
    vault.write("a.md", "# A edited, committed");
    vault.git_ok(["add", "a.md"]);
    vault.git_ok(["commit", "-q", "-m", "edit a"]);
    // The hook indexed the files on disk, untracked note included.
    assert_eq!(vault.status(), "Synced");
    assert!(vault.index_contents().notes.contains_key("scratch.md"));
}

#[test]
fn pull_between_two_clones_reconciles_through_post_merge() {
    let origin = vault_with_hooks();
    let clone = origin.clone_to("clone");
    clone.exo_ok(["hooks", "install"]);
    clone.exo_ok(["index"]);
    assert_eq!(clone.status(), "Synced");

    origin.write("from-origin.md", "# Written in origin\n\n[[a]]");
    origin.remove("a.md");
    origin.commit_all("origin work");

    let out = clone.git_ok(["pull", "-q", "--no-rebase", "origin", "main"]);
    assert!(out.contains("exo: index reconciled (Synced)"), "post-merge output: {out}");
    assert_eq!(clone.status(), "Synced");
    let contents = clone.index_contents();
    assert!(contents.notes.contains_key("from-origin.md"));
    assert!(!contents.notes.contains_key("a.md"));
    assert_eq!(contents.notes, clone.files_on_disk());
}

#[test]
fn branch_switch_reconciles_through_post_checkout() {
    let vault = vault_with_hooks();
    vault.git_ok(["checkout", "-q", "-b", "topic"]);
    vault.write("topic-only.md", "# Topic");
    vault.commit_all("topic note");
    let out = vault.git_ok(["checkout", "main"]);
    assert!(out.contains("exo: index reconciled (Synced)"), "{out}");
    assert_eq!(vault.status(), "Synced");
    assert!(!vault.index_contents().notes.contains_key("topic-only.md"));
    vault.git_ok(["checkout", "-q", "topic"]);
    assert!(vault.index_contents().notes.contains_key("topic-only.md"));
}

#[test]
fn amend_reconciles_through_post_rewrite() {
    let vault = vault_with_hooks();
    vault.write("a.md", "# A amended");
    vault.git_ok(["add", "a.md"]);
    let out = vault.git_ok(["commit", "--amend", "-q", "--no-edit"]);
    assert!(out.contains("exo: index reconciled (Synced)"), "{out}");
    assert_eq!(vault.status(), "Synced");
}

#[test]
fn hooks_status_reports_activity() {
    let vault = TestVault::git_repo();
    let out = vault.exo(["hooks", "status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("not active"), "{}", stdout(&out));
    vault.exo_ok(["hooks", "install"]);
    let json: serde_json::Value = serde_json::from_str(&vault.exo_ok(["hooks", "status", "--json"])).unwrap();
    assert_eq!(json["active"], true);
    assert_eq!(json["configured"], ".githooks");
}

/// Polls `done` until it holds, failing after `limit`: background work has no fixed duration
/// (a loaded 2-core machine is slow), only an upper bound past which something is wrong.
fn eventually(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "still waiting after {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn vectors_complete(vault: &TestVault) -> bool {
    let json = vault.status_json();
    let vectors = &json["vectors"];
    json["health"] == "Healthy" && vectors["embedded"].as_u64().is_some() && vectors["embedded"] == vectors["chunks"]
}

/// Whether a background fill is running: it holds `.exo/hook-fill.lock` for its whole life.
fn fill_running(vault: &TestVault) -> bool {
    let Ok(file) = File::options().write(true).open(vault.root.join(".exo/hook-fill.lock")) else {
        return false;
    };
    match file.try_lock() {
        Ok(()) => false,
        Err(TryLockError::WouldBlock) => true,
        Err(TryLockError::Error(e)) => panic!("{e}"),
    }
}

#[test]
fn commit_reconciles_text_at_once_and_vectors_follow_in_the_background() {
    let vault = TestVault::git_repo();
    vault.exo_ok(["hooks", "install"]);
    for i in 0..12 {
        vault.write(
            &format!("n{i}.md"),
            &format!("# Note {i}\n\nAbout orchards and bread, part {i}.\n\n[[n{}]]\n", i + 1),
        );
    }
    let out = vault.commit_all("notes");
    assert!(out.contains("exo: index reconciled (Synced)"), "{out}");
    let json = vault.status_json();
    assert_eq!(json["status"], "Synced", "text and graph are reconciled when git returns: {json:#}");
    assert_eq!(json["notes"], 12);
    eventually(Duration::from_secs(180), "vectors to cover every chunk", || vectors_complete(&vault));
    eventually(Duration::from_secs(60), "the background fill to exit", || !fill_running(&vault));
    assert_eq!(vault.status(), "Synced");
}

/// An OpenAI-compatible embeddings server on loopback whose first answer waits for the test.
struct GatedServer {
    url: String,
    requests: Arc<AtomicUsize>,
    release: mpsc::Sender<()>,
}

fn gated_server() -> GatedServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let (release, gate) = mpsc::channel::<()>();
    let counter = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Some(inputs) = read_embed_request(&stream) else { continue };
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                // Bounded, so a failing test cannot hang here forever.
                let _ = gate.recv_timeout(Duration::from_secs(120));
            }
            let data: Vec<serde_json::Value> = (0..inputs)
                .map(
                    |i| serde_json::json!({"object": "embedding", "index": i, "embedding": [1.0, i as f32, 0.5, 0.25]}),
                )
                .collect();
            let body = serde_json::json!({"object": "list", "data": data}).to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    GatedServer { url, requests, release }
}

/// How many texts one `POST /v1/embeddings` asks for.
fn read_embed_request(stream: &std::net::TcpStream) -> Option<usize> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut length = 0;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().ok()?;
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let request: serde_json::Value = serde_json::from_slice(&body).ok()?;
    Some(request["input"].as_array()?.len())
}

#[test]
fn git_never_waits_for_the_vector_fill() {
    let server = gated_server();
    let vault = TestVault::git_repo();
    vault.write(
        "exo.toml",
        &format!(
            "[embed]\nprovider = \"http\"\nurl = \"{}\"\nmodel = \"fake\"\ndims = 4\ntimeout_secs = 600\nretries = 0\n",
            server.url
        ),
    );
    vault.exo_ok(["hooks", "install"]);
    vault.write("a.md", "# A\n\nApples grow in orchards.\n");
    let out = vault.commit_all("a");
    assert!(out.contains("exo: index reconciled (Synced)"), "{out}");

    // The fill has asked the server for vectors and is held there; git has already returned.
    eventually(Duration::from_secs(120), "the background fill to ask for vectors", || {
        server.requests.load(Ordering::SeqCst) > 0
    });
    assert!(fill_running(&vault), "git returned while the fill still runs");
    let json = vault.status_json();
    assert_eq!(json["status"], "Synced", "{json:#}");
    assert_eq!(json["health"], "Progressing", "vectors are still coming: {json:#}");

    // A second commit during the fill: it returns too, and its chunks are not forgotten.
    vault.write("b.md", "# B\n\nBread is baked from flour.\n");
    let out = vault.commit_all("b");
    assert!(out.contains("exo: index reconciled (Synced)"), "{out}");
    assert_eq!(vault.status_json()["notes"], 2);

    server.release.send(()).unwrap();
    eventually(Duration::from_secs(180), "vectors to catch up with both commits", || vectors_complete(&vault));
    eventually(Duration::from_secs(60), "the background fill to exit", || !fill_running(&vault));
    let log = std::fs::read_to_string(vault.root.join(".exo/hook-embed.log")).unwrap_or_default();
    assert!(log.is_empty(), "the fill logs only errors: {log}");
}

/// PATH without any folder holding an `exo`: what a git GUI or cron may give the hooks.
fn path_without_exo() -> std::ffi::OsString {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::env::split_paths(&path).filter(|p| !p.join("exo").exists())).unwrap()
}

fn without_exo(vault: &TestVault, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Output {
    vault.program(program).env("PATH", path_without_exo()).args(args).output().unwrap()
}

/// The exo binary at a path with a space and a quote, as `exo hooks install` will record it.
fn exo_at_awkward_path(vault: &TestVault) -> PathBuf {
    let dir = vault.root.parent().unwrap().join("it's my bin");
    std::fs::create_dir_all(&dir).unwrap();
    let exo = dir.join("exo");
    if std::fs::hard_link(exo_bin(), &exo).is_err() {
        std::fs::copy(exo_bin(), &exo).unwrap();
    }
    exo
}

#[test]
fn hooks_find_exo_off_path_and_say_so_when_it_is_gone() {
    let vault = vault_without_vectors();
    vault.write("a.md", "# A\n");
    let exo = exo_at_awkward_path(&vault);
    let out = without_exo(&vault, &exo, &["hooks", "install"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = without_exo(&vault, "git", &["add", "-A"]);
    assert!(out.status.success());
    let out = without_exo(&vault, "git", &["commit", "-q", "-m", "exo off PATH"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Git sends a post-commit hook's stdout to its stderr.
    assert!(stderr(&out).contains("exo: index reconciled (Synced)"), "{}", stderr(&out));
    assert_eq!(vault.status(), "Synced");

    std::fs::remove_file(&exo).unwrap();
    let out = without_exo(&vault, "git", &["commit", "-q", "--allow-empty", "-m", "exo gone"]);
    assert!(out.status.success(), "the hook never fails git: {}", stderr(&out));
    let expected =
        format!("exo: hook skipped — exo not found on PATH or at {}; reinstall with exo hooks install", exo.display());
    assert!(stderr(&out).contains(&expected), "{}", stderr(&out));

    let out = without_exo(&vault, exo_bin(), &["hooks", "status", "--json"]);
    assert_eq!(out.status.code(), Some(1), "hooks that cannot find exo are not working");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["exo"]["finds_exo"], false, "{json:#}");
    assert_eq!(json["exo"]["recorded"], exo.to_str().unwrap());
    let out = without_exo(&vault, exo_bin(), &["hooks", "status"]);
    assert!(stdout(&out).contains("the hooks cannot find exo"), "{}", stdout(&out));
}

fn write_executable(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    let out = Command::new("chmod").arg("+x").arg(path).output().unwrap();
    assert!(out.status.success());
}

#[test]
fn husky_hooks_keep_running_beside_exos() {
    let vault = vault_without_vectors();
    vault.write("a.md", "# A\n");
    vault.git_ok(["config", "core.hooksPath", ".husky"]);
    let theirs = vault.root.join(".husky/post-commit");
    write_executable(&theirs, "#!/usr/bin/env sh\necho \"$(git rev-parse HEAD)\" >> husky-ran.txt\n");

    let out = vault.exo_ok(["hooks", "install"]);
    assert!(out.contains("chained exo into your .husky/post-commit"), "{out}");
    assert!(out.contains("hooks active"), "{out}");
    let out = vault.commit_all("first");
    assert!(out.contains("exo: index reconciled (Synced)"), "exo's hook ran: {out}");
    let head = vault.git_ok(["rev-parse", "HEAD"]);
    assert_eq!(std::fs::read_to_string(vault.root.join("husky-ran.txt")).unwrap(), head, "their hook ran");
    assert_eq!(vault.status(), "Synced");
    assert_eq!(vault.git_ok(["config", "core.hooksPath"]).trim(), ".husky", "their hooks path is theirs");

    // Idempotent: a second install leaves one block.
    let before = std::fs::read_to_string(&theirs).unwrap();
    vault.exo_ok(["hooks", "install"]);
    let after = std::fs::read_to_string(&theirs).unwrap();
    assert_eq!(before, after);
    assert_eq!(after.matches("# >>> exo >>>").count(), 1);

    let json: serde_json::Value = serde_json::from_str(&vault.exo_ok(["hooks", "status", "--json"])).unwrap();
    assert_eq!(json["active"], true, "{json:#}");
    assert_eq!(json["hooks_path"], ".husky");
    assert_eq!(json["hooks"][0]["kind"], "chained");
    assert_eq!(json["hooks"][1]["kind"], "exo");
}

#[test]
fn hooks_in_dot_git_hooks_stay_active() {
    let vault = vault_without_vectors();
    vault.write("a.md", "# A\n");
    write_executable(&vault.root.join(".git/hooks/post-commit"), "#!/bin/sh\ntouch mine-ran.txt\n");
    let out = vault.exo_ok(["hooks", "install"]);
    assert!(out.contains("hooks active"), "{out}");
    let out = vault.commit_all("first");
    assert!(out.contains("exo: index reconciled (Synced)"), "{out}");
    assert!(vault.root.join("mine-ran.txt").exists(), "the user's .git/hooks/post-commit still runs");
    assert!(vault.git(["config", "core.hooksPath"]).stdout.is_empty(), "core.hooksPath stays unset");
}

#[test]
fn a_hook_in_another_language_is_left_with_the_line_to_add() {
    let vault = TestVault::git_repo();
    vault.git_ok(["config", "core.hooksPath", "hooks"]);
    let theirs = vault.root.join("hooks/post-merge");
    write_executable(&theirs, "#!/usr/bin/env python3\nprint('mine')\n");
    let out = vault.exo_ok(["hooks", "install"]);
    assert!(out.contains("add this line to run exo's hook from it: sh hooks/exo-post-merge"), "{out}");
    assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "#!/usr/bin/env python3\nprint('mine')\n");
    assert_eq!(vault.exo(["hooks", "status"]).status.code(), Some(1), "post-merge does not run exo yet");
}
