//! `exo status`: the OutOfSync badge. Exit 0 when Synced and not Degraded, 1 otherwise.

use std::process::ExitCode;

use anyhow::Result;
use exo_api::{CheckedBy, Repair, Status, StatusRequest, SyncState};
use serde::Serialize;

use crate::cli::{Globals, StatusArgs};
use crate::context::open_exo;
use crate::output::{escape, outln, paint, print_json, sync_badge, thousands};

/// Lines of warnings shown before "… and N more".
const WARNINGS_SHOWN: usize = 10;

pub fn run(globals: &Globals, args: StatusArgs) -> Result<ExitCode> {
    let status = open_exo(globals)?.status(&StatusRequest { verify: args.verify })?;
    if globals.json {
        print_json(&StatusJson::of(&status))?;
    } else {
        print_human(&status)?;
    }
    Ok(if status.is_synced() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The status as scripts have always read it: the repair as the command to run.
#[derive(Serialize)]
pub struct StatusJson<'a> {
    #[serde(flatten)]
    status: &'a Status,
    repair: Option<&'static str>,
}

impl StatusJson<'_> {
    pub fn of(status: &Status) -> StatusJson<'_> {
        StatusJson { status, repair: status.repair.map(repair_command) }
    }
}

/// A repair, said as the command that makes it.
pub fn repair_command(repair: Repair) -> &'static str {
    match repair {
        Repair::Index => "exo index",
        Repair::Rebuild => "exo index --rebuild",
        Repair::Reembed => "exo index --reembed",
    }
}

pub fn badge_line(status: &Status) -> String {
    let mut parts = vec![sync_badge(status.status, status.health)];
    match status.status {
        SyncState::OutOfSync => {
            let mut counts = Vec::new();
            for (n, what) in
                [(status.modified.len(), "modified"), (status.new.len(), "new"), (status.deleted.len(), "deleted")]
            {
                if n > 0 {
                    counts.push(format!("{n} {what}"));
                }
            }
            parts.push(counts.join(", "));
        }
        SyncState::Synced => {
            parts.push(format!("{:?}", status.health));
            parts.push(format!("{} notes", thousands(status.notes)));
            if let Some(v) = &status.vectors {
                parts.push(format!("vectors {}/{} chunks", thousands(v.embedded), thousands(v.chunks)));
            }
            parts.extend(status.reason.as_deref().map(|r| escape(r).into_owned()));
        }
        SyncState::Missing | SyncState::Degraded => {
            parts.extend(status.reason.as_deref().map(|r| escape(r).into_owned()));
        }
    }
    if let Some(revision) = status.revision.as_deref().filter(|r| !r.is_empty()) {
        parts.push(format!("revision {}", &revision[..revision.len().min(10)]));
    }
    if let Some(repair) = status.repair {
        parts.push(format!("repair: {}", repair_command(repair)));
    }
    parts.join("  ·  ")
}

/// Said when a running `exo watch` vouched for the files instead of a walk (`--json` always
/// says which, as `checked_by`).
fn checked_by(status: &Status) -> &'static str {
    match status.checked_by {
        CheckedBy::Watcher => "  ·  checked by exo watch",
        CheckedBy::Files => "",
    }
}

fn print_human(status: &Status) -> Result<()> {
    outln!("{}{}", badge_line(status), checked_by(status));
    for (label, paths) in [("modified", &status.modified), ("new", &status.new), ("deleted", &status.deleted)] {
        for path in paths {
            outln!("  {}{}", paint(&format!("{label:<9}"), "33"), escape(path));
        }
    }
    for warning in status.warnings.iter().take(WARNINGS_SHOWN) {
        outln!("  {}{}: {}", paint(&format!("{:<9}", "warning"), "2"), escape(&warning.path), escape(&warning.message));
    }
    if status.warnings.len() > WARNINGS_SHOWN {
        outln!("  … and {} more warnings (exo status --json lists all)", status.warnings.len() - WARNINGS_SHOWN);
    }
    Ok(())
}
