//! The note writes on real git repositories in temp dirs: one commit per write with only its
//! paths, a person's other work untouched, the refusals, link rewriting on a move, and two
//! writers at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use exo_api::{
    ApiError, CommitPolicy, CreateNoteRequest, DeleteNoteRequest, EditNoteRequest, EditOperation, Exo, IndexState,
    MoveNoteRequest, NoteRef, SyncRequest, VaultChoice, WriteAnswer, WriteOrigin, Writer,
};

struct TestVault {
    dir: tempfile::TempDir,
    root: PathBuf,
}

impl TestVault {
    /// A folder with exo.toml (no vectors: fast) and `notes`, not yet in git.
    fn plain(notes: &[(&str, &str)]) -> TestVault {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("vault");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        let root = root.canonicalize().unwrap();
        let vault = TestVault { dir, root };
        vault.write("exo.toml", "[embed]\nprovider = \"none\"\n");
        vault.write(".gitignore", ".exo/\n");
        for (path, text) in notes {
            vault.write(path, text);
        }
        vault
    }

    /// The same, committed.
    fn git(notes: &[(&str, &str)]) -> TestVault {
        let vault = TestVault::plain(notes);
        vault.run_git(&["init", "-q", "-b", "main"]);
        vault.run_git(&["add", "-A"]);
        vault.run_git(&["commit", "-q", "-m", "start"]);
        vault
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).unwrap()
    }

    fn run_git(&self, args: &[&str]) -> String {
        let out = Command::new("git")
            .args(args)
            .current_dir(&self.root)
            .env("HOME", self.dir.path().join("home"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Person")
            .env("GIT_AUTHOR_EMAIL", "person@example.com")
            .env("GIT_COMMITTER_NAME", "Person")
            .env("GIT_COMMITTER_EMAIL", "person@example.com")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn commits(&self) -> usize {
        self.run_git(&["rev-list", "--count", "HEAD"]).trim().parse().unwrap()
    }

    /// Paths the last commit changed, as git names them.
    fn last_commit_paths(&self) -> Vec<String> {
        let out =
            self.run_git(&["-c", "core.quotepath=off", "show", "--name-only", "--format=", "--no-renames", "HEAD"]);
        let mut paths: Vec<String> = out.lines().filter(|l| !l.is_empty()).map(String::from).collect();
        paths.sort();
        paths
    }

    fn porcelain(&self) -> Vec<String> {
        self.run_git(&["status", "--porcelain", "--untracked-files=all"]).lines().map(String::from).collect()
    }

    fn exo(&self) -> Exo {
        Exo::open(&VaultChoice { flag: Some(self.root.clone()), env: None, cwd: self.root.clone() }).unwrap()
    }

    /// Every file under the vault and beside it (not in .git or .exo), with its bytes.
    fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut files = BTreeMap::new();
        walk(self.dir.path(), &mut files);
        files
    }
}

fn walk(dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        let name = entry.file_name();
        if name == ".git" || name == ".exo" {
            continue;
        }
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            walk(&path, files);
        } else if kind.is_file() {
            files.insert(path.clone(), std::fs::read(&path).unwrap());
        }
    }
}

fn agent() -> WriteOrigin {
    WriteOrigin::client("Claude Code")
}

fn create(path: &str, body: &str) -> CreateNoteRequest {
    CreateNoteRequest { path: Some(path.into()), body: body.into(), ..CreateNoteRequest::default() }
}

fn edit(note: &str, operation: EditOperation) -> EditNoteRequest {
    EditNoteRequest {
        note: note.into(),
        operation,
        text: None,
        heading: None,
        find: None,
        replace: None,
        expected_count: None,
        frontmatter: None,
        base_hash: None,
        force: false,
    }
}

fn append(note: &str, text: &str) -> EditNoteRequest {
    EditNoteRequest { text: Some(text.into()), ..edit(note, EditOperation::Append) }
}

/// Frontmatter values in the order `json!` gives them (its map sorts keys).
fn keys(values: serde_json::Value) -> exo_api::FrontmatterValues {
    values.as_object().unwrap().clone().into_iter().collect()
}

/// Frontmatter values in the order written here.
fn ordered(pairs: &[(&str, serde_json::Value)]) -> exo_api::FrontmatterValues {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn hash(text: &str) -> String {
    exo_vault::content_hash(text.as_bytes()).0
}

fn assert_landed(vault: &TestVault, answer: &WriteAnswer, message: &str, paths: &[&str]) {
    let commit = answer.commit.as_ref().unwrap_or_else(|| panic!("not committed: {answer:?}"));
    assert_eq!(commit.message, message);
    assert_eq!(vault.run_git(&["log", "-1", "--format=%s"]).trim(), message);
    assert_eq!(vault.run_git(&["rev-parse", "HEAD"]).trim(), commit.id);
    let mut expected: Vec<String> = paths.iter().map(|p| p.to_string()).collect();
    expected.sort();
    assert_eq!(vault.last_commit_paths(), expected, "the commit holds exactly the touched paths");
    assert_eq!(answer.index_status, Some(IndexState::Synced), "{answer:?}");
}

#[test]
fn create_is_one_commit_by_the_agent_and_a_persons_other_work_is_untouched() {
    let vault = TestVault::git(&[("a.md", "# A\n"), ("b.md", "# B\n")]);
    vault.write("b.md", "# B\nstaged by a person\n");
    vault.run_git(&["add", "b.md"]);
    vault.write("a.md", "# A\nunstaged by a person\n");
    vault.write("c.md", "# C\nuntracked\n");
    let before = vault.porcelain();
    let exo = vault.exo();

    let answer =
        exo.create_note(&Writer::new(CommitPolicy::Commit), &agent(), &create("inbox/x", "Some text")).unwrap();

    assert_eq!(answer.path, "inbox/x.md");
    assert_eq!(vault.read("inbox/x.md"), "Some text\n");
    assert_eq!(answer.hash.as_deref(), Some(hash("Some text\n").as_str()));
    assert_eq!(vault.commits(), 2);
    assert_landed(&vault, &answer, "exo: create inbox/x.md", &["inbox/x.md"]);
    assert_eq!(
        vault.run_git(&["log", "-1", "--format=%an <%ae>|%cn"]).trim(),
        "Claude Code via exo <exo@localhost>|Claude Code via exo"
    );
    assert_eq!(vault.porcelain(), before, "the person's staged, unstaged and untracked work is as it was");
    assert_eq!(vault.run_git(&["diff", "--cached", "--name-only"]).trim(), "b.md", "still staged, not committed");
    assert_eq!(vault.run_git(&["show", "HEAD:b.md"]), "# B\n");
    assert_eq!(exo.status(&Default::default()).unwrap().status, exo_api::SyncState::Synced);
}

#[test]
fn edit_is_one_commit_and_base_hash_guards_against_a_stale_read() {
    let vault = TestVault::git(&[("a.md", "# A\n\n## Log\nold\n\n## Keep\nkept\n")]);
    vault.write("other.md", "a person's untracked note\n");
    let exo = vault.exo();
    let writer = Writer::new(CommitPolicy::Commit);
    let base = hash(&vault.read("a.md"));

    let request = EditNoteRequest { base_hash: Some(base.clone()), ..append("a.md", "appended") };
    let answer = exo.edit_note(&writer, &agent(), &request).unwrap();
    assert_landed(&vault, &answer, "exo: edit a.md (append)", &["a.md"]);
    assert!(vault.read("a.md").ends_with("kept\nappended\n"));

    // The old hash is stale now: refused with the current one, nothing written.
    let before = vault.read("a.md");
    let request = EditNoteRequest { base_hash: Some(base), ..append("a.md", "again") };
    match exo.edit_note(&writer, &agent(), &request) {
        Err(ApiError::BaseHashMismatch { path, current }) => {
            assert_eq!(path, "a.md");
            assert_eq!(Some(current), answer.hash);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(vault.read("a.md"), before);
    assert_eq!(vault.commits(), 2);

    let request = EditNoteRequest {
        heading: Some("Log".into()),
        text: Some("new".into()),
        base_hash: answer.hash.clone(),
        ..edit("A", EditOperation::ReplaceSection)
    };
    let answer = exo.edit_note(&writer, &agent(), &request).unwrap();
    assert_landed(&vault, &answer, "exo: edit a.md (replace_section)", &["a.md"]);
    assert_eq!(vault.read("a.md"), "# A\n\n## Log\nnew\n\n## Keep\nkept\nappended\n");
    assert_eq!(vault.porcelain(), vec!["?? other.md"]);
}

#[test]
fn edit_refusals_say_what_is_there() {
    let vault = TestVault::git(&[("a.md", "---\ntitle: A\n# why\ntags: [x]\n---\n## One\nx x\n")]);
    let exo = vault.exo();
    let writer = Writer::new(CommitPolicy::Commit);
    let request = EditNoteRequest {
        heading: Some("Two".into()),
        text: Some("t".into()),
        ..edit("a.md", EditOperation::ReplaceSection)
    };
    match exo.edit_note(&writer, &agent(), &request) {
        Err(ApiError::SectionNotFound { headings, .. }) => assert_eq!(headings, vec!["One"]),
        other => panic!("{other:?}"),
    }
    let request = EditNoteRequest {
        find: Some("x".into()),
        replace: Some("y".into()),
        ..edit("a.md", EditOperation::FindReplace)
    };
    match exo.edit_note(&writer, &agent(), &request) {
        Err(ApiError::CountMismatch { found, expected, .. }) => assert_eq!((found, expected), (3, 1)),
        other => panic!("{other:?}"),
    }
    let request = EditNoteRequest { expected_count: Some(3), ..request };
    exo.edit_note(&writer, &agent(), &request).unwrap();
    assert_eq!(vault.read("a.md"), "---\ntitle: A\n# why\ntags: [y]\n---\n## One\ny y\n");

    let values = serde_json::json!({"status": "done", "title": null});
    let request = EditNoteRequest { frontmatter: Some(keys(values)), ..edit("a.md", EditOperation::SetFrontmatter) };
    let answer = exo.edit_note(&writer, &agent(), &request).unwrap();
    assert_landed(&vault, &answer, "exo: edit a.md (set_frontmatter)", &["a.md"]);
    assert_eq!(vault.read("a.md"), "---\n# why\ntags: [y]\nstatus: done\n---\n## One\ny y\n");
    assert_eq!(vault.porcelain(), Vec::<String>::new(), "clean after");
}

#[test]
fn a_persons_uncommitted_work_is_refused_unless_forced_but_the_writers_own_held_work_is_not() {
    let vault = TestVault::git(&[("a.md", "# A\n")]);
    let exo = vault.exo();
    vault.write("a.md", "# A\na person's unsaved thought\n");
    let writer = Writer::new(CommitPolicy::Commit);
    match exo.edit_note(&writer, &agent(), &append("a.md", "agent")) {
        Err(ApiError::UncommittedChanges { path }) => assert_eq!(path, "a.md"),
        other => panic!("{other:?}"),
    }
    assert_eq!(vault.read("a.md"), "# A\na person's unsaved thought\n");
    let forced = EditNoteRequest { force: true, ..append("a.md", "agent") };
    let answer = exo.edit_note(&writer, &agent(), &forced).unwrap();
    assert_landed(&vault, &answer, "exo: edit a.md (append)", &["a.md"]);

    // Held commits: the writer's own uncommitted note is its own work...
    let held = Writer::new(CommitPolicy::Hold);
    let answer = exo.create_note(&held, &agent(), &create("night.md", "first")).unwrap();
    assert!(!answer.committed && answer.commit.is_none());
    assert!(answer.not_committed.as_deref().unwrap().contains("held"), "{answer:?}");
    exo.edit_note(&held, &agent(), &append("night.md", "second")).unwrap();
    exo.edit_note(&held, &agent(), &append("a.md", "third")).unwrap();
    assert_eq!(vault.read("night.md"), "first\nsecond\n");
    assert_eq!(vault.commits(), 2, "nothing committed while held");
    // ...but not another writer's, and not once a person changed it after.
    let other = Writer::new(CommitPolicy::Hold);
    assert!(matches!(
        exo.edit_note(&other, &agent(), &append("night.md", "x")),
        Err(ApiError::UncommittedChanges { .. })
    ));
    vault.write("night.md", "first\nsecond\nperson\n");
    assert!(matches!(
        exo.edit_note(&held, &agent(), &append("night.md", "x")),
        Err(ApiError::UncommittedChanges { .. })
    ));
    let delete = DeleteNoteRequest { note: "a.md".into(), confirm: true, base_hash: None, force: false };
    let deleted = exo.delete_note(&held, &agent(), &delete);
    assert!(deleted.is_ok(), "a.md holds only the held writer's own change: {deleted:?}");
}

#[test]
fn paths_that_leave_the_vault_or_are_not_notes_are_refused_and_nothing_is_written() {
    let vault = TestVault::git(&[("a.md", "# A\n")]);
    let outside = vault.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, vault.root.join("out")).unwrap();
    std::os::unix::fs::symlink(vault.root.join(".git"), vault.root.join("gitdir")).unwrap();
    let before = vault.snapshot();
    let commits = vault.commits();
    let exo = vault.exo();
    let writer = Writer::new(CommitPolicy::Commit);
    for path in [
        "../../x.md",
        "../x.md",
        "/etc/x.md",
        "out/x.md",
        "gitdir/x.md",
        ".git/config",
        ".git/x.md",
        ".exo/x.md",
        "x.txt",
        "a/../../x.md",
        "  ",
    ] {
        match exo.create_note(&writer, &agent(), &create(path, "bad")) {
            Err(ApiError::PathRefused { .. }) => {}
            other => panic!("{path}: {other:?}"),
        }
    }
    for note in ["../a.md", "/etc/passwd", ".git/config"] {
        assert!(
            matches!(exo.edit_note(&writer, &agent(), &append(note, "x")), Err(ApiError::PathRefused { .. })),
            "{note}"
        );
    }
    let moved = MoveNoteRequest { from: "a.md".into(), to: "out/a.md".into(), base_hash: None, force: false };
    assert!(matches!(exo.move_note(&writer, &agent(), &moved), Err(ApiError::PathRefused { .. })));
    assert_eq!(vault.snapshot(), before, "nothing written in the vault or beside it");
    assert!(!Path::new("/etc/x.md").exists());
    assert_eq!(vault.commits(), commits);
}

#[test]
fn create_refuses_an_existing_file_and_near_duplicates_unless_forced() {
    let vault = TestVault::git(&[
        ("Spaced Repetition.md", "# Spaced Repetition\nReview at growing intervals.\n"),
        ("srs.md", "---\naliases: [Leitner system]\n---\nBoxes.\n"),
    ]);
    let exo = vault.exo();
    let writer = Writer::new(CommitPolicy::Commit);
    assert!(matches!(
        exo.create_note(&writer, &agent(), &create("srs.md", "x")),
        Err(ApiError::NoteExists { path }) if path == "srs.md"
    ));
    let by_title = CreateNoteRequest {
        title: Some("spaced repetition".into()),
        folder: Some("inbox".into()),
        ..CreateNoteRequest::default()
    };
    match exo.create_note(&writer, &agent(), &by_title) {
        Err(ApiError::NearDuplicates { path, candidates }) => {
            assert_eq!(path, "inbox/spaced repetition.md");
            assert_eq!(candidates, vec!["Spaced Repetition.md"]);
        }
        other => panic!("{other:?}"),
    }
    let by_alias = CreateNoteRequest { title: Some("Leitner System".into()), ..CreateNoteRequest::default() };
    assert!(matches!(
        exo.create_note(&writer, &agent(), &by_alias),
        Err(ApiError::NearDuplicates { candidates, .. }) if candidates == vec!["srs.md"]
    ));
    assert_eq!(vault.commits(), 1);
    let answer = exo.create_note(&writer, &agent(), &CreateNoteRequest { force: true, ..by_title }).unwrap();
    assert_landed(&vault, &answer, "exo: create inbox/spaced repetition.md", &["inbox/spaced repetition.md"]);
}

#[test]
fn move_rewrites_every_link_form_in_one_commit_and_a_rebuild_agrees() {
    let vault = TestVault::git(&[
        (
            "target.md",
            "# Target\n\n## Section\n\nA paragraph. ^blk\n\nSee [me](target.md) and [other](sub/other.md).\n",
        ),
        (
            "linker.md",
            "[[target]] [[target|alias]] [[target#Section]] [[target#^blk]] ![[target]] [md](target.md) [md2](./target.md#section)\n",
        ),
        ("sub/other.md", "[up](../target.md) and [[Target]]\n"),
        ("plain.md", "no links here\n"),
    ]);
    let exo = vault.exo();
    exo.sync(&SyncRequest::default(), Default::default()).unwrap();
    let before = exo.backlinks(&NoteRef { note: "target.md".into() }).unwrap().answer.backlinks.len();
    assert_eq!(before, 9);

    let request =
        MoveNoteRequest { from: "target.md".into(), to: "archive/renamed.md".into(), base_hash: None, force: false };
    let answer = exo.move_note(&Writer::new(CommitPolicy::Commit), &agent(), &request).unwrap();

    assert_eq!(answer.notes_rewritten, Some(2), "{answer:?}");
    assert_eq!(answer.links_rewritten, Some(9), "{answer:?}");
    assert_eq!(answer.own_links_rebased, Some(2), "[me](target.md) and [other](sub/other.md): {answer:?}");
    assert_landed(
        &vault,
        &answer,
        "exo: move target.md -> archive/renamed.md, 9 links in 2 notes",
        &["archive/renamed.md", "linker.md", "sub/other.md", "target.md"],
    );
    assert!(!vault.root.join("target.md").exists());
    assert_eq!(vault.porcelain(), Vec::<String>::new());
    let check = |exo: &Exo| {
        let backlinks = exo.backlinks(&NoteRef { note: "archive/renamed.md".into() }).unwrap().answer.backlinks;
        assert_eq!(backlinks.len(), 9, "{backlinks:?}");
        let unresolved = exo.unresolved().unwrap().answer.unresolved;
        assert!(unresolved.is_empty(), "{unresolved:?}");
        let own = exo.links(&NoteRef { note: "archive/renamed.md".into() }).unwrap().answer.links;
        assert!(own.iter().all(|l| l.resolved), "the moved note's own links still resolve: {own:?}");
    };
    check(&exo);
    exo.sync(&SyncRequest { rebuild: true, ..SyncRequest::default() }, Default::default()).unwrap();
    check(&exo);
}

#[test]
fn move_refuses_an_existing_destination() {
    let vault = TestVault::git(&[("a.md", "a\n"), ("b.md", "b\n")]);
    let request = MoveNoteRequest { from: "a.md".into(), to: "b.md".into(), base_hash: None, force: false };
    assert!(matches!(
        vault.exo().move_note(&Writer::new(CommitPolicy::Commit), &agent(), &request),
        Err(ApiError::DestinationExists { .. })
    ));
    assert_eq!(vault.read("b.md"), "b\n");
}

#[test]
fn delete_needs_confirm_and_names_the_notes_linking_to_it() {
    let vault = TestVault::git(&[("a.md", "# A\n"), ("b.md", "[[a]]\n"), ("c.md", "[[a]] [a](a.md)\n")]);
    let exo = vault.exo();
    let writer = Writer::new(CommitPolicy::Commit);
    let request = DeleteNoteRequest { note: "a.md".into(), confirm: false, base_hash: None, force: false };
    match exo.delete_note(&writer, &agent(), &request) {
        Err(ApiError::ConfirmRequired { linked_from, .. }) => assert_eq!(linked_from, vec!["b.md", "c.md"]),
        other => panic!("{other:?}"),
    }
    assert!(vault.root.join("a.md").exists());
    let answer = exo.delete_note(&writer, &agent(), &DeleteNoteRequest { confirm: true, ..request }).unwrap();
    assert_eq!(answer.linked_from, Some(vec!["b.md".to_string(), "c.md".to_string()]));
    assert_landed(&vault, &answer, "exo: delete a.md", &["a.md"]);
    assert!(!vault.root.join("a.md").exists());
    assert_eq!(vault.porcelain(), Vec::<String>::new());
}

#[test]
fn two_writers_at_once_both_land() {
    const WRITES: usize = 6;
    let vault = TestVault::git(&[("a.md", "# A\n")]);
    let start = std::sync::Barrier::new(2);
    // Errors are collected, not unwrapped: a thread that panicked would leave the other
    // waiting at the barrier for ever.
    let errors: Vec<String> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..2)
            .map(|n| {
                let (vault, start) = (&vault, &start);
                scope.spawn(move || {
                    let exo = vault.exo();
                    let writer = Writer::new(CommitPolicy::Commit);
                    let origin = WriteOrigin::client(format!("client{n}"));
                    let mut errors = Vec::new();
                    for i in 0..WRITES {
                        let note = create(&format!("w{n}/note{n}-{i}.md"), &format!("note {n} {i}"));
                        start.wait();
                        errors.extend(exo.create_note(&writer, &origin, &note).err().map(|e| e.to_string()));
                        // Read-modify-write of one note, both threads at once: without
                        // serialising, one append would read before the other lands and lose
                        // it, or find it uncommitted.
                        start.wait();
                        let line = append("a.md", &format!("line {n} {i}"));
                        errors.extend(exo.edit_note(&writer, &origin, &line).err().map(|e| e.to_string()));
                    }
                    errors
                })
            })
            .collect();
        threads.into_iter().flat_map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(errors, Vec::<String>::new());
    assert_eq!(vault.commits(), 1 + 4 * WRITES, "every write is its own commit");
    let shared = vault.read("a.md");
    assert_eq!(shared.lines().count(), 1 + 2 * WRITES, "no append lost: {shared}");
    let tree = vault.run_git(&["ls-tree", "-r", "--name-only", "HEAD"]);
    for n in 0..2 {
        for i in 0..WRITES {
            assert!(tree.contains(&format!("w{n}/note{n}-{i}.md")), "{tree}");
        }
    }
    assert_eq!(vault.porcelain(), Vec::<String>::new());
}

#[test]
fn a_new_note_with_frontmatter_reads_back_as_given() {
    let vault = TestVault::git(&[]);
    let values = ordered(&[
        ("tags", serde_json::json!(["a", "b c"])),
        ("rating", serde_json::json!(3)),
        ("status", serde_json::json!("yes")),
        ("note", serde_json::json!("x: y")),
    ]);
    let request = CreateNoteRequest {
        title: Some("Daily: 2026-11-30".into()),
        frontmatter: values,
        body: "---\nkept: 1\n---\nBody".into(),
        ..CreateNoteRequest::default()
    };
    let answer = vault.exo().create_note(&Writer::new(CommitPolicy::Commit), &agent(), &request).unwrap();
    assert_eq!(answer.path, "Daily 2026-11-30.md");
    let text = vault.read("Daily 2026-11-30.md");
    assert_eq!(
        text,
        "---\nkept: 1\ntitle: \"Daily: 2026-11-30\"\ntags: [a, b c]\nrating: 3\nstatus: \"yes\"\nnote: \"x: y\"\n---\nBody\n",
        "new keys in the order given, the title first"
    );
}

#[test]
fn outside_git_the_write_happens_and_says_it_was_not_committed() {
    let vault = TestVault::plain(&[("a.md", "# A\n")]);
    let answer = vault.exo().create_note(&Writer::new(CommitPolicy::Commit), &agent(), &create("b.md", "b")).unwrap();
    assert!(!answer.committed);
    assert!(answer.not_committed.as_deref().unwrap().contains("not in a git repository"), "{answer:?}");
    assert_eq!(vault.read("b.md"), "b\n");
    assert_eq!(answer.index_status, Some(IndexState::Synced));
}

#[test]
fn an_empty_repository_gets_a_root_commit_and_exo_toml_names_the_author() {
    let vault = TestVault::plain(&[]);
    vault.write("exo.toml", "[embed]\nprovider = \"none\"\n\n[write]\nauthor_name = \"Night gardener\"\n");
    vault.run_git(&["init", "-q", "-b", "main"]);
    let answer =
        vault.exo().create_note(&Writer::new(CommitPolicy::Commit), &agent(), &create("first.md", "hi")).unwrap();
    assert_eq!(vault.commits(), 1);
    assert_eq!(vault.last_commit_paths(), vec!["first.md"]);
    assert_eq!(answer.commit.unwrap().author, "Night gardener <exo@localhost>");
    assert_eq!(vault.porcelain(), vec!["?? .gitignore", "?? exo.toml"], "only the note was committed");
}

#[test]
fn a_person_writing_through_the_cli_is_the_author() {
    let vault = TestVault::git(&[]);
    let person = exo_api::CommitIdentity { name: "Ada".into(), email: "ada@example.com".into() };
    let writer = Writer::new(CommitPolicy::Commit).as_git_user(Some(person));
    let answer = vault.exo().create_note(&writer, &WriteOrigin::default(), &create("n.md", "n")).unwrap();
    assert_eq!(answer.commit.unwrap().author, "Ada <ada@example.com>");
    assert_eq!(vault.run_git(&["log", "-1", "--format=%an <%ae>"]).trim(), "Ada <ada@example.com>");
}

#[test]
fn create_refuses_a_note_that_says_nearly_the_same_as_one_that_exists() {
    let text = "Plants turn sunlight, water and carbon dioxide into sugar and oxygen in their leaves; \
                the green pigment chlorophyll captures the light that drives the reaction.\n";
    let vault =
        TestVault::git(&[("botany/photosynthesis.md", text), ("other.md", "# Tax returns\nFile them by April.\n")]);
    vault.write("exo.toml", "");
    let exo = vault.exo();
    exo.sync(&SyncRequest::default(), Default::default()).unwrap();
    let reworded = "In their leaves plants turn sunlight, water and carbon dioxide into sugar and oxygen; \
                    chlorophyll, the green pigment, captures the light driving the reaction.";
    let writer = Writer::new(CommitPolicy::Commit);
    match exo.create_note(&writer, &agent(), &create("inbox/how plants eat.md", reworded)) {
        Err(ApiError::NearDuplicates { candidates, .. }) => assert_eq!(candidates, vec!["botany/photosynthesis.md"]),
        other => panic!("{other:?}"),
    }
    let unrelated = "Sourdough needs a lively starter, strong flour, salt, water and a long cold proof overnight.";
    exo.create_note(&writer, &agent(), &create("inbox/bread.md", unrelated)).unwrap();
}

#[test]
fn a_vault_in_a_subfolder_of_the_repository_commits_its_paths_under_that_folder() {
    let repo = TestVault::plain(&[("README.md", "repo\n")]);
    repo.write("vault/exo.toml", "[embed]\nprovider = \"none\"\n");
    repo.write("vault/a.md", "[[b]]\n");
    repo.write("vault/b.md", "# B\n");
    repo.run_git(&["init", "-q", "-b", "main"]);
    repo.run_git(&["add", "-A"]);
    repo.run_git(&["commit", "-q", "-m", "start"]);
    let root = repo.root.join("vault");
    let exo = Exo::open(&VaultChoice { flag: Some(root.clone()), env: None, cwd: root }).unwrap();
    let request = MoveNoteRequest { from: "b.md".into(), to: "c.md".into(), base_hash: None, force: false };
    let answer = exo.move_note(&Writer::new(CommitPolicy::Commit), &agent(), &request).unwrap();
    assert!(answer.committed, "{answer:?}");
    assert_eq!(repo.last_commit_paths(), vec!["vault/a.md", "vault/b.md", "vault/c.md"]);
    assert_eq!(repo.porcelain(), Vec::<String>::new());
    assert_eq!(repo.read("vault/a.md"), "[[c]]\n");
}

#[test]
fn in_the_middle_of_a_merge_the_write_happens_but_is_left_for_the_merge_commit() {
    let vault = TestVault::git(&[("a.md", "# A\n")]);
    let head = vault.run_git(&["rev-parse", "HEAD"]);
    std::fs::write(vault.root.join(".git/MERGE_HEAD"), head).unwrap();
    let answer = vault.exo().create_note(&Writer::new(CommitPolicy::Commit), &agent(), &create("b.md", "b")).unwrap();
    assert!(!answer.committed);
    assert!(answer.not_committed.as_deref().unwrap().contains("merge"), "{answer:?}");
    assert_eq!(vault.commits(), 1);
    assert_eq!(vault.read("b.md"), "b\n");
}

const POLICY: &str = "required = [\"title\"]\nlinks_resolve = true\n\n[check.fields]\nstatus = { type = \"string\", values = [\"draft\", \"done\"] }\n";

fn with_policy(vault: &TestVault, mode: &str) {
    vault.write("exo.toml", &format!("[embed]\nprovider = \"none\"\n\n[check]\nmode = \"{mode}\"\n{POLICY}"));
}

fn refused_by_policy<T: std::fmt::Debug>(result: exo_api::Result<T>) -> Vec<exo_api::Violation> {
    match result {
        Err(ApiError::PolicyViolation { violations }) => violations,
        other => panic!("expected a policy refusal: {other:?}"),
    }
}

#[test]
fn in_enforce_mode_every_write_that_breaks_a_rule_is_refused_and_nothing_is_written() {
    let vault = TestVault::plain(&[
        ("a.md", "---\ntitle: A\nstatus: draft\n---\nSee [[b]].\n"),
        ("b.md", "---\ntitle: B\n---\nB.\n"),
        ("untitled.md", "no frontmatter\n"),
    ]);
    with_policy(&vault, "enforce");
    vault.run_git(&["init", "-q", "-b", "main"]);
    vault.run_git(&["add", "-A"]);
    vault.run_git(&["commit", "-q", "-m", "start"]);
    let before = vault.snapshot();
    let exo = vault.exo();
    let writer = Writer::new(CommitPolicy::Commit);

    // create: no title.
    let violations = refused_by_policy(exo.create_note(&writer, &agent(), &create("inbox/new.md", "text")));
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!((violations[0].path.as_str(), violations[0].line), ("inbox/new.md", 1));
    assert_eq!(violations[0].rule, exo_api::CheckRule::Required);
    // edit: a value the policy does not allow, on its line; the message names note, line, rule.
    let values = serde_json::json!({"status": "bogus"});
    let request = EditNoteRequest { frontmatter: Some(keys(values)), ..edit("a.md", EditOperation::SetFrontmatter) };
    let error = exo.edit_note(&writer, &agent(), &request).unwrap_err();
    let message = error.to_string();
    assert!(message.starts_with("a.md:3: allowed-value: "), "{message}");
    assert!(message.contains("[check]") && !message.contains('\n'), "{message}");
    // edit: a link that does not resolve.
    let violations = refused_by_policy(exo.edit_note(&writer, &agent(), &append("b.md", "[[nowhere]]")));
    assert_eq!(violations[0].rule, exo_api::CheckRule::UnresolvedLink, "{violations:?}");
    assert_eq!(violations[0].line, 5);
    // move: the moved note breaks a rule where it lands.
    let request = MoveNoteRequest { from: "untitled.md".into(), to: "x/u.md".into(), base_hash: None, force: false };
    let violations = refused_by_policy(exo.move_note(&writer, &agent(), &request));
    assert_eq!(violations[0].path, "x/u.md", "{violations:?}");
    assert_eq!(vault.snapshot(), before, "nothing written");
    assert_eq!(vault.commits(), 1);

    // Writes that keep the rules land: a move whose rewritten links resolve, a delete.
    let create_ok =
        CreateNoteRequest { frontmatter: keys(serde_json::json!({"title": "New"})), ..create("inbox/new.md", "text") };
    assert!(exo.create_note(&writer, &agent(), &create_ok).unwrap().warnings.is_empty());
    let request = MoveNoteRequest { from: "b.md".into(), to: "sub/b2.md".into(), base_hash: None, force: false };
    let answer = exo.move_note(&writer, &agent(), &request).unwrap();
    assert_eq!(answer.links_rewritten, Some(1));
    let delete = DeleteNoteRequest { note: "untitled.md".into(), confirm: true, base_hash: None, force: false };
    assert!(exo.delete_note(&writer, &agent(), &delete).unwrap().committed);
}

#[test]
fn in_audit_mode_a_write_that_breaks_a_rule_lands_with_the_violations_as_warnings() {
    let vault = TestVault::plain(&[("a.md", "---\ntitle: A\n---\nA.\n")]);
    with_policy(&vault, "audit");
    vault.run_git(&["init", "-q", "-b", "main"]);
    vault.run_git(&["add", "-A"]);
    vault.run_git(&["commit", "-q", "-m", "start"]);
    let exo = vault.exo();
    let writer = Writer::new(CommitPolicy::Commit);

    let answer = exo.create_note(&writer, &agent(), &create("new.md", "[[gone]]")).unwrap();
    assert!(answer.committed);
    assert_eq!(answer.warnings.len(), 2, "{:?}", answer.warnings);
    assert!(answer.warnings[0].starts_with("check (audit): new.md:1: required: "), "{:?}", answer.warnings);
    assert!(answer.warnings[1].starts_with("check (audit): new.md:1: unresolved-link: "), "{:?}", answer.warnings);
    let answer = exo.edit_note(&writer, &agent(), &append("a.md", "[[gone]]")).unwrap();
    assert!(answer.committed);
    assert_eq!(answer.warnings.len(), 1, "{:?}", answer.warnings);
    assert!(answer.warnings[0].starts_with("check (audit): a.md:5: unresolved-link: "), "{:?}", answer.warnings);
    let request = MoveNoteRequest { from: "new.md".into(), to: "moved.md".into(), base_hash: None, force: false };
    let answer = exo.move_note(&writer, &agent(), &request).unwrap();
    assert!(answer.warnings.iter().any(|w| w.starts_with("check (audit): moved.md:1: required")), "{answer:?}");
}

#[test]
fn names_a_wikilink_cannot_hold_are_refused_on_create_and_move() {
    let vault = TestVault::git(&[("a.md", "# A\n"), ("b.md", "[[a]]\n")]);
    let before = vault.snapshot();
    let exo = vault.exo();
    let writer = Writer::new(CommitPolicy::Commit);
    for path in ["x#y.md", "x|y.md", "x]y.md", "sub/[x.md", "x^y.md"] {
        match exo.create_note(&writer, &agent(), &create(path, "t")) {
            Err(error @ ApiError::PathRefused { .. }) => {
                assert!(error.to_string().contains("link"), "{error}");
            }
            other => panic!("{path}: {other:?}"),
        }
        let request = MoveNoteRequest { from: "a.md".into(), to: path.into(), base_hash: None, force: false };
        assert!(matches!(exo.move_note(&writer, &agent(), &request), Err(ApiError::PathRefused { .. })), "{path}");
    }
    assert_eq!(vault.snapshot(), before);
    // Unicode and spaces are fine, and so is editing a note whose name a link cannot hold.
    let answer = exo.create_note(&writer, &agent(), &create("Ünïcode folder/a note – ✓.md", "t")).unwrap();
    assert_landed(&vault, &answer, "exo: create Ünïcode folder/a note – ✓.md", &["Ünïcode folder/a note – ✓.md"]);
    vault.write("odd#name.md", "x\n");
    vault.run_git(&["add", "odd#name.md"]);
    vault.run_git(&["commit", "-q", "-m", "odd"]);
    exo.edit_note(&writer, &agent(), &append("odd#name.md", "y")).unwrap();
}

#[test]
fn find_replace_with_an_empty_find_says_to_give_one() {
    let vault = TestVault::git(&[("a.md", "abc\n")]);
    let request = EditNoteRequest {
        find: Some(String::new()),
        replace: Some("x".into()),
        expected_count: Some(5),
        ..edit("a.md", EditOperation::FindReplace)
    };
    let error = vault.exo().edit_note(&Writer::new(CommitPolicy::Commit), &agent(), &request).unwrap_err();
    assert!(matches!(error, ApiError::Invalid(_)), "{error:?}");
    assert!(error.to_string().contains("`find`"), "{error}");
}

#[test]
fn replace_section_of_a_last_heading_ending_in_a_multibyte_character() {
    let vault = TestVault::git(&[("a.md", "# Top\n\n## Café")]);
    let request = EditNoteRequest {
        heading: Some("Café".into()),
        text: Some("menu".into()),
        ..edit("a.md", EditOperation::ReplaceSection)
    };
    vault.exo().edit_note(&Writer::new(CommitPolicy::Commit), &agent(), &request).unwrap();
    assert_eq!(vault.read("a.md"), "# Top\n\n## Café\nmenu\n");
}

#[test]
fn crlf_notes_stay_crlf() {
    let text = "---\r\ntitle: A\r\n---\r\n# A\r\n\r\n## Log\r\nold\r\n\r\n## End\r\nend\r\n";
    let vault = TestVault::git(&[("a.md", text)]);
    let exo = vault.exo();
    let writer = Writer::new(CommitPolicy::Commit);
    exo.edit_note(&writer, &agent(), &append("a.md", "one\ntwo")).unwrap();
    let prepend = EditNoteRequest { text: Some("top".into()), ..edit("a.md", EditOperation::Prepend) };
    exo.edit_note(&writer, &agent(), &prepend).unwrap();
    let section = EditNoteRequest {
        heading: Some("Log".into()),
        text: Some("new\nlines".into()),
        ..edit("a.md", EditOperation::ReplaceSection)
    };
    exo.edit_note(&writer, &agent(), &section).unwrap();
    let values = serde_json::json!({"status": "done"});
    let fm = EditNoteRequest { frontmatter: Some(keys(values)), ..edit("a.md", EditOperation::SetFrontmatter) };
    let answer = exo.edit_note(&writer, &agent(), &fm).unwrap();
    let after = vault.read("a.md");
    assert_eq!(
        after,
        "---\r\ntitle: A\r\nstatus: done\r\n---\r\ntop\r\n# A\r\n\r\n## Log\r\nnew\r\nlines\r\n\r\n## End\r\nend\r\none\r\ntwo\r\n"
    );
    let report = exo_api::inspect_note(
        &VaultChoice { flag: Some(vault.root.clone()), env: None, cwd: vault.root.clone() },
        Path::new("a.md"),
    )
    .unwrap();
    assert_eq!(answer.hash.as_deref(), Some(report.hash.as_str()), "the answer's hash is `exo parse`'s");
}

#[test]
fn set_frontmatter_after_a_bom_and_with_a_fence_in_a_code_block_later() {
    let text = "\u{feff}---\ntitle: A\n---\n# A\n\n```yaml\n---\nnot: frontmatter\n---\n```\n";
    let vault = TestVault::git(&[("a.md", text), ("b.md", "\u{feff}# B\n```\n---\n```\n")]);
    let exo = vault.exo();
    let writer = Writer::new(CommitPolicy::Commit);
    let values = serde_json::json!({"status": "done"});
    let request = |note: &str| EditNoteRequest {
        frontmatter: Some(keys(values.clone())),
        ..edit(note, EditOperation::SetFrontmatter)
    };
    exo.edit_note(&writer, &agent(), &request("a.md")).unwrap();
    assert_eq!(
        vault.read("a.md"),
        "\u{feff}---\ntitle: A\nstatus: done\n---\n# A\n\n```yaml\n---\nnot: frontmatter\n---\n```\n"
    );
    exo.edit_note(&writer, &agent(), &request("b.md")).unwrap();
    assert_eq!(vault.read("b.md"), "\u{feff}---\nstatus: done\n---\n# B\n```\n---\n```\n");
}

#[test]
fn an_untracked_note_deleted_with_force_leaves_nothing_to_commit_and_says_so() {
    let vault = TestVault::git(&[("a.md", "# A\n")]);
    vault.write("new.md", "a person's new note\n");
    let exo = vault.exo();
    let writer = Writer::new(CommitPolicy::Commit);
    let request = DeleteNoteRequest { note: "new.md".into(), confirm: true, base_hash: None, force: false };
    assert!(matches!(exo.delete_note(&writer, &agent(), &request), Err(ApiError::UncommittedChanges { .. })));
    assert!(vault.root.join("new.md").exists());
    let answer = exo.delete_note(&writer, &agent(), &DeleteNoteRequest { force: true, ..request }).unwrap();
    assert!(!vault.root.join("new.md").exists());
    assert!(!answer.committed);
    assert_eq!(vault.commits(), 1, "no empty commit");
    let why = answer.not_committed.unwrap();
    assert!(why.contains("nothing to commit"), "{why}");
}

#[test]
fn a_note_linking_to_itself_is_not_listed_among_those_a_delete_leaves_unresolved() {
    let vault = TestVault::git(&[("a.md", "# A\n[[a]] [[#A]]\n"), ("z.md", "[[a]]\n"), ("b.md", "[[a]] [[a]]\n")]);
    let request = DeleteNoteRequest { note: "a.md".into(), confirm: false, base_hash: None, force: false };
    match vault.exo().delete_note(&Writer::new(CommitPolicy::Commit), &agent(), &request) {
        Err(ApiError::ConfirmRequired { linked_from, .. }) => assert_eq!(linked_from, vec!["b.md", "z.md"]),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_move_onto_a_case_variant_of_its_own_name() {
    let vault = TestVault::git(&[("Idea.md", "# Idea\n"), ("b.md", "[[Idea]] [i](Idea.md)\n")]);
    let request = MoveNoteRequest { from: "Idea.md".into(), to: "idea.md".into(), base_hash: None, force: false };
    let answer = vault.exo().move_note(&Writer::new(CommitPolicy::Commit), &agent(), &request).unwrap();
    assert_landed(&vault, &answer, &answer.commit.clone().unwrap().message, &["Idea.md", "b.md", "idea.md"]);
    // The wikilink already finds idea.md (names match case-insensitively); the path link is
    // rewritten.
    assert_eq!(vault.read("b.md"), "[[Idea]] [i](idea.md)\n");
    assert!(!vault.root.join("Idea.md").exists());
    assert!(vault.exo().unresolved().unwrap().answer.unresolved.is_empty());
}

#[test]
fn a_write_on_a_detached_head_commits_there() {
    let vault = TestVault::git(&[("a.md", "# A\n")]);
    let head = vault.run_git(&["rev-parse", "HEAD"]);
    vault.run_git(&["checkout", "-q", "--detach", head.trim()]);
    let answer = vault.exo().create_note(&Writer::new(CommitPolicy::Commit), &agent(), &create("b.md", "b")).unwrap();
    assert_landed(&vault, &answer, "exo: create b.md", &["b.md"]);
    assert_eq!(vault.run_git(&["rev-parse", "main"]).trim(), head.trim(), "the branch did not move");
    assert!(answer.warnings.iter().any(|w| w.contains("detached") && w.contains("git branch")), "{answer:?}");
}

#[test]
fn a_staged_rename_elsewhere_in_the_repository_stays_staged_and_out_of_the_commit() {
    let repo = TestVault::plain(&[("README.md", "repo\n"), ("docs/old.txt", "doc\n")]);
    repo.write("vault/exo.toml", "[embed]\nprovider = \"none\"\n");
    repo.write("vault/a.md", "# A\n");
    repo.run_git(&["init", "-q", "-b", "main"]);
    repo.run_git(&["add", "-A"]);
    repo.run_git(&["commit", "-q", "-m", "start"]);
    repo.run_git(&["mv", "docs/old.txt", "docs/new.txt"]);
    let staged = repo.porcelain();
    let root = repo.root.join("vault");
    let exo = Exo::open(&VaultChoice { flag: Some(root.clone()), env: None, cwd: root }).unwrap();
    let answer = exo.edit_note(&Writer::new(CommitPolicy::Commit), &agent(), &append("a.md", "x")).unwrap();
    assert!(answer.committed, "{answer:?}");
    assert_eq!(repo.last_commit_paths(), vec!["vault/a.md"]);
    assert_eq!(repo.porcelain(), staged, "the rename is still staged, and only it");
}

#[test]
fn editing_a_note_that_is_not_utf8_says_what_to_do() {
    let vault = TestVault::git(&[("a.md", "# A\n")]);
    std::fs::write(vault.root.join("a.md"), b"# A\n\xff\xfe latin-1 \xe9\n").unwrap();
    vault.run_git(&["commit", "-qam", "latin"]);
    let error = vault.exo().edit_note(&Writer::new(CommitPolicy::Commit), &agent(), &append("a.md", "x")).unwrap_err();
    assert!(error.to_string().contains("a.md is not valid UTF-8"), "{error}");
}

#[test]
fn a_hidden_file_or_folder_exo_would_not_read_is_refused() {
    let vault = TestVault::git(&[("a.md", "# A\n")]);
    let before = vault.snapshot();
    let exo = vault.exo();
    let writer = Writer::new(CommitPolicy::Commit);
    for path in [".hidden.md", ".drafts/x.md", "sub/.x.md"] {
        match exo.create_note(&writer, &agent(), &create(path, "t")) {
            Err(error @ ApiError::PathRefused { .. }) => assert!(error.to_string().contains("hidden"), "{error}"),
            other => panic!("{path}: {other:?}"),
        }
    }
    assert_eq!(vault.snapshot(), before);
}

#[test]
fn a_note_with_a_name_near_the_file_system_limit_can_be_written() {
    let vault = TestVault::git(&[]);
    let name = format!("{}.md", "n".repeat(250));
    let answer = vault.exo().create_note(&Writer::new(CommitPolicy::Commit), &agent(), &create(&name, "t")).unwrap();
    assert!(answer.committed, "{answer:?}");
    assert_eq!(vault.read(&name), "t\n");
}

#[test]
fn a_note_a_person_staged_is_theirs_even_when_the_working_file_matches_head() {
    let vault = TestVault::git(&[("a.md", "# A\n")]);
    vault.write("a.md", "# A\nstaged by a person\n");
    vault.run_git(&["add", "a.md"]);
    vault.write("a.md", "# A\n");
    let exo = vault.exo();
    let writer = Writer::new(CommitPolicy::Commit);
    assert!(matches!(
        exo.edit_note(&writer, &agent(), &append("a.md", "agent")),
        Err(ApiError::UncommittedChanges { .. })
    ));
    assert_eq!(vault.run_git(&["show", ":a.md"]), "# A\nstaged by a person\n", "the staged version is kept");
}

#[test]
fn a_move_is_refused_when_the_note_or_a_note_linking_to_it_holds_a_persons_work() {
    let vault = TestVault::git(&[("a.md", "# A\n"), ("b.md", "[[a]]\n")]);
    let exo = vault.exo();
    let writer = Writer::new(CommitPolicy::Commit);
    let request = MoveNoteRequest { from: "a.md".into(), to: "c.md".into(), base_hash: None, force: false };
    vault.write("b.md", "[[a]] and a person's thought\n");
    assert!(matches!(
        exo.move_note(&writer, &agent(), &request),
        Err(ApiError::UncommittedChanges { path }) if path == "b.md"
    ));
    vault.run_git(&["commit", "-qam", "b"]);
    vault.write("a.md", "# A\nunsaved\n");
    assert!(matches!(
        exo.move_note(&writer, &agent(), &request),
        Err(ApiError::UncommittedChanges { path }) if path == "a.md"
    ));
    assert!(vault.root.join("a.md").exists() && !vault.root.join("c.md").exists());
    let answer = exo.move_note(&writer, &agent(), &MoveNoteRequest { force: true, ..request }).unwrap();
    assert_landed(&vault, &answer, "exo: move a.md -> c.md, 1 links in 1 notes", &["a.md", "b.md", "c.md"]);
    assert_eq!(vault.read("c.md"), "# A\nunsaved\n");
}

#[test]
fn set_frontmatter_adds_new_keys_in_the_order_given() {
    let vault = TestVault::git(&[("a.md", "---\ntitle: A\n---\nA\n")]);
    let values = ordered(&[("zeta", serde_json::json!(1)), ("alpha", serde_json::json!("two"))]);
    let request = EditNoteRequest { frontmatter: Some(values), ..edit("a.md", EditOperation::SetFrontmatter) };
    vault.exo().edit_note(&Writer::new(CommitPolicy::Commit), &agent(), &request).unwrap();
    assert_eq!(vault.read("a.md"), "---\ntitle: A\nzeta: 1\nalpha: two\n---\nA\n");
    // As an MCP client or `--json` caller sends it: the order of the JSON text is kept.
    let request: EditNoteRequest =
        serde_json::from_str(r#"{"note": "a.md", "operation": "set_frontmatter", "frontmatter": {"m": 1, "b": 2}}"#)
            .unwrap();
    vault.exo().edit_note(&Writer::new(CommitPolicy::Commit), &agent(), &request).unwrap();
    assert_eq!(vault.read("a.md"), "---\ntitle: A\nzeta: 1\nalpha: two\nm: 1\nb: 2\n---\nA\n");
}

#[test]
fn set_frontmatter_fills_an_empty_or_comment_only_block() {
    let vault = TestVault::git(&[("a.md", "---\n---\nA\n"), ("b.md", "---\n# keys to come\n---\nB\n")]);
    let exo = vault.exo();
    let writer = Writer::new(CommitPolicy::Commit);
    for note in ["a.md", "b.md"] {
        let request = EditNoteRequest {
            frontmatter: Some(ordered(&[("status", serde_json::json!("done"))])),
            ..edit(note, EditOperation::SetFrontmatter)
        };
        exo.edit_note(&writer, &agent(), &request).unwrap();
    }
    assert_eq!(vault.read("a.md"), "---\nstatus: done\n---\nA\n");
    assert_eq!(vault.read("b.md"), "---\n# keys to come\nstatus: done\n---\nB\n");
}

#[test]
fn a_link_by_alias_still_finds_the_moved_note_and_is_left_as_written() {
    let vault = TestVault::git(&[
        ("srs.md", "---\naliases: [Leitner system]\n---\nBoxes.\n"),
        ("b.md", "[[Leitner system]] and [[srs]]\n"),
    ]);
    let request = MoveNoteRequest { from: "srs.md".into(), to: "x/boxes.md".into(), base_hash: None, force: false };
    let answer = vault.exo().move_note(&Writer::new(CommitPolicy::Commit), &agent(), &request).unwrap();
    assert_eq!(vault.read("b.md"), "[[Leitner system]] and [[boxes]]\n");
    assert_eq!(answer.links_rewritten, Some(1), "{answer:?}");
}

#[test]
fn edits_at_the_edges_of_sections_and_counts() {
    let vault = TestVault::git(&[("a.md", "# A\n## Log\none\n## Log\ntwo\n\naaa\n")]);
    let exo = vault.exo();
    let writer = Writer::new(CommitPolicy::Commit);
    let section = EditNoteRequest {
        heading: Some("Log".into()),
        text: Some("x".into()),
        ..edit("a.md", EditOperation::ReplaceSection)
    };
    let error = exo.edit_note(&writer, &agent(), &section).unwrap_err();
    assert!(error.to_string().contains("lines 2, 4"), "{error}");
    let find = |find: &str, expected: usize| EditNoteRequest {
        find: Some(find.into()),
        replace: Some("X".into()),
        expected_count: Some(expected),
        ..edit("a.md", EditOperation::FindReplace)
    };
    // expected_count 0: a check that the text is absent; nothing to write.
    let answer = exo.edit_note(&writer, &agent(), &find("zzz", 0)).unwrap();
    assert!(answer.touched.is_empty() && !answer.committed, "{answer:?}");
    assert!(matches!(
        exo.edit_note(&writer, &agent(), &find("one", 0)),
        Err(ApiError::CountMismatch { found: 1, expected: 0, .. })
    ));
    // Overlapping occurrences count as `str::replace` replaces them: left to right, apart.
    exo.edit_note(&writer, &agent(), &find("aa", 1)).unwrap();
    assert_eq!(vault.read("a.md"), "# A\n## Log\none\n## Log\ntwo\n\nXa\n");
}

#[test]
fn a_move_into_a_folder_keeps_the_file_name_and_a_create_needs_one() {
    let vault = TestVault::git(&[("a.md", "# A\n"), ("b.md", "[[a]]\n"), ("archive/old.md", "old\n")]);
    let exo = vault.exo();
    let writer = Writer::new(CommitPolicy::Commit);
    let request = |to: &str| MoveNoteRequest { from: "a.md".into(), to: to.into(), base_hash: None, force: false };
    let answer = exo.move_note(&writer, &agent(), &request("archive")).unwrap();
    assert_eq!(answer.path, "archive/a.md");
    let request = MoveNoteRequest { from: "archive/a.md".into(), ..request("new folder/") };
    assert_eq!(exo.move_note(&writer, &agent(), &request).unwrap().path, "new folder/a.md");
    assert_eq!(vault.read("b.md"), "[[a]]\n", "the bare name still finds it");
    let error = exo.create_note(&writer, &agent(), &create("inbox/", "t")).unwrap_err();
    assert!(matches!(error, ApiError::PathRefused { .. }) && error.to_string().contains("file name"), "{error}");
    assert!(!vault.root.join("inbox.md").exists());
}
