//! How answers reach the reader: a closed pipe ends exo quietly, limits past the size of
//! the vault cost nothing, zero asks for nothing, stale hits and partial vectors say so,
//! and names from the vault cannot drive the terminal.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{TestVault, stderr, stdout};

/// NOTES notes in a chain n1 -> n2 -> ..., each also wanting a missing note: every graph
/// command has hundreds of lines to say.
const NOTES: usize = 300;

fn chain_vault() -> TestVault {
    let v = TestVault::plain();
    v.write("exo.toml", "[embed]\nprovider = \"none\"\n");
    for i in 1..=NOTES {
        v.write(&format!("n{i}.md"), &format!("# Note {i}\n\nalpha beta gamma [[n{}]] [[missing{i}]]\n", i + 1));
    }
    v.exo_ok(["index", "--quiet"]);
    v
}

fn json(v: &TestVault, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&v.exo_ok(all)).unwrap()
}

/// Runs `cmd`, killing it if it runs longer than `limit`. Its output is read as it comes,
/// so a long answer cannot fill the pipe and stall it.
fn output_within(cmd: &mut Command, limit: Duration) -> std::process::Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).unwrap();
            bytes
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            child.kill().unwrap();
            panic!("{cmd:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    std::process::Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() }
}

const PIPED: &[&[&str]] = &[
    &["status"],
    &["search", "alpha", "--limit", "50"],
    &["search", "alpha", "--limit", "50", "--json"],
    &["neighbors", "n1", "--depth", "400"],
    &["parse", "n1.md"],
    &["unresolved"],
    &["graph"],
    &["graph", "--format", "dot"],
    &["links", "n1"],
    &["backlinks", "n2"],
    &["orphans", "--json"],
    &["garden"],
    &["wander", "--pairs", "20"],
    &["init"],
];

#[test]
fn a_reader_that_closes_the_pipe_ends_exo_quietly() {
    let v = chain_vault();
    for args in PIPED {
        // Nobody reads: the first write meets a closed pipe.
        let mut child = v.exo_cmd().args(*args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "exo {args:?} with stdout closed: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "exo {args:?} with stdout closed");
    }
}

#[test]
fn a_reader_that_stops_after_one_line_ends_exo_quietly() {
    let v = chain_vault();
    for args in [&["graph"][..], &["search", "alpha", "--limit", "300"], &["neighbors", "n1", "--depth", "400"]] {
        // `exo graph | head -1`: one line read, then the pipe closes with most still to come.
        let mut child = v.exo_cmd().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        assert!(!first.is_empty());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "exo {args:?} | head -1: {}", stderr(&out));
        assert_eq!(stderr(&out), "", "exo {args:?} | head -1");
    }
}

#[test]
fn limits_past_the_size_of_the_vault_cost_nothing() {
    let v = chain_vault();
    for limit in ["1500000000", "18446744073709551615"] {
        let out =
            output_within(v.exo_cmd().args(["search", "alpha", "--json", "--limit", limit]), Duration::from_secs(60));
        assert_eq!(out.status.code(), Some(0), "--limit {limit}: {}", stderr(&out));
        let results: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(results["hits"].as_array().unwrap().len(), NOTES, "every note matches, once");
    }
    let far = json(&v, &["neighbors", "n1", "--depth", "18446744073709551615"]);
    assert_eq!(far["neighbors"].as_array().unwrap().len(), NOTES - 1);

    let started = Instant::now();
    let out = output_within(v.exo_cmd().args(["wander", "--pairs", "99999999", "--json"]), Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let walk: Value = serde_json::from_slice(&out.stdout).unwrap();
    let pairs = walk["pairs"].as_array().unwrap();
    assert!(!pairs.is_empty() && pairs.len() <= NOTES / 2, "a note is in one pair at most: {}", pairs.len());
    assert!(walk["note"].as_str().is_some_and(|n| n.contains("99999999")), "{walk:#}");
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn zero_asks_for_nothing() {
    let v = chain_vault();
    let results = json(&v, &["search", "alpha", "--limit", "0"]);
    assert_eq!(results["hits"], serde_json::json!([]), "{results:#}");
    assert_eq!(results["index_status"], "Synced", "the envelope still answers");
    let human = v.exo_ok(["search", "alpha", "--limit", "0"]);
    assert!(!human.contains("no matches"), "the notes match; none was asked for: {human}");

    let near = json(&v, &["neighbors", "n5", "--depth", "0"]);
    assert_eq!(near["neighbors"], serde_json::json!([]), "a note is not its own neighbour: {near:#}");
    assert_eq!(near["depth"], 0);
    assert_eq!(json(&v, &["neighbors", "n5", "--depth", "1"])["neighbors"].as_array().unwrap().len(), 2);

    let walk = json(&v, &["wander", "--pairs", "0"]);
    assert_eq!(walk["pairs"], serde_json::json!([]));
    assert_eq!(walk["note"], Value::Null, "300 notes are not 'fewer than two': {walk:#}");
}

fn small_vault() -> TestVault {
    let v = TestVault::plain();
    v.write("exo.toml", "[embed]\nprovider = \"none\"\n");
    v.write("gone.md", "# Gone\n\nzebra zebra zebra crossing\n");
    v.write("edited.md", "# Edited\n\nzebra zebra crossing\n");
    v.write("kept.md", "# Kept\n\nzebra crossing [[edited]]\n");
    v.exo_ok(["index", "--quiet"]);
    v
}

#[test]
fn a_hit_whose_file_changed_or_went_away_says_so() {
    let v = small_vault();
    v.remove("gone.md");
    v.write("edited.md", "# Edited\n\nnothing about stripes any more, and longer than before\n");
    let results = json(&v, &["search", "zebra", "--mode", "bm25"]);
    assert_eq!(results["index_status"], "OutOfSync");
    let stale: Vec<(String, Value)> = results["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["path"].as_str().unwrap().to_string(), h["stale"].clone()))
        .collect();
    assert_eq!(
        stale,
        [
            ("gone.md".into(), "deleted".into()),
            ("edited.md".into(), "modified".into()),
            ("kept.md".into(), Value::Null)
        ],
        "{results:#}"
    );
    let human = v.exo_ok(["search", "zebra", "--mode", "bm25"]);
    let line = |path: &str| human.lines().find(|l| l.contains(path)).unwrap().to_string();
    assert!(line("gone.md").ends_with("[deleted since indexed]"), "{human}");
    assert!(line("edited.md").ends_with("[changed since indexed]"), "{human}");
    assert!(!line("kept.md").contains("since indexed"), "{human}");
}

#[test]
fn graph_and_wander_say_when_the_index_is_behind() {
    let v = small_vault();
    v.write("new.md", "# New\n\nNot indexed yet.\n");
    for args in [&["graph"][..], &["graph", "--json"], &["wander", "--json"]] {
        let answer: Value = serde_json::from_str(&v.exo_ok(args)).unwrap();
        assert_eq!(answer["index_status"], "OutOfSync", "exo {args:?}: {answer:#}");
        assert_eq!(answer["stale_notes"], 1, "exo {args:?}");
    }
    let wander = v.exo_ok(["wander"]);
    assert!(
        wander.lines().last().unwrap().starts_with("warning: the index is behind the files (1 notes differ)"),
        "{wander}"
    );
    // DOT is for graphviz: the warning goes to stderr, the file stays valid.
    let out = v.exo(["graph", "--format", "dot"]);
    assert!(stdout(&out).trim_end().ends_with('}'), "{}", stdout(&out));
    assert!(stderr(&out).contains("the index is behind the files"), "{}", stderr(&out));

    v.exo_ok(["index", "--quiet"]);
    assert_eq!(json(&v, &["graph"])["index_status"], "Synced");
    assert!(!v.exo_ok(["wander"]).contains("warning"));
}

#[test]
fn partial_vectors_are_reported_with_the_answer() {
    let v = TestVault::plain();
    v.write("exo.toml", "");
    v.write("a.md", "# Apples\n\nApples grow on trees in orchards.\n");
    v.write("b.md", "# Bread\n\nBread is baked from flour, water and yeast.\n");
    v.exo_ok(["index", "--quiet"]);
    v.write("c.md", "# Cider\n\nCider is pressed from apples.\n");
    v.exo_ok(["index", "--quiet", "--no-vectors"]);
    for mode in ["vector", "hybrid"] {
        let results = json(&v, &["search", "apples", "--mode", mode]);
        assert_eq!(results["vector_coverage"], serde_json::json!({ "embedded": 2, "total": 3 }), "{results:#}");
        let human = v.exo_ok(["search", "apples", "--mode", mode]);
        assert!(human.contains("warning: vectors cover 2 of 3 chunks"), "--mode {mode}: {human}");
    }
    assert_eq!(json(&v, &["search", "apples", "--mode", "bm25"])["vector_coverage"], Value::Null);
    v.exo_ok(["index", "--quiet"]);
    let results = json(&v, &["search", "apples", "--mode", "vector"]);
    assert_eq!(results["vector_coverage"], serde_json::json!({ "embedded": 3, "total": 3 }));
    assert!(!v.exo_ok(["search", "apples", "--mode", "vector"]).contains("warning"));
}

/// Names and text that would drive a terminal if printed raw.
const CLEAR: &str = "\x1b[2J";

fn hostile_vault() -> TestVault {
    let v = TestVault::plain();
    v.write("exo.toml", "[embed]\nprovider = \"none\"\n");
    v.write("plain.md", "# Plain\n");
    v.exo_ok(["index", "--quiet"]);
    v.write(&format!("clear{CLEAR}.md"), &format!("# Clear{CLEAR} title\n\nwombat text{CLEAR} [[two\nlines]]\n"));
    v.write("two\nlines.md", "# Two\n\nwombat again [[nowhere\x1b]0;pwned\x07]]\n");
    v
}

/// No escape byte and no line break that the vault put there.
fn assert_inert(what: &str, text: &str) {
    assert!(!text.contains('\x1b') && !text.contains('\x07'), "{what} prints control characters raw: {text:?}");
    assert!(!text.lines().any(|l| l.starts_with("lines")), "{what} prints a name's newline raw: {text:?}");
}

#[test]
fn names_and_text_from_the_vault_cannot_drive_the_terminal() {
    let v = hostile_vault();
    let status = stdout(&v.exo(["status"]));
    assert!(status.contains("two\\nlines.md"), "the new notes are listed, escaped: {status}");
    assert_inert("status", &status);
    v.exo_ok(["index", "--quiet"]);
    let clear = format!("clear{CLEAR}.md");
    let runs: &[&[&str]] = &[
        &["search", "wombat"],
        &["links", &clear],
        &["links", "two\nlines.md"],
        &["backlinks", "two\nlines.md"],
        &["neighbors", &clear],
        &["path", &clear, "two\nlines.md"],
        &["orphans"],
        &["unresolved"],
        &["garden"],
        &["wander", "--pairs", "1"],
        &["graph", "--format", "dot"],
        &["parse", &clear],
        &["parse", "two\nlines.md"],
    ];
    for args in runs {
        let out = v.exo(*args);
        assert!(matches!(out.status.code(), Some(0 | 1)), "exo {args:?}: {}", stderr(&out));
        assert_inert(&format!("exo {args:?}"), &stdout(&out));
    }
    let search = v.exo_ok(["search", "wombat"]);
    assert!(search.contains("clear\\x1b[2J.md") && search.contains("two\\nlines.md"), "escaped, not dropped: {search}");
    // JSON stays raw: serde escapes control characters itself.
    let results = json(&v, &["search", "wombat"]);
    assert!(results["hits"].as_array().unwrap().iter().any(|h| h["path"] == clear));
}

/// `text` without colour codes.
fn plain(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn colour_keeps_the_columns() {
    let v = small_vault();
    v.write("kept.md", "# Kept\n\nchanged\n");
    let out = v.exo_cmd().args(["status"]).env_remove("NO_COLOR").env("CLICOLOR_FORCE", "1").output().unwrap();
    let text = stdout(&out);
    assert!(text.contains('\x1b'), "CLICOLOR_FORCE colours: {text:?}");
    assert!(plain(&text).lines().any(|l| l == "  modified kept.md"), "{text:?}");
    // NO_COLOR wins (no-color.org).
    let out = v.exo_cmd().args(["status"]).env("CLICOLOR_FORCE", "1").output().unwrap();
    assert!(!stdout(&out).contains('\x1b'));
}

#[test]
fn an_os_error_is_said_once() {
    let v = TestVault::plain();
    let out = v.exo(["--vault", "/nonexistent/vault", "status"]);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    let os = std::io::Error::from_raw_os_error(2).to_string();
    assert_eq!(text.matches(&os).count(), 1, "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");

    // rusqlite's message and SQLite's restatement of it.
    v.write("exo.toml", "[embed]\nprovider = \"none\"\n");
    v.write("a.md", "# A\n");
    v.exo_ok(["index", "--quiet"]);
    std::fs::write(v.root.join(".exo/index.sqlite"), "not a database, not at all").unwrap();
    let out = v.exo(["search", "a"]);
    assert_eq!(out.status.code(), Some(2));
    let text = stderr(&out);
    assert_eq!(text.matches("not a database").count(), 1, "{text}");
}

#[test]
fn an_answer_whose_freshness_could_not_be_checked_does_not_claim_synced() {
    let v = TestVault::plain();
    v.write("exo.toml", "notes = [\"notes\"]\n\n[embed]\nprovider = \"none\"\n");
    v.write("notes/a.md", "# A\n\nquokka [[b]]\n");
    v.write("notes/b.md", "# B\n\nquokka\n");
    v.exo_ok(["index", "--quiet"]);
    // The index still answers; the check against the files cannot run.
    std::fs::remove_dir_all(v.root.join("notes")).unwrap();
    for args in [&["search", "quokka"][..], &["graph"], &["links", "a"], &["wander"]] {
        let mut all = args.to_vec();
        all.push("--json");
        let out = v.exo(&all);
        assert_eq!(out.status.code(), Some(0), "exo {args:?}: {}", stderr(&out));
        let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(answer["index_status"], Value::Null, "exo {args:?}: {answer:#}");
        assert_eq!(answer["stale_notes"], Value::Null, "exo {args:?}");
    }
    let out = v.exo(["links", "a"]);
    assert!(stderr(&out).contains("could not check the index against the files"), "{}", stderr(&out));
}
