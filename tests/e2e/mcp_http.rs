//! `exo mcp --http` and `exo mcp token`, over raw HTTP/1.1 on a `TcpStream` so every header is
//! the test's own: the bearer token (401 without it or with a wrong one), the Host and Origin
//! checks (403), a 2026-07-28 stateless `tools/call` that works across a server restart (and
//! names its client in the commit it makes), loopback unless `--allow-remote`, a clean exit on
//! SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::quickstart::example_vault;
use crate::support::{TestVault, stderr};

const TOKEN: &str = "s3cret-token-for-tests";

fn git_vault() -> TestVault {
    let v = example_vault();
    v.write(".gitignore", ".exo/\n");
    v.git_ok(["init", "-q", "-b", "main"]);
    v.commit_all("vault-example");
    v.exo_ok(["index", "--quiet", "--no-vectors"]);
    v
}

/// A running `exo mcp --http`, killed when dropped.
struct Server {
    child: Child,
    addr: String,
    said: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `exo mcp --http <addr> <args>` and waits for the line naming the bound address.
fn start(v: &TestVault, addr: &str, token: Option<&str>, args: &[&str]) -> Server {
    let mut command = v.exo_cmd();
    command.args(["mcp", "--http", addr]).args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    command.env("XDG_CONFIG_HOME", v.home().join("config"));
    match token {
        Some(token) => command.env("EXO_MCP_TOKEN", token),
        None => command.env_remove("EXO_MCP_TOKEN"),
    };
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut said = Vec::new();
    while let Some(Ok(line)) = lines.next() {
        said.push(line.clone());
        if let Some(rest) = line.strip_prefix("exo mcp: serving http://") {
            let addr = rest.split('/').next().unwrap().to_string();
            // Keep draining stderr so the server never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return Server { child, addr, said };
        }
    }
    let status = child.wait().unwrap();
    panic!("exo mcp --http did not start ({status}): {}", said.join("\n"));
}

struct Reply {
    status: u16,
    headers: String,
    body: String,
}

impl Reply {
    /// The JSON-RPC message in the body, plain or as a server-sent event.
    fn message(&self) -> Value {
        let json = match self.headers.to_ascii_lowercase().contains("text/event-stream") {
            true => self
                .body
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim)
                .find(|l| l.starts_with('{'))
                .unwrap_or_else(|| panic!("no event in {}", self.body))
                .to_string(),
            false => self.body.clone(),
        };
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// POSTs `body` to /mcp with the usual headers plus `extra` (a `Host` in `extra` replaces the
/// usual one).
fn post(addr: &str, extra: &[(&str, &str)], body: &Value) -> Reply {
    let body = body.to_string();
    let mut request = String::from("POST /mcp HTTP/1.1\r\n");
    if !extra.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("Host: {addr}\r\n"));
    }
    request.push_str("Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n");
    request.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n", body.len()));
    for (key, value) in extra {
        request.push_str(&format!("{key}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = match head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        true => dechunk(body),
        false => body.to_string(),
    };
    Reply { status, headers: head.to_string(), body }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw-legacy", "version": "0"}}})
}

/// A 2026-07-28 `tools/call`: no session, the protocol version and client in `_meta`.
fn modern_call(tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
        "name": tool, "arguments": arguments, "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "raw-http", "version": "0"}}}})
}

fn modern_headers<'a>(auth: &'a str, tool: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("Authorization", auth),
        ("MCP-Protocol-Version", "2026-07-28"),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", tool),
    ]
}

#[test]
fn http_needs_the_token_and_refuses_foreign_hosts_and_origins() {
    let v = git_vault();
    let server = start(&v, "127.0.0.1:0", Some(TOKEN), &[]);
    let addr = server.addr.as_str();
    assert!(server.said.iter().any(|l| l.contains("bearer token from EXO_MCP_TOKEN")), "{:?}", server.said);
    let right = bearer(TOKEN);

    assert_eq!(post(addr, &[], &initialize()).status, 401);
    assert_eq!(post(addr, &[("Authorization", &bearer("s3cret-token-for-tesTS"))], &initialize()).status, 401);
    assert_eq!(post(addr, &[("Authorization", "Basic czNjcmV0")], &initialize()).status, 401);
    let evil_origin = post(addr, &[("Authorization", &right), ("Origin", "http://evil.example")], &initialize());
    assert_eq!(evil_origin.status, 403, "{}", evil_origin.body);
    let evil_host = post(addr, &[("Authorization", &right), ("Host", "evil.example:8765")], &initialize());
    assert_eq!(evil_host.status, 403, "{}", evil_host.body);

    let local_page = post(addr, &[("Authorization", &right), ("Origin", "http://localhost:5173")], &initialize());
    assert_eq!(local_page.status, 200, "{}", local_page.body);
    let ok = post(addr, &[("Authorization", &right)], &initialize());
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.message()["result"]["serverInfo"]["name"], "exo", "{}", ok.body);
}

#[test]
fn a_stateless_request_works_across_a_restart_and_names_its_client() {
    let v = git_vault();
    let first = start(&v, "127.0.0.1:0", Some(TOKEN), &[]);
    let addr = first.addr.clone();
    let auth = bearer(TOKEN);
    let search = modern_call("search", json!({"query": "spaced repetition", "mode": "bm25", "limit": 1}));
    let reply = post(&addr, &modern_headers(&auth, "search"), &search);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(!reply.headers.to_ascii_lowercase().contains("mcp-session-id"), "{}", reply.headers);
    let hit = &reply.message()["result"]["structuredContent"]["hits"][0]["path"];
    assert_eq!(hit, "concepts/Spaced Repetition.md", "{}", reply.body);

    drop(first);
    let second = start(&v, &addr, Some(TOKEN), &[]);
    let reply = post(&second.addr, &modern_headers(&auth, "search"), &search);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.message()["result"]["structuredContent"]["hits"][0]["path"], "concepts/Spaced Repetition.md");

    // The client named in the request's _meta authors the commit.
    let create = modern_call("create_note", json!({"path": "inbox/over http.md", "body": "Written over HTTP.\n"}));
    let reply = post(&second.addr, &modern_headers(&auth, "create_note"), &create);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer = &reply.message()["result"];
    assert_ne!(answer["isError"], true, "{answer:#}");
    assert_eq!(v.git_ok(["log", "-1", "--format=%an|%s"]).trim(), "raw-http via exo|exo: create inbox/over http.md");

    // The header must agree with the body (the spec's 400 on a mismatch).
    let mismatch = post(&second.addr, &modern_headers(&auth, "links"), &search);
    assert_eq!(mismatch.status, 400, "{}", mismatch.body);
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_http_server_cleanly() {
    let v = git_vault();
    let mut server = start(&v, "127.0.0.1:0", Some(TOKEN), &[]);
    let pid = server.child.id().to_string();
    let out = v.program("kill").args(["-TERM", &pid]).output().unwrap();
    assert!(out.status.success());
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
fn a_non_loopback_address_needs_allow_remote() {
    let v = git_vault();
    let out = v.exo_cmd().args(["mcp", "--http", "0.0.0.0:0"]).env("EXO_MCP_TOKEN", TOKEN).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not a loopback address; pass --allow-remote"), "{}", stderr(&out));
    // With it, the server starts (and still wants the token).
    let server = start(&v, "0.0.0.0:0", Some(TOKEN), &["--allow-remote"]);
    let port = server.addr.rsplit(':').next().unwrap().to_string();
    let local = format!("127.0.0.1:{port}");
    assert_eq!(post(&local, &[], &initialize()).status, 401);
    assert_eq!(post(&local, &[("Authorization", &bearer(TOKEN))], &initialize()).status, 200);
}

#[test]
fn the_token_command_makes_a_private_token_once_and_http_uses_it() {
    let v = git_vault();
    let config = v.home().join("config");
    let token_cmd = |args: &[&str]| {
        let out = v.exo_cmd().args(["mcp", "token"]).args(args).env("XDG_CONFIG_HOME", &config).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    // No token anywhere: --http refuses to start and says how to make one.
    let out = v.exo_cmd().args(["mcp", "--http", "127.0.0.1:0"]).env("XDG_CONFIG_HOME", &config).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("run `exo mcp token`"), "{}", stderr(&out));

    let token = token_cmd(&[]).trim().to_string();
    assert_eq!(token.len(), 64, "{token}");
    assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
    let file = config.join("exo/mcp-token");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let again = token_cmd(&[]);
    assert!(!again.contains(&token), "{again}");
    assert!(again.contains(&file.display().to_string()), "{again}");
    assert_eq!(token_cmd(&["--show"]).trim(), token);
    let json: Value = serde_json::from_str(&token_cmd(&["--json"])).unwrap();
    assert_eq!(json["created"], false);
    assert_eq!(json["token"], Value::Null);

    let server = start(&v, "127.0.0.1:0", None, &[]);
    assert!(server.said.iter().any(|l| l.contains("mcp-token")), "{:?}", server.said);
    assert_eq!(post(&server.addr, &[("Authorization", &bearer(&token))], &initialize()).status, 200);
    assert_eq!(post(&server.addr, &[("Authorization", &bearer(TOKEN))], &initialize()).status, 401);
}
