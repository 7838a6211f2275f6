//! `exo index`: scan, diff, apply. Only what changed is read, parsed and rewritten.
//!
//! Crash safety comes from the order of commits:
//! 1. the paths about to change are recorded in `pending` and committed;
//! 2. the text index is updated and committed (its payload is the new generation);
//! 3. the catalog rows, the new hashes and the generation are committed, clearing `pending`.
//!
//! A crash after 1 or 2 leaves those paths pending, which reads as OutOfSync, and the next
//! run redoes them. Nothing can read as Synced while the text index and the files differ.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use exo_vault::resolve::{fold, note_keys};
use exo_vault::{LinkResolver, Note, ReadNote, Resolution, ScannedFile, Skipped, Vault};
use rayon::prelude::*;
use serde::Serialize;

use crate::diff::{self, Diff, is_racy, now_ns};
use crate::error::{IndexError, Result, io_err};
use crate::status::{CheckedBy, Trust};
use crate::store::Index;
use crate::store::catalog::{Catalog, FileState, Tx, meta_keys};
use crate::store::entries::Entries;
use crate::store::git::head_revision;
use crate::store::health::degraded_reason;
use crate::store::health::parse_fingerprint;
use crate::store::layout::Layout;
use crate::store::lock::WriterLock;
use crate::store::progress::Progress;
use crate::store::settings::TextSettings;
use crate::store::text::{TextDoc, TextIndex, TextWriter, fingerprint};
use crate::vouch::InLine;

#[derive(Debug, Clone)]
pub struct ReconcileOptions {
    /// Throw the index away and build it again from the files.
    pub rebuild: bool,
    /// Hash every note instead of trusting unchanged stat records.
    pub verify: bool,
    /// How long to wait for another writer to finish.
    pub wait: Duration,
    /// Whose word that nothing changed a run may take instead of walking: a running `exo
    /// watch`'s (see [`crate::vouch`]), or only the files'. Never a watch's under `verify`,
    /// and never for the watch's own runs: it would be asking itself, and it reconciles only
    /// after changes anyway.
    pub trust: Trust,
}

impl Default for ReconcileOptions {
    fn default() -> Self {
        ReconcileOptions { rebuild: false, verify: false, wait: Duration::from_secs(30), trust: Trust::Watcher }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Renamed {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct ReconcileReport {
    pub new: Vec<String>,
    pub modified: Vec<String>,
    pub deleted: Vec<String>,
    pub renamed: Vec<Renamed>,
    /// Present but not indexed (too large, binary), with the reason.
    pub skipped: Vec<Skipped>,
    /// Deleted between the scan and the read; picked up as deleted.
    pub vanished: Vec<String>,
    /// Why the whole index was rebuilt, when it was.
    pub rebuilt: Option<String>,
    pub notes: usize,
    pub revision: Option<String>,
    pub elapsed_ms: u64,
    /// How the run learned what changed: a walk of the files, or a running watch's word
    /// that nothing had.
    pub checked_by: CheckedBy,
    /// Set when the run found nothing to do by a walk: which index that walk found the files
    /// in line with, and when, so a check right after the run need not walk again.
    /// Private: a report made elsewhere must not be able to vouch for anything.
    #[serde(skip)]
    pub(crate) in_line: Option<InLine>,
}

impl ReconcileReport {
    /// Notes whose index entries were written or removed.
    pub fn changed(&self) -> usize {
        self.new.len() + self.modified.len() + self.deleted.len() + self.renamed.len()
    }
}

/// Paths read and parsed per batch: bounds memory on huge vaults while keeping both cores busy.
const BATCH: usize = 256;
/// Above this many notes to write, the text writer uses both cores and a bigger arena.
const BULK: usize = 200;

pub(crate) fn reconcile(index: &Index, options: &ReconcileOptions, progress: &dyn Progress) -> Result<ReconcileReport> {
    let started = Instant::now();
    let _lock = WriterLock::acquire(&index.layout().lock, options.wait)?;
    let vault = index.vault();
    let settings = TextSettings::from_config(vault.root(), vault.config())?;
    let rebuild = rebuild_reason(index, options, &settings)?;
    match run(index, options, progress, &settings, rebuild.clone(), started) {
        // The text index broke in a way the health check could not see (a file vanished
        // under it): it is derived, so rebuild rather than leave the user stuck.
        Err(e @ (IndexError::Text { .. } | IndexError::Degraded { .. })) if rebuild.is_none() => {
            let reason = Some(Some(format!("text index unusable: {e}")));
            run(index, options, progress, &settings, reason, started)
        }
        result => result,
    }
}

fn run(
    index: &Index,
    options: &ReconcileOptions,
    progress: &dyn Progress,
    settings: &TextSettings,
    rebuild: Option<Option<String>>,
    started: Instant,
) -> Result<ReconcileReport> {
    let layout = index.layout();
    let vault = index.vault();
    let fresh_text = rebuild.is_some();
    let (mut catalog, text) = match &rebuild {
        Some(_) => fresh_index(layout, settings, vault)?,
        None => open_index(layout, settings)?,
    };
    if rebuild.is_none()
        && let Some(report) = noop_on_watch_word(index, options, &catalog, started)?
    {
        return Ok(report);
    }
    // The copy, while it is what the catalog holds (read under the lock, so it stays so):
    // reading 100k rows back through SQLite was a tenth of a one-note run.
    let entries = crate::store::entries_copy::read_entries(&catalog, &layout.entries)?;
    let scan = index.scan_vault(options.verify)?;
    let walked_at = Instant::now();
    index.keep_walk(&scan);
    let diff = diff::compute(vault, &entries, &scan, options.verify);
    let mut report = ReconcileReport {
        rebuilt: rebuild.flatten(),
        revision: head_revision(vault.root()),
        // What the walk itself refused (symlinks out of the vault or into `.git/`, names
        // that are not UTF-8) is said on every run: it is nowhere else to be seen.
        skipped: scan.skipped.clone(),
        ..ReconcileReport::default()
    };
    let old_attachments: BTreeSet<String> = catalog.attachments()?.into_iter().collect();
    let new_attachments: BTreeSet<String> = scan.attachments.iter().cloned().collect();
    let attachments_changed = old_attachments != new_attachments;
    if diff.is_noop() && !attachments_changed && report.rebuilt.is_none() && catalog.note_count()? > 0 {
        record_revision(&catalog, &report)?;
        crate::store::entries_copy::keep(&catalog, &layout.entries, Some(&entries));
        report.notes = catalog.note_count()?;
        // This walk compared the files with this very index: it is the check a caller
        // would otherwise walk again for, as long as no other writer commits meanwhile.
        report.in_line = crate::vouch::token_of(&catalog)?.map(|token| InLine { token, walked_at });
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        return Ok(report);
    }
    let plan = Plan {
        vault,
        diff: &diff,
        entries: &entries,
        scanned: &scan.notes,
        full: report.rebuilt.is_some() || entries.is_empty(),
        fresh_text,
        attachments: (&old_attachments, &new_attachments),
        all_attachments: &scan.attachments,
    };
    crate::store::entries_copy::forget(&layout.entries);
    apply(&mut catalog, &text, &plan, &mut report, settings, progress)?;
    let patched = match plan.full {
        true => None,
        false => patched_entries(&catalog, &entries, &diff, vault.config().max_file_size)?,
    };
    crate::store::entries_copy::keep(&catalog, &layout.entries, patched.as_ref());
    report.notes = catalog.note_count()?;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// The report of a run with nothing to do, without a walk: a running watch vouches that no
/// note changed since it found the files in line with this very index, and the last walk's
/// record (`.exo/walk`) that no folder gained, lost or renamed an entry since that walk.
/// A walk now would thus find what the index holds, and refuse nothing, as that one did (a
/// walk that refuses something is never recorded): there would be nothing to report. None
/// on any doubt, and the caller walks.
fn noop_on_watch_word(
    index: &Index,
    options: &ReconcileOptions,
    catalog: &Catalog,
    started: Instant,
) -> Result<Option<ReconcileReport>> {
    if options.verify || options.trust == Trust::Files || !crate::vouch::vouched(index, catalog) {
        return Ok(None);
    }
    let Some(snapshot) = index.walk_snapshot() else { return Ok(None) };
    let notes = catalog.note_count()?;
    if notes == 0 || !index.vault().listing_holds(&snapshot) {
        return Ok(None);
    }
    // The watch vouches for the notes, not for attachments; the walk's record lists them, but
    // it is kept before the run that walked writes (`keep_walk`), so a run that failed after
    // it left a catalog without them.
    let listed: BTreeSet<&str> = snapshot.attachments().iter().map(String::as_str).collect();
    let recorded = catalog.attachments()?;
    if recorded.len() != listed.len() || !recorded.iter().all(|path| listed.contains(path.as_str())) {
        return Ok(None);
    }
    let mut report = ReconcileReport {
        revision: head_revision(index.vault().root()),
        checked_by: CheckedBy::Watcher,
        ..ReconcileReport::default()
    };
    record_revision(catalog, &report)?;
    report.notes = notes;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(Some(report))
}

/// A run that changed nothing still records the commit it saw (a post-commit hook's).
fn record_revision(catalog: &Catalog, report: &ReconcileReport) -> Result<()> {
    if catalog.meta(meta_keys::REVISION)? != report.revision {
        catalog.set_meta(meta_keys::REVISION, report.revision.as_deref().unwrap_or(""))?;
    }
    Ok(())
}

/// The catalog's entries after a run that changed `diff`'s paths: `old` with those paths
/// read back from the catalog, so a small change does not read every row again. None (read
/// them all) when the run also cleared pending paths or changed the skip limit, or changed
/// so much that reading everything is as cheap.
fn patched_entries(catalog: &Catalog, old: &Entries, diff: &Diff, skip_limit: u64) -> Result<Option<Entries>> {
    let mut paths: Vec<&str> = diff
        .new
        .iter()
        .chain(&diff.modified)
        .chain(&diff.deleted)
        .chain(&diff.skipped_gone)
        .map(String::as_str)
        .collect();
    paths.extend(diff.refresh.iter().map(|r| r.path.as_str()));
    if old.skip_limit != Some(skip_limit) || paths.len() > old.len() / 4 || old.any_pending() {
        return Ok(None);
    }
    paths.sort_unstable();
    paths.dedup();
    let rows: Vec<Option<OwnedEntry>> = paths.iter().map(|path| catalog_entry(catalog, path)).collect::<Result<_>>()?;
    let changed: Vec<(&str, Option<crate::store::entries::Entry<'_>>)> =
        paths.iter().zip(&rows).map(|(path, row)| (*path, row.as_ref().map(OwnedEntry::entry))).collect();
    Ok(Some(old.patched(&changed, Some(skip_limit))))
}

/// One path's entry as the catalog holds it (`Catalog::entries`, for one path).
struct OwnedEntry {
    hash: Option<String>,
    size: i64,
    mtime_ns: i64,
    identity: i64,
    racy: bool,
}

impl OwnedEntry {
    fn entry(&self) -> crate::store::entries::Entry<'_> {
        crate::store::entries::Entry {
            hash: self.hash.as_deref(),
            size: self.size,
            mtime_ns: self.mtime_ns,
            identity: self.identity,
            racy: self.racy,
            skipped: self.hash.is_none(),
            pending: false,
        }
    }
}

fn catalog_entry(catalog: &Catalog, path: &str) -> Result<Option<OwnedEntry>> {
    use crate::error::SqlContext;
    use rusqlite::OptionalExtension;
    let note = catalog
        .conn
        .prepare_cached("SELECT hash, size, mtime_ns, racy, identity FROM notes WHERE path = ?1")
        .at(&catalog.path)?
        .query_row([path], |r| {
            Ok(OwnedEntry {
                hash: Some(r.get(0)?),
                size: r.get(1)?,
                mtime_ns: r.get(2)?,
                racy: r.get::<_, i64>(3)? != 0,
                identity: r.get(4)?,
            })
        })
        .optional()
        .at(&catalog.path)?;
    if note.is_some() {
        return Ok(note);
    }
    catalog
        .conn
        .prepare_cached("SELECT size, mtime_ns, identity FROM skipped WHERE path = ?1")
        .at(&catalog.path)?
        .query_row([path], |r| {
            Ok(OwnedEntry { hash: None, size: r.get(0)?, mtime_ns: r.get(1)?, identity: r.get(2)?, racy: false })
        })
        .optional()
        .at(&catalog.path)
}

/// Some(Some(reason)) to rebuild and say why, Some(None) for a first build, None to update.
fn rebuild_reason(
    index: &Index,
    options: &ReconcileOptions,
    settings: &TextSettings,
) -> Result<Option<Option<String>>> {
    if options.rebuild {
        return Ok(Some(Some("requested with --rebuild".into())));
    }
    // A full disk or a folder exo may not write is no damage: rebuilding would delete a
    // good index and fail half-way for the same reason.
    let catalog = match Catalog::open(&index.layout().catalog) {
        Ok(Some(catalog)) => catalog,
        Ok(None) => return Ok(Some(None)),
        Err(e) if e.is_damage() => return Ok(Some(Some(e.to_string()))),
        Err(e) => return Err(e),
    };
    match degraded_reason(index.vault(), index.layout(), &catalog, settings) {
        Ok(reason) => Ok(reason.map(Some)),
        Err(e) if e.is_damage() => Ok(Some(Some(e.to_string()))),
        Err(e) => Err(e),
    }
}

/// Empty catalog and text index. The fingerprints go in at once so an interrupted first
/// build reads as OutOfSync (every note new) rather than as a configuration change.
fn fresh_index(layout: &Layout, settings: &TextSettings, vault: &Vault) -> Result<(Catalog, TextIndex)> {
    crate::error::create_folder(&layout.dir)?;
    // Catalog first: if this is interrupted, what is left reads as Missing or Degraded and
    // the next run rebuilds again. The text folder is moved aside in one atomic rename so a
    // half-deleted text index can never be mistaken for a whole one.
    for file in layout.derived_files() {
        remove_if_present(&file)?;
    }
    if layout.text.exists() {
        let discard = layout.dir.join(format!("text.discard.{}", now_ns()));
        std::fs::rename(&layout.text, &discard).map_err(io_err(&layout.text))?;
    }
    remove_discarded(layout)?;
    let text = TextIndex::create(&layout.text, settings)?;
    let catalog = Catalog::create(&layout.catalog)?;
    catalog.set_meta(meta_keys::PARSE_FINGERPRINT, &parse_fingerprint(vault))?;
    catalog.set_meta(meta_keys::TEXT_FINGERPRINT, &fingerprint(settings))?;
    Ok((catalog, text))
}

fn remove_discarded(layout: &Layout) -> Result<()> {
    let entries = std::fs::read_dir(&layout.dir).map_err(io_err(&layout.dir))?;
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with("text.discard.") {
            remove_if_present(&entry.path())?;
        }
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<()> {
    let result = if path.is_dir() { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(path)(e)),
        _ => Ok(()),
    }
}

fn open_index(layout: &Layout, settings: &TextSettings) -> Result<(Catalog, TextIndex)> {
    let catalog = Catalog::open_required(&layout.catalog)?;
    let text = TextIndex::open(&layout.text, settings)?;
    Ok((catalog, text))
}

struct Plan<'a> {
    vault: &'a Vault,
    diff: &'a Diff,
    entries: &'a Entries,
    /// The scan's notes, sorted by path (a map of 100k paths was 6% of a one-note run).
    scanned: &'a [ScannedFile],
    full: bool,
    /// The text index was created empty by this run.
    fresh_text: bool,
    attachments: (&'a BTreeSet<String>, &'a BTreeSet<String>),
    all_attachments: &'a [String],
}

/// What reading one path gave, parsed when it is a note.
struct Loaded {
    path: String,
    read: ReadNote,
    read_at_ns: i64,
    parsed: Option<(Note, String)>,
}

fn load(vault: &Vault, path: &str) -> Loaded {
    let read_at_ns = now_ns();
    let read = vault.read(path);
    let parsed = match &read {
        ReadNote::Read { bytes, .. } => {
            let (note, text) = exo_vault::parse_bytes_with_text(path, bytes, &vault.parse_options());
            Some((note, text.into_owned()))
        }
        _ => None,
    };
    Loaded { path: path.to_string(), read, read_at_ns, parsed }
}

/// State gathered while writing, used to resolve links at the end.
#[derive(Default)]
struct Changes {
    written_ids: Vec<i64>,
    keys: BTreeSet<String>,
    claimed: HashSet<String>,
}

fn apply(
    catalog: &mut Catalog,
    text: &TextIndex,
    plan: &Plan,
    report: &mut ReconcileReport,
    settings: &TextSettings,
    progress: &dyn Progress,
) -> Result<()> {
    let diff = plan.diff;
    let touched: Vec<&str> = diff.new.iter().chain(&diff.modified).chain(&diff.deleted).map(String::as_str).collect();
    if !touched.is_empty() {
        let intent = catalog.transaction()?;
        intent.add_pending(&touched)?;
        intent.commit()?;
    }
    let generation = catalog.text_generation()? + 1;
    let to_read: Vec<&String> = diff.new.iter().chain(&diff.modified).collect();
    let mut writer = match touched.is_empty() {
        true => None,
        false => Some(text.writer(to_read.len() > BULK)?),
    };
    // A text index created by this run has nothing to delete; queued deletes cost memory
    // (a query each) until the commit, a lot of it on a large first build.
    if let Some(writer) = writer.as_mut().filter(|_| !plan.fresh_text) {
        for path in &touched {
            writer.delete(path);
        }
    }
    let tx = catalog.transaction()?;
    let mut changes = Changes::default();
    let deleted_by_hash = hashes_of(&diff.deleted, plan.entries);
    progress.start(to_read.len() as u64);
    // Reading and parsing the next batch overlaps with writing this one.
    let vault = plan.vault;
    std::thread::scope(|scope| -> Result<()> {
        let (sender, batches) = std::sync::mpsc::sync_channel::<Vec<Loaded>>(1);
        scope.spawn(move || {
            for batch in to_read.chunks(BATCH) {
                let loaded: Vec<Loaded> = batch.par_iter().map(|path| load(vault, path)).collect();
                if sender.send(loaded).is_err() {
                    break;
                }
            }
        });
        for loaded in batches {
            for item in loaded {
                write_loaded(&tx, writer.as_mut(), item, plan, &deleted_by_hash, &mut changes, report)?;
                progress.advance(1);
            }
        }
        Ok(())
    })?;
    progress.finish();
    let unclaimed: Vec<&String> = diff.deleted.iter().filter(|p| !changes.claimed.contains(*p)).collect();
    for path in unclaimed {
        forget(&tx, path, &mut changes)?;
        report.deleted.push(path.clone());
    }
    for r in &diff.refresh {
        tx.refresh_stat(&r.path, r.size, r.mtime_ns, r.identity, r.racy)?;
    }
    for path in &diff.skipped_gone {
        tx.delete_skipped(path)?;
    }
    update_attachments(&tx, plan, &mut changes)?;
    resolve_links(&tx, plan, &changes)?;
    // After resolving: on a full build every link row is rewritten once, and the indexes
    // would have to follow each rewrite (this order halved the resolve step at 10k notes).
    // Incremental runs find the indexes already there from the first build.
    tx.create_indexes()?;
    tx.set_meta(meta_keys::REVISION, report.revision.as_deref().unwrap_or(""))?;
    tx.set_meta(meta_keys::INDEXED_AT_NS, &now_ns().to_string())?;
    tx.set_meta(meta_keys::PARSE_FINGERPRINT, &parse_fingerprint(plan.vault))?;
    tx.set_meta(meta_keys::TEXT_FINGERPRINT, &fingerprint(settings))?;
    tx.set_meta(meta_keys::EXO_VERSION, env!("CARGO_PKG_VERSION"))?;
    tx.set_meta(meta_keys::SKIP_LIMIT, &plan.vault.config().max_file_size.to_string())?;
    tx.clear_pending()?;
    if let Some(writer) = writer {
        tx.set_meta(meta_keys::TEXT_GENERATION, &generation.to_string())?;
        commit_text(writer, generation)?;
    }
    tx.commit()
}

fn commit_text(writer: TextWriter, generation: u64) -> Result<()> {
    writer.commit(generation)
}

fn hashes_of(paths: &[String], entries: &Entries) -> HashMap<String, Vec<String>> {
    let mut by_hash: HashMap<String, Vec<String>> = HashMap::new();
    for path in paths {
        if let Some(hash) = entries.get(path).and_then(|e| e.hash.map(str::to_string)) {
            by_hash.entry(hash).or_default().push(path.clone());
        }
    }
    for paths in by_hash.values_mut() {
        paths.sort();
    }
    by_hash
}

fn write_loaded(
    tx: &Tx,
    writer: Option<&mut TextWriter>,
    item: Loaded,
    plan: &Plan,
    deleted_by_hash: &HashMap<String, Vec<String>>,
    changes: &mut Changes,
    report: &mut ReconcileReport,
) -> Result<()> {
    let is_new = plan.diff.new.binary_search(&item.path).is_ok();
    let Loaded { path, read, read_at_ns, parsed } = item;
    match (read, parsed) {
        (ReadNote::Read { hash, size, mtime_ns, identity, .. }, Some((note, source))) => {
            let renamed_from = if is_new { claim_rename(deleted_by_hash, hash.as_str(), changes) } else { None };
            if let Some(from) = &renamed_from {
                collect_old_keys(tx, from, changes)?;
                tx.rename_note(from, &path)?;
            } else if !is_new {
                collect_old_keys(tx, &path, changes)?;
            }
            let racy = is_racy(mtime_ns, read_at_ns);
            let file = FileState { path: &path, hash: hash.as_str(), size, mtime_ns, identity, racy };
            let known = !is_new || renamed_from.is_some() || plan.entries.get(&path).is_some_and(|e| e.pending);
            let id = tx.upsert_note(&file, &note, &source, known)?;
            tx.delete_skipped(&path)?;
            changes.keys.extend(note_keys(&path, &note.aliases));
            changes.written_ids.push(id);
            if let Some(writer) = writer {
                writer.add(&text_doc(&path, &note))?;
            }
            match renamed_from {
                Some(from) => report.renamed.push(Renamed { from, to: path }),
                None if is_new => report.new.push(path),
                None => report.modified.push(path),
            }
        }
        (ReadNote::Skipped(skipped), _) => {
            forget(tx, &path, changes)?;
            // An unknown stat record never matches a later scan, so the file is judged again.
            let unknown = ScannedFile { path: path.clone(), size: 0, mtime_ns: 0, identity: 0 };
            let scanned = plan.scanned.binary_search_by(|f| f.path.as_str().cmp(&path)).ok().map(|i| &plan.scanned[i]);
            tx.record_skipped(scanned.unwrap_or(&unknown), &skipped.reason)?;
            report.skipped.push(skipped);
        }
        _ => {
            forget(tx, &path, changes)?;
            tx.delete_skipped(&path)?;
            report.vanished.push(path);
        }
    }
    Ok(())
}

/// A new file whose bytes equal a deleted note's is that note, moved.
fn claim_rename(deleted_by_hash: &HashMap<String, Vec<String>>, hash: &str, changes: &mut Changes) -> Option<String> {
    let candidates = deleted_by_hash.get(hash)?;
    let from = candidates.iter().find(|p| !changes.claimed.contains(*p))?.clone();
    changes.claimed.insert(from.clone());
    Some(from)
}

fn collect_old_keys(tx: &Tx, path: &str, changes: &mut Changes) -> Result<()> {
    if let Some(id) = tx.note_id(path)? {
        changes.keys.extend(tx.note_keys(id)?);
    }
    Ok(())
}

/// Removes a note's rows, remembering its names so links to it get re-resolved.
fn forget(tx: &Tx, path: &str, changes: &mut Changes) -> Result<()> {
    collect_old_keys(tx, path, changes)?;
    tx.delete_note(path)?;
    tx.delete_skipped(path)
}

fn text_doc<'a>(path: &'a str, note: &'a Note) -> TextDoc<'a> {
    TextDoc {
        path,
        title: &note.title,
        aliases: &note.aliases,
        headings: note.headings.iter().map(|h| h.text.as_str()).collect(),
        tags: note.tags.iter().map(|t| t.name.as_str()).collect(),
        body: &note.plain_text,
    }
}

fn update_attachments(tx: &Tx, plan: &Plan, changes: &mut Changes) -> Result<()> {
    let (old, new) = plan.attachments;
    let added: Vec<String> = new.difference(old).cloned().collect();
    let removed: Vec<String> = old.difference(new).cloned().collect();
    for path in added.iter().chain(&removed) {
        changes.keys.insert(fold(path.rsplit('/').next().unwrap_or(path)));
    }
    tx.replace_attachments(&added, &removed)
}

/// Links resolved per read from the catalog (bounds memory on a full build of a large vault).
const LINKS_PER_PAGE: usize = 20_000;

fn resolve_links(tx: &Tx, plan: &Plan, changes: &Changes) -> Result<()> {
    if !plan.full && changes.written_ids.is_empty() && changes.keys.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = changes.keys.iter().cloned().collect();
    let first = tx.links_to_resolve(plan.full, &changes.written_ids, &keys, 0, LINKS_PER_PAGE)?;
    // A small change resolves its links against just the notes they could name: loading
    // every name of a 100k-note vault was 64% of a one-note reindex there.
    let (names, ids) = if plan.full || first.len() == LINKS_PER_PAGE {
        tx.names()?
    } else {
        let candidates: BTreeSet<String> = first
            .iter()
            .flat_map(|link| exo_vault::resolve::candidate_keys(&link.src_path, &link.target, link.kind))
            .collect();
        tx.names_with_keys(&candidates.into_iter().collect::<Vec<_>>())?
    };
    let resolver = LinkResolver::new(names, plan.all_attachments.iter().cloned());
    let mut after_id = 0;
    let mut next = Some(first);
    loop {
        let page = match next.take() {
            Some(page) => page,
            None => tx.links_to_resolve(plan.full, &changes.written_ids, &keys, after_id, LINKS_PER_PAGE)?,
        };
        let Some(last) = page.last() else { break };
        after_id = last.id;
        // Resolving a name (Unicode normalisation, case folding, several lookups) costs more
        // than writing the answer; it runs on every core, the writes on this one.
        let targets: Vec<(Option<i64>, Option<String>)> = page
            .par_iter()
            .map(|link| match resolver.resolve_target(&link.src_path, &link.target, link.kind) {
                Resolution::Note(path) => (ids.get(&path).copied(), None),
                Resolution::Attachment(path) => (None, Some(path)),
                Resolution::Unresolved => (None, None),
            })
            .collect();
        for (link, (dst, attachment)) in page.iter().zip(targets) {
            tx.set_link_target(link.id, dst, attachment.as_deref())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::store::progress::Silent;

    fn write(dir: &Path, name: &str, bytes: &[u8]) {
        std::fs::write(dir.join(name), bytes).unwrap();
    }

    /// The `.exo/entries` copy byte for byte against the catalog's rows read afresh.
    fn assert_copy_is_the_catalog(index: &Index, step: &str) {
        let report = index.reconcile(&ReconcileOptions::default(), &Silent).unwrap();
        assert!(report.rebuilt.is_none(), "{step}");
        let catalog = Catalog::open_required(&index.layout().catalog).unwrap();
        let (stamp, pending) = catalog.stamp_and_pending().unwrap();
        assert!(!pending, "{step}");
        let expected = crate::store::entries::encode(&catalog.entries().unwrap(), stamp.unwrap());
        assert!(
            std::fs::read(&index.layout().entries).unwrap() == expected,
            "{step}: the copy differs from the catalog"
        );
    }

    /// A run that walked and found nothing to do records that walk; it stands for the check
    /// after the run only while it is a moment old and names the index in the catalog.
    #[test]
    fn a_noop_run_records_the_walk_that_stands_for_the_check() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "exo.toml", b"[embed]\nprovider = \"none\"\n");
        write(root, "a.md", b"# A\n");
        // Older than the racy window, so the second run has no stat record to refresh.
        let old = std::time::SystemTime::now() - Duration::from_secs(60);
        std::fs::File::options().write(true).open(root.join("a.md")).unwrap().set_modified(old).unwrap();
        let index = Index::new(exo_vault::Vault::open(root).unwrap());
        let first = index.reconcile(&ReconcileOptions::default(), &Silent).unwrap();
        assert!(first.in_line.is_none(), "a run that wrote is checked afresh");
        let noop = index.reconcile(&ReconcileOptions::default(), &Silent).unwrap();
        let walk = noop.in_line.clone().expect("a no-op run records its walk");
        let catalog = Catalog::open_required(&index.layout().catalog).unwrap();
        assert!(walk.stands_for(&catalog));
        let stale = crate::vouch::InLine { walked_at: walk.walked_at - Duration::from_secs(1), ..walk.clone() };
        assert!(!stale.stands_for(&catalog), "a walk a second old stands for nothing");
        let other = crate::vouch::InLine { token: format!("{}1", walk.token), ..walk.clone() };
        assert!(!other.stands_for(&catalog), "nor one of another index");
        // Standing for the check, it is the check: an edit a moment later is not seen. (A
        // fresh instant, so a stall of the test machine cannot age the walk past its window.)
        write(root, "a.md", b"# A\n\nEdited just now.\n");
        let fresh = crate::vouch::InLine { walked_at: std::time::Instant::now(), ..walk };
        let status = crate::status::status(&index, false, crate::status::Trust::Files, Some(&fresh)).unwrap();
        assert_eq!(status.status, crate::status::SyncState::Synced, "the walk did not stand for the check");
        let walked = crate::status::status(&index, false, crate::status::Trust::Files, None).unwrap();
        assert_eq!(walked.status, crate::status::SyncState::OutOfSync);
    }

    #[test]
    fn the_entries_copy_patched_after_small_changes_is_what_the_catalog_holds() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "exo.toml", b"[embed]\nprovider = \"none\"\n");
        for i in 0..10 {
            write(root, &format!("n{i}.md"), format!("# Note {i}\n\nSee [[n{}]].\n", (i + 1) % 10).as_bytes());
        }
        let index = Index::new(exo_vault::Vault::open(root).unwrap());
        assert_copy_is_the_catalog(&index, "first build");
        write(root, "n3.md", b"# Note 3\n\nEdited.\n");
        assert_copy_is_the_catalog(&index, "edit");
        std::fs::remove_file(root.join("n4.md")).unwrap();
        assert_copy_is_the_catalog(&index, "delete");
        std::fs::rename(root.join("n5.md"), root.join("renamed.md")).unwrap();
        assert_copy_is_the_catalog(&index, "rename");
        write(root, "binary.md", b"\0\0\0\xff binary");
        assert_copy_is_the_catalog(&index, "skipped file");
        // Same bytes, another mtime: only the stat record moves.
        let touched = std::fs::File::options().write(true).open(root.join("n6.md")).unwrap();
        touched.set_modified(std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000)).unwrap();
        drop(touched);
        assert_copy_is_the_catalog(&index, "stat refresh");
        std::fs::remove_file(root.join("binary.md")).unwrap();
        write(root, "new.md", b"# New\n");
        assert_copy_is_the_catalog(&index, "skipped file gone, note added");
    }
}
