//! `Exo::check` and `Exo::check_changes` on a real vault in a temp dir.

use exo_api::{CheckRequest, Exo, VaultChoice};

fn vault(files: &[(&str, &str)]) -> (tempfile::TempDir, Exo) {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        std::fs::write(dir.path().join(path), text).unwrap();
    }
    let choice = VaultChoice { flag: Some(dir.path().to_path_buf()), env: None, cwd: dir.path().to_path_buf() };
    let exo = Exo::open(&choice).unwrap();
    (dir, exo)
}

const POLICY: &str = "[check]\nmode = \"enforce\"\nrequired = [\"title\"]\nlinks_resolve = true\n";

#[test]
fn a_write_is_checked_as_if_it_had_landed() {
    let (_dir, exo) =
        vault(&[("exo.toml", POLICY), ("a.md", "---\ntitle: A\n---\n[[missing]]\n"), ("b.md", "---\ntitle: B\n---\n")]);
    assert!(exo.check(&CheckRequest::default()).unwrap().blocked, "a.md links to nothing");

    let bad = exo.check_changes(&[("new.md".into(), Some("# no title\n[[b]] [[gone]]\n".into()))]).unwrap();
    assert!(bad.blocked);
    let rules: Vec<&str> = bad.violations.iter().map(|v| v.rule.name()).collect();
    assert_eq!(rules, ["required", "unresolved-link"]);
    assert!(bad.violations.iter().all(|v| v.path == "new.md"));

    // The new text replaces the file's: a fixed a.md passes, and links may name the new note.
    let good = exo
        .check_changes(&[
            ("a.md".into(), Some("---\ntitle: A\n---\n[[c]]\n".into())),
            ("c.md".into(), Some("---\ntitle: C\n---\n".into())),
        ])
        .unwrap();
    assert!(!good.blocked, "{:?}", good.violations);
    assert_eq!(good.checked, 2);
}

#[test]
fn without_a_policy_nothing_is_checked() {
    let (_dir, exo) = vault(&[("a.md", "[[nowhere]]\n")]);
    let answer = exo.check(&CheckRequest::default()).unwrap();
    assert!(!answer.policy && !answer.blocked && answer.violations.is_empty());
    let answer = exo.check_changes(&[("x.md".into(), Some("[[nowhere]]".into()))]).unwrap();
    assert!(!answer.policy && !answer.blocked);
}

#[test]
fn staged_outside_git_is_a_one_line_error_naming_the_fix() {
    let (_dir, exo) = vault(&[("exo.toml", POLICY), ("a.md", "# A\n")]);
    let error = exo.check(&CheckRequest { staged: true, ..CheckRequest::default() }).unwrap_err().to_string();
    assert!(error.contains("needs a git repository") && error.contains("drop --staged"), "{error}");
    assert!(!error.contains('\n'), "{error}");
}

fn git(dir: &std::path::Path, args: &[&str], index_file: Option<&std::path::Path>) {
    let mut command = std::process::Command::new("git");
    command.current_dir(dir).args(args).env_remove("GIT_INDEX_FILE");
    if let Some(file) = index_file {
        command.env("GIT_INDEX_FILE", file);
    }
    let out = command.output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn staged_reads_the_index_file_it_is_given() {
    // What `git commit -a` hands its pre-commit hook: a temporary index in GIT_INDEX_FILE,
    // which may hold a note that .git/index does not.
    let (dir, exo) = vault(&[("exo.toml", POLICY), ("a.md", "---\ntitle: A\n---\n")]);
    git(dir.path(), &["init", "-q"], None);
    git(dir.path(), &["add", "-A"], None);
    std::fs::write(dir.path().join("b.md"), "no title\n").unwrap();
    let other = dir.path().join(".git/other-index");
    std::fs::copy(dir.path().join(".git/index"), &other).unwrap();
    git(dir.path(), &["add", "b.md"], Some(&other));

    let own = exo.check(&CheckRequest { staged: true, ..CheckRequest::default() }).unwrap();
    assert!(!own.blocked && own.checked == 1, "{own:?}");
    let given = exo.check(&CheckRequest { staged: true, index_file: Some(other) }).unwrap();
    assert!(given.blocked, "{given:?}");
    assert_eq!(given.violations[0].path, "b.md");
}
