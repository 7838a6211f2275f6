//! `.exo/entries`: the catalog's entries laid flat for the checks beside every search and
//! status, stamped with the catalog state they came from (see `entries.rs` for the layout).
//! Only the writer writes it, after its commit; a reader uses it only while the stamp holds.

use std::path::Path;

use crate::error::Result;
use crate::store::catalog::Catalog;
use crate::store::entries::{Entries, HEADER, decode, encode, parse_header};
use crate::store::{read_prefix, write_replacing};

/// The catalog's entries from the copy when it is current, from SQLite otherwise. The copy
/// is read first and then checked against the catalog's stamp and pending paths, read in one
/// statement: a copy that matches the catalog at that moment is what the catalog held then.
pub(crate) fn read_entries(catalog: &Catalog, copy: &Path) -> Result<Entries> {
    let bytes = std::fs::read(copy).ok();
    let (stamp, pending) = catalog.stamp_and_pending()?;
    if let (Some(bytes), Some(stamp), false) = (bytes, stamp, pending)
        && let Some(entries) = decode(bytes, stamp)
    {
        return Ok(entries);
    }
    catalog.entries()
}

/// Rewrites the copy unless it is already current, from `known` when the caller holds what
/// the catalog holds now, from the catalog otherwise. Only the writer calls this, under
/// `.exo/lock`, after its commit. A copy costs readers speed, never correctness, so any
/// failure here only removes it: the run it follows has already succeeded.
pub(crate) fn keep(catalog: &Catalog, copy: &Path, known: Option<&Entries>) {
    let Ok((Some(stamp), false)) = catalog.stamp_and_pending() else {
        return forget(copy);
    };
    if read_prefix::<HEADER>(copy).and_then(|header| parse_header(&header)).map(|(found, ..)| found) == Some(stamp) {
        return;
    }
    let read;
    let entries = match known {
        Some(entries) => entries,
        None => match catalog.entries() {
            Ok(entries) => {
                read = entries;
                &read
            }
            Err(_) => return forget(copy),
        },
    };
    if write_replacing(copy, &encode(entries, stamp)).is_err() {
        forget(copy);
    }
}

/// Called by the writer before it changes any entry.
pub(crate) fn forget(copy: &Path) {
    let _ = std::fs::remove_file(copy);
}
