//! The storage engineer's cases: stat records that lie, ignore files outside the walked
//! folders, skips that must be judged again, settings that point nowhere, symlinks, and a
//! machine that will not let exo write. In each, status must never say Synced while the
//! files differ, and every failure must say what is wrong once, with its fix.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use crate::support::*;

fn hour_ago() -> filetime::FileTime {
    filetime::FileTime::from_system_time(SystemTime::now() - Duration::from_secs(3600))
}

/// A vault whose notes and folders are an hour old, indexed twice so the second run keeps
/// its walk: later checks replay it instead of walking.
fn vault_with_kept_walk() -> TestVault {
    let vault = TestVault::plain();
    vault.exo_ok(["init"]);
    vault.write(".gitignore", ".exo/\n");
    vault.write("n.md", "version one\n");
    vault.write("sub/other.md", "# Other\n");
    for note in ["n.md", "sub/other.md"] {
        filetime::set_file_mtime(vault.root.join(note), hour_ago()).unwrap();
    }
    vault.exo_ok(["index"]);
    age_folders(&vault.root);
    vault.exo_ok(["index"]);
    assert!(vault.root.join(".exo/walk").exists(), "the walk of an untouched vault is kept");
    assert_eq!(vault.status(), "Synced");
    vault
}

#[test]
fn a_copy_that_puts_size_and_mtime_back_is_still_seen() {
    let vault = vault_with_kept_walk();
    let path = vault.root.join("n.md");
    let mtime = filetime::FileTime::from_last_modification_time(&std::fs::metadata(&path).unwrap());
    // `cp -p` / `tar x` over the file, or an edit followed by `touch -d`: same size, same
    // mtime to the nanosecond, other bytes. Only the change time (and for a replaced file
    // the inode) moved.
    std::fs::write(&path, "version two\n").unwrap();
    filetime::set_file_mtime(&path, mtime).unwrap();
    assert!(vault.root.join(".exo/walk").exists(), "the check below replays the walk");
    assert_eq!(list(&vault.status_json(), "modified"), vec!["n.md"]);
    let search: serde_json::Value = serde_json::from_str(&vault.exo_ok(["--json", "search", "version"])).unwrap();
    assert_eq!(search["index_status"], "OutOfSync", "{search}");
    vault.exo_ok(["index"]);
    assert_eq!(vault.status(), "Synced");
    assert_eq!(vault.index_contents().notes, vault.files_on_disk());

    // `rsync -a`: a new file renamed over the old one, size and mtime put back.
    let mtime = filetime::FileTime::from_last_modification_time(&std::fs::metadata(&path).unwrap());
    let staged = vault.root.join("sub/.n.md.partial");
    std::fs::write(&staged, "version six\n").unwrap();
    filetime::set_file_mtime(&staged, mtime).unwrap();
    std::fs::rename(&staged, &path).unwrap();
    assert_eq!(list(&vault.status_json(), "modified"), vec!["n.md"]);
    vault.exo_ok(["index"]);
    assert_eq!(vault.index_contents().notes, vault.files_on_disk());
}

#[test]
fn a_chmod_alone_costs_a_read_and_stays_synced() {
    let vault = vault_with_kept_walk();
    let path = vault.root.join("n.md");
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&path, perms).unwrap();
    assert_eq!(vault.status(), "Synced", "a new change time with the same bytes is no change");
    let summary = vault.exo_ok(["index"]);
    assert!(summary.contains("indexed 0 notes"), "{summary}");
}

#[test]
fn ignore_files_of_a_linked_worktree_and_the_global_excludes_are_watched() {
    let main = TestVault::git_repo();
    main.write("a.md", "# A\n");
    main.write("b.md", "# B\n");
    main.commit_all("notes");
    let worktree = main.root.parent().unwrap().join("worktree");
    main.git_ok(["worktree", "add", "-q", worktree.to_str().unwrap()]);
    let in_worktree = |args: &[&str]| {
        let mut all = vec!["--vault", worktree.to_str().unwrap()];
        all.extend_from_slice(args);
        main.exo(all)
    };
    let status_of = |out: std::process::Output| -> serde_json::Value {
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let exclude = main.root.join(".git/info/exclude");
    std::fs::write(&exclude, "# nothing yet\n").unwrap();
    assert!(in_worktree(&["index"]).status.success());
    age_folders(&worktree);
    filetime::set_file_mtime(&exclude, hour_ago()).unwrap();
    assert!(in_worktree(&["index"]).status.success());
    assert!(worktree.join(".exo/walk").exists(), "the walk of an untouched worktree is kept");
    assert_eq!(status_of(in_worktree(&["status", "--json"]))["status"], "Synced");

    // The exclude file every worktree shares lives in the main repository's git dir.
    std::fs::write(&exclude, "b.md\n").unwrap();
    assert_eq!(list(&status_of(in_worktree(&["status", "--json"])), "deleted"), vec!["b.md"]);
    std::fs::write(&exclude, "# nothing again\n").unwrap();
    assert_eq!(status_of(in_worktree(&["status", "--json"]))["status"], "Synced");

    // core.excludesFile in the user's git config hides files from git status, and so from exo.
    let global = main.home().join("global-ignore");
    std::fs::write(&global, "a.md\n").unwrap();
    std::fs::write(main.home().join(".gitconfig"), format!("[core]\n\texcludesFile = {}\n", global.display())).unwrap();
    assert_eq!(list(&status_of(in_worktree(&["status", "--json"])), "deleted"), vec!["a.md"]);
    std::fs::write(&global, "").unwrap();
    assert_eq!(status_of(in_worktree(&["status", "--json"]))["status"], "Synced");
}

fn set_max_file_size(vault: &TestVault, bytes: u64) {
    vault.write("exo.toml", &format!("max_file_size = {bytes}\n"));
}

#[test]
fn a_skip_is_judged_again_when_the_limit_changes() {
    let vault = TestVault::plain();
    set_max_file_size(&vault, 100);
    vault.write("small.md", "# Small\n");
    vault.write("big.md", &format!("# Big\n\n{}\n", "word ".repeat(30)));
    let out = vault.exo(["index"]);
    assert!(stderr(&out).contains("big.md") && stderr(&out).contains("max_file_size"), "{}", stderr(&out));
    assert_eq!(vault.status(), "Synced");
    let verified: serde_json::Value = serde_json::from_str(&vault.exo_ok(["status", "--verify", "--json"])).unwrap();
    assert_eq!(verified["status"], "Synced", "read again and still skipped is still in sync");

    set_max_file_size(&vault, 1000);
    assert_eq!(list(&vault.status_json(), "modified"), vec!["big.md"], "raising the limit brings the note in");
    vault.exo_ok(["index"]);
    assert!(vault.index_contents().notes.contains_key("big.md"));
    assert_eq!(vault.status(), "Synced");

    set_max_file_size(&vault, 100);
    assert_eq!(list(&vault.status_json(), "modified"), vec!["big.md"], "lowering it drops the note");
    vault.exo_ok(["index"]);
    assert!(!vault.index_contents().notes.contains_key("big.md"));
    assert_eq!(vault.status(), "Synced");
}

/// Runs exo as the unprivileged user `nobody`, over a vault it owns: as root every file is
/// readable and every folder writable, so permission cases need another user.
fn exo_as_nobody(vault: &TestVault, args: &[&str]) -> std::process::Output {
    let mut cmd = vault.program("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"]).arg(exo_bin()).args(args);
    cmd.output().unwrap()
}

/// A vault owned by `nobody`, or None where `setpriv` or `chown` is not available.
fn vault_for_nobody() -> Option<TestVault> {
    let vault = TestVault::plain();
    vault.exo_ok(["init"]);
    let ok = |cmd: &mut Command| cmd.status().is_ok_and(|s| s.success());
    let reachable =
        vault.root.ancestors().take_while(|a| a.starts_with(std::env::temp_dir()) && a != &std::env::temp_dir());
    for folder in reachable {
        ok(Command::new("chmod").arg("755").arg(folder));
    }
    if !ok(Command::new("chown").args(["-R", "65534:65534"]).arg(&vault.root)) {
        return None;
    }
    let probe = exo_as_nobody(&vault, &["--help"]);
    probe.status.success().then_some(vault)
}

fn chown_to_nobody(path: &Path) {
    assert!(Command::new("chown").args(["-R", "65534:65534"]).arg(path).status().unwrap().success());
}

fn chmod(path: &Path, mode: &str) {
    assert!(Command::new("chmod").arg(mode).arg(path).status().unwrap().success());
}

#[test]
fn an_unreadable_note_is_retried_once_readable() {
    let Some(vault) = vault_for_nobody() else {
        eprintln!("skipped: cannot run exo as another user here");
        return;
    };
    vault.write("open.md", "# Open\n");
    vault.write("locked.md", "# Locked\n");
    chown_to_nobody(&vault.root);
    chmod(&vault.root.join("locked.md"), "000");
    let out = exo_as_nobody(&vault, &["index"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("locked.md"), "the skip is said: {}", stderr(&out));
    chmod(&vault.root.join("locked.md"), "644");
    let out = exo_as_nobody(&vault, &["status", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list(&json, "modified"), vec!["locked.md"], "chmod 644 makes it worth reading again");
    assert!(exo_as_nobody(&vault, &["index"]).status.success());
    assert!(vault.index_contents().notes.contains_key("locked.md"));
}

#[test]
fn a_read_only_index_folder_is_named_with_its_fix() {
    let Some(vault) = vault_for_nobody() else {
        eprintln!("skipped: cannot run exo as another user here");
        return;
    };
    vault.write("a.md", "# A\n");
    chown_to_nobody(&vault.root);
    assert!(exo_as_nobody(&vault, &["index"]).status.success());
    vault.write("b.md", "# B\n");
    chown_to_nobody(&vault.root);
    chmod(&vault.root.join(".exo"), "555");
    let out = exo_as_nobody(&vault, &["index"]);
    let err = stderr(&out);
    chmod(&vault.root.join(".exo"), "755");
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("permission denied") && err.contains("chmod"), "{err}");
    assert_eq!(err.matches("ermission denied").count(), 1, "said once: {err}");
    assert!(!err.contains("rebuild"), "a rebuild would not help: {err}");
}

#[test]
fn a_missing_notes_folder_is_an_error_not_an_empty_vault() {
    let vault = TestVault::plain();
    vault.exo_ok(["init"]);
    vault.write("a.md", "# A\n");
    vault.exo_ok(["index", "--no-vectors"]);
    vault.write("exo.toml", "notes = [\"missing-folder\"]\n");
    for args in [&["index"][..], &["status"][..]] {
        let out = vault.exo(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("\"missing-folder\"") && err.contains("exo.toml"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
}

#[cfg(unix)]
#[test]
fn symlinks_into_git_are_never_indexed_and_skipped_links_are_said() {
    let vault = TestVault::git_repo();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("far.md"), "# Far\n").unwrap();
    vault.write("a.md", "# A\n");
    std::os::unix::fs::symlink(vault.root.join(".git/config"), vault.root.join("gitconfig.md")).unwrap();
    std::os::unix::fs::symlink(vault.root.join(".git"), vault.root.join("dotgit")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("far.md"), vault.root.join("far.md")).unwrap();
    std::os::unix::fs::symlink(outside.path(), vault.root.join("elsewhere")).unwrap();
    let out = vault.exo(["index"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for link in ["gitconfig.md", "dotgit", "far.md", "elsewhere"] {
        assert!(stderr(&out).contains(link), "{link} is said: {}", stderr(&out));
    }
    let indexed: Vec<String> = vault.index_contents().notes.into_keys().collect();
    assert_eq!(indexed, vec!["a.md"]);
    assert_eq!(vault.status(), "Synced");
}

#[test]
fn an_index_folder_that_is_a_file_is_named_once() {
    let vault = TestVault::plain();
    vault.exo_ok(["init"]);
    vault.write("a.md", "# A\n");
    vault.write(".exo", "not a folder");
    for args in [&["index"][..], &["status"][..]] {
        let out = vault.exo(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(".exo") && err.contains("is not a folder"), "{err}");
        assert!(!err.contains("os error"), "the OS's words are replaced by the fix: {err}");
    }
}

/// A small tmpfs, unmounted when dropped; None where mounting is not allowed.
struct SmallDisk {
    at: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        status.success().then(|| SmallDisk { at: dir.path().to_path_buf(), _dir: dir })
    }

    /// Fills the disk to the last byte.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let filler = self.at.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        while file.write_all(&block[..1]).is_ok() {}
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.at).status();
    }
}

#[test]
fn a_full_disk_is_said_and_never_rebuilds_the_index() {
    let Some(disk) = SmallDisk::mount(48) else {
        eprintln!("skipped: cannot mount a tmpfs here");
        return;
    };
    let vault_root = disk.at.join("vault");
    std::fs::create_dir_all(&vault_root).unwrap();
    let exo = |args: &[&str]| {
        Command::new(exo_bin()).arg("--vault").arg(&vault_root).args(args).env("NO_COLOR", "1").output().unwrap()
    };
    for i in 0..20 {
        std::fs::write(vault_root.join(format!("n{i}.md")), format!("# Note {i}\n\nSome words about {i}.\n")).unwrap();
    }
    assert!(exo(&["index", "--no-vectors"]).status.success());
    std::fs::write(vault_root.join("late.md"), format!("# Late\n\n{}\n", "late words ".repeat(2000))).unwrap();
    let filler = disk.fill();
    let out = exo(&["index", "--no-vectors"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("disk is full"), "{err}");
    assert!(!err.contains("rebuild"), "{err}");
    std::fs::remove_file(filler).unwrap();
    let out = exo(&["index", "--no-vectors", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["rebuilt"], serde_json::Value::Null, "a full disk is no damage: {report}");
    assert_eq!(list(&report, "new"), vec!["late.md"]);
    assert_eq!(report["status"]["status"], "Synced");
}
