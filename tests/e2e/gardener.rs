//! The nightly gardener script (`scripts/exo-gardener`) with a scripted agent: one commit by
//! the named author, untracked notes left alone, a dry run that changes nothing, a refusal on
//! a dirty tree, and a cap on notes changed.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::quickstart::example_vault;
use crate::support::{TestVault, stderr, stdout};

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/exo-gardener")
}

const DATE: &str = "2026-01-15";
const UNTRACKED: &str = "inbox/draft idea.md";
const DRAFT: &str = "# Draft\n\nHalf a thought about [[Active Recall]], not ready to commit.\n";

/// vault-example in a git repository, exo initialised and everything committed, vectors off
/// (text and graph only, to keep a test quick): what a gardener night starts from.
pub(crate) fn committed_example_without_vectors() -> TestVault {
    let v = example_vault();
    let toml = std::fs::read_to_string(v.root.join("exo.toml")).unwrap();
    v.write("exo.toml", &format!("{toml}\n[embed]\nprovider = \"none\"\n"));
    v.git_ok(["init", "-q", "-b", "main"]);
    v.exo_ok(["init"]);
    v.commit_all("vault");
    v
}

/// vault-example committed (text and graph only, to keep the test quick), plus one untracked
/// draft, plus an agent script outside the vault.
fn setup(agent_body: &str) -> (TestVault, PathBuf) {
    let v = committed_example_without_vectors();
    v.write(UNTRACKED, DRAFT);
    let agent = v.root.parent().unwrap().join("agent.sh");
    std::fs::write(&agent, format!("#!/bin/sh\nset -e\ncat > /dev/null\ntest -s \"$EXO_GARDEN_REPORT\"\n{agent_body}"))
        .unwrap();
    (v, agent)
}

const LINK_ONE_MENTION: &str = r#"sed -i 's/The forgetting curve is the background/The [[Forgetting Curve|forgetting curve]] is the background/' "books/Make It Stick.md"
echo "Changed:"
echo "- books/Make It Stick.md: linked the mention of the forgetting curve"
echo "Skipped:"
echo "- the rest: a test agent does one thing"
"#;

fn gardener(v: &TestVault, agent: &Path, args: &[&str]) -> Output {
    v.program("bash")
        .arg(script())
        .args(["--date", DATE, "--author", "Night Gardener <night@example.com>"])
        .args(args)
        .env("EXO_GARDENER_AGENT", format!("sh {}", agent.display()))
        .output()
        .unwrap()
}

fn head(v: &TestVault) -> String {
    v.git_ok(["rev-parse", "HEAD"]).trim().to_string()
}

#[test]
fn a_run_makes_one_commit_by_the_gardener_and_leaves_the_untracked_draft() {
    let (v, agent) = setup(LINK_ONE_MENTION);
    let before = head(&v);
    let out = gardener(&v, &agent, &[]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));

    let log = v.git_ok(["log", "--format=%an <%ae>|%s", &format!("{before}..HEAD")]);
    assert_eq!(log.trim(), format!("Night Gardener <night@example.com>|garden: {DATE}"));
    let files = v.git_ok(["show", "--name-only", "--format=", "HEAD"]);
    let files: Vec<&str> = files.lines().collect();
    assert_eq!(files, ["books/Make It Stick.md", &format!("garden-log/{DATE}.md")]);
    let text = std::fs::read_to_string(v.root.join("books/Make It Stick.md")).unwrap();
    assert!(text.contains("The [[Forgetting Curve|forgetting curve]] is the background"));

    assert_eq!(std::fs::read_to_string(v.root.join(UNTRACKED)).unwrap(), DRAFT);
    let status = v.git_ok(["status", "--porcelain"]);
    assert_eq!(status.trim(), "?? inbox/", "only the draft is left uncommitted: {status}");
    let log_note = std::fs::read_to_string(v.root.join(format!("garden-log/{DATE}.md"))).unwrap();
    assert!(log_note.contains("- `books/Make It Stick.md`") && log_note.contains("Skipped:"), "{log_note}");

    // The index followed (untracked notes count: the files win), and the fixed mention is
    // no longer a finding.
    assert_eq!(v.status(), "Synced");
    let report: serde_json::Value =
        serde_json::from_str(&v.exo_ok(["garden", "--json", "--only", "unlinked-mention"])).unwrap();
    let paths: Vec<&str> = report["findings"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(!paths.contains(&"books/Make It Stick.md"), "{paths:?}");
}

#[test]
fn a_dry_run_shows_the_change_and_touches_nothing() {
    let (v, agent) = setup(LINK_ONE_MENTION);
    let before = head(&v);
    let status_before = v.git_ok(["status", "--porcelain"]);
    let out = gardener(&v, &agent, &["--dry-run"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let said = stdout(&out);
    assert!(said.contains("books/Make It Stick.md") && said.contains("nothing committed"), "{said}");
    assert_eq!(head(&v), before);
    assert_eq!(v.git_ok(["status", "--porcelain"]), status_before);
    let text = std::fs::read_to_string(v.root.join("books/Make It Stick.md")).unwrap();
    assert!(!text.contains("[[Forgetting Curve|forgetting curve]]"));
    assert_eq!(std::fs::read_to_string(v.root.join(UNTRACKED)).unwrap(), DRAFT);
}

#[test]
fn a_dirty_tree_is_refused() {
    let (v, agent) = setup(LINK_ONE_MENTION);
    v.write("concepts/Active Recall.md", "# Active Recall\n\nHalf-edited by a person.\n");
    let before = head(&v);
    let out = gardener(&v, &agent, &[]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("refusing to run"), "{}", stderr(&out));
    assert_eq!(head(&v), before);
    let text = std::fs::read_to_string(v.root.join("concepts/Active Recall.md")).unwrap();
    assert!(text.contains("Half-edited by a person"));
}

#[test]
fn an_agent_that_touches_the_draft_or_changes_too_much_commits_nothing_it_should_not() {
    let meddling = format!("echo 'overwritten by the agent' > '{UNTRACKED}'\n{LINK_ONE_MENTION}");
    let (v, agent) = setup(&meddling);
    let out = gardener(&v, &agent, &[]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(std::fs::read_to_string(v.root.join(UNTRACKED)).unwrap(), DRAFT, "the draft is restored");
    assert!(stdout(&out).contains("restored untracked inbox/draft idea.md"));
    assert!(!v.git_ok(["show", "--name-only", "HEAD"]).contains("inbox/"));

    let greedy =
        "for f in concepts/Leitner*.md concepts/Zettel*.md concepts/Evergreen*.md; do echo 'more' >> \"$f\"; done\n";
    let (v, agent) = setup(greedy);
    let before = head(&v);
    let out = gardener(&v, &agent, &["--max-notes", "2"]);
    assert_eq!(out.status.code(), Some(5), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(head(&v), before);
    assert_eq!(v.git_ok(["status", "--porcelain"]).trim(), "?? inbox/", "the tree is clean again");
    assert!(v.git_ok(["stash", "list"]).contains("over the cap of 2"));
    assert_eq!(std::fs::read_to_string(v.root.join(UNTRACKED)).unwrap(), DRAFT);
}
