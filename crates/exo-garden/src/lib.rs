//! exo-garden: automation over the index — the git hooks that reconcile it on every
//! commit and pull (and, later, the garden report and the wanderer).
//!
//! It must never rewrite a user's notes or hooks it did not install, and never print.

pub mod hooks;
