//! Bad input and broken indexes: never a panic, never a lost note, always a way back.

use crate::support::*;

fn indexed(notes: &[(&str, &str)]) -> TestVault {
    let vault = TestVault::plain();
    vault.exo_ok(["init"]);
    for (path, text) in notes {
        vault.write(path, text);
    }
    vault.exo_ok(["index"]);
    vault
}

#[test]
fn corrupt_catalog_is_degraded_and_rebuild_recovers() {
    let vault = indexed(&[("a.md", "# A"), ("b.md", "# B")]);
    std::fs::write(vault.root.join(".exo/index.sqlite"), b"this is not a database, it is garbage bytes").unwrap();
    let json = vault.status_json();
    assert_eq!(json["status"], "Degraded", "{json}");
    assert_eq!(json["repair"], "exo index --rebuild");
    assert_eq!(vault.status(), "Degraded");
    let out = vault.exo_ok(["index", "--rebuild"]);
    assert!(out.contains("rebuilt"), "{out}");
    assert_eq!(vault.status(), "Synced");
    assert_eq!(vault.index_contents().notes, vault.files_on_disk());
}

#[test]
fn deleted_text_index_is_degraded_and_plain_index_repairs_it() {
    let vault = indexed(&[("a.md", "# A")]);
    std::fs::remove_dir_all(vault.root.join(".exo/text")).unwrap();
    let json = vault.status_json();
    assert_eq!(json["status"], "Degraded");
    assert!(json["reason"].as_str().unwrap().contains("text index"), "{json}");
    let out = vault.exo_ok(["index"]);
    assert!(out.contains("rebuilt the index (text index missing"), "{out}");
    assert_eq!(vault.status(), "Synced");
    assert_eq!(vault.index_contents().text_paths, vec!["a.md"]);
}

#[test]
fn config_change_that_alters_parsing_needs_a_rebuild() {
    let vault = indexed(&[("a.md", "[[x|y]]")]);
    vault.write("exo.toml", "[links]\nstyle = \"dendron\"\n");
    let json = vault.status_json();
    assert_eq!(json["status"], "Degraded");
    assert!(json["reason"].as_str().unwrap().contains("exo.toml"), "{json}");
    vault.exo_ok(["index"]);
    assert_eq!(vault.status(), "Synced");
}

#[test]
fn one_bad_note_never_stops_the_run() {
    let vault = TestVault::plain();
    vault.write("exo.toml", "max_file_size = 2000\n");
    vault.write("good.md", "# Good\n[[bad yaml]]");
    vault.write("bad yaml.md", "---\ntitle: [unclosed\n---\n# Still indexed\n");
    vault.write("huge.md", &"x".repeat(5000));
    std::fs::write(vault.root.join("binary.md"), b"\x00\x01\x02binary").unwrap();
    std::fs::write(vault.root.join("latin1.md"), b"caf\xe9 au lait").unwrap();
    let out = vault.exo(["index"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("huge.md") && err.contains("max_file_size"), "{err}");
    assert!(err.contains("binary.md"), "{err}");
    let json = vault.status_json();
    assert_eq!(json["status"], "Synced", "skipped files are known, not new: {json}");
    assert_eq!(json["notes"], 3);
    let warnings = json["warnings"].to_string();
    assert!(warnings.contains("bad yaml.md") && warnings.contains("invalid YAML"), "{warnings}");
    assert!(warnings.contains("latin1.md") && warnings.contains("UTF-8"), "{warnings}");
    assert!(warnings.contains("huge.md"), "{warnings}");
    // Nothing was rewritten.
    assert_eq!(std::fs::read(vault.root.join("latin1.md")).unwrap(), b"caf\xe9 au lait");
    // Shrinking the huge note below the limit gets it indexed.
    vault.write("huge.md", "# Now small");
    assert_eq!(vault.status_json()["modified"], serde_json::json!(["huge.md"]));
    vault.exo_ok(["index"]);
    assert_eq!(vault.status_json()["notes"], 4);
}

#[test]
fn second_writer_waits_then_says_why() {
    let vault = indexed(&[("a.md", "# A")]);
    let lock = std::fs::OpenOptions::new().write(true).open(vault.root.join(".exo/lock")).unwrap();
    lock.lock().unwrap();
    vault.write("a.md", "changed");
    let started = std::time::Instant::now();
    let out = vault.exo(["index", "--wait", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    let err = stderr(&out);
    assert!(err.contains("another exo process") && err.contains("--wait"), "{err}");
    // Readers are never blocked by the writer lock.
    assert_eq!(vault.status(), "OutOfSync");
    lock.unlock().unwrap();
    vault.exo_ok(["index", "--wait", "1"]);
    assert_eq!(vault.status(), "Synced");
}
