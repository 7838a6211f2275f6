//! `--notify URL` on `exo index` and `exo garden`: the summary reaches a real HTTP server the
//! test runs on 127.0.0.1, with the bearer token; a 5xx is retried once; a server that never
//! answers costs a warning, never the run.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{TestVault, stderr, stdout};

/// One request as the server read it.
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// How the server answers each connection, in order; it stops listening after the last.
#[derive(Clone, Copy)]
enum Answer {
    Status(u16),
    /// Read the request, then say nothing until the client gives up.
    Silence,
}

/// A webhook on 127.0.0.1: answers connections as told and sends what it read down a channel.
fn server(answers: &[Answer]) -> (String, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/exo-topic", listener.local_addr().unwrap());
    let (sent, received) = mpsc::channel();
    let answers = answers.to_vec();
    thread::spawn(move || {
        for answer in answers {
            let Ok((stream, _)) = listener.accept() else { return };
            // Each connection on its own thread: a silent one must not hold up the retry.
            let sent = sent.clone();
            thread::spawn(move || {
                if let Some(request) = read_request(&stream) {
                    let _ = sent.send(request);
                    reply(stream, answer);
                }
            });
        }
    });
    (url, received)
}

fn read_request(stream: &TcpStream) -> Option<Received> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let length: usize = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("content-length"))?.1.parse().ok()?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        request_line: request_line.trim_end().to_string(),
        headers,
        body: serde_json::from_slice(&body).ok()?,
    })
}

fn reply(mut stream: TcpStream, answer: Answer) {
    match answer {
        Answer::Status(code) => {
            let response = format!("HTTP/1.1 {code} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            let _ = stream.write_all(response.as_bytes());
        }
        // Keep the connection open, unanswered, well past the client's timeout.
        Answer::Silence => thread::sleep(Duration::from_secs(30)),
    }
}

fn vault() -> TestVault {
    let v = TestVault::plain();
    v.write("exo.toml", "[embed]\nprovider = \"none\"\n");
    v.write("notes/a.md", "# A\n\nLinks to [[b]] and [[Nowhere]].\n");
    v.write("notes/b.md", "# B\n\nBack to [[a]].\n");
    v.write("notes/lonely.md", "# Lonely\n\nNo links at all.\n");
    v
}

fn all(received: &mpsc::Receiver<Received>) -> Vec<Received> {
    received.try_iter().collect()
}

#[test]
fn index_posts_its_summary_with_the_bearer_token() {
    let v = vault();
    let (url, received) = server(&[Answer::Status(200)]);
    let out = v.exo_cmd().args(["index", "--notify", &url]).env("EXO_NOTIFY_TOKEN", "s3cret").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "", "no warning when the POST went through");
    assert!(stdout(&out).starts_with("exo: indexed 3 notes"), "{}", stdout(&out));
    let posts = all(&received);
    assert_eq!(posts.len(), 1);
    let post = &posts[0];
    assert_eq!(post.request_line, "POST /exo-topic HTTP/1.1");
    assert_eq!(post.header("authorization"), Some("Bearer s3cret"));
    assert_eq!(post.header("content-type"), Some("application/json"));
    assert_eq!(post.header("title"), Some("exo index ok: vault"));
    let body = &post.body;
    assert_eq!(body["source"], "exo index");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["vault"], "vault");
    assert_eq!(body["counts"]["new"], 3);
    assert_eq!(body["counts"]["notes"], 3);
    assert_eq!(body["changed"], serde_json::json!(["notes/a.md", "notes/b.md", "notes/lonely.md"]));
    assert_eq!(body["index_status"], "Synced");
    assert!(body["message"].as_str().unwrap().starts_with("exo index: 3 notes changed (3 new"), "{body}");
}

#[test]
fn garden_posts_findings_by_kind_with_the_token_from_a_named_variable() {
    let v = vault();
    v.exo_ok(["index"]);
    let (url, received) = server(&[Answer::Status(204)]);
    let out = v
        .exo_cmd()
        .args(["garden", "--notify", &url, "--notify-token-env", "MY_HOOK_TOKEN"])
        .env("MY_HOOK_TOKEN", "from-my-var")
        .env("EXO_NOTIFY_TOKEN", "not-this-one")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let posts = all(&received);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].header("authorization"), Some("Bearer from-my-var"));
    let body = &posts[0].body;
    assert_eq!(body["source"], "exo garden");
    assert_eq!(body["findings"]["orphan"], 1, "{body}");
    assert_eq!(body["findings"]["unresolved"], 1, "{body}");
    assert_eq!(body["counts"]["notes"], 3);
}

#[test]
fn a_run_that_fails_is_notified_as_failed_and_still_fails() {
    let v = vault();
    v.exo_ok(["index"]);
    let (url, received) = server(&[Answer::Status(200)]);
    let out = v
        .exo_cmd()
        .args(["garden", "--min-confidence", "2", "--notify", &url])
        .env_remove("EXO_NOTIFY_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let posts = all(&received);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].header("authorization"), None, "no token configured, none sent");
    assert_eq!(posts[0].body["status"], "failed");
    assert!(posts[0].body["error"].as_str().unwrap().contains("min_confidence 2"), "{}", posts[0].body);
}

#[test]
fn a_server_error_is_retried_once() {
    let v = vault();
    let (url, received) = server(&[Answer::Status(500), Answer::Status(200)]);
    // --quiet (the hooks' way) notifies too.
    let out = v.exo_cmd().args(["index", "--quiet", "--notify", &url]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "", "the retry went through: nothing to warn about");
    let posts = all(&received);
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].body, posts[1].body, "the retry sends the same summary");
}

#[test]
fn a_webhook_that_keeps_failing_is_one_warning_and_exit_0() {
    let v = vault();
    let (url, received) = server(&[Answer::Status(503), Answer::Status(503), Answer::Status(200)]);
    let out = v.exo_cmd().args(["index", "--json", "--notify", &url]).output().unwrap();
    assert!(out.status.success());
    let json: Value = serde_json::from_str(&stdout(&out)).expect("stdout is still the JSON report");
    assert_eq!(json["new"].as_array().unwrap().len(), 3);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!("exo: warning: --notify {url}: the server answered 503 (after one retry)")),
        "{err}"
    );
    assert_eq!(all(&received).len(), 2, "one try and one retry, no more");
}

#[test]
fn a_webhook_that_never_answers_times_out_and_the_run_succeeds() {
    let v = vault();
    let (url, received) = server(&[Answer::Silence, Answer::Silence]);
    let started = Instant::now();
    let out = v.exo_cmd().args(["index", "--notify", &url]).output().unwrap();
    let took = started.elapsed();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("exo: indexed 3 notes"));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--notify") && err.contains("timeout") && err.contains("after one retry"), "{err}");
    // Two attempts of 5 s each and a short pause; not the server's 30 s.
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(all(&received).len(), 2);
}

#[test]
fn an_unset_token_variable_is_said_and_the_post_goes_without_it() {
    let v = vault();
    let (url, received) = server(&[Answer::Status(200)]);
    let out = v
        .exo_cmd()
        .args(["index", "--notify", &url, "--notify-token-env", "NO_SUCH_TOKEN_VAR"])
        .env_remove("NO_SUCH_TOKEN_VAR")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(stderr(&out).contains("$NO_SUCH_TOKEN_VAR is not set"), "{}", stderr(&out));
    let posts = all(&received);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].header("authorization"), None);
}

#[test]
fn the_gardener_posts_the_same_shape_through_exo_notify() {
    let v = crate::quickstart::example_vault();
    let toml = std::fs::read_to_string(v.root.join("exo.toml")).unwrap();
    v.write("exo.toml", &format!("{toml}\n[embed]\nprovider = \"none\"\n"));
    v.git_ok(["init", "-q", "-b", "main"]);
    v.exo_ok(["init"]);
    v.commit_all("vault");
    let agent = v.root.parent().unwrap().join("agent.sh");
    let edit = r#"sed -i 's/The forgetting curve is the background/The [[Forgetting Curve]] is the background/' "books/Make It Stick.md""#;
    std::fs::write(&agent, format!("#!/bin/sh\nset -e\ncat > /dev/null\n{edit}\necho Changed: one\n")).unwrap();
    let (url, received) = server(&[Answer::Status(200)]);
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/exo-gardener");
    let out = v
        .program("bash")
        .arg(script)
        .args(["--date", "2026-01-15", "--notify", &url, "--notify-token-env", "GARDEN_TOKEN"])
        .env("EXO_GARDENER_AGENT", format!("sh {}", agent.display()))
        .env("GARDEN_TOKEN", "night")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let posts = all(&received);
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].header("authorization"), Some("Bearer night"));
    assert_eq!(posts[0].header("title"), Some("exo-gardener ok: vault"));
    let body = &posts[0].body;
    assert_eq!(body["source"], "exo-gardener");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["counts"]["notes_changed"], 1);
    assert_eq!(body["changed"][0], "books/Make It Stick.md");
    assert_eq!(body["date"], "2026-01-15");
    // Findings by kind, as `exo garden --notify` sends them: vault-example's planted orphans.
    assert_eq!(body["findings"]["orphan"], 2, "{body}");
    assert!(body["message"].as_str().unwrap().starts_with("exo-gardener: committed "), "{body}");
}

#[test]
fn exo_notify_refuses_what_is_not_a_json_object_and_exits_1_when_not_sent() {
    let v = vault();
    let run = |input: &str, url: &str| {
        let mut child = v
            .exo_cmd()
            .args(["notify", url])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    };
    let (url, received) = server(&[Answer::Status(200), Answer::Status(404)]);
    let out = run("[1, 2]", &url);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a JSON object"), "{}", stderr(&out));
    let out = run(r#"{"source": "cron", "status": "ok", "vault": "v"}"#, &url);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(all(&received)[0].body["source"], "cron");
    // A 404 is not retried: the URL is wrong, asking again will not help.
    let out = run("{}", &url);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("the server answered 404"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("retry"), "{}", stderr(&out));
}
