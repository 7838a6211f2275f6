//! `exo status`: the OutOfSync badge. Exit 0 when Synced and not Degraded, 1 otherwise.

use std::process::ExitCode;

use anyhow::Result;
use exo_index::{Index, Status, SyncState};

use crate::cli::{Globals, StatusArgs};
use crate::context::open_vault;
use crate::output::{paint, print_json, sync_badge, thousands};

/// Lines of warnings shown before "… and N more".
const WARNINGS_SHOWN: usize = 10;

pub fn run(globals: &Globals, args: StatusArgs) -> Result<ExitCode> {
    let index = Index::new(open_vault(globals)?);
    let status = index.status(args.verify)?;
    if globals.json {
        print_json(&status)?;
    } else {
        print_human(&status);
    }
    Ok(if status.is_synced() { ExitCode::SUCCESS } else { ExitCode::from(1) })
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
            parts.extend(status.reason.clone());
        }
        SyncState::Missing | SyncState::Degraded => {
            parts.extend(status.reason.clone());
        }
    }
    if let Some(revision) = status.revision.as_deref().filter(|r| !r.is_empty()) {
        parts.push(format!("revision {}", &revision[..revision.len().min(10)]));
    }
    if let Some(repair) = &status.repair {
        parts.push(format!("repair: {repair}"));
    }
    parts.join("  ·  ")
}

fn print_human(status: &Status) {
    println!("{}", badge_line(status));
    for (label, paths) in [("modified", &status.modified), ("new", &status.new), ("deleted", &status.deleted)] {
        for path in paths {
            println!("  {:<9}{path}", paint(label, "33"));
        }
    }
    for warning in status.warnings.iter().take(WARNINGS_SHOWN) {
        println!("  {:<9}{}: {}", paint("warning", "2"), warning.path, warning.message);
    }
    if status.warnings.len() > WARNINGS_SHOWN {
        println!("  … and {} more warnings (exo status --json lists all)", status.warnings.len() - WARNINGS_SHOWN);
    }
}
