//! `exo check`: the `[check]` policy of exo.toml, in audit and enforce mode, on the working
//! files and on what is staged, and the pre-commit hook that runs it.

use std::process::Output;

use crate::support::*;

const POLICY: &str = "[embed]\nprovider = \"none\"\n\n[check]\nmode = \"MODE\"\nrequired = [\"title\"]\nlinks_resolve = true\n\
                      [check.fields]\nstatus = { values = [\"draft\", \"done\"] }\n";

fn vault_with_policy(mode: &str) -> TestVault {
    let vault = TestVault::git_repo();
    vault.write("exo.toml", &POLICY.replace("MODE", mode));
    vault.write("good.md", "---\ntitle: Good\nstatus: done\n---\n# Good\n\n[[other]]\n");
    vault.write("other.md", "---\ntitle: Other\n---\n# Other\n");
    vault
}

fn set_mode(vault: &TestVault, mode: &str) {
    vault.write("exo.toml", &POLICY.replace("MODE", mode));
}

const BAD: &str = "---\nstatus: wip\n---\n# Bad\n\n[[nowhere]]\n";

#[test]
fn audit_reports_and_exits_0_enforce_exits_1() {
    let vault = vault_with_policy("audit");
    let out = vault.exo(["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("2 note(s) checked; all pass"), "{}", stderr(&out));

    vault.write("bad.md", BAD);
    let out = vault.exo(["check"]);
    assert_eq!(out.status.code(), Some(0), "audit never fails: {}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(String::from).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("bad.md:1: required: missing required key `title`"), "{lines:?}");
    assert!(
        lines[1].starts_with("bad.md:2: allowed-value: `status` is string \"wip\"; allowed: draft, done"),
        "{lines:?}"
    );
    assert!(lines[2].starts_with("bad.md:6: unresolved-link: [[nowhere]] names no note"), "{lines:?}");
    assert!(stderr(&out).contains("mode = audit"), "{}", stderr(&out));

    set_mode(&vault, "enforce");
    let out = vault.exo(["check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 3);
    let out = vault.exo(["check", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["mode"], "enforce");
    assert_eq!(json["blocked"], true);
    assert_eq!(json["checked"], 3);
    assert_eq!(json["violations"][2]["rule"], "unresolved-link");
    assert_eq!(json["violations"][2]["line"], 6);

    vault.write("bad.md", "---\ntitle: Fixed\nstatus: draft\n---\n# Fixed\n\n[[good]]\n");
    let out = vault.exo(["check"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
}

#[test]
fn no_policy_checks_nothing_and_a_bad_policy_is_an_error() {
    let vault = TestVault::git_repo();
    vault.write("bad.md", BAD);
    let out = vault.exo(["check"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("no [check] section"), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&vault.exo(["check", "--json"]).stdout).unwrap();
    assert_eq!(json["policy"], false);

    vault.write("exo.toml", "[check]\nmode = \"strict\"\n");
    let out = vault.exo(["check"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("exo.toml") && stderr(&out).contains("strict"), "{}", stderr(&out));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}

fn commit(vault: &TestVault, message: &str) -> Output {
    vault.git(["commit", "-q", "-m", message])
}

fn both(out: &Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

#[test]
fn the_pre_commit_hook_blocks_a_bad_staged_note_in_enforce_mode() {
    let vault = vault_with_policy("enforce");
    vault.exo_ok(["hooks", "install"]);
    vault.commit_all("a good start");

    // Staged bad, working file fixed afterwards: the staged version is what is checked.
    vault.write("bad.md", BAD);
    vault.git_ok(["add", "bad.md"]);
    vault.write("bad.md", "---\ntitle: Fixed\n---\n# Fixed\n");
    let out = commit(&vault, "bad note");
    assert_eq!(out.status.code(), Some(1), "the commit is refused: {}", both(&out));
    let text = both(&out);
    assert!(text.contains("bad.md:1: required: missing required key `title`"), "{text}");
    assert!(text.contains("bad.md:6: unresolved-link"), "{text}");
    assert!(text.contains("exo: commit refused"), "{text}");
    assert_eq!(vault.git_ok(["rev-list", "--count", "HEAD"]).trim(), "1", "nothing was committed");

    // Staging the fix lets it in.
    vault.git_ok(["add", "bad.md"]);
    let out = commit(&vault, "fixed note");
    assert!(out.status.success(), "{}", both(&out));

    // Staged good, working file broken afterwards: the commit goes in.
    vault.write("other.md", "---\ntitle: Other 2\n---\n# Other 2\n");
    vault.git_ok(["add", "other.md"]);
    vault.write("other.md", BAD);
    let out = commit(&vault, "other edited");
    assert!(out.status.success(), "the working file is not what is committed: {}", both(&out));
    let committed = vault.git_ok(["show", "HEAD:other.md"]);
    assert!(committed.contains("Other 2"), "{committed}");
}

#[test]
fn the_pre_commit_hook_only_reports_in_audit_mode_and_old_notes_do_not_block() {
    let vault = vault_with_policy("audit");
    vault.write("legacy.md", BAD);
    vault.exo_ok(["hooks", "install"]);
    let out = vault.git(["add", "-A"]);
    assert!(out.status.success());
    let out = commit(&vault, "with a bad note, audited");
    assert!(out.status.success(), "audit never blocks: {}", both(&out));
    assert!(both(&out).contains("legacy.md:1: required"), "it still says so: {}", both(&out));

    // Enforce from now on: a commit that does not touch legacy.md is not blocked by it.
    set_mode(&vault, "enforce");
    vault.write("new.md", "---\ntitle: New\n---\n# New\n");
    vault.git_ok(["add", "new.md", "exo.toml"]);
    let out = commit(&vault, "new note");
    assert!(out.status.success(), "{}", both(&out));
    assert!(!both(&out).contains("legacy.md"), "{}", both(&out));
    let out = vault.exo(["check"]);
    assert_eq!(out.status.code(), Some(1), "the whole vault still has legacy.md to fix");
}

#[test]
fn without_a_policy_the_hook_does_not_even_start_exo() {
    let vault = TestVault::git_repo();
    vault.write("a.md", BAD);
    vault.exo_ok(["hooks", "install"]);
    vault.git_ok(["add", "-A"]);
    // No exo anywhere: the hook would say "check skipped" had it looked for one.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(std::env::split_paths(&path).filter(|p| !p.join("exo").exists())).unwrap();
    vault.git_ok(["config", "--unset", "exo.bin"]);
    let out = vault.program("git").env("PATH", path).args(["commit", "-q", "-m", "no policy"]).output().unwrap();
    assert!(out.status.success(), "{}", both(&out));
    assert!(!both(&out).contains("check skipped"), "{}", both(&out));
}

#[test]
fn a_users_own_pre_commit_hook_gets_exos_check_chained_and_its_refusal_counts() {
    let vault = vault_with_policy("enforce");
    vault.git_ok(["config", "core.hooksPath", "myhooks"]);
    let theirs = vault.root.join("myhooks/pre-commit");
    std::fs::create_dir_all(theirs.parent().unwrap()).unwrap();
    std::fs::write(&theirs, "#!/bin/sh\necho theirs ran >> ran.txt\nexit 0\n").unwrap();
    let out = vault.program("chmod").arg("+x").arg(&theirs).output().unwrap();
    assert!(out.status.success());
    let out = vault.exo_ok(["hooks", "install"]);
    assert!(out.contains("chained exo into your myhooks/pre-commit"), "{out}");
    vault.write("bad.md", BAD);
    vault.git_ok(["add", "bad.md"]);
    let out = commit(&vault, "bad");
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    assert!(both(&out).contains("bad.md:1: required"), "{}", both(&out));
    vault.write("bad.md", "---\ntitle: Fine\n---\n# Fine\n");
    vault.git_ok(["add", "bad.md", "good.md", "other.md", "exo.toml"]);
    let out = commit(&vault, "fine");
    assert!(out.status.success(), "{}", both(&out));
    assert!(vault.root.join("ran.txt").exists(), "their hook still runs");
}

#[test]
fn staged_notes_of_a_vault_in_a_subfolder_are_found() {
    let repo = TestVault::plain();
    repo.git_ok(["init", "-q", "-b", "main"]);
    repo.write("notes/exo.toml", &POLICY.replace("MODE", "enforce"));
    repo.write("notes/bad.md", BAD);
    repo.write("outside.md", BAD);
    repo.git_ok(["add", "-A"]);
    repo.write("notes/bad.md", "---\ntitle: Fixed only on disk\n---\n");
    let out = repo.exo(["--vault", "notes", "check", "--staged"]);
    assert_eq!(out.status.code(), Some(1), "{}", both(&out));
    let text = stdout(&out);
    assert!(text.starts_with("bad.md:1: required"), "vault-relative paths: {text}");
    assert!(!text.contains("outside.md"), "{text}");
    assert!(repo.exo(["--vault", "notes", "check"]).status.success(), "the working file is fine");
}

#[test]
fn commit_all_and_commit_of_a_path_check_what_git_is_about_to_commit() {
    // `git commit -a` and `git commit <path>` stage into a temporary index (GIT_INDEX_FILE),
    // not .git/index: the check must read that one.
    let vault = vault_with_policy("enforce");
    vault.exo_ok(["hooks", "install"]);
    vault.commit_all("a good start");

    vault.write("good.md", BAD);
    let out = vault.git(["commit", "-q", "-a", "-m", "bad edit, -a"]);
    assert_eq!(out.status.code(), Some(1), "refused: {}", both(&out));
    assert!(both(&out).contains("good.md:1: required"), "{}", both(&out));
    let out = vault.git(["commit", "-q", "-m", "bad edit, path", "good.md"]);
    assert_eq!(out.status.code(), Some(1), "refused: {}", both(&out));
    assert_eq!(vault.git_ok(["rev-list", "--count", "HEAD"]).trim(), "1", "nothing was committed");

    // The other way round: a bad note staged in .git/index, fixed in the working file and
    // committed with -a, goes in as fixed.
    vault.git_ok(["add", "good.md"]);
    vault.write("good.md", "---\ntitle: Good again\n---\n# Good\n");
    let out = vault.git(["commit", "-q", "-a", "-m", "fixed, -a"]);
    assert!(out.status.success(), "{}", both(&out));
}

#[test]
fn a_note_only_intended_to_add_is_not_committed_so_not_checked() {
    // `git add -N` puts an empty placeholder in the index that `git commit` leaves out.
    let vault = vault_with_policy("enforce");
    vault.exo_ok(["hooks", "install"]);
    vault.commit_all("a good start");
    vault.write("draft.md", BAD);
    vault.git_ok(["add", "-N", "draft.md"]);
    vault.write("new.md", "---\ntitle: New\n---\n# New\n");
    vault.git_ok(["add", "new.md"]);
    let out = commit(&vault, "new note beside a draft");
    assert!(out.status.success(), "{}", both(&out));
    assert!(!both(&out).contains("draft.md"), "{}", both(&out));
}

#[test]
fn a_policy_in_an_exo_toml_saved_with_a_byte_order_mark_is_enforced() {
    // Notepad writes a byte order mark; the hook's quick look for `[check]` must see past it.
    let vault = vault_with_policy("enforce");
    vault.write(
        "exo.toml",
        "\u{feff}[check]\r\nmode = \"enforce\"\r\nrequired = [\"title\"]\r\n\r\n[embed]\r\nprovider = \"none\"\r\n",
    );
    vault.exo_ok(["hooks", "install"]);
    vault.write("bad.md", BAD);
    vault.git_ok(["add", "-A"]);
    let out = commit(&vault, "bad note under a BOM'd policy");
    assert_eq!(out.status.code(), Some(1), "refused: {}", both(&out));
    assert!(both(&out).contains("bad.md:1: required"), "{}", both(&out));
}
