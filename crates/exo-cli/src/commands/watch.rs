//! `exo watch`: the self-heal loop in the foreground. One log line per happening — on
//! stdout for reconciles, on stderr for trouble — or one JSON object per line with `--json`.
//! Ctrl-C and SIGTERM stop it after the reconcile under way (a second one ends it at once).

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};
use exo_api::{Health, Reconciled, StopSignal, Trigger, WatchEvent, WatchMode, WatchOptions};
use serde::Serialize;

use crate::cli::{Globals, WatchArgs};
use crate::context::open_exo;
use crate::output::{escape, outln, sync_badge, thousands, write_stdout};

pub fn run(globals: &Globals, args: WatchArgs) -> Result<ExitCode> {
    let exo = open_exo(globals)?;
    let stop = StopSignal::new();
    stop_on_signals(&stop)?;
    let options = WatchOptions {
        debounce: Duration::from_millis(args.debounce),
        rescan: Duration::from_secs(args.rescan),
        poll: args.poll,
        lock_wait: Duration::from_secs(args.wait),
        ..WatchOptions::default()
    };
    // A reader that went away (`exo watch | head`) stops the watch; the error ends exo quietly.
    let mut write_failed = None;
    let mut on_event = |event: WatchEvent| {
        if write_failed.is_none()
            && let Err(error) = render(&event, globals.json)
        {
            write_failed = Some(error);
            stop.stop();
        }
    };
    exo.watch(&options, &stop, &mut on_event)?;
    match write_failed {
        Some(error) => Err(error),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// SIGINT and SIGTERM set the stop flag; the same signal again while the watch finishes a
/// long reconcile exits at once (the index is crash-safe, the next run completes it).
fn stop_on_signals(stop: &StopSignal) -> Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, stop.flag())
            .and_then(|_| signal_hook::flag::register(signal, stop.flag()))
            .context("cannot install the Ctrl-C handler")?;
    }
    Ok(())
}

/// `--json`: one object per line, the time first, then the event's own fields.
#[derive(Serialize)]
struct JsonLine<'a> {
    at: &'a str,
    #[serde(flatten)]
    event: &'a WatchEvent,
}

/// One event as `--json` prints it (also `exo mcp --watch --json`, on stderr).
pub fn json_line(at: &str, event: &WatchEvent) -> serde_json::Result<String> {
    serde_json::to_string(&JsonLine { at, event })
}

fn render(event: &WatchEvent, json: bool) -> Result<()> {
    let at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    if json {
        let line = json_line(&at, event)?;
        return write_stdout(format_args!("{line}\n"));
    }
    let mut line = human_line(event);
    if matches!(event, WatchEvent::Watching { .. }) {
        line.push_str(" — Ctrl-C stops");
    }
    match is_trouble(event) {
        true => eprintln!("{at} {line}"),
        false => outln!("{at} {line}"),
    }
    Ok(())
}

/// Failures, a lost watch and a word queries cannot take go to stderr; the rest is the log on stdout. (A server on stdio
/// sends every line to stderr: its stdout is the protocol.)
pub fn is_trouble(event: &WatchEvent) -> bool {
    matches!(
        event,
        WatchEvent::ReconcileFailed { .. } | WatchEvent::WatchUnavailable { .. } | WatchEvent::NotVouching { .. }
    )
}

/// One event as one line for a person, without the time.
pub fn human_line(event: &WatchEvent) -> String {
    match event {
        WatchEvent::Watching { root, mode, debounce_ms, rescan_secs } => {
            let how = match mode {
                WatchMode::Events => format!("file events, debounce {debounce_ms} ms, rescan every {rescan_secs} s"),
                WatchMode::Polling => format!("no file events: rescan every {rescan_secs} s"),
            };
            format!("watching {} ({how})", escape(&root.display().to_string()))
        }
        WatchEvent::Reconciled(done) => reconciled_line(done),
        WatchEvent::ReconcileFailed { trigger, error } => {
            format!("exo: error ({}): {}; trying again on the next change", trigger_text(*trigger, 0), escape(error))
        }
        WatchEvent::WatchUnavailable { reason, rescan_secs } => format!(
            "exo: warning: cannot watch for file events ({}); rescanning every {rescan_secs} s instead",
            escape(reason)
        ),
        WatchEvent::NotVouching { reason } => {
            format!("exo: note: queries check the files themselves, not this watch's word ({})", escape(reason))
        }
        WatchEvent::Stopped { reconciles } => {
            let noun = if *reconciles == 1 { "reconcile" } else { "reconciles" };
            format!("stopped after {reconciles} {noun}")
        }
    }
}

/// `indexed 2 notes (1 new, 1 modified: a.md, b.md) in 41 ms (2 paths changed) — Synced · …`
fn reconciled_line(done: &Reconciled) -> String {
    let changed = done.new + done.modified + done.deleted + done.renamed;
    let mut line = String::new();
    if let Some(reason) = &done.rebuilt {
        line.push_str(&format!("rebuilt the index ({}); ", escape(reason)));
    }
    if changed == 0 {
        line.push_str("no note changed");
    } else {
        let counts: Vec<String> = [(done.new, "new"), (done.modified, "modified"), (done.deleted, "deleted")]
            .into_iter()
            .chain([(done.renamed, "renamed")])
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        let noun = if changed == 1 { "note" } else { "notes" };
        let mut examples: Vec<String> = done.examples.iter().map(|p| escape(p).into_owned()).collect();
        if changed > examples.len() {
            examples.push("…".into());
        }
        line.push_str(&format!("indexed {changed} {noun} ({}: {})", counts.join(", "), examples.join(", ")));
    }
    line.push_str(&format!(" in {} ms ({})", done.elapsed_ms, trigger_text(done.trigger, done.paths)));
    let notes = if done.notes == 1 { "note" } else { "notes" };
    let mut badge = vec![sync_badge(done.status, done.health)];
    if done.health != Health::Healthy {
        badge.push(format!("{:?}", done.health));
    }
    badge.push(format!("{} {notes}", thousands(done.notes)));
    if let Some(v) = &done.vectors {
        badge.push(format!("vectors {}/{} chunks", thousands(v.embedded), thousands(v.chunks)));
    }
    if done.stale > 0 {
        badge.push(format!("{} changed meanwhile", thousands(done.stale)));
    }
    if let Some(error) = &done.vectors_error {
        badge.push(format!("vectors: {}", escape(error)));
    }
    format!("{line} — {}", badge.join("  ·  "))
}

fn trigger_text(trigger: Trigger, paths: usize) -> String {
    match trigger {
        Trigger::Start => "on start".into(),
        Trigger::Rescan => "rescan".into(),
        Trigger::Changes if paths == 1 => "1 path changed".into(),
        Trigger::Changes => format!("{} paths changed", thousands(paths)),
        Trigger::Overflow => "the OS dropped events: full look".into(),
        Trigger::Settings => "settings changed".into(),
    }
}
