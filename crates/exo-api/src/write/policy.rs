//! The `[check]` policy of `exo.toml`, applied to a write before anything is written: the
//! vault is checked as if the write had landed (`Exo::check_changes`), reporting on the notes
//! the write changes. In `enforce` mode a broken rule refuses the write
//! ([`ApiError::PolicyViolation`], naming the note, the line and the rule); in `audit` mode the
//! write goes ahead and the violations are the answer's warnings. Without a `[check]` section
//! nothing is read.
//!
//! A delete is checked too, but the check reports on the notes a write changes, and a delete
//! changes no note's text: links left unresolved by it are named in the answer's `linked_from`,
//! as the pre-commit hook would not block them either.

use crate::{ApiError, Exo, Result};

impl Exo {
    /// Checks `changes` (vault path, new text or None for removed) against the policy; the
    /// audit-mode violations as warnings, or the refusal in enforce mode.
    pub(crate) fn policy_gate(&self, changes: &[(String, Option<String>)]) -> Result<Vec<String>> {
        let answer = self.check_changes(changes)?;
        if answer.blocked {
            return Err(ApiError::PolicyViolation { violations: answer.violations });
        }
        Ok(answer
            .violations
            .iter()
            .map(|v| format!("check (audit): {}:{}: {}: {}", v.path, v.line, v.rule.name(), v.message))
            .collect())
    }
}
