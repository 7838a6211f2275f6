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
