//! The git hooks as a trigger: install them, say whether they work, and the background fill
//! they start after each commit.

use std::path::Path;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Exo, Result};

pub use exo_hooks::{FillTurn, HookKind, HookState, HooksStatus, InstallReport};

/// How long a background fill waits for `.exo/lock`: hooks and searches come and go, and
/// nobody is waiting on the fill.
const FILL_WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HooksInstallRequest {
    /// Rewrite exo's own scripts and blocks with this version; a user's hooks and the lines
    /// outside exo's blocks are never touched.
    #[serde(default)]
    pub force: bool,
}

/// What a background fill did: how often it ran, and what went wrong in each run (said on
/// stderr by the CLI, which the hook sends to `.exo/hook-embed.log`).
#[derive(Debug, Clone, Serialize)]
pub struct FillAnswer {
    /// Runs made by this process; 0 when another process was filling and took the request.
    pub runs: usize,
    pub errors: Vec<String>,
}

impl Exo {
    /// Installs the hooks, never disabling anyone's; `exo_bin` (the running binary) is
    /// recorded so the hooks find exo where PATH does not (git GUIs, cron).
    pub fn hooks_install(&self, request: &HooksInstallRequest, exo_bin: Option<&Path>) -> Result<InstallReport> {
        Ok(exo_hooks::install(self.vault().root(), request.force, exo_bin)?)
    }

    /// Where the hooks live, whether git runs them, whether they can find exo.
    pub fn hooks_status(&self) -> Result<HooksStatus> {
        Ok(exo_hooks::status(self.vault().root())?)
    }

    /// Embeds what the index has no vector for, one process at a time, going round again
    /// while hooks keep asking. Vectors only: text and graph are what the hook reconciled,
    /// so files edited since stay OutOfSync rather than being indexed behind a person's back.
    pub fn hooks_fill(&self) -> Result<FillAnswer> {
        let mut errors = Vec::new();
        let turn = exo_hooks::fill_in_turn(self.vault().root(), || {
            match self.index.embed(false, FILL_WAIT, &exo_index::Silent) {
                Ok(report) => errors.extend(report.error),
                Err(e) => errors.push(e.to_string()),
            }
        })?;
        let runs = match turn {
            FillTurn::Ran(runs) => runs,
            FillTurn::Queued => 0,
        };
        Ok(FillAnswer { runs, errors })
    }
}
