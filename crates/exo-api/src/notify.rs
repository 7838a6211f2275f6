//! The summary a run posts to a webhook (`--notify URL`): small, the same shape for `exo
//! index`, `exo garden` and the gardener script, so one ntfy topic or n8n workflow reads all
//! three. Building it is here; sending it is the face's (it owns the network, the token in
//! the environment and what a failure prints).

use std::collections::BTreeMap;
use std::fmt::Display;
use std::path::Path;

use exo_index::SyncState;
use serde::Serialize;

use crate::{Report, SyncAnswer};

/// At most this many paths in `changed`; `counts` always has the totals.
pub const MAX_CHANGED: usize = 50;

/// Which run the summary is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NotifySource {
    #[serde(rename = "exo index")]
    Index,
    #[serde(rename = "exo garden")]
    Garden,
}

impl NotifySource {
    pub fn name(self) -> &'static str {
        match self {
            NotifySource::Index => "exo index",
            NotifySource::Garden => "exo garden",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyStatus {
    /// The run did its work (a garden with findings is still ok: `findings` says what).
    Ok,
    /// The run ended in an error (`error` says which).
    Failed,
}

/// What a webhook receives. `message` is one line a phone can show as it is.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotifySummary {
    pub source: NotifySource,
    pub status: NotifyStatus,
    /// The vault's folder name.
    pub vault: String,
    pub message: String,
    /// Totals: for an index run notes, new, modified, deleted, renamed, skipped, embedded;
    /// for a garden run notes, findings, stale_notes.
    pub counts: BTreeMap<&'static str, usize>,
    /// Paths written or removed by the run (at most [`MAX_CHANGED`]).
    pub changed: Vec<String>,
    /// Findings per kind (garden runs), kinds with none left out.
    pub findings: BTreeMap<&'static str, usize>,
    /// Whether the index matched the files at the end, when the run looked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index_status: Option<SyncState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What `exo notify URL` answers: whether the POST got through, and why not.
#[derive(Debug, Clone, Serialize)]
pub struct NotifyOutcome {
    pub url: String,
    pub sent: bool,
    pub error: Option<String>,
}

impl NotifySummary {
    /// An `exo index` run: what changed and the status after.
    pub fn of_sync(vault: &Path, answer: &SyncAnswer) -> NotifySummary {
        let report = &answer.report;
        let counts = BTreeMap::from([
            ("notes", report.notes),
            ("new", report.new.len()),
            ("modified", report.modified.len()),
            ("deleted", report.deleted.len()),
            ("renamed", report.renamed.len()),
            ("skipped", report.skipped.len()),
            ("embedded", answer.vectors.embedded),
        ]);
        let renamed = report.renamed.iter().map(|r| &r.to);
        let changed = report.new.iter().chain(&report.modified).chain(&report.deleted).chain(renamed);
        let index_status = answer.status.as_ref().map(|s| s.status);
        let mut message = format!(
            "exo index: {} notes changed ({} new, {} modified, {} deleted) of {}",
            report.changed(),
            report.new.len(),
            report.modified.len(),
            report.deleted.len(),
            report.notes
        );
        if let Some(state) = index_status {
            message.push_str(&format!(", {state:?}"));
        }
        NotifySummary {
            source: NotifySource::Index,
            status: NotifyStatus::Ok,
            vault: vault_name(vault),
            message,
            counts,
            changed: changed.take(MAX_CHANGED).cloned().collect(),
            findings: BTreeMap::new(),
            index_status,
            error: answer.vectors.error.as_ref().map(|e| format!("vectors: {e}")),
        }
    }

    /// An `exo garden` run: findings by kind.
    pub fn of_garden(vault: &Path, report: &Report) -> NotifySummary {
        let findings: BTreeMap<&'static str, usize> =
            report.counts.iter().filter(|(_, n)| **n > 0).map(|(kind, n)| (kind.name(), *n)).collect();
        let total: usize = findings.values().sum();
        let parts: Vec<String> = findings.iter().map(|(kind, n)| format!("{n} {kind}")).collect();
        let message = match total {
            0 => format!("exo garden: nothing to tend in {} notes", report.notes),
            _ => format!("exo garden: {total} findings in {} notes ({})", report.notes, parts.join(", ")),
        };
        NotifySummary {
            source: NotifySource::Garden,
            status: NotifyStatus::Ok,
            vault: vault_name(vault),
            message,
            counts: BTreeMap::from([("notes", report.notes), ("findings", total), ("stale_notes", report.stale_notes)]),
            changed: Vec::new(),
            findings,
            index_status: Some(report.index_status),
            error: None,
        }
    }

    /// A run that ended in `error`.
    pub fn failed(source: NotifySource, vault: &Path, error: &dyn Display) -> NotifySummary {
        let error = error.to_string();
        NotifySummary {
            source,
            status: NotifyStatus::Failed,
            vault: vault_name(vault),
            message: format!("{} failed: {error}", source.name()),
            counts: BTreeMap::new(),
            changed: Vec::new(),
            findings: BTreeMap::new(),
            index_status: None,
            error: Some(error),
        }
    }

    /// A short ASCII title (ntfy shows it above the message; HTTP headers are ASCII).
    pub fn title(&self) -> String {
        let status = match self.status {
            NotifyStatus::Ok => "ok",
            NotifyStatus::Failed => "FAILED",
        };
        let vault: String =
            self.vault.chars().map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' }).collect();
        format!("{} {status}: {vault}", self.source.name())
    }
}

fn vault_name(root: &Path) -> String {
    root.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| root.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use exo_index::vectors::EmbedReport;

    #[test]
    fn changed_paths_are_capped_while_the_counts_keep_the_totals() {
        let mut report = exo_index::ReconcileReport::default();
        report.new = (0..60).map(|i| format!("n{i:02}.md")).collect();
        report.deleted = vec!["gone.md".into()];
        report.notes = 60;
        let answer = SyncAnswer { report, vectors: EmbedReport::default(), status: None };
        let summary = NotifySummary::of_sync(Path::new("/home/me/notes"), &answer);
        assert_eq!(summary.vault, "notes");
        assert_eq!(summary.changed.len(), MAX_CHANGED);
        assert_eq!(summary.changed[0], "n00.md");
        assert_eq!(summary.counts["new"], 60);
        assert_eq!(summary.counts["deleted"], 1);
        assert_eq!(summary.status, NotifyStatus::Ok);
        assert_eq!(summary.message, "exo index: 61 notes changed (60 new, 0 modified, 1 deleted) of 60");
    }

    #[test]
    fn a_failure_says_which_run_and_why_and_its_title_is_ascii() {
        let summary = NotifySummary::failed(NotifySource::Garden, Path::new("/v/Zettelkästen"), &"disk full");
        assert_eq!(summary.status, NotifyStatus::Failed);
        assert_eq!(summary.message, "exo garden failed: disk full");
        assert_eq!(summary.error.as_deref(), Some("disk full"));
        assert_eq!(summary.title(), "exo garden FAILED: Zettelk?sten");
        let json = serde_json::to_value(&summary).unwrap_or_default();
        assert_eq!(json["source"], "exo garden");
        assert_eq!(json["status"], "failed");
    }
}
