//! exo-garden: automation over the index — the git hooks that reconcile it on every commit
//! and pull, the garden report of what is rotting in a vault (orphans, wanted notes, unlinked
//! mentions, near-duplicates, stale summaries, stubs, invalid frontmatter) and the wanderer's
//! distant pairs. Detection is deterministic: SQL, graph walks, text matching and stored
//! vectors, never a model call, so the same vault and index give the same report.
//!
//! It must never rewrite a user's notes or hooks it did not install, and never print.

mod error;
pub mod hooks;
mod mentions;
mod prose;
mod report;
mod settings;
mod similarity;
mod structure;
mod summaries;
pub mod wander;

pub use error::GardenError;
pub use report::{Finding, Kind, Report, ReportOptions, Severity, garden};
pub use settings::GardenSettings;
