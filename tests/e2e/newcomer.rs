//! A newcomer's first minutes: what exo says about itself, completions and the man page,
//! and an installed exo (on PATH, nowhere else) whose hooks reconcile on commit.

use std::process::Command;

use crate::support::*;

fn exo(args: &[&str]) -> std::process::Output {
    Command::new(exo_bin()).args(args).env("NO_COLOR", "1").output().unwrap()
}

#[test]
fn version_names_the_revision_and_the_built_in_model() {
    let out = exo(&["--version"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.starts_with(&format!("exo {} (git ", env!("CARGO_PKG_VERSION"))), "{text}");
    assert!(text.contains("built-in model: all-MiniLM-L6-v2 (384 dims"), "{text}");
    let short = stdout(&exo(&["-V"]));
    assert_eq!(short.trim(), format!("exo {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn completions_cover_every_command_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = exo(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        for command in ["index", "status", "search", "garden", "backlinks", "completions"] {
            assert!(script.contains(command), "{shell} completion lacks {command}");
        }
    }
    let bash = stdout(&exo(&["completions", "bash"]));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("exo.bash");
    std::fs::write(&file, &bash).unwrap();
    let checked = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(checked.status.success(), "bash -n: {}", stderr(&checked));
    assert!(!exo(&["completions", "tcsh"]).status.success(), "an unknown shell is refused");
}

#[test]
fn the_man_page_is_roff_for_every_command() {
    let out = exo(&["man"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = stdout(&out);
    assert!(page.contains(".TH exo 1"), "{}", &page[..page.len().min(200)]);
    for command in ["index", "search", "hooks", "garden", "wander"] {
        assert!(page.contains(command), "the man page lacks {command}");
    }
}

/// As the README has it: `exo` installed into a bin folder on PATH (here a copy of the
/// built binary in a fresh HOME), then init, hooks, a commit that the hook reconciles.
#[test]
fn an_installed_exo_on_path_reconciles_on_commit() {
    let home = tempfile::tempdir().unwrap();
    let bin = home.path().join(".cargo/bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(exo_bin(), bin.join("exo")).unwrap();
    let vault = home.path().join("notes");
    std::fs::create_dir_all(&vault).unwrap();
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display());
    let run = |program: &str, args: &[&str]| {
        let out = Command::new(program)
            .args(args)
            .current_dir(&vault)
            .env_clear()
            .env("PATH", &path)
            .env("HOME", home.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "New Comer")
            .env("GIT_AUTHOR_EMAIL", "new@example.com")
            .env("GIT_COMMITTER_NAME", "New Comer")
            .env("GIT_COMMITTER_EMAIL", "new@example.com")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{program} {args:?}: {}{}", stdout(&out), stderr(&out));
        (stdout(&out), stderr(&out))
    };
    run("git", &["init", "-q", "-b", "main"]);
    run("exo", &["init"]);
    run("exo", &["hooks", "install"]);
    std::fs::write(vault.join("first.md"), "# First note\n\nHello, [[second]].\n").unwrap();
    run("git", &["add", "-A"]);
    let (out, err) = run("git", &["commit", "-q", "-m", "first note"]);
    assert!(format!("{out}{err}").contains("exo: index reconciled"), "the hook ran: {out}{err}");
    let (status, _) = run("exo", &["status", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(json["status"], "Synced", "{json}");
    assert_eq!(json["notes"], 1);
}
