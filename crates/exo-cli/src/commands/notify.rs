//! `--notify URL`: POST a run's summary (built by exo-api's `NotifySummary`) to a webhook.
//! Best effort by design: a notification that cannot be sent is one warning line on stderr,
//! never a failed run, so a cron job's exit code says how the vault is, not the network.
//! `exo notify URL` posts a summary a script built (the gardener's) the same way.

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use exo_api::{NotifyOutcome, NotifySummary};
use serde_json::Value;

use crate::cli::{Globals, NotifyArgs, NotifyCommandArgs};
use crate::output::{escape, outln, print_json};

/// The token's variable when `--notify-token-env` names none.
pub const DEFAULT_TOKEN_ENV: &str = "EXO_NOTIFY_TOKEN";
/// Each attempt, connect to last byte; a webhook that hangs costs at most two of these.
const TIMEOUT: Duration = Duration::from_secs(5);
/// Pause before the one retry.
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// Why an attempt failed, and whether another could succeed.
struct Failure {
    reason: String,
    retry: bool,
}

/// Sends `summary` when `--notify` was given; a failure is a warning.
pub fn send(args: &NotifyArgs, summary: impl FnOnce() -> NotifySummary) {
    let Some(url) = &args.notify else { return };
    let token = token(args);
    let summary = summary();
    let body = match serde_json::to_vec(&summary) {
        Ok(body) => body,
        Err(error) => return warn(url, &error.to_string()),
    };
    if let Err(reason) = post(url, &body, &summary.title(), token.as_deref()) {
        warn(url, &reason);
    }
}

/// `exo notify URL`: the JSON object on stdin, posted; exit 1 when it could not be sent.
pub fn run(globals: &Globals, args: NotifyCommandArgs) -> Result<ExitCode> {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).context("cannot read the summary from stdin")?;
    let mut body: Value =
        serde_json::from_str(&input).context("stdin is not JSON: pipe a JSON object into exo notify")?;
    let Some(summary) = body.as_object_mut() else {
        bail!("stdin is not a JSON object: pipe a JSON object into exo notify")
    };
    if let Some(report) = &args.findings_from {
        summary.insert("findings".into(), findings_of(report)?);
    }
    let title = script_title(summary);
    let token = token(&NotifyArgs { notify: Some(args.url.clone()), notify_token_env: args.notify_token_env });
    let sent = post(&args.url, body.to_string().as_bytes(), &title, token.as_deref());
    if globals.json {
        let outcome = NotifyOutcome { url: args.url.clone(), sent: sent.is_ok(), error: sent.as_ref().err().cloned() };
        print_json(&outcome)?;
    } else if sent.is_ok() {
        outln!("exo: notified {}", escape(&args.url));
    }
    match sent {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(reason) => {
            eprintln!("exo: warning: notify {}: {}", escape(&args.url), escape(&reason));
            Ok(ExitCode::from(1))
        }
    }
}

/// Findings per kind from an `exo garden --json` report, kinds with none left out (as
/// `NotifySummary::of_garden` has them).
fn findings_of(report: &std::path::Path) -> Result<Value> {
    let text = std::fs::read_to_string(report)
        .with_context(|| format!("cannot read {}: pass the file `exo garden --json` wrote", report.display()))?;
    let parsed: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an `exo garden --json` report", report.display()))?;
    let Some(counts) = parsed.get("counts").and_then(Value::as_object) else {
        bail!("{} has no `counts`: pass the file `exo garden --json` wrote", report.display())
    };
    let found = counts.iter().filter(|(_, n)| n.as_u64().is_some_and(|n| n > 0));
    Ok(Value::Object(found.map(|(kind, n)| (kind.clone(), n.clone())).collect()))
}

/// `source status: vault` from the summary's own fields, in ASCII, like `NotifySummary::title`.
fn script_title(summary: &serde_json::Map<String, Value>) -> String {
    let field = |key: &str| summary.get(key).and_then(Value::as_str).unwrap_or("");
    let title = format!("{} {}: {}", field("source"), field("status"), field("vault"));
    let title = if title.trim() == ":" { "exo notify".to_string() } else { title.trim().to_string() };
    title.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect()
}

fn warn(url: &str, reason: &str) {
    eprintln!(
        "exo: warning: --notify {}: {}; the run itself succeeded or failed as reported",
        escape(url),
        escape(reason)
    );
}

/// The bearer token: `$VAR` for `--notify-token-env VAR` (a warning when unset), else
/// `$EXO_NOTIFY_TOKEN` when set. Empty means none.
fn token(args: &NotifyArgs) -> Option<String> {
    let named = args.notify_token_env.as_deref();
    let value = std::env::var(named.unwrap_or(DEFAULT_TOKEN_ENV)).ok().filter(|t| !t.is_empty());
    if let (Some(var), None) = (named, &value) {
        eprintln!(
            "exo: warning: --notify-token-env {}: ${} is not set; notifying without a token",
            escape(var),
            escape(var)
        );
    }
    value
}

/// One POST and, if it failed in a way that can pass (no answer, a 5xx, a 429), one retry.
fn post(url: &str, body: &[u8], title: &str, token: Option<&str>) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .user_agent(concat!("exo/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    match attempt(&agent, url, body, title, token) {
        Err(Failure { retry: true, .. }) => {
            std::thread::sleep(RETRY_AFTER);
            attempt(&agent, url, body, title, token).map_err(|f| format!("{} (after one retry)", f.reason))
        }
        other => other.map_err(|f| f.reason),
    }
}

fn attempt(agent: &ureq::Agent, url: &str, body: &[u8], title: &str, token: Option<&str>) -> Result<(), Failure> {
    let mut request = agent
        .post(url)
        .header("Content-Type", "application/json")
        // ntfy shows this above the message; other webhooks ignore it.
        .header("Title", title);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let response = request.send(body).map_err(|e| Failure { reason: e.to_string(), retry: true })?;
    let status = response.status().as_u16();
    match status {
        200..=299 => Ok(()),
        429 | 500..=599 => Err(Failure { reason: format!("the server answered {status}"), retry: true }),
        _ => Err(Failure { reason: format!("the server answered {status}"), retry: false }),
    }
}
