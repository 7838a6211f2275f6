//! `exo index`: reconcile the index with the files, with a progress bar on a terminal.

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::Result;
use exo_api::ReconcileReport;
use exo_api::types::EmbedReport;
use exo_api::{NotifySource, NotifySummary, Progress, Status, SyncProgress, SyncRequest};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::cli::{Globals, IndexArgs};
use crate::commands::notify;
use crate::commands::status::{StatusJson, badge_line};
use crate::context::open_exo;
use crate::output::{escape, outln, print_json};

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

/// `exo index --json`: what changed, the vectors, and the status after.
#[derive(Serialize)]
struct IndexJson<'a> {
    #[serde(flatten)]
    report: &'a ReconcileReport,
    vectors: &'a EmbedReport,
    status: StatusJson<'a>,
}

fn bar(template: &str) -> ProgressBar {
    let bar = ProgressBar::hidden();
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> "),
    );
    bar
}

pub fn run(globals: &Globals, args: IndexArgs) -> Result<ExitCode> {
    let exo = open_exo(globals)?;
    let request = SyncRequest {
        rebuild: args.rebuild,
        verify: args.verify,
        no_vectors: args.no_vectors,
        reembed: args.reembed,
        wait_secs: args.wait,
        // Quiet runs (the hooks) only need the work done; the check costs a scan.
        check: !args.quiet,
    };
    let show_bar = !args.quiet && !globals.json && std::io::stderr().is_terminal();
    let notes_bar = Bar(bar("{spinner} indexing {pos}/{len} notes [{bar:30}] {eta}"), BAR_THRESHOLD);
    let chunks_bar = Bar(bar("{spinner} embedding {pos}/{len} chunks [{bar:30}] {eta}"), EMBED_BAR_THRESHOLD);
    let progress = match show_bar {
        true => SyncProgress { notes: &notes_bar, chunks: &chunks_bar },
        false => SyncProgress::default(),
    };
    let answer = match exo.sync(&request, progress) {
        Ok(answer) => answer,
        Err(error) => {
            notify::send(&args.notify, || NotifySummary::failed(NotifySource::Index, exo.vault().root(), &error));
            return Err(error.into());
        }
    };
    // Sent after the output, so a slow webhook never holds up what the run has to say.
    let summary = || NotifySummary::of_sync(exo.vault().root(), &answer);
    let Some(status) = &answer.status else {
        notify::send(&args.notify, summary);
        return Ok(ExitCode::SUCCESS);
    };
    if globals.json {
        let json = IndexJson { report: &answer.report, vectors: &answer.vectors, status: StatusJson::of(status) };
        print_json(&json)?;
    } else {
        print_human(&answer.report, status)?;
        if let Some(error) = &answer.vectors.error {
            eprintln!("exo: warning: vectors: {}; text and graph search work without them", escape(error));
        }
    }
    notify::send(&args.notify, summary);
    Ok(ExitCode::SUCCESS)
}

fn print_human(report: &ReconcileReport, status: &Status) -> Result<()> {
    if let Some(reason) = &report.rebuilt {
        outln!("exo: rebuilt the index ({})", escape(reason));
    }
    for skipped in &report.skipped {
        eprintln!("exo: warning: {}: {}", escape(&skipped.path), escape(&skipped.reason));
    }
    for path in &report.vanished {
        eprintln!("exo: warning: {}: deleted while indexing; it is no longer in the index", escape(path));
    }
    let mut counts =
        format!("{} new, {} modified, {} deleted", report.new.len(), report.modified.len(), report.deleted.len());
    if !report.renamed.is_empty() {
        counts.push_str(&format!(", {} renamed", report.renamed.len()));
    }
    let noun = if report.changed() == 1 { "note" } else { "notes" };
    outln!("exo: indexed {} {noun} ({counts}) in {} ms — {}", report.changed(), report.elapsed_ms, badge_line(status));
    Ok(())
}
