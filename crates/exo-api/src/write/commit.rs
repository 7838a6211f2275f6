//! One git commit holding exactly the paths a write touched, and nothing a person staged.
//!
//! The new tree is HEAD's tree with the touched paths' new blobs upserted and removed paths
//! dropped (`TreeUpdateBuilder`), never the git index: a person's staged or unstaged work
//! elsewhere is not swept in. After HEAD moves, only the touched paths' entries in the git
//! index are updated, so `git status` is clean for them and says the same as before for every
//! other path. An unborn HEAD (an empty repository) gets a root commit on its branch.

use std::path::{Path, PathBuf};

use git2::{FileMode, Oid, Repository, Signature};

use super::CommitIdentity;

/// A touched vault path and its new content (None: removed).
pub(crate) struct Change<'a> {
    pub path: &'a str,
    pub bytes: Option<&'a [u8]>,
}

/// The git repository a vault lives in, and where the vault sits inside its work tree.
pub(crate) struct Repo {
    pub repo: Repository,
    /// The vault root relative to the work tree ("" when they are the same).
    prefix: PathBuf,
}

impl Repo {
    /// The repository whose work tree holds `vault_root`; None outside git (or a bare repo).
    pub(crate) fn open(vault_root: &Path) -> Option<Repo> {
        let repo = Repository::discover(vault_root).ok()?;
        let workdir = repo.workdir()?.canonicalize().ok()?;
        let root = vault_root.canonicalize().ok()?;
        let prefix = root.strip_prefix(&workdir).ok()?.to_path_buf();
        Some(Repo { repo, prefix })
    }

    /// A vault path as a path in the repository.
    pub(crate) fn repo_path(&self, vault_path: &str) -> PathBuf {
        self.prefix.join(vault_path)
    }

    /// The blob HEAD holds at `vault_path`; None when HEAD is unborn or lacks the path.
    pub(crate) fn head_blob(&self, vault_path: &str) -> Option<(Oid, i32)> {
        let tree = self.repo.head().ok()?.peel_to_tree().ok()?;
        let entry = tree.get_path(&self.repo_path(vault_path)).ok()?;
        Some((entry.id(), entry.filemode()))
    }

    /// The blob git's index holds at `vault_path` (what the next `git commit` would take);
    /// None when the index lacks it or cannot be read.
    pub(crate) fn staged_blob(&self, vault_path: &str) -> Option<Oid> {
        let index = self.repo.index().ok()?;
        index.get_path(&self.repo_path(vault_path), 0).map(|entry| entry.id)
    }

    /// Commits `changes` onto HEAD with `message`, then updates the touched index entries.
    /// Returns the new commit's id, and why the git index could not be updated if it could not
    /// (the commit stands; `git status` then shows the touched paths as changed back). None
    /// when the changes leave HEAD's tree as it is (an untracked note removed): no empty commit.
    pub(crate) fn commit(
        &self,
        changes: &[Change],
        author: &CommitIdentity,
        message: &str,
    ) -> Result<Option<(Oid, Option<String>)>, git2::Error> {
        let repo = &self.repo;
        let parent = match repo.head() {
            Ok(head) => Some(head.peel_to_commit()?),
            Err(e) if e.code() == git2::ErrorCode::UnbornBranch || e.code() == git2::ErrorCode::NotFound => None,
            Err(e) => return Err(e),
        };
        let base = match &parent {
            Some(commit) => commit.tree()?,
            None => repo.find_tree(repo.treebuilder(None)?.write()?)?,
        };
        let mut update = git2::build::TreeUpdateBuilder::new();
        for change in changes {
            let path = slash_path(&self.repo_path(change.path));
            match change.bytes {
                Some(bytes) => {
                    let blob = repo.blob(bytes)?;
                    let mode = self.head_blob(change.path).map(|(_, mode)| mode);
                    let mode = if mode == Some(i32::from(FileMode::BlobExecutable)) {
                        FileMode::BlobExecutable
                    } else {
                        FileMode::Blob
                    };
                    update.upsert(path, blob, mode);
                }
                // A path HEAD never had (an untracked note deleted) is no change to its tree.
                None if base.get_path(Path::new(&path)).is_ok() => {
                    update.remove(path);
                }
                None => {}
            }
        }
        let tree = repo.find_tree(update.create_updated(repo, &base)?)?;
        if tree.id() == base.id() {
            let index_problem = self.update_index(changes).err();
            return index_problem.map_or(Ok(None), Err);
        }
        let signature = Signature::now(&author.name, &author.email)?;
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        let id = repo.commit(Some("HEAD"), &signature, &signature, message, &tree, &parents)?;
        let index_problem = self.update_index(changes).err().map(|e| format!("git index not updated: {}", e.message()));
        Ok(Some((id, index_problem)))
    }

    /// Brings the git index in line with the new HEAD for the touched paths only.
    fn update_index(&self, changes: &[Change]) -> Result<(), git2::Error> {
        let mut index = self.repo.index()?;
        for change in changes {
            let path = self.repo_path(change.path);
            match change.bytes {
                // Reads the file we just wrote, with its stat record, so git need not rehash it.
                Some(_) => index.add_path(&path)?,
                None => match index.remove_path(&path) {
                    Ok(()) => {}
                    Err(e) if e.code() == git2::ErrorCode::NotFound => {}
                    Err(e) => return Err(e),
                },
            }
        }
        index.write()
    }
}

fn slash_path(path: &Path) -> String {
    path.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// The blob id git would give `bytes`.
pub(crate) fn blob_id(bytes: &[u8]) -> Option<Oid> {
    Oid::hash_object(git2::ObjectType::Blob, bytes).ok()
}
