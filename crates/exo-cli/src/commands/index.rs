//! `exo index`: reconcile the index with the files, with a progress bar on a terminal.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use exo_index::{Index, Progress, ReconcileOptions, ReconcileReport, Status};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::cli::{Globals, IndexArgs};
use crate::commands::status::badge_line;
use crate::context::open_vault;
use crate::output::print_json;

/// Runs shorter than this many notes finish before a bar would be worth drawing.
const BAR_THRESHOLD: u64 = 500;

struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, total: u64) {
        if total >= BAR_THRESHOLD {
            self.0.set_length(total);
            self.0.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

#[derive(Serialize)]
struct IndexJson<'a> {
    #[serde(flatten)]
    report: &'a ReconcileReport,
    status: &'a Status,
}

pub fn run(globals: &Globals, args: IndexArgs) -> Result<ExitCode> {
    let index = Index::new(open_vault(globals)?);
    let options = ReconcileOptions { rebuild: args.rebuild, verify: args.verify, wait: Duration::from_secs(args.wait) };
    let show_bar = !args.quiet && !globals.json && std::io::stderr().is_terminal();
    let bar = ProgressBar::hidden();
    bar.set_style(
        ProgressStyle::with_template("{spinner} indexing {pos}/{len} notes [{bar:30}] {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let report =
        if show_bar { index.reconcile(&options, &Bar(bar))? } else { index.reconcile(&options, &exo_index::Silent)? };
    if args.quiet {
        return Ok(ExitCode::SUCCESS);
    }
    // Check rather than assume: a file edited during the run leaves the index behind.
    let status = index.status(false)?;
    if globals.json {
        print_json(&IndexJson { report: &report, status: &status })?;
    } else {
        print_human(&report, &status);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_human(report: &ReconcileReport, status: &Status) {
    if let Some(reason) = &report.rebuilt {
        println!("exo: rebuilt the index ({reason})");
    }
    for skipped in &report.skipped {
        eprintln!("exo: warning: {}: {}", skipped.path, skipped.reason);
    }
    for path in &report.vanished {
        eprintln!("exo: warning: {path}: deleted while indexing; it is no longer in the index");
    }
    let mut counts =
        format!("{} new, {} modified, {} deleted", report.new.len(), report.modified.len(), report.deleted.len());
    if !report.renamed.is_empty() {
        counts.push_str(&format!(", {} renamed", report.renamed.len()));
    }
    let noun = if report.changed() == 1 { "note" } else { "notes" };
    println!(
        "exo: indexed {} {noun} ({counts}) in {} ms — {}",
        report.changed(),
        report.elapsed_ms,
        badge_line(status)
    );
}
