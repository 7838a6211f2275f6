//! `exo new`, `exo mv`, `exo rm`: the real binary writing notes in real git repositories, one
//! commit each, authored by the person's git identity.

use crate::support::{TestVault, stderr, stdout};

fn vault() -> TestVault {
    let v = TestVault::git_repo();
    v.write("exo.toml", "[embed]\nprovider = \"none\"\n");
    v.write("a.md", "# A\n\nSee [[b]] and [b again](b.md#top).\n");
    v.write("b.md", "# B\n\n## Top\n\nbody\n");
    v.commit_all("start");
    v
}

fn commits(v: &TestVault) -> usize {
    v.git_ok(["rev-list", "--count", "HEAD"]).trim().parse().unwrap()
}

fn last_commit(v: &TestVault) -> (String, String, Vec<String>) {
    let subject = v.git_ok(["log", "-1", "--format=%s"]).trim().to_string();
    let author = v.git_ok(["log", "-1", "--format=%an <%ae>"]).trim().to_string();
    let files = v.git_ok(["show", "--name-only", "--no-renames", "--format=", "HEAD"]);
    let mut files: Vec<String> = files.lines().filter(|l| !l.is_empty()).map(String::from).collect();
    files.sort();
    (subject, author, files)
}

#[test]
fn new_mv_rm_each_make_one_commit_by_the_person() {
    let v = vault();
    v.write("scratch.md", "untracked, a person's\n");

    let out = v.exo_ok(["new", "inbox/idea", "--body", "An idea.", "--frontmatter", "tags=[\"x\"]"]);
    assert!(out.starts_with("created inbox/idea.md (commit "), "{out}");
    assert_eq!(out.lines().count(), 1);
    assert_eq!(std::fs::read_to_string(v.root.join("inbox/idea.md")).unwrap(), "---\ntags: [x]\n---\nAn idea.\n");
    assert_eq!(
        last_commit(&v),
        ("exo: create inbox/idea.md".into(), "Test Author <author@example.com>".into(), vec!["inbox/idea.md".into()])
    );

    let out = v.exo_ok(["mv", "b.md", "archive/b2.md"]);
    assert!(out.starts_with("moved b.md -> archive/b2.md"), "{out}");
    let (subject, _, files) = last_commit(&v);
    assert_eq!(subject, "exo: move b.md -> archive/b2.md, 2 links in 1 notes");
    assert_eq!(files, vec!["a.md", "archive/b2.md", "b.md"]);
    let backlinks = v.exo_ok(["backlinks", "archive/b2.md", "--json"]);
    let backlinks: serde_json::Value = serde_json::from_str(&backlinks).unwrap();
    assert_eq!(backlinks["backlinks"].as_array().unwrap().len(), 2, "{backlinks}");

    let refused = v.exo(["rm", "archive/b2.md"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(stderr(&refused).contains("needs confirm") && stderr(&refused).contains("a.md"), "{}", stderr(&refused));
    assert!(v.root.join("archive/b2.md").exists());

    let json = v.exo_ok(["rm", "archive/b2.md", "--yes", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["committed"], true);
    assert_eq!(json["linked_from"], serde_json::json!(["a.md"]));
    assert_eq!(json["index_status"], "Synced");
    assert_eq!(commits(&v), 4);
    assert_eq!(v.git_ok(["status", "--porcelain"]), "?? scratch.md\n");
    assert_eq!(v.status(), "Synced");
}

#[test]
fn refusals_write_nothing_and_no_commit_leaves_the_commit_to_you() {
    let v = vault();
    for args in [
        vec!["new", "../x.md", "--body", "x"],
        vec!["new", ".git/x.md"],
        vec!["new", "a.md"],
        vec!["new", "--title", "A"],
        vec!["mv", "a.md", "b.md"],
    ] {
        let out = v.exo(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stdout(&out));
        assert!(stderr(&out).starts_with("exo: error: "), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    }
    assert_eq!(commits(&v), 1);
    assert_eq!(v.git_ok(["status", "--porcelain"]), "");

    let out = v.exo_ok(["new", "--title", "Held note", "--no-commit"]);
    assert!(out.contains("not committed: held"), "{out}");
    assert_eq!(commits(&v), 1);
    assert_eq!(v.git_ok(["status", "--porcelain"]), "?? \"Held note.md\"\n");
}

#[test]
fn several_processes_writing_at_once_all_land() {
    let v = vault();
    let children: Vec<_> = (0..6)
        .map(|i| {
            v.exo_cmd()
                .args(["new", &format!("batch/note-{i}.md"), "--body", &format!("note {i}")])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains("(commit "), "{}", stdout(&out));
    }
    assert_eq!(commits(&v), 7, "one commit per process");
    let tree = v.git_ok(["ls-tree", "-r", "--name-only", "HEAD"]);
    for i in 0..6 {
        assert!(tree.contains(&format!("batch/note-{i}.md")), "{tree}");
    }
    assert_eq!(v.git_ok(["status", "--porcelain"]), "");
    assert_eq!(v.status(), "Synced");
}

#[test]
fn new_reads_the_body_from_stdin() {
    use std::io::Write;
    let v = vault();
    let mut child = v
        .exo_cmd()
        .args(["new", "--title", "From stdin", "--body-file", "-", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"piped body\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["path"], "From stdin.md");
    assert_eq!(json["commit"]["message"], "exo: create From stdin.md");
    assert_eq!(std::fs::read_to_string(v.root.join("From stdin.md")).unwrap(), "piped body\n");
}

#[test]
fn an_enforced_check_refuses_exo_new_and_frontmatter_flags_keep_their_order() {
    let v = vault();
    v.write("exo.toml", "[embed]\nprovider = \"none\"\n\n[check]\nmode = \"enforce\"\nrequired = [\"title\"]\n");
    v.write("a.md", "---\ntitle: A\n---\nSee [[b]].\n");
    v.write("b.md", "---\ntitle: B\n---\n");
    v.commit_all("policy");
    let out = v.exo(["new", "inbox/x.md", "--body", "x"]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.starts_with("exo: error: inbox/x.md:1: required: "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!v.root.join("inbox/x.md").exists());
    assert_eq!(commits(&v), 2);

    v.exo_ok([
        "new",
        "inbox/x.md",
        "--frontmatter",
        "title=X",
        "--frontmatter",
        "status=draft",
        "--frontmatter",
        "a=1",
    ]);
    let text = std::fs::read_to_string(v.root.join("inbox/x.md")).unwrap();
    assert_eq!(text, "---\ntitle: X\nstatus: draft\na: 1\n---\n");
}

/// A link in a property (`parent: "[[Kernel Modules]]"`, as Obsidian writes them) is a link:
/// the parent has the child as a backlink and is no orphan, the garden does not ask the child
/// to link what its properties already link, and `exo mv` rewrites it with the body's links.
#[test]
fn a_link_in_a_property_is_a_link_that_moves_with_its_note() {
    let v = TestVault::git_repo();
    v.write("exo.toml", "[embed]\nprovider = \"none\"\n");
    v.write("Kernel Modules.md", "# Kernel Modules\n\nCode the kernel loads and unloads while it runs.\n");
    v.write(
        "Child.md",
        "---\nparent:\n  - \"[[Kernel Modules]]\"\n---\n# Child\n\nLoading kernel modules at boot needs care, and more text.\n",
    );
    v.commit_all("start");
    v.exo_ok(["index"]);
    let backlinks: serde_json::Value =
        serde_json::from_str(&v.exo_ok(["backlinks", "Kernel Modules.md", "--json"])).unwrap();
    let from: Vec<&str> =
        backlinks["backlinks"].as_array().unwrap().iter().map(|b| b["path"].as_str().unwrap_or("")).collect();
    assert_eq!(from, ["Child.md"], "{backlinks}");
    let garden = v.exo(["garden", "--json", "--only", "unlinked-mention,orphan", "--min-confidence", "0"]);
    let garden: serde_json::Value = serde_json::from_str(&stdout(&garden)).unwrap();
    assert_eq!(garden["findings"].as_array().unwrap().len(), 0, "{garden:#}");

    // Linked in the properties and again in the body, a note is one neighbour, not two.
    v.write("Both.md", "---\nup: \"[[Kernel Modules]]\"\n---\n# Both\n\nSee [[Kernel Modules]].\n");
    v.commit_all("both");
    v.exo_ok(["index"]);
    let graph: serde_json::Value = serde_json::from_str(&v.exo_ok(["graph", "--json"])).unwrap();
    let node = graph["nodes"].as_array().unwrap().iter().find(|n| n["path"] == "Kernel Modules.md").unwrap().clone();
    assert_eq!(node["in_degree"], 2, "{graph:#}");

    let out = v.exo_ok(["mv", "Kernel Modules.md", "os/Modules.md"]);
    assert!(out.starts_with("moved Kernel Modules.md -> os/Modules.md, 3 link(s) rewritten in 2 note(s)"), "{out}");
    let child = std::fs::read_to_string(v.root.join("Child.md")).unwrap();
    assert!(child.starts_with("---\nparent:\n  - \"[[Modules]]\"\n---\n"), "{child}");
}
