//! `exo garden`: the report of what is rotting in the vault, for a person or, with `--json`,
//! for the nightly gardener agent.

use std::process::ExitCode;

use anyhow::Result;
use exo_garden::{Kind, Report, ReportOptions};
use exo_index::Index;

use crate::cli::{GardenArgs, Globals};
use crate::context::open_vault;
use crate::output::{paint, print_json, print_stale_warning};

pub fn run(globals: &Globals, args: GardenArgs) -> Result<ExitCode> {
    let index = Index::new(open_vault(globals)?);
    let only = args.only.iter().map(|k| Kind::parse(k)).collect::<Result<Vec<_>, _>>()?;
    let report = exo_garden::garden(&index, &ReportOptions { max_per_kind: args.max, only })?;
    if globals.json {
        print_json(&report)?;
    } else {
        print_human(&report);
    }
    let any_finding = report.counts.values().any(|&count| count > 0);
    Ok(if args.exit_code && any_finding { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn print_human(report: &Report) {
    let total: usize = report.counts.values().sum();
    let mut current = None;
    for finding in &report.findings {
        if current != Some(finding.kind) {
            current = Some(finding.kind);
            let count = report.counts.get(&finding.kind).copied().unwrap_or(0);
            println!("{}", paint(&format!("{} ({count})", finding.kind.name()), "1"));
        }
        println!("  {}  {}", paint(&finding.path, "36"), finding.message);
        println!("    {} {}", paint("fix:", "2"), finding.fix);
    }
    for (kind, count) in &report.counts {
        let shown = report.findings.iter().filter(|f| f.kind == *kind).count();
        if *count > shown {
            println!("{}", paint(&format!("  … {} more {} (--max N shows more)", count - shown, kind.name()), "2"));
        }
    }
    for reason in &report.skipped {
        println!("{}", paint(&format!("note: {reason}"), "2"));
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
    println!("{summary}");
    print_stale_warning(report.index_status, report.stale_notes);
}
