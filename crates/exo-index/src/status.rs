//! `exo status`: does the index match the files? Argo CD's two dimensions — Sync (files vs
//! index) and Health (is the index usable) — plus the command that repairs it.

use serde::Serialize;

use crate::diff;
use crate::error::{IndexError, Result, StorageProblem};
use crate::store::Index;
use crate::store::catalog::{Catalog, meta_keys};
use crate::store::health::{degraded_reason, reason_of};
use crate::store::settings::TextSettings;
use crate::vouch::{self, InLine};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub enum SyncState {
    Synced,
    OutOfSync,
    Missing,
    Degraded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub enum Health {
    Healthy,
    Progressing,
    Degraded,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct NoteWarning {
    pub path: String,
    pub message: String,
}

/// How a status knew whether the files match the index.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckedBy {
    /// A running `exo watch` vouched that nothing changed since it last found the files in
    /// line with this very index (see `vouch`): no walk of the files.
    Watcher,
    /// A walk of the files (the stat fast path, or hashing with `--verify`).
    #[default]
    Files,
}

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Status {
    pub status: SyncState,
    pub modified: Vec<String>,
    pub new: Vec<String>,
    pub deleted: Vec<String>,
    /// What brings the index back in line; None when nothing is needed. A value, not a
    /// command: each face says it in its own terms (the CLI as `exo index …`), so it is not
    /// serialised here.
    #[serde(skip)]
    pub repair: Option<Repair>,
    pub health: Health,
    /// Why the index is Degraded or Missing.
    pub reason: Option<String>,
    /// The git commit the vault was at when it was last indexed.
    pub revision: Option<String>,
    /// When the index was last written (RFC 3339, UTC).
    pub indexed_at: Option<String>,
    pub notes: usize,
    pub warnings: Vec<NoteWarning>,
    /// How far vectors cover the chunks; None when vectors are off or there is no index.
    pub vectors: Option<crate::vectors::Coverage>,
    /// Whether a running watch vouched for the files or they were walked.
    pub checked_by: CheckedBy,
}

impl Status {
    fn without_index(state: SyncState, reason: String, repair: Repair) -> Status {
        Status {
            status: state,
            modified: Vec::new(),
            new: Vec::new(),
            deleted: Vec::new(),
            repair: Some(repair),
            health: Health::Degraded,
            reason: Some(reason),
            revision: None,
            indexed_at: None,
            notes: 0,
            warnings: Vec::new(),
            vectors: None,
            checked_by: CheckedBy::Files,
        }
    }

    pub fn is_synced(&self) -> bool {
        self.status == SyncState::Synced && self.health != Health::Degraded
    }
}

/// What brings an index back in line with the files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Repair {
    /// Reconcile: read what changed (and embed what has no vector).
    Index,
    /// Throw the derived index away and build it again.
    Rebuild,
    /// Embed every chunk again: the embedder changed.
    Reembed,
}

/// `in_line`: a walk of this process that has just found the files in line with an index (a
/// run that had nothing to do); it stands for this check while the catalog still names that
/// index and the walk is a moment old ([`InLine::stands_for`]).
pub(crate) fn status(index: &Index, verify: bool, trust: Trust, in_line: Option<&InLine>) -> Result<Status> {
    let layout = index.layout();
    let settings = TextSettings::from_config(index.vault().root(), index.vault().config())?;
    let catalog = match Catalog::open(&layout.catalog) {
        Ok(Some(catalog)) => catalog,
        Ok(None) => {
            // `.exo` being a file is no missing index: `exo index` could not make one either.
            if let Some(problem @ StorageProblem::NotAFolder) = StorageProblem::of_folder(&layout.dir) {
                return Err(IndexError::Storage { path: layout.dir.clone(), problem });
            }
            return Ok(Status::without_index(SyncState::Missing, "no index yet".into(), Repair::Index));
        }
        Err(e) if e.is_damage() => {
            return Ok(Status::without_index(SyncState::Degraded, reason_of(&e), Repair::Rebuild));
        }
        // A full disk or a permission is the machine's problem: a rebuild would not fix it.
        Err(e) => return Err(e),
    };
    let embedder = crate::store::vector_store::configured_embedder(index.vault())?;
    // `--verify` promises to hash every note: it never takes a watcher's word.
    let walked = !verify && in_line.is_some_and(|walk| walk.stands_for(&catalog));
    let watched = !walked && trust == Trust::Watcher && !verify && vouch::vouched(index, &catalog);
    let read = || read_recorded(index, &catalog, &settings, embedder.as_deref());
    let (diff, recorded) = match watched || walked {
        // The word stands for the comparison: the entries it would take are not even read.
        true => (diff::Diff::default(), read()?),
        false => {
            // The scan of the vault is the slow half; what the catalog says is read while it
            // runs, and the entries to compare with unless the index cannot be compared at all.
            let read_with_entries = || -> Result<_> {
                let recorded = read()?;
                let entries = match &recorded {
                    Ok(_) => Some(crate::store::entries_copy::read_entries(&catalog, &layout.entries)?),
                    Err(_) => None,
                };
                Ok((recorded, entries))
            };
            let (scan, read) = scan_beside(index, verify, read_with_entries);
            let (recorded, entries) = read?;
            let diff = match entries {
                Some(entries) => diff::compute(index.vault(), &entries, &scan?, verify),
                None => diff::Diff::default(),
            };
            (diff, recorded)
        }
    };
    let recorded = match recorded {
        Ok(recorded) => recorded,
        Err(reason) => return Ok(Status::without_index(SyncState::Degraded, reason, Repair::Rebuild)),
    };
    let in_sync = !diff.has_changes();
    let mut status = Status {
        status: if in_sync { SyncState::Synced } else { SyncState::OutOfSync },
        repair: (!in_sync).then_some(Repair::Index),
        modified: diff.modified,
        new: diff.new,
        deleted: diff.deleted,
        health: Health::Healthy,
        reason: None,
        revision: recorded.revision,
        indexed_at: recorded.indexed_at,
        notes: recorded.notes,
        warnings: recorded.warnings,
        vectors: None,
        checked_by: if watched { CheckedBy::Watcher } else { CheckedBy::Files },
    };
    if let Some(coverage) = recorded.vectors {
        apply_vector_health(&mut status, coverage);
    }
    Ok(status)
}

/// What the catalog records about the index, besides the entries compared with the files.
struct Recorded {
    vectors: Option<crate::vectors::Coverage>,
    revision: Option<String>,
    indexed_at: Option<String>,
    notes: usize,
    warnings: Vec<NoteWarning>,
}

/// Err(reason) when the index is Degraded and cannot be compared with the files at all.
fn read_recorded(
    index: &Index,
    catalog: &Catalog,
    settings: &TextSettings,
    embedder: Option<&dyn exo_embed::Embedder>,
) -> Result<Result<Recorded, String>> {
    // Damage is a Degraded status; the machine's problems (a full disk) are errors.
    let reason = match degraded_reason(index.vault(), index.layout(), catalog, settings) {
        Ok(reason) => reason,
        Err(e) if e.is_damage() => Some(e.to_string()),
        Err(e) => return Err(e),
    };
    if let Some(reason) = reason {
        return Ok(Err(reason));
    }
    Ok(Ok(Recorded {
        vectors: crate::vectors::coverage(index, catalog, embedder)?,
        revision: catalog.meta(meta_keys::REVISION)?.filter(|r| !r.is_empty()),
        indexed_at: catalog.meta(meta_keys::INDEXED_AT_NS)?.and_then(|ns| ns.parse::<u64>().ok()).map(|ns| {
            humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns)).to_string()
        }),
        notes: catalog.note_count()?,
        warnings: catalog.warnings()?.into_iter().map(|(path, message)| NoteWarning { path, message }).collect(),
    }))
}

/// Synced or OutOfSync and how many notes differ, by the stat fast path alone: the check
/// every query runs beside itself. Degraded indexes are caught by the query itself.
pub(crate) fn sync_state(index: &Index, trust: Trust) -> Result<(SyncState, usize)> {
    drift_by(index, trust).map(|drift| (drift.state, drift.count))
}

/// Whose word a freshness check may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trust {
    /// A running watch's, when it vouches for this very index; else the files'.
    Watcher,
    /// Only a walk of the files: what the watch itself runs, so it never vouches for itself.
    Files,
}

/// The notes on disk that differ from the index, by the stat fast path: which ones, for a
/// search that marks its hits, and how many, for every other answer.
#[derive(Debug)]
pub(crate) struct Drift {
    pub state: SyncState,
    /// New, modified and deleted notes: what `stale_notes` counts.
    pub count: usize,
    pub modified: std::collections::HashSet<String>,
    pub deleted: std::collections::HashSet<String>,
}

pub(crate) fn drift(index: &Index) -> Result<Drift> {
    drift_by(index, Trust::Watcher)
}

fn drift_by(index: &Index, trust: Trust) -> Result<Drift> {
    let nothing = std::collections::HashSet::new;
    let Some(catalog) = Catalog::open(&index.layout().catalog)? else {
        return Ok(Drift { state: SyncState::Missing, count: 0, modified: nothing(), deleted: nothing() });
    };
    if trust == Trust::Watcher && vouch::vouched(index, &catalog) {
        return Ok(Drift { state: SyncState::Synced, count: 0, modified: nothing(), deleted: nothing() });
    }
    let (scan, entries) =
        scan_beside(index, false, || crate::store::entries_copy::read_entries(&catalog, &index.layout().entries));
    let diff = diff::compute(index.vault(), &entries?, &scan?, false);
    let count = diff.new.len() + diff.modified.len() + diff.deleted.len();
    Ok(Drift {
        state: if count == 0 { SyncState::Synced } else { SyncState::OutOfSync },
        count,
        modified: diff.modified.into_iter().collect(),
        deleted: diff.deleted.into_iter().collect(),
    })
}

/// Scans the vault on another thread while `read` runs (reading the catalog): the scan is
/// the slow half of every check.
fn scan_beside<T>(index: &Index, verify: bool, read: impl FnOnce() -> T) -> (Result<exo_vault::ScanReport>, T) {
    crate::store::beside(|| index.scan_vault(verify), read, "the scan of the vault")
}

/// Vectors never make the files and the index disagree (Sync), but they can leave the index
/// less than fully usable (Health): still filling in, from another embedder, or failing.
fn apply_vector_health(status: &mut Status, coverage: crate::vectors::Coverage) {
    if coverage.embedder_changed() {
        status.health = Health::Degraded;
        status.reason = Some(format!(
            "embedder changed: vectors are from {}, exo.toml asks for {}",
            coverage.embedder.as_deref().unwrap_or("?"),
            coverage.configured.as_deref().unwrap_or("?")
        ));
        status.repair = Some(Repair::Reembed);
    } else if let Some(error) = coverage.error.clone().filter(|_| !coverage.complete()) {
        status.health = Health::Degraded;
        status.reason = Some(format!("vectors: {error}"));
        status.repair.get_or_insert(Repair::Index);
    } else if !coverage.complete() {
        status.health = Health::Progressing;
        status.repair.get_or_insert(Repair::Index);
    }
    status.vectors = Some(coverage);
}
