//! Golden files of each command's `--json` and human output on vault-example, text and graph
//! only (no vectors), so the answers are the same on every CPU. They pin what the faces print
//! while the code behind them moves: any change shows up as a diff under
//! `tests/e2e/snapshots/`. To accept a change on purpose:
//!
//! ```sh
//! EXO_UPDATE_SNAPSHOTS=1 cargo test -p exo-cli --test e2e snapshots
//! ```

use std::path::{Path, PathBuf};

use crate::quickstart::example_vault;
use crate::support::{TestVault, stderr, stdout};

/// (golden file name, arguments). Each runs once as given (human) and once with `--json`.
const CASES: &[(&str, &[&str])] = &[
    ("status", &["status"]),
    ("search", &["search", "spaced repetition", "--mode", "bm25"]),
    ("search-filtered", &["search", "memory", "--mode", "bm25", "--path", "concepts/", "--limit", "3"]),
    ("search-where", &["search", "review", "--mode", "bm25", "--where", "type=concept"]),
    ("links", &["links", "concepts/Spaced Repetition.md"]),
    ("backlinks", &["backlinks", "Spaced Repetition"]),
    ("neighbors", &["neighbors", "Forgetting Curve", "--depth", "2"]),
    ("path", &["path", "Hermann Ebbinghaus", "Leitner System"]),
    ("path-directed", &["path", "Hermann Ebbinghaus", "Leitner System", "--directed"]),
    ("orphans", &["orphans"]),
    ("unresolved", &["unresolved"]),
    ("graph", &["graph"]),
    ("graph-dot", &["graph", "--format", "dot"]),
    ("parse", &["parse", "concepts/Spaced Repetition.md"]),
    ("wander", &["wander", "--seed", "7", "--pairs", "2"]),
    ("garden", &["garden", "--min-confidence", "0"]),
    ("missing-note", &["links", "No Such Note"]),
];

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e/snapshots")
}

/// Output with what differs from run to run (the temp folder, timings, clocks) masked.
fn normalise(text: &str, vault: &Path) -> String {
    let text = text.replace(&vault.display().to_string(), "<VAULT>");
    text.lines().map(mask_line).collect::<Vec<_>>().join("\n") + "\n"
}

fn mask_line(line: &str) -> String {
    let masked_keys = ["\"elapsed_ms\": ", "\"indexed_at\": "];
    for key in masked_keys {
        if let Some(at) = line.find(key) {
            let comma = if line.trim_end().ends_with(',') { "," } else { "" };
            return format!("{}{key}<masked>{comma}", &line[..at]);
        }
    }
    match line.find(" in ").zip(line.find(" ms")) {
        Some((start, end)) if line.starts_with("exo: indexed") && start < end => {
            format!("{} in <ms>{}", &line[..start], &line[end + 3..])
        }
        _ => line.to_string(),
    }
}

fn indexed_example() -> TestVault {
    let vault = example_vault();
    let config = std::fs::read_to_string(vault.root.join("exo.toml")).unwrap();
    vault.write("exo.toml", &format!("{config}\n[embed]\nprovider = \"none\"\n"));
    vault.exo_ok(["index"]);
    vault
}

fn run(vault: &TestVault, args: &[&str]) -> String {
    let out = vault.exo(args);
    let code = out.status.code().map_or("signal".to_string(), |c| c.to_string());
    let mut printed = stdout(&out);
    // JSON is compared as a value: the order of an object's keys is not part of the answer.
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(&printed) {
        printed = serde_json::to_string_pretty(&sorted(value)).unwrap() + "\n";
    }
    normalise(&format!("exit {code}\n--- stdout\n{printed}--- stderr\n{}", stderr(&out)), &vault.root)
}

/// The value with every object's keys in order (whether or not serde_json keeps insertion order).
fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[test]
fn every_command_prints_what_its_golden_file_says() {
    let vault = indexed_example();
    let update = std::env::var_os("EXO_UPDATE_SNAPSHOTS").is_some();
    let mut differ = Vec::new();
    for (name, args) in CASES {
        let mut json_args = args.to_vec();
        json_args.push("--json");
        let actual = format!("$ exo {}\n{}\n$ exo {} --json\n{}", args.join(" "), run(&vault, args), args.join(" "), {
            run(&vault, &json_args)
        });
        let golden = golden_dir().join(format!("{name}.txt"));
        if update {
            std::fs::create_dir_all(golden_dir()).unwrap();
            std::fs::write(&golden, &actual).unwrap();
        } else if std::fs::read_to_string(&golden).ok().as_deref() != Some(actual.as_str()) {
            differ.push(format!("{name}: expected {}\n--- actual:\n{actual}", golden.display()));
        }
    }
    assert!(differ.is_empty(), "{} golden files differ:\n{}", differ.len(), differ.join("\n"));
}

#[test]
fn index_and_init_print_what_their_golden_files_say() {
    let vault = example_vault();
    let config = std::fs::read_to_string(vault.root.join("exo.toml")).unwrap();
    vault.write("exo.toml", &format!("{config}\n[embed]\nprovider = \"none\"\n"));
    let first = run(&vault, &["index", "--json"]);
    vault.write("concepts/Forgetting Curve.md", "# Forgetting Curve\n\nRewritten, linking [[Spaced Repetition]].\n");
    let human = run(&vault, &["index"]);
    let fresh = TestVault::plain();
    let init_human = run(&fresh, &["init"]);
    let init_again = run(&fresh, &["init", "--json"]);
    let actual = format!(
        "$ exo index --json\n{first}\n$ exo index (after one edit)\n{human}\n$ exo init\n{init_human}\n$ exo init --json (again)\n{init_again}"
    );
    let golden = golden_dir().join("index-init.txt");
    if std::env::var_os("EXO_UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&golden, &actual).unwrap();
    } else {
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        assert_eq!(actual, expected, "golden file {} differs", golden.display());
    }
}
