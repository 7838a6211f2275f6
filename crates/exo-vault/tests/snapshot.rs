//! The walk snapshot: a replayed walk must list exactly what a real walk would, whatever
//! happened to the vault since the snapshot was taken.

#![cfg(unix)]

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use exo_vault::{Config, ScanReport, Walk, WalkSnapshot, scan, scan_with};
use proptest::prelude::*;

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

/// Sets every folder's and ignore file's mtime an hour back, as if the vault had been
/// left alone since: a folder touched within the racy window is never trusted.
fn age(root: &Path) {
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        fs::File::open(&dir).unwrap().set_modified(hour_ago).unwrap();
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            let name = entry.file_name();
            if kind.is_dir() {
                stack.push(entry.path());
            } else if name == ".gitignore" || name == ".ignore" || name == "exclude" {
                fs::File::options().append(true).open(entry.path()).unwrap().set_modified(hour_ago).unwrap();
            }
        }
    }
}

fn listing(report: &ScanReport) -> (Vec<(String, u64, i64)>, Vec<String>) {
    (report.notes.iter().map(|n| (n.path.clone(), n.size, n.mtime_ns)).collect(), report.attachments.clone())
}

fn fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("vault");
    write(&root, "a.md", "# A");
    write(&root, "img.png", "png");
    write(&root, "area/b.md", "# B");
    write(&root, "area/deep/c.md", "# C");
    write(&root, "drafts/d.md", "# D");
    write(&root, "other/e.md", "# E");
    write(&root, ".gitignore", "ignored/\n");
    write(&root, "ignored/x.md", "# X");
    fs::create_dir_all(root.join(".git/info")).unwrap();
    write(&root, ".git/info/exclude", "\n");
    age(dir.path());
    let root = root.canonicalize().unwrap();
    (dir, root)
}

fn snapshot_of(root: &Path, config: &Config) -> WalkSnapshot {
    let report = scan(root, config).unwrap();
    let Walk::Cacheable(snapshot) = report.walk else { panic!("an aged vault's walk can be cached") };
    WalkSnapshot::from_bytes(&snapshot.to_bytes()).unwrap()
}

/// The replay and a real walk agree; returns whether the snapshot was used.
fn check_agrees(root: &Path, config: &Config, snapshot: &WalkSnapshot) -> bool {
    let replayed = scan_with(root, config, Some(snapshot.clone())).unwrap();
    let walked = scan(root, config).unwrap();
    assert_eq!(listing(&replayed), listing(&walked));
    matches!(replayed.walk, Walk::Replayed)
}

#[test]
fn an_untouched_vault_is_replayed_with_fresh_stats() {
    let (_dir, root) = fixture();
    let config = Config::default();
    let snapshot = snapshot_of(&root, &config);
    assert!(check_agrees(&root, &config, &snapshot), "nothing changed, so the snapshot is used");
    // Editing a note changes no folder: still replayed, with the note's new stat.
    write(&root, "area/b.md", "# B, longer now");
    assert!(check_agrees(&root, &config, &snapshot));
    let replayed = scan_with(&root, &config, Some(snapshot)).unwrap();
    let b = replayed.notes.iter().find(|n| n.path == "area/b.md").unwrap();
    assert_eq!(b.size, "# B, longer now".len() as u64);
}

#[test]
fn with_notes_folders_the_vaults_own_ignore_file_is_watched() {
    let (_dir, root) = fixture();
    let config = Config { notes: vec!["area".into()], ..Config::default() };
    let snapshot = snapshot_of(&root, &config);
    assert!(check_agrees(&root, &config, &snapshot));
    // Rewritten in place: no walked folder changes, only the file above the walk's start.
    write(&root, ".gitignore", "ignored/\narea/deep/\n");
    assert!(!check_agrees(&root, &config, &snapshot), "the vault's .gitignore decides what area/ lists");
}

#[test]
fn every_change_to_what_the_walk_lists_is_seen() {
    type Change = fn(&Path);
    let changes: &[(&str, Change)] = &[
        ("a note added deep down", |root| write(root, "area/deep/new.md", "n")),
        ("a note deleted", |root| fs::remove_file(root.join("area/deep/c.md")).unwrap()),
        ("a note renamed", |root| fs::rename(root.join("area/b.md"), root.join("area/b2.md")).unwrap()),
        ("a note moved", |root| fs::rename(root.join("area/b.md"), root.join("other/b.md")).unwrap()),
        ("a folder added", |root| write(root, "fresh/f.md", "f")),
        ("a folder removed", |root| fs::remove_dir_all(root.join("drafts")).unwrap()),
        ("a folder renamed", |root| fs::rename(root.join("area"), root.join("zone")).unwrap()),
        ("an attachment added", |root| write(root, "area/pic.jpg", "jpg")),
        ("a .gitignore edited in place", |root| {
            let mut text = fs::read_to_string(root.join(".gitignore")).unwrap();
            text.push_str("drafts/\n");
            fs::write(root.join(".gitignore"), text).unwrap();
        }),
        ("a .gitignore emptied in place", |root| fs::write(root.join(".gitignore"), "").unwrap()),
        ("a nested .ignore added", |root| write(root, "other/.ignore", "e.md\n")),
        ("git's exclude file edited", |root| write(root, ".git/info/exclude", "other/\n")),
        ("a .gitignore above the vault", |root| write(root.parent().unwrap(), ".gitignore", "area/\n")),
    ];
    for (what, change) in changes {
        let (_dir, root) = fixture();
        let config = Config::default();
        let snapshot = snapshot_of(&root, &config);
        change(&root);
        let used = check_agrees(&root, &config, &snapshot);
        assert!(!used, "{what}: the snapshot must not be replayed");
    }
}

#[test]
fn new_settings_in_exo_toml_are_seen() {
    let (_dir, root) = fixture();
    let snapshot = snapshot_of(&root, &Config::default());
    let ignoring = Config { ignore: vec!["other/".into()], ..Config::default() };
    assert!(!check_agrees(&root, &ignoring, &snapshot));
    let narrowed = Config { notes: vec!["area".into()], ..Config::default() };
    assert!(!check_agrees(&root, &narrowed, &snapshot));
}

#[test]
fn a_folder_whose_mtime_was_put_back_is_still_seen() {
    // rsync and tar restore mtimes; the change time still moves.
    let (_dir, root) = fixture();
    let config = Config::default();
    let snapshot = snapshot_of(&root, &config);
    let before = fs::metadata(root.join("area")).unwrap().modified().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    write(&root, "area/sneaky.md", "s");
    fs::File::open(root.join("area")).unwrap().set_modified(before).unwrap();
    assert!(!check_agrees(&root, &config, &snapshot));
}

#[test]
fn walks_that_cannot_be_vouched_for_are_not_cached() {
    // Folders changed within the racy window: a later change could keep the same mtime.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.md", "a");
    assert!(matches!(scan(dir.path(), &Config::default()).unwrap().walk, Walk::Uncacheable));

    // A symlink may lead anywhere; its target's folder is not stamped.
    let (_dir, root) = fixture();
    std::os::unix::fs::symlink(root.join("area"), root.join("linked")).unwrap();
    age(&root);
    assert!(matches!(scan(&root, &Config::default()).unwrap().walk, Walk::Uncacheable));

    // A notes folder that does not exist is an error, never an empty (or cached) walk.
    let (_dir, root) = fixture();
    let config = Config { notes: vec!["area".into(), "later".into()], ..Config::default() };
    assert!(matches!(scan(&root, &config), Err(exo_vault::VaultError::MissingNotesFolder { .. })));
}

#[derive(Debug, Clone)]
enum Op {
    Add(usize, usize),
    Remove(usize),
    Rename(usize, usize),
    MakeFolder(usize),
    IgnoreFolder(usize),
    Edit(usize),
}

const FOLDERS: &[&str] = &["", "area", "area/deep", "drafts", "other", "ignored"];

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..FOLDERS.len(), 0..4usize).prop_map(|(f, n)| Op::Add(f, n)),
        (0..16usize).prop_map(Op::Remove),
        (0..16usize, 0..FOLDERS.len()).prop_map(|(n, f)| Op::Rename(n, f)),
        (0..FOLDERS.len()).prop_map(Op::MakeFolder),
        (0..FOLDERS.len()).prop_map(Op::IgnoreFolder),
        (0..16usize).prop_map(Op::Edit),
    ]
}

fn notes_on_disk(root: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    found
}

fn in_folder(folder: usize, name: &str) -> String {
    match FOLDERS[folder] {
        "" => name.to_string(),
        folder => format!("{folder}/{name}"),
    }
}

fn apply(root: &Path, op: &Op) {
    let notes = notes_on_disk(root);
    let pick = |i: usize| notes.get(i % notes.len().max(1)).cloned();
    match op {
        Op::Add(folder, n) => write(root, &in_folder(*folder, &format!("new-{n}.md")), "new"),
        Op::Remove(i) => {
            if let Some(path) = pick(*i) {
                fs::remove_file(path).unwrap();
            }
        }
        Op::Rename(i, folder) => {
            if let Some(path) = pick(*i) {
                let to = root.join(in_folder(*folder, &format!("moved-{i}.md")));
                fs::create_dir_all(to.parent().unwrap()).unwrap();
                let _ = fs::rename(path, to);
            }
        }
        Op::MakeFolder(folder) => write(root, &in_folder(*folder, "sub/made.md"), "m"),
        Op::IgnoreFolder(folder) => {
            let mut text = fs::read_to_string(root.join(".gitignore")).unwrap_or_default();
            text.push_str(&format!("/{}/\n", FOLDERS[*folder]));
            fs::write(root.join(".gitignore"), text).unwrap();
        }
        Op::Edit(i) => {
            if let Some(path) = pick(*i) {
                fs::write(path, "edited, and longer than before").unwrap();
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn a_replay_always_lists_what_a_walk_would(ops in prop::collection::vec(op(), 1..6)) {
        let (_dir, root) = fixture();
        let config = Config::default();
        let snapshot = snapshot_of(&root, &config);
        for op in &ops {
            apply(&root, op);
            check_agrees(&root, &config, &snapshot);
        }
    }
}
