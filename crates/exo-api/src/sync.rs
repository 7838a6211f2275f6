//! `sync`: what `exo index` means, and what the hooks, the MCP server's writes and the
//! watcher all run — reconcile text and graph, fill the vectors, then look again.

use std::time::Duration;

use exo_index::vectors::EmbedReport;
use exo_index::{Progress, ReconcileOptions, ReconcileReport, Silent, Status, Trust};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Exo, Result};

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    /// Throw the derived index away and build it again.
    #[serde(default)]
    pub rebuild: bool,
    /// Hash every note instead of trusting unchanged stat records.
    #[serde(default)]
    pub verify: bool,
    /// Text and graph only; vectors are left for a later run.
    #[serde(default)]
    pub no_vectors: bool,
    /// Embed every chunk again (after changing the embedder).
    #[serde(default)]
    pub reembed: bool,
    /// Seconds to wait for another writer's lock.
    #[serde(default = "ten")]
    pub wait_secs: u64,
    /// Compare the files with the index once more at the end (a file edited during the run
    /// leaves the index behind); off for callers that only need the work done.
    #[serde(default = "yes")]
    pub check: bool,
}

fn ten() -> u64 {
    10
}

fn yes() -> bool {
    true
}

impl Default for SyncRequest {
    fn default() -> SyncRequest {
        SyncRequest { rebuild: false, verify: false, no_vectors: false, reembed: false, wait_secs: 10, check: true }
    }
}

/// Where a long sync reports how far it got (a face draws bars; others pass nothing).
#[derive(Clone, Copy)]
pub struct SyncProgress<'a> {
    pub notes: &'a dyn Progress,
    pub chunks: &'a dyn Progress,
}

impl Default for SyncProgress<'_> {
    fn default() -> Self {
        SyncProgress { notes: &Silent, chunks: &Silent }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SyncAnswer {
    #[serde(flatten)]
    pub report: ReconcileReport,
    pub vectors: EmbedReport,
    /// The status after the run; None when the request did not ask to check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

impl Exo {
    /// Reconciles text and graph (searchable at once), then embeds the chunks that have no
    /// vector yet, resumably, then checks the files once more.
    pub fn sync(&self, request: &SyncRequest, progress: SyncProgress<'_>) -> Result<SyncAnswer> {
        self.sync_trusting(request, progress, Trust::Watcher)
    }

    /// [`Exo::sync`]; `Trust::Files` for the watch's own runs (it must never ask
    /// itself whether anything changed).
    pub(crate) fn sync_trusting(
        &self,
        request: &SyncRequest,
        progress: SyncProgress<'_>,
        trust: Trust,
    ) -> Result<SyncAnswer> {
        let wait = Duration::from_secs(request.wait_secs);
        let options = ReconcileOptions { rebuild: request.rebuild, verify: request.verify, wait, trust };
        let report = self.index.reconcile(&options, progress.notes)?;
        let vectors = match request.no_vectors {
            true => EmbedReport::default(),
            false => self.index.embed(request.reembed, wait, progress.chunks)?,
        };
        // A run that found nothing to do may stand for the check, if it is a moment old.
        let status = if request.check { Some(self.index.status_after(&report)?) } else { None };
        Ok(SyncAnswer { report, vectors, status })
    }

    /// Does the index match the files? With `verify`, every note is hashed.
    pub fn status(&self, request: &StatusRequest) -> Result<Status> {
        Ok(self.index.status(request.verify)?)
    }
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// Hash every note instead of trusting unchanged stat records.
    #[serde(default)]
    pub verify: bool,
}
