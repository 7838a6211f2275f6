//! `move_note`: rename a note and rewrite every link to it, in every form, in one commit.
//!
//! The index (brought up to date first) says which notes link to the moved one; each of those
//! is parsed again and its links judged by exo's resolver (`exo_vault::LinkResolver`, the code
//! the index resolves with) as the vault is before the move and after it. The edits themselves
//! are `exo_vault::relink`'s: only a link's target changes, its form stays.

use std::collections::BTreeSet;

use exo_vault::{LinkKind, LinkResolver, Resolution, TextEdit};

use super::commit::Repo;
use super::land::Landing;
use super::lock::WriteLock;
use super::{MoveNoteRequest, WriteAnswer, WriteOrigin, Writer, atomic, target, uncommitted};
use crate::{ApiError, Exo, Result};

/// A note whose text the move changes.
struct Rewrite {
    path: String,
    text: String,
    links: usize,
}

/// Both sides of the move, and resolvers for the vault before and after it.
struct Move<'a> {
    from: &'a str,
    to: &'a str,
    before: LinkResolver,
    after: LinkResolver,
}

impl Move<'_> {
    fn resolves_to_old(&self, note: &str, link: &exo_vault::Link) -> bool {
        !link.is_self_link() && self.before.resolve(note, link).note() == Some(self.from)
    }

    /// Would `[[target]]`, written in the note that will be at `note`, find the moved note?
    fn finds_new(&self, note: &str, target: &str) -> bool {
        self.after.resolve_target(note, target, LinkKind::Wiki) == Resolution::Note(self.to.to_string())
    }
}

impl Exo {
    /// Moves a note to `to` (which must not exist), rewriting the links to it and its own
    /// relative links, and lands it all as one commit.
    pub fn move_note(&self, writer: &Writer, origin: &WriteOrigin, request: &MoveNoteRequest) -> Result<WriteAnswer> {
        let vault = self.vault();
        if let Some(refused) = target::escapes(&request.to) {
            return Err(refused);
        }
        let _lock = WriteLock::acquire(vault.root())?;
        let existing = self.existing_note(&request.from, request.base_hash.as_deref())?;
        let from = existing.path.clone();
        let to = target::new_note_path(vault, &destination(vault.root(), &request.to, &from))?;
        if std::fs::symlink_metadata(vault.root().join(&to)).is_ok() {
            return Err(ApiError::DestinationExists { path: to });
        }
        let repo = Repo::open(vault.root());
        uncommitted::check(repo.as_ref(), writer, &from, &existing.bytes, request.force)?;
        self.refresh_index()?;
        let graph = self.index.graph()?;
        let names = |moved: &str| -> Vec<(String, Vec<String>)> {
            let place = |path: &String| if *path == from { moved.to_string() } else { path.clone() };
            graph.notes().iter().map(|n| (place(&n.path), n.aliases.clone())).collect()
        };
        let plan = Move {
            from: &from,
            to: &to,
            before: LinkResolver::new(names(&from), Vec::new()),
            after: LinkResolver::new(names(&to), Vec::new()),
        };
        let linking: BTreeSet<String> = match graph.by_path(&from) {
            Some(id) => graph.incoming(id).map(|l| graph.note(l.src).path.clone()).filter(|p| *p != from).collect(),
            None => BTreeSet::new(),
        };
        let mut rewrites = Vec::new();
        for path in &linking {
            let bytes = read(vault, path)?;
            uncommitted::check(repo.as_ref(), writer, path, &bytes, request.force)?;
            if let Some(rewrite) = self.retarget(&plan, path, &bytes)? {
                rewrites.push(rewrite);
            }
        }
        let (moved_text, own_links) = self.moved_text(&plan, &existing.bytes)?;
        let mut checked = vec![(to.clone(), Some(moved_text.clone())), (from.clone(), None)];
        checked.extend(rewrites.iter().map(|r| (r.path.clone(), Some(r.text.clone()))));
        let warnings = self.policy_gate(&checked)?;
        write_all(vault.root(), &from, &to, &moved_text, &rewrites)?;
        let links = rewrites.iter().map(|r| r.links).sum::<usize>();
        let notes = rewrites.len();
        let mut changes = vec![(to.clone(), Some(moved_text.clone().into_bytes())), (from.clone(), None)];
        changes.extend(rewrites.into_iter().map(|r| (r.path, Some(r.text.into_bytes()))));
        let landing = Landing {
            done: format!("moved {from} -> {to}, {links} link(s) rewritten in {notes} note(s)"),
            hash: Some(exo_vault::content_hash(moved_text.as_bytes()).0),
            message: format!("exo: move {from} -> {to}, {links} links in {notes} notes"),
            changes,
            path: to.clone(),
            links_rewritten: Some(links),
            notes_rewritten: Some(notes),
            own_links_rebased: Some(own_links),
            linked_from: None,
            warnings,
        };
        self.land(writer, origin, repo.as_ref(), landing)
    }

    /// The note at `path` with its links to the moved note pointing at the new path; None when
    /// no link needs an edit.
    fn retarget(&self, plan: &Move, path: &str, bytes: &[u8]) -> Result<Option<Rewrite>> {
        let text = utf8(path, bytes)?;
        let note = exo_vault::parse_note(path, &text, &self.vault().parse_options());
        let edits = exo_vault::retarget_links(
            &text,
            path,
            &note.links,
            &|link| plan.resolves_to_old(path, link),
            plan.to,
            &|target| plan.finds_new(path, target),
        );
        let edited = exo_vault::apply_edits(&text, &edits);
        keeps_frontmatter(path, &note, &edits, &edited, &self.vault().parse_options())?;
        Ok((edited != text).then(|| Rewrite { path: path.to_string(), text: edited, links: edits.len() }))
    }

    /// The moved note's new text: its relative links rebased to the new folder, its links to
    /// itself retargeted. Returns the text and how many of its links changed.
    fn moved_text(&self, plan: &Move, bytes: &[u8]) -> Result<(String, usize)> {
        let text = utf8(plan.from, bytes)?;
        let note = exo_vault::parse_note(plan.from, &text, &self.vault().parse_options());
        let root = self.vault().root();
        let mut edits: Vec<TextEdit> = exo_vault::rebase_own_links(&text, &note.links, plan.from, plan.to, &|p| {
            std::fs::symlink_metadata(root.join(p)).is_ok()
        });
        let own = exo_vault::retarget_links(
            &text,
            plan.to,
            &note.links,
            &|link| plan.resolves_to_old(plan.from, link),
            plan.to,
            &|target| plan.finds_new(plan.to, target),
        );
        // A link both touch keeps the rebase (apply_edits drops the later overlapping edit).
        let own: Vec<TextEdit> = own.into_iter().filter(|e| !edits.iter().any(|r| overlaps(r, e))).collect();
        edits.extend(own);
        let edited = exo_vault::apply_edits(&text, &edits);
        keeps_frontmatter(plan.from, &note, &edits, &edited, &self.vault().parse_options())?;
        Ok((edited, edits.len()))
    }
}

/// `to` as a note path: a folder (`archive/`, or an existing folder's name) gets the moved
/// note's file name, as `mv` does.
fn destination(root: &std::path::Path, to: &str, from: &str) -> String {
    let to = to.trim();
    let folder = to.trim_end_matches('/');
    if !folder.is_empty() && (to.ends_with('/') || root.join(folder).is_dir()) {
        let name = from.rsplit('/').next().unwrap_or(from);
        return format!("{folder}/{name}");
    }
    to.to_string()
}

/// Refuses a rewrite that would leave `path`'s frontmatter unreadable where it was readable:
/// its properties (title, tags, aliases, their links) would be lost with it. The relinker
/// writes a link in a value as its scalar needs, so this guards what it cannot foresee. Only
/// a rewrite with an edit inside the frontmatter is parsed again: no other can change it.
fn keeps_frontmatter(
    path: &str,
    before: &exo_vault::Note,
    edits: &[TextEdit],
    edited: &str,
    options: &exo_vault::ParseOptions,
) -> Result<()> {
    let touched = before.frontmatter_span.as_ref().is_some_and(|block| edits.iter().any(|e| e.span.start < block.end));
    if !touched {
        return Ok(());
    }
    let unreadable =
        |note: &exo_vault::Note| note.warnings.iter().any(|w| w.kind == exo_vault::WarningKind::InvalidFrontmatter);
    if !unreadable(before) && unreadable(&exo_vault::parse_note(path, edited, options)) {
        return Err(ApiError::Invalid(format!(
            "moving would leave the frontmatter of {path} unreadable (a link in it cannot take the new name); rename the link there by hand, then move"
        )));
    }
    Ok(())
}

fn overlaps(a: &TextEdit, b: &TextEdit) -> bool {
    a.span.start < b.span.end && b.span.start < a.span.end
}

fn read(vault: &exo_vault::Vault, path: &str) -> Result<Vec<u8>> {
    let abs = vault.root().join(path);
    std::fs::read(&abs).map_err(|source| ApiError::CannotRead { path: abs, source })
}

fn utf8(path: &str, bytes: &[u8]) -> Result<String> {
    String::from_utf8(bytes.to_vec()).map_err(|_| {
        ApiError::Invalid(format!("{path} is not valid UTF-8, so exo cannot rewrite its links; fix its encoding first"))
    })
}

/// The linking notes first, then the moved note at its new path, then the old path removed: a
/// crash part-way leaves the note in place (maybe twice), never lost.
fn write_all(root: &std::path::Path, from: &str, to: &str, moved: &str, rewrites: &[Rewrite]) -> Result<()> {
    let failed = |path: &str| {
        let path = path.to_string();
        move |source| ApiError::WriteFailed { path, source }
    };
    for rewrite in rewrites {
        atomic::write(&root.join(&rewrite.path), rewrite.text.as_bytes()).map_err(failed(&rewrite.path))?;
    }
    atomic::write(&root.join(to), moved.as_bytes()).map_err(failed(to))?;
    atomic::remove(&root.join(from)).map_err(failed(from))
}
