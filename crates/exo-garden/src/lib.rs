//! exo-garden: the garden report of what is rotting in a vault (orphans, wanted notes, unlinked
//! mentions, near-duplicates, stale summaries, stubs, invalid frontmatter) and the wanderer's
//! distant pairs. Detection is deterministic: SQL, graph walks, text matching and stored
//! vectors, never a model call, so the same vault and index give the same report.
//!
//! It must never rewrite a user's notes, and never print. (The git hooks live in exo-hooks.)

#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod check;
mod error;
mod finding;
mod hierarchy;
mod mentions;
mod prose;
mod report;
mod settings;
mod similarity;
mod structure;
mod summaries;
pub mod wander;

pub use error::GardenError;
pub use finding::{Finding, Kind, Severity};
pub use report::{Report, ReportOptions, garden};
pub use settings::GardenSettings;
