//! `exo index`: reconcile the index with the files, with a progress bar on a terminal.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use exo_index::vectors::EmbedReport;
use exo_index::{Index, Progress, ReconcileOptions, ReconcileReport, Silent, Status};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::cli::{Globals, IndexArgs};
use crate::commands::status::badge_line;
use crate::context::open_vault;
use crate::output::print_json;

/// Runs shorter than this many notes finish before a bar would be worth drawing.
const BAR_THRESHOLD: u64 = 500;
/// Embedding is slower per item: a bar from a few dozen chunks on.
const EMBED_BAR_THRESHOLD: u64 = 64;

struct Bar(ProgressBar, u64);

impl Progress for Bar {
    fn start(&self, total: u64) {
        if total >= self.1 {
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
    vectors: &'a EmbedReport,
    status: &'a Status,
}

fn bar(template: &str) -> ProgressBar {
    let bar = ProgressBar::hidden();
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> "),
    );
    bar
}

pub fn run(globals: &Globals, args: IndexArgs) -> Result<ExitCode> {
    let index = Index::new(open_vault(globals)?);
    let options = ReconcileOptions { rebuild: args.rebuild, verify: args.verify, wait: Duration::from_secs(args.wait) };
    let show_bar = !args.quiet && !globals.json && std::io::stderr().is_terminal();
    let notes_bar = Bar(bar("{spinner} indexing {pos}/{len} notes [{bar:30}] {eta}"), BAR_THRESHOLD);
    let report = if show_bar { index.reconcile(&options, &notes_bar)? } else { index.reconcile(&options, &Silent)? };
    // Text and graph are searchable now; vectors fill in after, resumably.
    let chunks_bar = Bar(bar("{spinner} embedding {pos}/{len} chunks [{bar:30}] {eta}"), EMBED_BAR_THRESHOLD);
    let wait = Duration::from_secs(args.wait);
    let vectors = if args.no_vectors {
        EmbedReport::default()
    } else if show_bar {
        index.embed(args.reembed, wait, &chunks_bar)?
    } else {
        index.embed(args.reembed, wait, &Silent)?
    };
    if args.quiet {
        return Ok(ExitCode::SUCCESS);
    }
    // Check rather than assume: a file edited during the run leaves the index behind.
    let status = index.status(false)?;
    if globals.json {
        print_json(&IndexJson { report: &report, vectors: &vectors, status: &status })?;
    } else {
        print_human(&report, &status);
        if let Some(error) = &vectors.error {
            eprintln!("exo: warning: vectors: {error}; text and graph search work without them");
        }
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
