//! Hostile notes in a real vault, through the real binary with its address space capped: a
//! vault is often cloned from others, and one small note must never take exo down, stop a
//! run, or keep later edits out of the index.

use std::process::Output;

use crate::support::*;

/// The cap on exo's address space, in KiB (`ulimit -v`): 2 GB, far above what indexing a
/// small vault takes, far below what the billion-laughs note took (13.5 GB).
const ADDRESS_SPACE_KIB: u32 = 2_000_000;

/// exo run under `ulimit -v`, so a runaway allocation fails the run instead of the machine.
fn exo_capped(vault: &TestVault, args: &[&str]) -> Output {
    let script = format!("ulimit -v {ADDRESS_SPACE_KIB} && exec \"$0\" \"$@\"");
    vault.program("sh").arg("-c").arg(script).arg(exo_bin()).args(args).output().unwrap()
}

fn exo_capped_ok(vault: &TestVault, args: &[&str]) -> String {
    let out = exo_capped(vault, args);
    assert!(out.status.success(), "exo {args:?} failed ({:?}): {}{}", out.status, stdout(&out), stderr(&out));
    stdout(&out)
}

fn json(vault: &TestVault, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&exo_capped_ok(vault, &all)).unwrap()
}

fn search_paths(vault: &TestVault, query: &str) -> Vec<String> {
    let hits = json(vault, &["search", "--mode", "bm25", query]);
    hits["hits"].as_array().unwrap().iter().map(|h| h["path"].as_str().unwrap().to_string()).collect()
}

/// The frontmatter of `tests/fixtures/hostile/billion-laughs.yaml`: ten billion strings once
/// its aliases are expanded.
fn billion_laughs() -> String {
    let yaml = include_str!("../fixtures/hostile/billion-laughs.yaml");
    format!("---\n{yaml}---\n# Laughs\n\nA laughing hyena.\n")
}

fn deep_list() -> String {
    format!("---\n{}a\n---\n# Deep list\n\nA burrowing aardvark.\n", "- ".repeat(5_000))
}

fn deep_mapping() -> String {
    let yaml: String = (0..2_400).map(|level| format!("{}k{level}:\n", "  ".repeat(level))).collect();
    format!("---\n{yaml}---\n# Deep mapping\n\nA diving cormorant.\n")
}

const BOM_NOTE: &str = "\u{feff}---\ntitle: Marked Note\ntags: [bom]\n---\nA patient heron.\n";

const HOSTILE: [&str; 3] = ["hostile/deep-list.md", "hostile/deep-mapping.md", "hostile/laughs.md"];

#[test]
fn hostile_notes_are_indexed_as_text_and_later_edits_still_land() {
    let v = TestVault::plain();
    v.write("exo.toml", "");
    v.write("normal.md", "# Normal\n\nA grazing zebra.\n");
    v.write("hostile/laughs.md", &billion_laughs());
    v.write("hostile/deep-list.md", &deep_list());
    v.write("hostile/deep-mapping.md", &deep_mapping());
    v.write("hostile/bom.md", BOM_NOTE);

    let out = exo_capped_ok(&v, &["index"]);
    assert!(out.contains("indexed 5 notes"), "{out}");
    assert_eq!(search_paths(&v, "zebra"), ["normal.md"]);
    for (path, word) in HOSTILE.iter().zip(["aardvark", "cormorant", "hyena"]) {
        assert_eq!(search_paths(&v, word), [*path], "the body of {path} is searchable");
        let parsed = json(&v, &["parse", path]);
        let warnings = parsed["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 1, "{path}: {warnings:?}");
        assert_eq!(warnings[0]["kind"], "invalid_frontmatter", "{path}");
        assert!(parsed["frontmatter"].is_null(), "{path}");
    }
    let bom = json(&v, &["parse", "hostile/bom.md"]);
    assert_eq!(bom["title"], "Marked Note");
    assert_eq!(bom["tags"][0]["name"], "bom");
    assert_eq!(search_paths(&v, "heron"), ["hostile/bom.md"]);

    let status = json(&v, &["status"]);
    assert_eq!(status["status"], "Synced", "{status:#}");
    assert_eq!(status["notes"], 5);
    let mut warned: Vec<&str> =
        status["warnings"].as_array().unwrap().iter().map(|w| w["path"].as_str().unwrap()).collect();
    warned.sort();
    assert_eq!(warned, HOSTILE, "{status:#}");

    // The failure this guards against: a run that dies on a hostile note never indexes a
    // later edit to any other note.
    v.write("normal.md", "# Normal\n\nA grazing okapi.\n");
    let out = exo_capped_ok(&v, &["index"]);
    assert!(out.contains("1 modified"), "{out}");
    assert_eq!(search_paths(&v, "okapi"), ["normal.md"]);
    assert!(search_paths(&v, "zebra").is_empty());
    assert_eq!(json(&v, &["status"])["status"], "Synced");
}
