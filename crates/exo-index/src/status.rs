//! `exo status`: does the index match the files? Argo CD's two dimensions — Sync (files vs
//! index) and Health (is the index usable) — plus the command that repairs it.

use serde::Serialize;

use crate::catalog::{Catalog, meta_keys};
use crate::diff;
use crate::error::{IndexError, Result, StorageProblem};
use crate::schema::SCHEMA_VERSION;
use crate::settings::TextSettings;
use crate::text::{TextIndex, fingerprint};
use crate::{Index, parse_fingerprint};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SyncState {
    Synced,
    OutOfSync,
    Missing,
    Degraded,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Health {
    Healthy,
    Progressing,
    Degraded,
}

#[derive(Debug, Clone, Serialize)]
pub struct NoteWarning {
    pub path: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub status: SyncState,
    pub modified: Vec<String>,
    pub new: Vec<String>,
    pub deleted: Vec<String>,
    /// The command that brings the index back in line; None when nothing is needed.
    pub repair: Option<String>,
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
}

impl Status {
    fn without_index(state: SyncState, reason: String, repair: &str) -> Status {
        Status {
            status: state,
            modified: Vec::new(),
            new: Vec::new(),
            deleted: Vec::new(),
            repair: Some(repair.to_string()),
            health: Health::Degraded,
            reason: Some(reason),
            revision: None,
            indexed_at: None,
            notes: 0,
            warnings: Vec::new(),
            vectors: None,
        }
    }

    pub fn is_synced(&self) -> bool {
        self.status == SyncState::Synced && self.health != Health::Degraded
    }
}

pub const REPAIR_INDEX: &str = "exo index";
pub const REPAIR_REBUILD: &str = "exo index --rebuild";
pub const REPAIR_REEMBED: &str = "exo index --reembed";

/// Why an existing index cannot be trusted, if it cannot; checked before any diff.
pub(crate) fn degraded_reason(index: &Index, catalog: &Catalog, settings: &TextSettings) -> Result<Option<String>> {
    match catalog.schema_version() {
        Ok(Some(SCHEMA_VERSION)) => {}
        Ok(Some(v)) => return Ok(Some(format!("index schema v{v}; this exo needs v{SCHEMA_VERSION}"))),
        Ok(None) => return Ok(Some("index catalog has no schema version".into())),
        Err(e) if !e.is_damage() => return Err(e),
        Err(e) => return Ok(Some(format!("index catalog unreadable: {}", without_repair(&e)))),
    }
    if catalog.meta(meta_keys::PARSE_FINGERPRINT)?.as_deref() != Some(parse_fingerprint(index.vault()).as_str()) {
        return Ok(Some("exo.toml changed how notes are parsed (links style or chunk size)".into()));
    }
    if catalog.meta(meta_keys::TEXT_FINGERPRINT)?.as_deref() != Some(fingerprint(settings).as_str()) {
        return Ok(Some("the search language or text analysis changed".into()));
    }
    let text = match TextIndex::open(&index.layout().text, settings) {
        Ok(text) => text,
        Err(IndexError::Degraded { reason }) => return Ok(Some(reason)),
        Err(e) if !e.is_damage() => return Err(e),
        Err(e) => return Ok(Some(format!("text index unreadable: {}", without_repair(&e)))),
    };
    let text_generation = match text.generation() {
        Ok(generation) => generation,
        Err(e) if !e.is_damage() => return Err(e),
        Err(e) => return Ok(Some(format!("text index unreadable: {}", without_repair(&e)))),
    };
    // The text index commits first, so after a crash it may be one generation ahead, with
    // the affected paths still recorded as pending. Anything else means the two diverged.
    let catalog_generation = catalog.text_generation()?;
    let ahead_by_pending = text_generation == catalog_generation + 1 && !catalog.pending()?.is_empty();
    if text_generation != catalog_generation && !ahead_by_pending {
        return Ok(Some(format!(
            "text index generation {text_generation} does not match the catalog's {catalog_generation}"
        )));
    }
    Ok(None)
}

pub(crate) fn status(index: &Index, verify: bool) -> Result<Status> {
    let layout = index.layout();
    let settings = TextSettings::from_config(index.vault().root(), index.vault().config())?;
    let catalog = match Catalog::open(&layout.catalog) {
        Ok(Some(catalog)) => catalog,
        Ok(None) => {
            // `.exo` being a file is no missing index: `exo index` could not make one either.
            if let Some(problem @ StorageProblem::NotAFolder) = StorageProblem::of_folder(&layout.dir) {
                return Err(IndexError::Storage { path: layout.dir.clone(), problem });
            }
            return Ok(Status::without_index(SyncState::Missing, "no index yet".into(), REPAIR_INDEX));
        }
        Err(e) if e.is_damage() => {
            return Ok(Status::without_index(SyncState::Degraded, without_repair(&e), REPAIR_REBUILD));
        }
        // A full disk or a permission is the machine's problem: a rebuild would not fix it.
        Err(e) => return Err(e),
    };
    let embedder = crate::vectors::configured_embedder(index)?;
    // The scan of the vault is the slow half; everything the catalog says is read while it runs.
    let (scan, recorded) =
        scan_beside(index, verify, || read_recorded(index, &catalog, &settings, embedder.as_deref()));
    let recorded = match recorded? {
        Ok(recorded) => recorded,
        Err(reason) => return Ok(Status::without_index(SyncState::Degraded, reason, REPAIR_REBUILD)),
    };
    let diff = diff::compute(index.vault(), &recorded.entries, &scan?, verify);
    let in_sync = !diff.has_changes();
    let mut status = Status {
        status: if in_sync { SyncState::Synced } else { SyncState::OutOfSync },
        repair: (!in_sync).then(|| REPAIR_INDEX.to_string()),
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
    };
    if let Some(coverage) = recorded.vectors {
        apply_vector_health(&mut status, coverage);
    }
    Ok(status)
}

/// What the catalog records, for comparing with the files.
struct Recorded {
    entries: crate::entries::Entries,
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
    if let Some(reason) = degraded_reason(index, catalog, settings).unwrap_or_else(|e| Some(e.to_string())) {
        return Ok(Err(reason));
    }
    Ok(Ok(Recorded {
        entries: crate::entries::read_entries(catalog, &index.layout().entries)?,
        vectors: crate::vectors::coverage(index, catalog, embedder)?,
        revision: catalog.meta(meta_keys::REVISION)?.filter(|r| !r.is_empty()),
        indexed_at: catalog.meta(meta_keys::INDEXED_AT_NS)?.and_then(|ns| ns.parse::<u64>().ok()).map(|ns| {
            humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_nanos(ns)).to_string()
        }),
        notes: catalog.note_count()?,
        warnings: catalog.warnings()?.into_iter().map(|(path, message)| NoteWarning { path, message }).collect(),
    }))
}

/// An error's message without the repair it names: a Degraded status names its repair
/// once, on its own line.
fn without_repair(error: &IndexError) -> String {
    match error {
        IndexError::Sqlite { path, source } => format!("index catalog {}: {source}", path.display()),
        IndexError::Text { path, source } => format!("text index {}: {source}", path.display()),
        IndexError::Degraded { reason } => reason.clone(),
        other => other.to_string(),
    }
}

/// Synced or OutOfSync and how many notes differ, by the stat fast path alone: the check
/// search runs beside every query. Degraded indexes are caught by the query itself.
pub(crate) fn sync_state(index: &Index) -> Result<(SyncState, usize)> {
    let Some(catalog) = Catalog::open(&index.layout().catalog)? else {
        return Ok((SyncState::Missing, 0));
    };
    let (scan, entries) = scan_beside(index, false, || crate::entries::read_entries(&catalog, &index.layout().entries));
    let (scan, entries) = (scan?, entries?);
    let diff = diff::compute(index.vault(), &entries, &scan, false);
    let stale = diff.new.len() + diff.modified.len() + diff.deleted.len();
    Ok((if stale == 0 { SyncState::Synced } else { SyncState::OutOfSync }, stale))
}

/// Scans the vault on another thread while `read` runs (reading the catalog): the scan is
/// the slow half of every check.
fn scan_beside<T>(index: &Index, verify: bool, read: impl FnOnce() -> T) -> (Result<exo_vault::ScanReport>, T) {
    crate::beside(|| index.scan_vault(verify), read, "the scan of the vault")
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
        status.repair = Some(REPAIR_REEMBED.to_string());
    } else if let Some(error) = coverage.error.clone().filter(|_| !coverage.complete()) {
        status.health = Health::Degraded;
        status.reason = Some(format!("vectors: {error}"));
        status.repair.get_or_insert_with(|| REPAIR_INDEX.to_string());
    } else if !coverage.complete() {
        status.health = Health::Progressing;
        status.repair.get_or_insert_with(|| REPAIR_INDEX.to_string());
    }
    status.vectors = Some(coverage);
}
