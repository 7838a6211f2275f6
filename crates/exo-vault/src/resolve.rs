//! Obsidian-compatible link resolution over the set of note paths and aliases.
//!
//! Order: exact path (relative to the linking note or to the root, `.md` optional), then
//! case-insensitive path, then path suffix, then case-insensitive file stem, then
//! frontmatter alias. Ties go to the shortest path, then the lexicographically first, so the
//! answer never depends on scan order. Both sides are compared in Unicode NFC.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

use crate::note::{Link, LinkKind};
use crate::path::{join_normalized, note_stem, parent_dir, strip_note_extension};
use crate::scan::is_note_path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// A note, by vault-relative path.
    Note(String),
    /// A non-markdown file in the vault (image, PDF…).
    Attachment(String),
    Unresolved,
}

impl Resolution {
    pub fn note(&self) -> Option<&str> {
        match self {
            Resolution::Note(p) => Some(p),
            _ => None,
        }
    }
}

/// Lower-case NFC: the form both sides of a case-insensitive comparison take.
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.nfc().flat_map(char::to_lowercase).collect()
}

/// The keys under which a note can be found by a link: its stem and its aliases.
/// A link can only resolve to a note sharing one of [`link_keys`], which lets an
/// incremental index re-resolve just the links a renamed or new note could affect.
pub fn note_keys(path: &str, aliases: &[String]) -> Vec<String> {
    let stem = note_stem(path);
    let mut keys = vec![fold(stem)];
    // `x/y.md.md` is what a link to `x/y.md` finds when `x/y.md` is not there, and that
    // link's stem key is `y`.
    let inner = strip_note_extension(stem);
    if inner != stem {
        keys.push(fold(inner));
    }
    keys.extend(aliases.iter().map(|a| fold(a.trim())));
    keys.sort();
    keys.dedup();
    keys
}

/// The key stored in place of a stem key for a link whose target ends in `/`, `.` or `..`
/// (`x/y/..` names `x.md`): such a link can name a note of any stem, so any change of names
/// must re-resolve it. No note has it: stems never contain `/`.
pub const ANY_STEM: &str = "/";

/// Whether the note `target` names has a stem the target does not spell: its last segment
/// is empty, `.` or `..`. See [`ANY_STEM`].
pub fn names_any_stem(target: &str) -> bool {
    let target = target.trim();
    !target.is_empty() && matches!(target.rsplit('/').next(), Some("" | "." | ".."))
}

/// (stem key, alias key) of a link target. See [`note_keys`].
pub fn link_keys(target: &str) -> (String, String) {
    if names_any_stem(target) {
        return (ANY_STEM.to_string(), fold(target.trim().trim_start_matches('/')));
    }
    let target = target.trim().trim_start_matches('/');
    let last = target.rsplit('/').next().unwrap_or(target);
    (fold(strip_note_extension(last)), fold(target))
}

/// The paths a link target names, in the order they are tried: relative to the linking note
/// and from the vault root. `target` is trimmed and in NFC.
fn bases(from: &str, target: &str, kind: LinkKind) -> Vec<String> {
    let rooted = target.starts_with('/');
    let bare = target.trim_start_matches('/');
    let relative = if rooted { None } else { join_normalized(parent_dir(from), bare) };
    let from_root = join_normalized("", bare);
    // Markdown links are relative to the note, as in any markdown renderer; wikilinks
    // name a path from the vault root first, as Obsidian writes them.
    match kind {
        LinkKind::Markdown => relative.into_iter().chain(from_root).collect(),
        _ => from_root.into_iter().chain(relative).collect(),
    }
}

/// Every key (stem key or alias key, as [`note_keys`] gives them) of every note the link
/// from `from` to `target` could resolve to. A resolver built from just the notes with
/// one of these keys resolves the link exactly as one built from every note: a small
/// change need not load the names of a whole vault. Wider than [`link_keys`]: a path with
/// `..` in it can name a note of another stem, and an empty target names `from` itself.
pub fn candidate_keys(from: &str, target: &str, kind: LinkKind) -> Vec<String> {
    let target: String = target.trim().nfc().collect();
    if target.is_empty() {
        return vec![fold(note_stem(from))];
    }
    let (stem_key, alias_key) = link_keys(&target);
    let mut keys = vec![stem_key, alias_key];
    for base in bases(from, &target, kind) {
        let name = base.rsplit('/').next().unwrap_or(&base);
        // `x/y.md` is tried as `x/y.md` and as `x/y.md.md`, whose stem is `y.md`.
        keys.push(fold(strip_note_extension(name)));
        keys.push(fold(name));
    }
    keys.sort();
    keys.dedup();
    keys
}

#[derive(Debug, Default)]
pub struct LinkResolver {
    exact: HashMap<String, String>,
    folded_path: HashMap<String, Vec<String>>,
    stem: HashMap<String, Vec<String>>,
    alias: HashMap<String, Vec<String>>,
    attachment_exact: HashMap<String, String>,
    attachment_name: HashMap<String, Vec<String>>,
}

fn better(a: &str, b: &str) -> bool {
    (a.len(), a) < (b.len(), b)
}

/// Two files whose names differ only in Unicode normalisation share one NFC key: the
/// better path keeps it, whichever order the names come in.
fn keep_best(map: &mut HashMap<String, String>, key: String, path: &str) {
    let slot = map.entry(key).or_insert_with(|| path.to_string());
    if better(path, slot) {
        *slot = path.to_string();
    }
}

fn pick_best(candidates: &[String]) -> Option<&String> {
    candidates.iter().reduce(|best, c| if better(c, best) { c } else { best })
}

impl LinkResolver {
    /// `notes` yields (path, aliases); `attachments` the other files links may point at.
    pub fn new<N, A>(notes: N, attachments: A) -> LinkResolver
    where
        N: IntoIterator<Item = (String, Vec<String>)>,
        A: IntoIterator<Item = String>,
    {
        let mut r = LinkResolver::default();
        for (path, aliases) in notes {
            let nfc: String = path.nfc().collect();
            keep_best(&mut r.exact, nfc.clone(), &path);
            r.folded_path.entry(fold(strip_note_extension(&nfc))).or_default().push(path.clone());
            r.stem.entry(fold(note_stem(&nfc))).or_default().push(path.clone());
            for alias in aliases {
                r.alias.entry(fold(alias.trim())).or_default().push(path.clone());
            }
        }
        for path in attachments {
            let nfc: String = path.nfc().collect();
            let name = nfc.rsplit('/').next().unwrap_or(&nfc);
            r.attachment_name.entry(fold(name)).or_default().push(path.clone());
            keep_best(&mut r.attachment_exact, nfc, &path);
        }
        r
    }

    pub fn resolve(&self, from: &str, link: &Link) -> Resolution {
        if link.is_self_link() {
            return Resolution::Note(from.to_string());
        }
        self.resolve_target(from, &link.target, link.kind)
    }

    pub fn resolve_target(&self, from: &str, target: &str, kind: LinkKind) -> Resolution {
        let target: String = target.trim().nfc().collect();
        if target.is_empty() {
            return Resolution::Note(from.to_string());
        }
        let bare = target.trim_start_matches('/');
        let bases = bases(from, &target, kind);
        self.by_path(&bases)
            .or_else(|| self.by_suffix(bare))
            .or_else(|| self.by_stem(bare))
            .or_else(|| pick_best(self.alias.get(&fold(bare))?.as_slice()).cloned())
            .map(Resolution::Note)
            .or_else(|| self.attachment(&bases, bare))
            .unwrap_or(Resolution::Unresolved)
    }

    fn by_path(&self, bases: &[String]) -> Option<String> {
        for base in bases {
            for candidate in [base.clone(), format!("{base}.md")] {
                if let Some(path) = self.exact.get(&candidate) {
                    return Some(path.clone());
                }
            }
        }
        bases
            .iter()
            .find_map(|base| pick_best(self.folded_path.get(&fold(strip_note_extension(base)))?.as_slice()).cloned())
    }

    fn by_suffix(&self, bare: &str) -> Option<String> {
        if !bare.contains('/') {
            return None;
        }
        let suffix = format!("/{}", fold(strip_note_extension(bare)));
        let (stem_key, _) = link_keys(bare);
        let candidates: Vec<String> = self
            .stem
            .get(&stem_key)?
            .iter()
            .filter(|p| fold(strip_note_extension(p)).ends_with(&suffix))
            .cloned()
            .collect();
        pick_best(&candidates).cloned()
    }

    fn by_stem(&self, bare: &str) -> Option<String> {
        if bare.contains('/') {
            return None;
        }
        pick_best(self.stem.get(&fold(strip_note_extension(bare)))?.as_slice()).cloned()
    }

    fn attachment(&self, bases: &[String], bare: &str) -> Option<Resolution> {
        if is_note_path(bare) {
            return None;
        }
        bases
            .iter()
            .find_map(|b| self.attachment_exact.get(b).cloned())
            .or_else(|| {
                let name = bare.rsplit('/').next().unwrap_or(bare);
                pick_best(self.attachment_name.get(&fold(name))?.as_slice()).cloned()
            })
            .map(Resolution::Attachment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver(paths: &[&str], aliases: &[(&str, &str)]) -> LinkResolver {
        let notes = paths.iter().map(|p| {
            let a = aliases.iter().filter(|(n, _)| n == p).map(|(_, a)| a.to_string()).collect();
            (p.to_string(), a)
        });
        LinkResolver::new(notes, ["assets/diagram.png".to_string()])
    }

    fn wiki(r: &LinkResolver, from: &str, target: &str) -> Resolution {
        r.resolve_target(from, target, LinkKind::Wiki)
    }

    fn note(p: &str) -> Resolution {
        Resolution::Note(p.to_string())
    }

    #[test]
    fn exact_path_with_or_without_extension() {
        let r = resolver(&["a/b.md", "b.md"], &[]);
        assert_eq!(wiki(&r, "x.md", "a/b"), note("a/b.md"));
        assert_eq!(wiki(&r, "x.md", "a/b.md"), note("a/b.md"));
        assert_eq!(wiki(&r, "x.md", "b"), note("b.md"));
    }

    #[test]
    fn markdown_links_are_relative_to_the_note() {
        let r = resolver(&["notes/b.md", "b.md", "notes/sub/c.md"], &[]);
        assert_eq!(r.resolve_target("notes/a.md", "b.md", LinkKind::Markdown), note("notes/b.md"));
        assert_eq!(r.resolve_target("notes/sub/c.md", "../b.md", LinkKind::Markdown), note("notes/b.md"));
        assert_eq!(r.resolve_target("notes/a.md", "/b.md", LinkKind::Markdown), note("b.md"));
        assert_eq!(r.resolve_target("notes/a.md", "../../x.md", LinkKind::Markdown), Resolution::Unresolved);
    }

    #[test]
    fn stem_is_case_insensitive_and_ties_go_to_shortest_then_lexicographic() {
        let r = resolver(&["deep/er/Note.md", "zz/note.md", "aa/note.md"], &[]);
        assert_eq!(wiki(&r, "x.md", "NOTE"), note("aa/note.md"));
    }

    #[test]
    fn path_suffix_matches_partial_paths() {
        let r = resolver(&["work/projects/Plan.md", "home/Plan.md"], &[]);
        assert_eq!(wiki(&r, "x.md", "projects/plan"), note("work/projects/Plan.md"));
    }

    #[test]
    fn aliases_resolve_after_stems() {
        let r = resolver(&["people/ana.md", "Ana Lima.md"], &[("people/ana.md", "Ana Lima"), ("people/ana.md", "AL")]);
        assert_eq!(wiki(&r, "x.md", "al"), note("people/ana.md"));
        assert_eq!(wiki(&r, "x.md", "Ana Lima"), note("Ana Lima.md"), "stem beats alias");
    }

    #[test]
    fn nfc_on_both_sides() {
        let decomposed = "Cafe\u{301}.md";
        let r = resolver(&[decomposed], &[]);
        assert_eq!(wiki(&r, "x.md", "Caf\u{e9}"), note(decomposed));
    }

    #[test]
    fn attachments_and_unresolved() {
        let r = resolver(&["a.md"], &[]);
        assert_eq!(wiki(&r, "x.md", "diagram.png"), Resolution::Attachment("assets/diagram.png".into()));
        assert_eq!(wiki(&r, "x.md", "missing"), Resolution::Unresolved);
        assert_eq!(wiki(&r, "x.md", "missing.pdf"), Resolution::Unresolved);
    }

    #[test]
    fn dotted_dendron_names() {
        let r = resolver(&["dendron.topic.cli.md", "dendron.topic.md"], &[]);
        assert_eq!(wiki(&r, "x.md", "dendron.topic.cli"), note("dendron.topic.cli.md"));
    }

    #[test]
    fn keys_agree_between_links_and_notes() {
        let keys = note_keys("a/My Note.md", &["Other Name".into()]);
        assert!(keys.contains(&link_keys("My note").0));
        assert!(keys.contains(&link_keys("x/my note.md").0));
        assert!(keys.contains(&link_keys("other name").1));
    }

    #[test]
    fn the_notes_with_a_candidate_key_resolve_every_link_as_all_notes_do() {
        let notes: Vec<(&str, Vec<&str>)> = vec![
            ("a.md", vec!["Alpha", "first"]),
            ("x/y.md", vec![]),
            ("x/y.md.md", vec![]),
            ("X/Y.md", vec![]),
            ("deep/x/y.md", vec!["why"]),
            ("deep/z.md", vec![]),
            ("dendron.a.b.md", vec![]),
            ("Cafe\u{301}.md", vec![]),
            ("café.md", vec!["coffee"]),
            ("b/c.markdown", vec!["see"]),
            ("top.md", vec!["x/y"]),
            ("x.md", vec![]),
            ("q/r.md.md", vec![]),
        ];
        let owned = |keep: &dyn Fn(&str, &[&str]) -> bool| -> Vec<(String, Vec<String>)> {
            notes
                .iter()
                .filter(|(path, aliases)| keep(path, aliases))
                .map(|(path, aliases)| (path.to_string(), aliases.iter().map(|a| a.to_string()).collect()))
                .collect()
        };
        let attachments = || ["assets/diagram.png".to_string()];
        let everything = LinkResolver::new(owned(&|_, _| true), attachments());
        let targets = [
            "",
            "a",
            "A.md",
            "/a",
            "alpha",
            " first ",
            "x/y",
            "x/y.md",
            "X/y",
            "y",
            "Y.MD",
            "deep/x/y",
            "why",
            "../x/y",
            "..",
            "../a",
            "./z",
            "z.md",
            "dendron.a.b",
            "dendron.a",
            "Café",
            "Cafe\u{301}",
            "coffee",
            "c",
            "b/c",
            "see",
            "c.markdown",
            "assets/diagram.png",
            "diagram.png",
            "nothing",
            "x/y/../../a",
            "deep/../a.md",
            "x/y/..",
            "x/y/../",
            "./x/y/..",
            "q/r.md",
            "./r.md",
            "r",
        ];
        let froms = ["a.md", "x/y.md", "deep/x/y.md", "deep/z.md", "b/c.markdown", "q/r.md.md"];
        for from in froms {
            for target in targets {
                for kind in [LinkKind::Wiki, LinkKind::Embed, LinkKind::Markdown] {
                    let keys = candidate_keys(from, target, kind);
                    let some = LinkResolver::new(
                        owned(&|path, aliases| {
                            let aliases: Vec<String> = aliases.iter().map(|a| a.to_string()).collect();
                            note_keys(path, &aliases).iter().any(|k| keys.contains(k))
                        }),
                        attachments(),
                    );
                    let (stem_key, _) = link_keys(target);
                    if !names_any_stem(target) && !target.trim().is_empty() {
                        // Outside those, a link resolves to a note of its own stem key or alias.
                        let named = everything.resolve_target(from, target, kind);
                        if let Some(path) = named.note() {
                            let aliases: Vec<String> = notes
                                .iter()
                                .find(|(p, _)| *p == path)
                                .map(|(_, a)| a.iter().map(|a| a.to_string()).collect())
                                .unwrap_or_default();
                            let keys = note_keys(path, &aliases);
                            assert!(
                                keys.contains(&stem_key) || keys.contains(&link_keys(target).1),
                                "{target:?} from {from} names {path}, keys {keys:?}"
                            );
                        }
                    }
                    assert_eq!(
                        some.resolve_target(from, target, kind),
                        everything.resolve_target(from, target, kind),
                        "{kind:?} link from {from} to {target:?} (keys {keys:?})"
                    );
                }
            }
        }
    }

    #[test]
    fn names_equal_after_normalisation_resolve_the_same_in_any_order() {
        let nfd = "Cafe\u{301}.md".to_string();
        let nfc = "Café.md".to_string();
        let forwards = LinkResolver::new([(nfd.clone(), vec![]), (nfc.clone(), vec![])], Vec::<String>::new());
        let backwards = LinkResolver::new([(nfc, vec![]), (nfd, vec![])], Vec::<String>::new());
        for target in ["Café", "Cafe\u{301}", "café.md"] {
            assert_eq!(
                forwards.resolve_target("a.md", target, LinkKind::Wiki),
                backwards.resolve_target("a.md", target, LinkKind::Wiki),
                "{target}"
            );
        }
    }
}
