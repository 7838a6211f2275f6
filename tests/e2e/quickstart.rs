//! The README's quickstart, on a copy of vault-example: index, search, status.

use std::path::Path;

use crate::support::TestVault;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".exo" {
            continue;
        }
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

pub fn example_vault() -> TestVault {
    let v = TestVault::plain();
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vault-example"), &v.root);
    v
}

#[test]
fn quickstart_indexes_searches_and_reports_synced() {
    let v = example_vault();
    let out = v.exo_ok(["index"]);
    assert!(out.starts_with("exo: indexed 30 notes (30 new, 0 modified, 0 deleted)"), "{out}");
    assert!(out.contains("Synced"), "{out}");

    let results: serde_json::Value =
        serde_json::from_str(&v.exo_ok(["search", "--json", "spaced", "repetition"])).unwrap();
    assert_eq!(results["hits"][0]["path"], "concepts/Spaced Repetition.md", "{results:#}");
    let chinese: serde_json::Value = serde_json::from_str(&v.exo_ok(["search", "--json", "间隔重复"])).unwrap();
    assert_eq!(chinese["hits"][0]["path"], "concepts/间隔重复.md", "{chinese:#}");

    let status = v.status_json();
    assert_eq!(status["status"], "Synced");
    assert_eq!(status["notes"], 30);
    let warned: Vec<&str> =
        status["warnings"].as_array().unwrap().iter().map(|w| w["path"].as_str().unwrap()).collect();
    assert_eq!(warned, ["books/Building a Second Brain.md"], "{status:#}");
}
