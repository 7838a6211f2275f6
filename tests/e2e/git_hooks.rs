//! Git hooks as the reconciler: commits, pulls, checkouts and rebases leave the index Synced.

use crate::support::*;

fn vault_with_hooks() -> TestVault {
    let vault = TestVault::git_repo();
    vault.write("index.md", "# Home\n\n[[a]]\n");
    vault.write("a.md", "# A\n");
    let out = vault.exo_ok(["hooks", "install"]);
    assert!(out.contains("hooks active"), "{out}");
    let out = vault.commit_all("first");
    assert!(out.contains("exo: index reconciled (Synced)"), "post-commit output: {out}");
    vault
}

#[test]
fn commit_runs_the_hook_and_leaves_the_index_synced() {
    let vault = vault_with_hooks();
    assert_eq!(vault.status(), "Synced");
    let head = vault.git_ok(["rev-parse", "HEAD"]).trim().to_string();
    assert_eq!(vault.status_json()["revision"], head.as_str());
    vault.write("b.md", "# B");
    assert_eq!(vault.status(), "OutOfSync");
    let out = vault.commit_all("add b");
    assert!(out.contains("exo: index reconciled (Synced)"), "{out}");
    assert_eq!(vault.status(), "Synced");
}

#[test]
fn untracked_notes_count_even_after_a_commit() {
    let vault = vault_with_hooks();
    vault.write("scratch.md", "# not committed");
    vault.write("a.md", "# A edited, committed");
    vault.git_ok(["add", "a.md"]);
    vault.git_ok(["commit", "-q", "-m", "edit a"]);
    // The hook indexed the files on disk, untracked note included.
    assert_eq!(vault.status(), "Synced");
    assert!(vault.index_contents().notes.contains_key("scratch.md"));
}

#[test]
fn pull_between_two_clones_reconciles_through_post_merge() {
    let origin = vault_with_hooks();
    let clone = origin.clone_to("clone");
    clone.exo_ok(["hooks", "install"]);
    clone.exo_ok(["index"]);
    assert_eq!(clone.status(), "Synced");

    origin.write("from-origin.md", "# Written in origin\n\n[[a]]");
    origin.remove("a.md");
    origin.commit_all("origin work");

    let out = clone.git_ok(["pull", "-q", "--no-rebase", "origin", "main"]);
    assert!(out.contains("exo: index reconciled (Synced)"), "post-merge output: {out}");
    assert_eq!(clone.status(), "Synced");
    let contents = clone.index_contents();
    assert!(contents.notes.contains_key("from-origin.md"));
    assert!(!contents.notes.contains_key("a.md"));
    assert_eq!(contents.notes, clone.files_on_disk());
}

#[test]
fn branch_switch_reconciles_through_post_checkout() {
    let vault = vault_with_hooks();
    vault.git_ok(["checkout", "-q", "-b", "topic"]);
    vault.write("topic-only.md", "# Topic");
    vault.commit_all("topic note");
    let out = vault.git_ok(["checkout", "main"]);
    assert!(out.contains("exo: index reconciled (Synced)"), "{out}");
    assert_eq!(vault.status(), "Synced");
    assert!(!vault.index_contents().notes.contains_key("topic-only.md"));
    vault.git_ok(["checkout", "-q", "topic"]);
    assert!(vault.index_contents().notes.contains_key("topic-only.md"));
}

#[test]
fn amend_reconciles_through_post_rewrite() {
    let vault = vault_with_hooks();
    vault.write("a.md", "# A amended");
    vault.git_ok(["add", "a.md"]);
    let out = vault.git_ok(["commit", "--amend", "-q", "--no-edit"]);
    assert!(out.contains("exo: index reconciled (Synced)"), "{out}");
    assert_eq!(vault.status(), "Synced");
}

#[test]
fn hooks_status_reports_activity() {
    let vault = TestVault::git_repo();
    let out = vault.exo(["hooks", "status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("not active"), "{}", stdout(&out));
    vault.exo_ok(["hooks", "install"]);
    let json: serde_json::Value = serde_json::from_str(&vault.exo_ok(["hooks", "status", "--json"])).unwrap();
    assert_eq!(json["active"], true);
    assert_eq!(json["configured"], ".githooks");
}

#[test]
fn hook_without_exo_on_path_never_fails_git() {
    let vault = vault_with_hooks();
    vault.write("b.md", "# B");
    vault.git_ok(["add", "-A"]);
    let out = vault.git(["commit", "-q", "-m", "no exo"]);
    let git_only_path = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .filter(|p| !p.join("exo").exists())
        .collect::<Vec<_>>();
    assert!(out.status.success());
    let out = std::process::Command::new("git")
        .current_dir(&vault.root)
        .env("PATH", std::env::join_paths(git_only_path).unwrap())
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@e")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@e")
        .args(["commit", "-q", "--allow-empty", "-m", "empty"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains("exo:"), "the hook stays silent without exo");
}
