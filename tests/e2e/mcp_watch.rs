//! `exo mcp --watch` over stdio: the real binary as a child process, rmcp's client on its
//! stdin/stdout (so anything but protocol on stdout fails the client), its stderr collected.
//! A note written straight to disk, as Obsidian would, becomes searchable and the index
//! Synced without anyone running `exo index`; the watch logs to stderr; the server exits 0
//! when the client closes stdin, after stopping the watch; and a vault folder moved away ends
//! the server with a non-zero exit that says so.

use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use rmcp::model::{CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::process::Child;
use tokio::task::JoinHandle;

use crate::support::TestVault;

/// Long enough for a loaded two-core CI machine; a watch that works takes well under a second.
const DEADLINE: Duration = Duration::from_secs(15);

type Client = RunningService<RoleClient, ClientConfig>;

/// A running `exo mcp --watch`: the child, a client on its stdio, and its stderr as it ends.
struct Served {
    child: Child,
    client: Client,
    stderr: JoinHandle<String>,
}

/// A git vault with one committed, indexed note.
fn indexed_vault() -> TestVault {
    let v = TestVault::git_repo();
    v.write("concepts/Memory.md", "# Memory\n\nWhat sticks, and why.\n");
    v.commit_all("first note");
    v.exo_ok(["index", "--quiet"]);
    v
}

async fn serve(v: &TestVault) -> Served {
    let mut command = tokio::process::Command::from(v.exo_cmd());
    command
        .args(["mcp", "--watch", "--debounce", "50"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("start exo mcp --watch");
    let (stdout, stdin) = (child.stdout.take().unwrap(), child.stdin.take().unwrap());
    let mut err = child.stderr.take().unwrap();
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text).await;
        text
    });
    let client = ClientConfig::new(ClientCapabilities::default(), Implementation::new("watch-agent", "1.0"))
        .serve((stdout, stdin))
        .await
        .expect("connect to exo mcp --watch (stdout must carry only protocol)");
    Served { child, client, stderr }
}

async fn call(client: &Client, tool: &str, arguments: Value) -> Value {
    let Value::Object(arguments) = arguments else { panic!("arguments must be an object") };
    let request = CallToolRequestParams::new(tool.to_string()).with_arguments(arguments);
    let result: CallToolResult = client.call_tool(request).await.unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert_ne!(result.is_error, Some(true), "{tool} failed: {:?}", result.content);
    result.structured_content.unwrap_or_else(|| panic!("{tool}: no structuredContent"))
}

/// The process's end, or a failure if it does not come.
async fn exit_of(child: &mut Child) -> ExitStatus {
    match tokio::time::timeout(DEADLINE, child.wait()).await {
        Ok(status) => status.unwrap(),
        Err(_) => panic!("exo mcp --watch still running {DEADLINE:?} after it should have ended"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_saved_on_disk_becomes_searchable_without_a_reindex() {
    let v = indexed_vault();
    let mut served = serve(&v).await;
    let query = json!({"query": "quokkaberry", "mode": "bm25", "limit": 5});
    assert_eq!(call(&served.client, "search", query.clone()).await["hits"], json!([]));

    // A person saves a new note in Obsidian: no git, no exo.
    v.write("inbox/Quokka.md", "# Quokka\n\nThe quokkaberry is a made-up fruit.\n");
    let started = Instant::now();
    loop {
        let found = call(&served.client, "search", query.clone()).await;
        let status = call(&served.client, "status", json!({})).await;
        if found["hits"][0]["path"] == "inbox/Quokka.md" && status["status"] == "Synced" {
            break;
        }
        assert!(started.elapsed() < DEADLINE, "not found and Synced after {DEADLINE:?}: {found:#}\n{status:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The client leaves by closing stdin: the server stops its watch and exits 0.
    served.client.cancel().await.unwrap();
    let status = exit_of(&mut served.child).await;
    let stderr = served.stderr.await.unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(" watching "), "{stderr}");
    assert!(stderr.contains("indexed 1 note (1 new: inbox/Quokka.md)"), "{stderr}");
    assert!(stderr.contains("stopped after "), "the watch was not stopped before exit:\n{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_folder_moved_away_ends_the_server_with_an_error() {
    let v = indexed_vault();
    let mut served = serve(&v).await;
    assert_eq!(call(&served.client, "status", json!({})).await["status"], "Synced");
    std::fs::rename(&v.root, v.root.with_file_name("moved")).unwrap();

    // The client is still connected: the watch alone ends the server.
    let status = exit_of(&mut served.child).await;
    let stderr = served.stderr.await.unwrap();
    assert_ne!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("was moved or deleted while it was watched"), "{stderr}");
}

/// Waits until the server's watch vouches for the index (an agent's status is Synced, checked
/// by the watcher).
async fn until_vouched(served: &Served) {
    let started = Instant::now();
    loop {
        let status = call(&served.client, "status", json!({})).await;
        if status["status"] == "Synced" && status["checked_by"] == "watcher" {
            return;
        }
        assert!(started.elapsed() < DEADLINE, "the server's watch never vouched: {status:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// With `--watch` the server's own watch vouches for the index, so an agent's status and
/// searches skip the stat of every note; a note written on disk is never answered Synced
/// on that word before the index holds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_servers_own_watch_vouches_and_a_fresh_edit_is_never_vouched_for() {
    let v = indexed_vault();
    let served = serve(&v).await;
    for round in 0..10 {
        // Each round races the word anew: it must stand again before the next edit.
        until_vouched(&served).await;
        let word = format!("wombatfruit{}", "x".repeat(round + 1));
        v.write("concepts/Memory.md", &format!("# Memory\n\nWhat sticks, and {word}.\n"));
        // At once, no sleep: Synced now must mean the index already holds the new text.
        let status = call(&served.client, "status", json!({})).await;
        if status["status"] == "Synced" {
            let found = call(&served.client, "search", json!({"query": word, "mode": "bm25", "limit": 1})).await;
            assert_eq!(
                found["hits"][0]["path"], "concepts/Memory.md",
                "round {round}: Synced but {word} is not indexed: {status:#}"
            );
        }
    }
}
