//! Library-level reconcile behaviour that the binary cannot provoke on cue.

use exo_index::{Index, Progress, ReconcileOptions, SyncState};
use exo_vault::Vault;

/// Deletes a note after the scan has listed it and before it is read.
struct DeleteOnStart(std::path::PathBuf);

impl Progress for DeleteOnStart {
    fn start(&self, _total: u64) {
        std::fs::remove_file(&self.0).unwrap();
    }
}

#[test]
fn note_deleted_between_scan_and_read_is_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("exo.toml"), "").unwrap();
    std::fs::write(dir.path().join("stays.md"), "# Stays").unwrap();
    std::fs::write(dir.path().join("goes.md"), "# Goes").unwrap();
    let index = Index::new(Vault::open(dir.path()).unwrap());
    let report = index.reconcile(&ReconcileOptions::default(), &DeleteOnStart(dir.path().join("goes.md"))).unwrap();
    assert_eq!(report.vanished, vec!["goes.md"]);
    assert_eq!(report.new, vec!["stays.md"]);
    let status = index.status(false).unwrap();
    assert_eq!(status.status, SyncState::Synced, "{status:?}");
    assert_eq!(status.notes, 1);
}

/// A run that found nothing to do stands for the check after it (see the unit tests in
/// `reconcile.rs`), but only while the index it compared is the one in the catalog: once
/// another writer has committed, the files are walked again.
#[test]
fn a_noop_run_stands_for_the_check_only_while_no_writer_commits() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("exo.toml"), "").unwrap();
    std::fs::write(dir.path().join("a.md"), "# A\n\nfirst").unwrap();
    let index = Index::new(Vault::open(dir.path()).unwrap());
    index.reconcile(&ReconcileOptions::default(), &exo_index::Silent).unwrap();
    let noop = index.reconcile(&ReconcileOptions::default(), &exo_index::Silent).unwrap();
    assert_eq!(noop.changed(), 0);

    // Another writer commits (a new note), then a note changes and nobody indexes it.
    std::fs::write(dir.path().join("b.md"), "# B").unwrap();
    index.reconcile(&ReconcileOptions::default(), &exo_index::Silent).unwrap();
    std::fs::write(dir.path().join("a.md"), "# A\n\nsecond, longer than the first").unwrap();
    let status = index.status_after(&noop).unwrap();
    assert_eq!((status.status, status.modified.clone()), (SyncState::OutOfSync, vec!["a.md".to_string()]));

    // A run that changed something is always checked afresh.
    let changed = index.reconcile(&ReconcileOptions::default(), &exo_index::Silent).unwrap();
    assert_eq!(changed.modified, ["a.md"]);
    std::fs::write(dir.path().join("a.md"), "# A\n\nthird, longer again than the second").unwrap();
    assert_eq!(index.status_after(&changed).unwrap().status, SyncState::OutOfSync);
}
