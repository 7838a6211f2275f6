//! The common end of every write: remember what was written, reindex, commit, answer.

use std::time::Duration;

use exo_index::{ReconcileOptions, Silent};

use super::commit::{Change, Repo};
use super::{CommitPolicy, CommitView, WriteAnswer, WriteOrigin, Writer, author};
use crate::{Exo, Result, SyncProgress, SyncRequest};

/// How long a write's reindex waits for the index's own lock (a hook's `exo index`).
const INDEX_WAIT: Duration = Duration::from_secs(60);

/// What a write changed, ready to land.
pub(crate) struct Landing {
    pub done: String,
    pub path: String,
    /// The written note's new hash (None after a delete).
    pub hash: Option<String>,
    /// Touched vault paths with their new bytes (None: removed), in the order to report.
    pub changes: Vec<(String, Option<Vec<u8>>)>,
    pub message: String,
    pub links_rewritten: Option<usize>,
    pub notes_rewritten: Option<usize>,
    pub own_links_rebased: Option<usize>,
    pub linked_from: Option<Vec<String>>,
    /// Audit-mode policy violations, found before the write.
    pub warnings: Vec<String>,
}

impl Landing {
    /// A write of one note's new text (create, edit): no links rewritten, nothing removed.
    pub(crate) fn one_note(
        path: String,
        done: String,
        message: String,
        text: String,
        warnings: Vec<String>,
    ) -> Landing {
        Landing {
            done,
            hash: Some(exo_vault::content_hash(text.as_bytes()).0),
            message,
            changes: vec![(path.clone(), Some(text.into_bytes()))],
            path,
            links_rewritten: None,
            notes_rewritten: None,
            own_links_rebased: None,
            linked_from: None,
            warnings,
        }
    }
}

impl Exo {
    /// Text and graph brought up to date, so backlinks, titles and near-duplicates are read
    /// from the files as they are.
    pub(crate) fn refresh_index(&self) -> Result<()> {
        let options = ReconcileOptions { wait: INDEX_WAIT, ..ReconcileOptions::default() };
        self.index.reconcile(&options, &Silent)?;
        Ok(())
    }

    /// Reindexes the touched notes (vectors included) and commits them, after the files are
    /// written. Failures here do not undo the write: they are in the answer.
    pub(crate) fn land(
        &self,
        writer: &Writer,
        origin: &WriteOrigin,
        repo: Option<&Repo>,
        landing: Landing,
    ) -> Result<WriteAnswer> {
        for (path, bytes) in &landing.changes {
            match bytes {
                Some(bytes) => writer.remember(path, exo_vault::content_hash(bytes).as_str()),
                None => writer.forget(path),
            }
        }
        let mut warnings = landing.warnings.clone();
        let request = SyncRequest { wait_secs: INDEX_WAIT.as_secs(), ..SyncRequest::default() };
        let (index_status, stale_notes) = match self.sync(&request, SyncProgress::default()) {
            Ok(answer) => match answer.status {
                Some(status) => {
                    let stale = status.modified.len() + status.new.len() + status.deleted.len();
                    (Some(status.status.into()), Some(stale))
                }
                None => (None, None),
            },
            Err(e) => {
                warnings.push(format!("the index was not updated: {e}"));
                (None, None)
            }
        };
        let (commit, not_committed) = self.commit_landing(writer, origin, repo, &landing, &mut warnings)?;
        Ok(WriteAnswer {
            done: landing.done,
            path: landing.path,
            hash: landing.hash,
            touched: landing.changes.iter().map(|(path, _)| path.clone()).collect(),
            committed: commit.is_some(),
            commit,
            not_committed,
            links_rewritten: landing.links_rewritten,
            notes_rewritten: landing.notes_rewritten,
            own_links_rebased: landing.own_links_rebased,
            linked_from: landing.linked_from,
            index_status,
            stale_notes,
            warnings,
        })
    }

    fn commit_landing(
        &self,
        writer: &Writer,
        origin: &WriteOrigin,
        repo: Option<&Repo>,
        landing: &Landing,
        warnings: &mut Vec<String>,
    ) -> Result<(Option<CommitView>, Option<String>)> {
        if writer.policy == CommitPolicy::Hold {
            return Ok((None, Some("held: commits are left to the caller (--no-commit)".into())));
        }
        let Some(repo) = repo else {
            return Ok((None, Some("the vault is not in a git repository".into())));
        };
        if repo.repo.state() != git2::RepositoryState::Clean {
            let why = "git is in the middle of a merge, rebase or similar; the files are written, commit them with it";
            return Ok((None, Some(why.into())));
        }
        let who = author::author(self.vault(), Some(&repo.repo), writer, origin)?;
        let changes: Vec<Change> =
            landing.changes.iter().map(|(path, bytes)| Change { path, bytes: bytes.as_deref() }).collect();
        match repo.commit(&changes, &who, &landing.message) {
            Ok(None) => Ok((None, Some("nothing to commit: HEAD already holds these paths as they are now".into()))),
            Ok(Some((id, index_problem))) => {
                warnings.extend(index_problem);
                if repo.repo.head_detached().unwrap_or(false) {
                    warnings.push(format!(
                        "HEAD is detached, so commit {id} is on no branch; `git branch <name> {id}` keeps it"
                    ));
                }
                let author = format!("{} <{}>", who.name, who.email);
                Ok((Some(CommitView { id: id.to_string(), author, message: landing.message.clone() }), None))
            }
            Err(e) => Ok((
                None,
                Some(format!("the git commit failed ({}); the files are written: commit them with git", e.message())),
            )),
        }
    }
}
