//! `exo-bench mcp`: a warm `exo mcp` over stdio on a generated vault, driven as a 2026-07-28
//! client (each request carries its own `_meta`, no `initialize`): the cold start to the first
//! answer, then `calls` each of `search` (hybrid), `read_note` and `create_note`, with p50 and
//! p99. The vault is its own copy (`<work>/mcp-<notes>-seed<seed>`), so the notes the writes add
//! never reach `exo-bench run`'s figures; each run's notes go under `bench-mcp/<run>/`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::generate::generate;
use crate::harness::git;
use crate::process::median;

/// One `exo mcp` process and its pipes.
struct Server {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    next_id: u64,
}

impl Server {
    fn start(exo: &Path, vault: &Path) -> Result<Server> {
        let mut child = Command::new(exo)
            .arg("mcp")
            .current_dir(vault)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot run {} mcp", exo.display()))?;
        let input = child.stdin.take().context("no stdin")?;
        let output = BufReader::new(child.stdout.take().context("no stdout")?);
        Ok(Server { child, input, output, next_id: 1 })
    }

    /// One `tools/call`; the structured answer, or the error text as an error.
    fn call(&mut self, tool: &str, arguments: Value) -> Result<Value> {
        let result = self.call_raw(tool, arguments)?;
        if result["isError"] == json!(true) {
            bail!("{tool} failed: {result}");
        }
        Ok(result["structuredContent"].clone())
    }

    /// One `tools/call` that must be refused (`isError`); its text.
    fn call_refused(&mut self, tool: &str, arguments: Value) -> Result<String> {
        let result = self.call_raw(tool, arguments)?;
        if result["isError"] != json!(true) {
            bail!("{tool} was not refused: {result}");
        }
        Ok(result["content"][0]["text"].as_str().unwrap_or("").to_string())
    }

    /// One `tools/call`; its JSON-RPC result.
    fn call_raw(&mut self, tool: &str, arguments: Value) -> Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        let request = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
            "name": tool, "arguments": arguments, "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "exo-bench", "version": "0"}}}});
        writeln!(self.input, "{request}")?;
        self.input.flush()?;
        let mut line = String::new();
        loop {
            line.clear();
            if self.output.read_line(&mut line)? == 0 {
                bail!("exo mcp closed its output");
            }
            let message: Value = serde_json::from_str(&line).context("exo mcp wrote a line that is not JSON")?;
            if message["id"] != json!(id) {
                continue;
            }
            let result = &message["result"];
            if result.is_null() {
                bail!("{tool} failed: {message}");
            }
            return Ok(result.clone());
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn prepare(exo: &Path, work: &Path, notes: usize, seed: u64) -> Result<PathBuf> {
    let dir = work.join(format!("mcp-{notes}-seed{seed}"));
    if !dir.join(".git").is_dir() {
        let _ = std::fs::remove_dir_all(&dir);
        eprintln!("generating {notes} notes in {} …", dir.display());
        generate(&dir, notes, seed)?;
        // The figures are for a vault with vectors: fake ones for the generated notes
        // (embedding 10k notes takes many minutes), the real model for every note written.
        crate::vectors::provide(exo, &dir, crate::vectors::Vectors::Fake)?;
        std::fs::write(dir.join(".gitignore"), ".exo/\n")?;
        git(&dir, &["init", "-q", "-b", "main"])?;
        git(&dir, &["add", "-A"])?;
        git(&dir, &["commit", "-q", "-m", "generated vault"])?;
    }
    eprintln!("indexing {} (vectors included) …", dir.display());
    let status = Command::new(exo).args(["index", "--quiet"]).current_dir(&dir).status()?;
    if !status.success() {
        bail!("exo index failed in {}", dir.display());
    }
    Ok(dir)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Forty words drawn (by a small LCG seeded with `seed`) from the sample notes' titles.
fn word_salad(seed: u64, sample: &[(String, String)]) -> String {
    let words: Vec<&str> = sample.iter().flat_map(|(_, title)| title.split_whitespace()).collect();
    let mut state = seed | 1;
    let mut picked = Vec::with_capacity(40);
    for _ in 0..40 {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        if let Some(word) = words.get((state >> 33) as usize % words.len().max(1)) {
            picked.push(*word);
        }
    }
    format!("{}.\n", picked.join(" "))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Times `calls` runs of `one(i)` and prints p50 and p99.
fn timed(name: &str, calls: usize, mut one: impl FnMut(usize) -> Result<()>) -> Result<()> {
    let mut times = Vec::with_capacity(calls);
    for i in 0..calls {
        let started = Instant::now();
        one(i)?;
        times.push(started.elapsed());
    }
    times.sort_unstable();
    println!(
        "| {name} | {calls} | {:.1} | {:.1} | {:.1} |",
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(times[times.len() - 1])
    );
    Ok(())
}

pub fn run(notes: usize, seed: u64, exo: &Path, work: &Path, calls: usize) -> Result<()> {
    let exo = exo.canonicalize().with_context(|| format!("no exo binary at {}", exo.display()))?;
    std::fs::create_dir_all(work)?;
    let vault = prepare(&exo, work, notes, seed)?;

    // Cold: process start to the first search answer, five times.
    let mut cold = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let mut server = Server::start(&exo, &vault)?;
        server.call("search", json!({"query": "notes about memory", "mode": "hybrid", "limit": 10}))?;
        cold.push(started.elapsed());
    }
    let mut server = Server::start(&exo, &vault)?;
    let listed = server.call("list_notes", json!({"limit": calls}))?;
    let sample: Vec<(String, String)> = listed["notes"]
        .as_array()
        .context("list_notes answered no notes")?
        .iter()
        .map(|n| (n["path"].as_str().unwrap_or("").to_string(), n["title"].as_str().unwrap_or("").to_string()))
        .collect();
    if sample.is_empty() {
        bail!("the vault has no notes");
    }
    let run_id = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH)?.as_secs();

    println!("exo mcp over stdio, {notes} notes ({}), warm server, {calls} calls each\n", vault.display());
    println!("| call | n | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|");
    println!("| cold start to first search answer | 5 | {:.1} (median) | | |", ms(median(cold)));
    timed("search (hybrid)", calls, |i| {
        let (_, title) = &sample[i % sample.len()];
        server.call("search", json!({"query": title, "mode": "hybrid", "limit": 10})).map(drop)
    })?;
    timed("read_note", calls, |i| {
        let (path, _) = &sample[i % sample.len()];
        server.call("read_note", json!({"note": path})).map(drop)
    })?;
    // Bench notes are alike (a generator's words), so the near-duplicate check would refuse
    // the second one: the write is timed with `force: true`, and the check on its own by a
    // create it refuses (it runs before anything is written, so the two add up to a create;
    // both halves of the check, by name and by meaning, always run).
    timed("create_note, force: true (write, reindex, embed, commit)", calls, |i| {
        let body = word_salad(run_id.wrapping_mul(1_000_003).wrapping_add(i as u64), &sample);
        let path = format!("bench-mcp/{run_id}-{i}.md");
        server.call("create_note", json!({"path": path, "body": body, "force": true})).map(drop)
    })?;
    timed("create_note refused as a near-duplicate (the check alone)", calls, |i| {
        let body = word_salad(run_id.wrapping_mul(1_000_003).wrapping_add(i as u64), &sample);
        // Same file name in another folder: refused by name, after the check by meaning ran.
        let path = format!("bench-mcp/again/{run_id}-{i}.md");
        server.call_refused("create_note", json!({"path": path, "body": body})).map(drop)
    })?;
    Ok(())
}
