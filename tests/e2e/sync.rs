//! The OutOfSync badge: what exo status reports as files change, and what exo index does.

use std::time::{Duration, SystemTime};

use crate::support::*;

fn indexed_vault() -> TestVault {
    let vault = TestVault::plain();
    vault.exo_ok(["init"]);
    vault.write("a.md", "# Alpha\n\nLinks to [[b]].\n");
    vault.write("b.md", "# Beta\n\nBack to [[a]].\n");
    vault.write("sub/c.md", "# Gamma\n");
    vault.exo_ok(["index"]);
    assert_eq!(vault.status(), "Synced");
    vault
}

#[test]
fn missing_before_the_first_index() {
    let vault = TestVault::plain();
    vault.exo_ok(["init"]);
    vault.write("a.md", "x");
    let json = vault.status_json();
    assert_eq!(json["status"], "Missing");
    assert_eq!(json["repair"], "exo index");
    assert_eq!(vault.status(), "Missing");
}

#[test]
fn edit_new_and_delete_are_listed_then_reconciled() {
    let vault = indexed_vault();
    vault.write("a.md", "# Alpha\n\nEdited.\n");
    vault.write("new note.md", "# Fresh");
    vault.remove("sub/c.md");
    let json = vault.status_json();
    assert_eq!(json["status"], "OutOfSync");
    assert_eq!(list(&json, "modified"), vec!["a.md"]);
    assert_eq!(list(&json, "new"), vec!["new note.md"]);
    assert_eq!(list(&json, "deleted"), vec!["sub/c.md"]);
    assert_eq!(json["repair"], "exo index");

    let human = stdout(&vault.exo(["status"]));
    assert!(human.starts_with("OutOfSync  ·  1 modified, 1 new, 1 deleted"), "{human}");
    assert!(human.contains("deleted  sub/c.md"), "{human}");

    let summary = vault.exo_ok(["index"]);
    assert!(summary.starts_with("exo: indexed 3 notes (1 new, 1 modified, 1 deleted) in "), "{summary}");
    assert!(summary.trim_end().contains("— Synced"), "{summary}");
    assert_eq!(vault.status(), "Synced");

    let contents = vault.index_contents();
    assert_eq!(contents.notes, vault.files_on_disk(), "catalog matches the files");
    assert_eq!(contents.text_paths, vec!["a.md", "b.md", "new note.md"], "no ghost documents");
}

#[test]
fn index_json_summary() {
    let vault = indexed_vault();
    vault.write("b.md", "# Beta\n\nChanged.\n");
    let json: serde_json::Value = serde_json::from_str(&vault.exo_ok(["index", "--json"])).unwrap();
    assert_eq!(list(&json, "modified"), vec!["b.md"]);
    assert_eq!(json["status"]["status"], "Synced");
    assert_eq!(json["notes"], 3);
    assert!(json["elapsed_ms"].is_u64());
}

#[test]
fn quiet_index_prints_nothing() {
    let vault = indexed_vault();
    vault.write("a.md", "changed");
    let out = vault.exo(["index", "--quiet"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
    assert_eq!(vault.status(), "Synced");
}

#[test]
fn rename_keeps_the_note_and_fixes_links() {
    let vault = indexed_vault();
    std::fs::rename(vault.root.join("b.md"), vault.root.join("sub/b.md")).unwrap();
    let json = vault.status_json();
    assert_eq!(list(&json, "new"), vec!["sub/b.md"]);
    assert_eq!(list(&json, "deleted"), vec!["b.md"]);
    let report: serde_json::Value = serde_json::from_str(&vault.exo_ok(["index", "--json"])).unwrap();
    assert_eq!(report["renamed"], serde_json::json!([{"from": "b.md", "to": "sub/b.md"}]));
    assert_eq!(vault.status(), "Synced");
    let db = rusqlite::Connection::open(vault.root.join(".exo/index.sqlite")).unwrap();
    let dst: String = db
        .query_row(
            "SELECT d.path FROM links l JOIN notes s ON s.id = l.src_id JOIN notes d ON d.id = l.dst_id WHERE s.path = 'a.md'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(dst, "sub/b.md", "[[b]] now resolves to the moved note");
    assert_eq!(vault.index_contents().text_paths, vec!["a.md", "sub/b.md", "sub/c.md"]);
}

/// A link as (source, seq, target, note it resolves to, attachment it resolves to).
type ResolvedLink = (String, i64, String, Option<String>, Option<String>);

fn resolved_links(vault: &TestVault) -> Vec<ResolvedLink> {
    let db = rusqlite::Connection::open(vault.root.join(".exo/index.sqlite")).unwrap();
    let mut stmt = db
        .prepare(
            "SELECT s.path, l.seq, l.target, d.path, l.dst_attachment FROM links l JOIN notes s ON s.id = l.src_id
             LEFT JOIN notes d ON d.id = l.dst_id ORDER BY s.path, l.seq",
        )
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[test]
fn small_changes_resolve_links_exactly_as_a_rebuild_does() {
    let vault = TestVault::plain();
    vault.exo_ok(["init"]);
    vault.write("a.md", "---\naliases: [Alpha]\n---\n[[x/y]] [[y]] [[Y.MD]] [[deep/x/y]] [[why]] [[x/y/..]]\n");
    vault.write("x/y.md", "[up](../a.md) [dot](./y.md) [[..]] [[]] [[#Heading]] ![[diagram.png]]\n# Heading\n");
    vault.write("deep/x/y.md", "---\naliases: [why]\n---\n[[Alpha]] [[café]] [[dendron.a]] [rel](../../a)\n");
    vault.write("dendron.a.b.md", "[[dendron.a]] [[Cafe\u{301}]] [[Café]] [[docs/readme.md]]\n");
    vault.write("assets/diagram.png", "png");
    vault.exo_ok(["index"]);
    // Each step changes a few notes; the incremental run must leave every link where a
    // rebuild from scratch puts it.
    let steps: [&dyn Fn(); 12] = [
        &|| vault.write("x.md", "# X, named by [[x/y/..]]\n"),
        &|| vault.write("dendron.a.md", "[[dendron.a.b]]\n"),
        &|| vault.write("café.md", "---\naliases: [Y]\n---\n"),
        &|| vault.write("deep/x/y.md", "---\naliases: [other]\n---\n[[Alpha]] [[y]] [[why]]\n"),
        // Self links go through the narrowed resolver too, here from a note no link names.
        &|| vault.write("solo.md", "[[]] [[#Top]]\n# Top\n"),
        &|| vault.remove("x/y.md"),
        &|| vault.write("b/y.markdown", "[[a]] [[x]] [[diagram.png]]\n"),
        // `docs/readme.md` is found as `docs/readme.md.md`, a note of another stem.
        &|| vault.write("docs/readme.md.md", "# Readme, twice over\n"),
        &|| vault.write("Docs/Readme.md", "# Readme\n"),
        &|| vault.remove("docs/readme.md.md"),
        // Two names equal after Unicode normalisation: the link must not follow the order
        // in which the notes were indexed.
        &|| vault.write("Café.md", "# Café, composed\n"),
        &|| vault.write("Cafe\u{301}.md", "# Café, decomposed\n"),
    ];
    for (step, change) in steps.iter().enumerate() {
        change();
        vault.exo_ok(["index"]);
        let incremental = resolved_links(&vault);
        vault.exo_ok(["index", "--rebuild", "--no-vectors"]);
        assert_eq!(incremental, resolved_links(&vault), "after step {step}");
    }
    let a_links = resolved_links(&vault).into_iter().filter(|l| l.0 == "a.md").collect::<Vec<_>>();
    assert!(a_links.iter().any(|l| l.2 == "x/y/.." && l.3.as_deref() == Some("x.md")), "{a_links:?}");
}

#[test]
fn links_re_resolve_when_their_target_appears_or_disappears() {
    let vault = indexed_vault();
    vault.write("d.md", "[[Zeta]] and [[b]]");
    vault.exo_ok(["index"]);
    let resolved = |target: &str| -> Option<String> {
        let db = rusqlite::Connection::open(vault.root.join(".exo/index.sqlite")).unwrap();
        db.query_row(
            "SELECT d.path FROM links l JOIN notes s ON s.id = l.src_id LEFT JOIN notes d ON d.id = l.dst_id WHERE s.path = 'd.md' AND l.target = ?1",
            [target],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(resolved("Zeta"), None);
    vault.write("z/Zeta.md", "# Zeta");
    vault.exo_ok(["index"]);
    assert_eq!(resolved("Zeta").as_deref(), Some("z/Zeta.md"));
    vault.remove("b.md");
    vault.exo_ok(["index"]);
    assert_eq!(resolved("b"), None);
    vault.write("other/B.md", "---\naliases: [unused]\n---\n");
    vault.exo_ok(["index"]);
    assert_eq!(resolved("b").as_deref(), Some("other/B.md"), "case-insensitive stem");
}

#[test]
fn racy_clean_edit_is_caught() {
    let vault = TestVault::plain();
    vault.exo_ok(["init"]);
    vault.write("n.md", "version one\n");
    let path = vault.root.join("n.md");
    let mtime = filetime::FileTime::from_last_modification_time(&std::fs::metadata(&path).unwrap());
    vault.exo_ok(["index"]);
    // Same size, same mtime: exactly what a second edit within one timestamp tick looks like.
    std::fs::write(&path, "version two\n").unwrap();
    filetime::set_file_mtime(&path, mtime).unwrap();
    let json = vault.status_json();
    assert_eq!(list(&json, "modified"), vec!["n.md"], "{json}");
    vault.exo_ok(["index"]);
    assert_eq!(vault.status(), "Synced");
}

#[test]
fn an_old_unchanged_stat_is_trusted_and_verify_agrees() {
    let vault = TestVault::plain();
    vault.exo_ok(["init"]);
    vault.write("n.md", "version one\n");
    let path = vault.root.join("n.md");
    let old = filetime::FileTime::from_system_time(SystemTime::now() - Duration::from_secs(3600));
    filetime::set_file_mtime(&path, old).unwrap();
    vault.exo_ok(["index"]);
    assert_eq!(vault.status(), "Synced", "the stat fast path trusts an old, unchanged stat record");
    let out = vault.exo(["status", "--verify", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["status"], "Synced", "--verify hashes everything and finds it the same");
    vault.exo_ok(["index", "--verify"]);
    assert_eq!(vault.index_contents().notes, vault.files_on_disk());
}

#[test]
fn touch_without_change_stays_synced() {
    let vault = indexed_vault();
    let path = vault.root.join("a.md");
    filetime::set_file_mtime(&path, filetime::FileTime::from_system_time(SystemTime::now() - Duration::from_secs(60)))
        .unwrap();
    assert_eq!(vault.status(), "Synced");
    let summary = vault.exo_ok(["index"]);
    assert!(summary.contains("indexed 0 notes"), "{summary}");
}

#[test]
fn ignored_and_hidden_files_are_not_notes() {
    let vault = indexed_vault();
    vault.write(".obsidian/x.md", "x");
    vault.write("node_modules/y.md", "y");
    vault.write(".gitignore", ".exo/\ndrafts/\n");
    vault.write("drafts/z.md", "z");
    assert_eq!(vault.status(), "Synced");
}

#[test]
fn a_reused_walk_still_sees_every_change() {
    let vault = TestVault::plain();
    vault.exo_ok(["init"]);
    vault.write(".gitignore", ".exo/\n");
    vault.write("a.md", "# A\n");
    vault.write("area/b.md", "# B\n");
    vault.write("area/deep/c.md", "# C\n");
    vault.write("drafts/d.md", "# D\n");
    vault.exo_ok(["index"]);
    assert!(!vault.root.join(".exo/walk").exists(), "creating .exo/ just changed the vault's folder");
    age_folders(&vault.root);
    vault.exo_ok(["index"]);
    assert!(vault.root.join(".exo/walk").exists(), "the walk of an untouched vault is kept");
    assert_eq!(vault.status(), "Synced");

    vault.write("area/deep/new.md", "# New\n");
    assert_eq!(list(&vault.status_json(), "new"), vec!["area/deep/new.md"]);
    let search: serde_json::Value = serde_json::from_str(&vault.exo_ok(["--json", "search", "New"])).unwrap();
    assert_eq!(search["index_status"], "OutOfSync", "{search}");
    vault.exo_ok(["index"]);
    assert!(!vault.root.join(".exo/walk").exists(), "a walk right after a change is not kept");
    age_folders(&vault.root);
    vault.exo_ok(["index"]);
    assert!(vault.root.join(".exo/walk").exists());

    // Rewritten in place, so no folder changes: only the stamp of the ignore file shows it.
    vault.write(".gitignore", ".exo/\ndrafts/\n");
    assert_eq!(list(&vault.status_json(), "deleted"), vec!["drafts/d.md"]);
    vault.write(".gitignore", ".exo/\n");
    assert_eq!(vault.status(), "Synced");

    vault.remove("area/b.md");
    assert_eq!(list(&vault.status_json(), "deleted"), vec!["area/b.md"]);
    vault.exo_ok(["index"]);
    assert_eq!(vault.status(), "Synced");
    assert_eq!(vault.index_contents().notes, vault.files_on_disk());
}

#[test]
fn checks_read_the_entries_copy_only_while_it_matches_the_catalog() {
    let vault = indexed_vault();
    let copy = vault.root.join(".exo/entries");
    assert!(copy.is_file(), "exo index lays the catalog's entries out flat for the checks");
    let catalog = rusqlite::Connection::open(vault.root.join(".exo/index.sqlite")).unwrap();
    let sql = |statement: &str| catalog.execute(statement, []).unwrap();

    // Behind the copy's back the catalog's record of a.md changes: while the copy is
    // stamped with the catalog's state, the checks read the copy, not the catalog.
    sql("UPDATE notes SET size = size + 1, hash = 'forged' WHERE path = 'a.md'");
    assert_eq!(vault.status(), "Synced", "{}", vault.status());
    // Any write moves the stamp: then the catalog answers.
    sql("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'indexed_at_ns'");
    assert_eq!(list(&vault.status_json(), "modified"), vec!["a.md"]);
    let search: serde_json::Value = serde_json::from_str(&vault.exo_ok(["--json", "search", "Alpha"])).unwrap();
    assert_eq!(search["index_status"], "OutOfSync", "{search}");
    // The writer never trusts the copy: it reads the catalog and repairs a.md.
    vault.exo_ok(["index"]);
    assert_eq!(vault.status(), "Synced");

    // A path left pending by a crash is read from the catalog, whatever the copy says.
    sql("INSERT INTO pending(path) VALUES ('b.md')");
    assert_eq!(list(&vault.status_json(), "modified"), vec!["b.md"]);
    vault.exo_ok(["index"]);
    assert_eq!(vault.status(), "Synced");

    // A copy from before an edit that exo index has seen is ignored.
    let saved = std::fs::read(&copy).unwrap();
    vault.write("sub/c.md", "# Gamma\n\nNow with a body.\n");
    vault.exo_ok(["index"]);
    std::fs::write(&copy, &saved).unwrap();
    assert_eq!(vault.status(), "Synced");
    let search: serde_json::Value = serde_json::from_str(&vault.exo_ok(["--json", "search", "Gamma"])).unwrap();
    assert_eq!(search["index_status"], "Synced", "{search}");
}
