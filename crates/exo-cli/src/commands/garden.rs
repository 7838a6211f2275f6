//! `exo garden`: the report of what is rotting in the vault, for a person or, with `--json`,
//! for the nightly gardener agent.

use std::process::ExitCode;

use anyhow::Result;
use exo_api::{GardenRequest, NotifySource, NotifySummary, Report};

use crate::cli::{GardenArgs, Globals};
use crate::commands::notify;
use crate::context::open_exo;
use crate::output::{escape, outln, paint, print_json, print_stale_warning};

pub fn run(globals: &Globals, args: GardenArgs) -> Result<ExitCode> {
    let request = GardenRequest { only: args.only, max_per_kind: args.max, min_confidence: args.min_confidence };
    let exo = open_exo(globals)?;
    let report = match exo.garden(&request) {
        Ok(report) => report,
        Err(error) => {
            notify::send(&args.notify, || NotifySummary::failed(NotifySource::Garden, exo.vault().root(), &error));
            return Err(error.into());
        }
    };
    if globals.json {
        print_json(&report)?;
    } else {
        print_human(&report)?;
    }
    // After the output, so a slow webhook never holds up the report.
    notify::send(&args.notify, || NotifySummary::of_garden(exo.vault().root(), &report));
    Ok(if args.exit_code && report.has_findings() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn print_human(report: &Report) -> Result<()> {
    let total: usize = report.counts.values().sum();
    let mut current = None;
    for finding in &report.findings {
        if current != Some(finding.kind) {
            current = Some(finding.kind);
            let count = report.counts.get(&finding.kind).copied().unwrap_or(0);
            outln!("{}", paint(&format!("{} ({count})", finding.kind.name()), "1"));
        }
        outln!("  {}  {}", paint(&escape(&finding.path), "36"), escape(&finding.message));
        outln!("    {} {}", paint("fix:", "2"), escape(&finding.fix));
    }
    for (kind, count) in &report.counts {
        let shown = report.findings.iter().filter(|f| f.kind == *kind).count();
        if *count > shown {
            outln!("{}", paint(&format!("  … {} more {} (--max N shows more)", count - shown, kind.name()), "2"));
        }
    }
    let below: usize = report.below_confidence.values().sum();
    if below > 0 {
        outln!(
            "{}",
            paint(&format!("  … {below} less likely candidates left out (--min-confidence 0 shows them)"), "2")
        );
    }
    for reason in &report.skipped {
        outln!("{}", paint(&format!("note: {}", escape(reason)), "2"));
    }
    let summary = if total == 0 {
        format!("garden: nothing to tend in {} notes", report.notes)
    } else {
        let parts: Vec<String> =
            report.counts.iter().filter(|(_, n)| **n > 0).map(|(k, n)| format!("{n} {}", k.name())).collect();
        format!(
            "garden: {total} finding{} in {} notes ({})",
            if total == 1 { "" } else { "s" },
            report.notes,
            parts.join(", ")
        )
    };
    outln!("{summary}");
    print_stale_warning(report.index_status, report.stale_notes)
}
