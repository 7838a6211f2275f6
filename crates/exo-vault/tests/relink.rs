//! Link rewriting for a moved note, checked by parsing the rewritten text again and resolving
//! every link with exo's resolver over the vault as it is after the move.

use exo_vault::relink::{TextEdit, apply_edits, rebase_own_links, retarget_links};
use exo_vault::{Link, LinkKind, LinkResolver, ParseOptions, Resolution, parse_note};

/// A vault's notes (path, aliases) and attachments, before and after one note moves.
struct Vault {
    notes: Vec<(String, Vec<String>)>,
    attachments: Vec<String>,
}

impl Vault {
    fn new(notes: &[(&str, &[&str])], attachments: &[&str]) -> Vault {
        Vault {
            notes: notes.iter().map(|(p, a)| (p.to_string(), a.iter().map(|a| a.to_string()).collect())).collect(),
            attachments: attachments.iter().map(|a| a.to_string()).collect(),
        }
    }

    fn resolver(&self) -> LinkResolver {
        LinkResolver::new(self.notes.clone(), self.attachments.clone())
    }

    fn moved(&self, old: &str, new: &str) -> Vault {
        let notes = self.notes.iter().map(|(p, a)| (if p == old { new.to_string() } else { p.clone() }, a.clone()));
        Vault { notes: notes.collect(), attachments: self.attachments.clone() }
    }

    fn exists(&self, path: &str) -> bool {
        self.notes.iter().any(|(p, _)| p == path) || self.attachments.iter().any(|a| a == path)
    }
}

fn parse(path: &str, text: &str) -> Vec<Link> {
    parse_note(path, text, &ParseOptions::default()).links
}

/// The text of note `from` after `old` moves to `new`, as move_note computes it.
fn retarget(vault: &Vault, from: &str, text: &str, old: &str, new: &str) -> String {
    let (before, after) = (vault.resolver(), vault.moved(old, new).resolver());
    let links = parse(from, text);
    let edits =
        retarget_links(text, from, &links, &|link| before.resolve(from, link).note() == Some(old), new, &|target| {
            after.resolve_target(from, target, LinkKind::Wiki).note() == Some(new)
        });
    apply_edits(text, &edits)
}

/// The moved note's own text after it moves from `old` to `new`: its relative links rebased
/// and its links to itself retargeted.
fn relink_moved(vault: &Vault, text: &str, old: &str, new: &str) -> String {
    let (before, after) = (vault.resolver(), vault.moved(old, new).resolver());
    let links = parse(old, text);
    let mut edits: Vec<TextEdit> = rebase_own_links(text, &links, old, new, &|p| vault.exists(p));
    edits.extend(retarget_links(
        text,
        new,
        &links,
        &|link| before.resolve(old, link).note() == Some(old),
        new,
        &|target| after.resolve_target(new, target, LinkKind::Wiki).note() == Some(new),
    ));
    apply_edits(text, &edits)
}

/// Every link of the rewritten text keeps its kind, heading, block and display, and resolves
/// after the move to what it resolved to before (the moved note now at `new`).
fn assert_round_trip(vault: &Vault, before: (&str, &str), after: (&str, &str), old: &str, new: &str) {
    let (resolver_before, resolver_after) = (vault.resolver(), vault.moved(old, new).resolver());
    let (old_links, new_links) = (parse(before.0, before.1), parse(after.0, after.1));
    assert_eq!(old_links.len(), new_links.len(), "link count changed:\n{}", after.1);
    for (was, now) in old_links.iter().zip(&new_links) {
        let form = |l: &Link| (l.kind, l.heading.clone(), l.block.clone(), l.display.clone(), l.line);
        assert_eq!(form(was), form(now), "{was:?} became {now:?}");
        let expected = match resolver_before.resolve(before.0, was) {
            Resolution::Note(p) if p == old => Resolution::Note(new.to_string()),
            other => other,
        };
        assert_eq!(resolver_after.resolve(after.0, now), expected, "{was:?} became {now:?}");
    }
}

fn vault() -> Vault {
    Vault::new(
        &[
            ("folder/old.md", &["Old Alias"]),
            ("a/n.md", &[]),
            ("old-notes.md", &[]),
            ("other.md", &[]),
            ("folder/sibling.md", &[]),
        ],
        &["pics/p.png"],
    )
}

#[test]
fn every_link_form_is_retargeted_and_nothing_else_changes() {
    let text = "---\ntitle: N\n---\n\
        # N\n\
        [[old]] [[Old.md]] [[folder/old#Heading|alias]] ![[old#^block]] ![[old]] [[Old Alias]]\n\
        [[ old # h | al ]] [[/folder/old]]\n\
        [t](../folder/old.md \"title (x)\") [a](/folder/old.md) [b](../folder/old#h) ![e](../folder/old.md#^b)\n\
        [ref][r] and [r] and [r][] and [![img](../pics/p.png)](../folder/old.md)\n\
        [[old-notes]] [[other]] [o](../other.md) [[oldx]] [x](../folder/old.mdx) [[#self]] [s](#h)\n\
        \n\
        | col | link |\n|---|---|\n| 1 | [[old\\|al]] |\n\
        \n\
        `[[old]]` and `[c](../folder/old.md)`\n\
        ```\n[[old]] [c](../folder/old.md)\n```\n\
        \n\
        [r]: ../folder/old.md \"T\"\n";
    let expected = "---\ntitle: N\n---\n\
        # N\n\
        [[new]] [[new.md]] [[archive/new#Heading|alias]] ![[new#^block]] ![[new]] [[Old Alias]]\n\
        [[ new # h | al ]] [[/archive/new]]\n\
        [t](../archive/new.md \"title (x)\") [a](/archive/new.md) [b](../archive/new#h) ![e](../archive/new.md#^b)\n\
        [ref][r] and [r] and [r][] and [![img](../pics/p.png)](../archive/new.md)\n\
        [[old-notes]] [[other]] [o](../other.md) [[oldx]] [x](../folder/old.mdx) [[#self]] [s](#h)\n\
        \n\
        | col | link |\n|---|---|\n| 1 | [[new\\|al]] |\n\
        \n\
        `[[old]]` and `[c](../folder/old.md)`\n\
        ```\n[[old]] [c](../folder/old.md)\n```\n\
        \n\
        [r]: ../archive/new.md \"T\"\n";
    let v = vault();
    let rewritten = retarget(&v, "a/n.md", text, "folder/old.md", "archive/new.md");
    assert_eq!(rewritten, expected);
    assert_round_trip(&v, ("a/n.md", text), ("a/n.md", &rewritten), "folder/old.md", "archive/new.md");
}

#[test]
fn a_bare_name_that_would_be_ambiguous_becomes_a_path() {
    let v = Vault::new(&[("folder/old.md", &[]), ("n.md", &[]), ("x/new.md", &[])], &[]);
    let text = "[[old]] and [[old|Old one]]\n";
    let rewritten = retarget(&v, "n.md", text, "folder/old.md", "archive/new.md");
    assert_eq!(rewritten, "[[archive/new]] and [[archive/new|Old one]]\n");
    assert_round_trip(&v, ("n.md", text), ("n.md", &rewritten), "folder/old.md", "archive/new.md");
}

#[test]
fn a_move_that_keeps_the_name_leaves_bare_names_and_fixes_paths() {
    let v = vault();
    let text = "[[old]] [[folder/old]] [m](../folder/old.md)\n";
    let rewritten = retarget(&v, "a/n.md", text, "folder/old.md", "archive/old.md");
    assert_eq!(rewritten, "[[old]] [[archive/old]] [m](../archive/old.md)\n");
}

#[test]
fn spaces_and_unicode_keep_the_original_encoding() {
    let v = Vault::new(&[("folder/Ürl old.md", &[]), ("a/n.md", &[])], &[]);
    let text = "[p](../folder/%C3%9Crl%20old.md) [q](<../folder/Ürl old.md#Sec tion>) [r](../folder/Ürl%20old.md)\n\
        [[Ürl old]] [[folder/Ürl old#x|y]]\n";
    let (old, new) = ("folder/Ürl old.md", "Zettel/Café notes (draft).md");
    let rewritten = retarget(&v, "a/n.md", text, old, new);
    assert_eq!(
        rewritten,
        "[p](../Zettel/Caf%C3%A9%20notes%20(draft).md) [q](<../Zettel/Café notes (draft).md#Sec tion>) \
         [r](../Zettel/Café%20notes%20(draft).md)\n[[Café notes (draft)]] [[Zettel/Café notes (draft)#x|y]]\n"
    );
    assert_round_trip(&v, ("a/n.md", text), ("a/n.md", &rewritten), old, new);
}

#[test]
fn a_percent_sign_or_hash_in_the_new_name_is_encoded() {
    let v = Vault::new(&[("old.md", &[]), ("n.md", &[])], &[]);
    let text = "[p](old.md) [q](<old.md>)\n";
    let rewritten = retarget(&v, "n.md", text, "old.md", "50% #1.md");
    assert_eq!(rewritten, "[p](50%25%20%231.md) [q](<50%25 %231.md>)\n");
    assert_round_trip(&v, ("n.md", text), ("n.md", &rewritten), "old.md", "50% #1.md");
}

#[test]
fn dot_slash_and_same_folder_links_stay_relative() {
    let v = vault();
    let text = "[s](./old.md) [t](old.md)\n";
    let same = retarget(&v, "folder/sibling.md", text, "folder/old.md", "folder/new.md");
    assert_eq!(same, "[s](./new.md) [t](new.md)\n");
    let away = retarget(&v, "folder/sibling.md", text, "folder/old.md", "archive/new.md");
    assert_eq!(away, "[s](../archive/new.md) [t](../archive/new.md)\n");
    assert_round_trip(&v, ("folder/sibling.md", text), ("folder/sibling.md", &away), "folder/old.md", "archive/new.md");
}

#[test]
fn dendron_links_name_the_target_after_the_pipe() {
    let text = "[[Label|old]]\n";
    let options = ParseOptions { link_style: exo_vault::LinkStyle::Dendron, ..ParseOptions::default() };
    let links = parse_note("n.md", text, &options).links;
    let edits = retarget_links(text, "n.md", &links, &|_| true, "new.md", &|t| t == "new");
    assert_eq!(apply_edits(text, &edits), "[[Label|new]]\n");
}

#[test]
fn a_byte_order_mark_shifts_nothing() {
    let v = vault();
    let text = "\u{feff}---\na: 1\n---\n[[old]] [m](../folder/old.md)\n";
    let rewritten = retarget(&v, "a/n.md", text, "folder/old.md", "archive/new.md");
    assert_eq!(rewritten, "\u{feff}---\na: 1\n---\n[[new]] [m](../archive/new.md)\n");
}

/// A frontmatter whose first line is blank (an Excalidraw drawing's) is skipped as the parser
/// skips it: read as markdown, the indented fence in its YAML opened a code block that hid
/// the body's links from the rewrite.
#[test]
fn a_frontmatter_opening_with_a_blank_line_shifts_nothing() {
    let v = vault();
    let text = "---\n\nexcalidraw-plugin: parsed\nscript: |\n  ```\n---\n[[old]] [m](../folder/old.md)\n";
    let rewritten = retarget(&v, "a/n.md", text, "folder/old.md", "archive/new.md");
    assert_eq!(rewritten, "---\n\nexcalidraw-plugin: parsed\nscript: |\n  ```\n---\n[[new]] [m](../archive/new.md)\n");
}

#[test]
fn the_moved_note_keeps_its_relative_links_pointing_at_the_same_files() {
    let v = Vault::new(
        &[("a/b/n.md", &[]), ("a/x.md", &[]), ("root.md", &[]), ("a/b/near.md", &[])],
        &["a/b/pics/p.png", "a/b/doc.pdf"],
    );
    let (old, new) = ("a/b/n.md", "c/n2.md");
    let text = "# N\n\
        [x](../x.md) ![img](pics/p.png) [y](missing.md) [z](/root.md) [w](https://e.com/a.md) [near](./near.md#h)\n\
        [[../x]] [[root]] [[n#h]] [me](n.md#h) [pdf](<doc.pdf>) [[#h]]\n\
        [d][] `[c](../x.md)`\n\n\
        [d]: ../x \"T\"\n";
    let rewritten = relink_moved(&v, text, old, new);
    assert_eq!(
        rewritten,
        "# N\n\
        [x](../a/x.md) ![img](../a/b/pics/p.png) [y](missing.md) [z](/root.md) [w](https://e.com/a.md) [near](../a/b/near.md#h)\n\
        [[../a/x]] [[root]] [[n2#h]] [me](n2.md#h) [pdf](<../a/b/doc.pdf>) [[#h]]\n\
        [d][] `[c](../x.md)`\n\n\
        [d]: ../a/x \"T\"\n"
    );
    assert_round_trip(&v, (old, text), (new, &rewritten), old, new);
}

#[test]
fn edits_apply_in_any_order_and_an_overlapping_one_is_dropped() {
    let edit = |start, end, text: &str| TextEdit { span: exo_vault::Span::new(start, end), text: text.to_string() };
    let text = "abcdef";
    assert_eq!(apply_edits(text, &[edit(4, 5, "E"), edit(0, 1, "A")]), "AbcdEf");
    assert_eq!(apply_edits(text, &[edit(1, 3, "X"), edit(2, 4, "Y"), edit(6, 6, "!")]), "aXdef!");
    assert_eq!(apply_edits(text, &[edit(3, 99, "bad")]), text);
}

mod properties {
    use exo_vault::path::{note_stem, strip_note_extension};
    use exo_vault::relink::{apply_edits, retarget_links};
    use exo_vault::{LinkStyle, ParseOptions, parse_note};
    use proptest::prelude::*;

    /// Link forms naming `old` or something else, mixed with markup that moves them around or
    /// hides them in code.
    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("[[old]]".to_string()),
            Just("[[Old.md#h|al]]".to_string()),
            Just("![[old#^b]]".to_string()),
            Just("[[ old | x ]]".to_string()),
            Just("[t](old.md)".to_string()),
            Just("[t](<old.md> \"ti\")".to_string()),
            Just("![i](./old.md#h)".to_string()),
            Just("[*t* `c`](old 'x')".to_string()),
            Just("[r]".to_string()),
            Just("[t][r]".to_string()),
            Just("\n[r]: old.md\n".to_string()),
            Just("\n[r]: <old.md> \"T\"\n".to_string()),
            Just("[[other]]".to_string()),
            Just("[o](other.md)".to_string()),
            Just("[[old-notes]]".to_string()),
            Just("[[".to_string()),
            Just("]]".to_string()),
            Just("](".to_string()),
            Just("|".to_string()),
            Just("\\".to_string()),
            Just("`".to_string()),
            Just("```\n".to_string()),
            Just("\n".to_string()),
            Just("\n\n".to_string()),
            Just("> ".to_string()),
            Just("- ".to_string()),
            Just("# ".to_string()),
            Just("| a | b |\n|---|---|\n".to_string()),
            Just("\u{feff}".to_string()),
            Just("é".to_string()),
            "[a-z ]{1,6}",
        ]
    }

    /// What a resolver over a vault with `old.md` at the root resolves to it.
    fn is_old(target: &str) -> bool {
        let target = target.trim();
        strip_note_extension(target.strip_prefix("./").unwrap_or(target)).eq_ignore_ascii_case("old")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Every link the parser reports as naming `old` is found and rewritten to `new`; no
        /// other link changes; kinds, headings and blocks survive.
        #[test]
        fn every_link_to_the_moved_note_is_found(parts in prop::collection::vec(fragment(), 0..40), dendron in any::<bool>()) {
            let text = parts.concat();
            let style = if dendron { LinkStyle::Dendron } else { LinkStyle::Obsidian };
            let options = ParseOptions { link_style: style, ..ParseOptions::default() };
            let before = parse_note("n.md", &text, &options).links;
            let edits = retarget_links(&text, "n.md", &before, &|l| is_old(&l.target), "new.md", &|t| t == "new");
            let rewritten = apply_edits(&text, &edits);
            let after = parse_note("n.md", &rewritten, &options).links;
            prop_assert_eq!(before.len(), after.len(), "{:?} -> {:?}", text, rewritten);
            for (was, now) in before.iter().zip(&after) {
                prop_assert_eq!((was.kind, &was.heading, &was.block), (now.kind, &now.heading, &now.block));
                if is_old(&was.target) {
                    prop_assert!(note_stem(&now.target) == "new", "{:?} -> {:?} in {:?}", was, now, rewritten);
                } else {
                    prop_assert_eq!(&was.target, &now.target);
                }
            }
        }
    }
}

#[test]
fn reference_labels_match_their_definition_as_commonmark_matches_them() {
    let v = Vault::new(&[("old.md", &[]), ("n.md", &[])], &[]);
    let text = "[a][ My  Ref ] [b][my ref] [My\nref][]\n\n[my ref]: <old.md> 'T'\n> [q]: old.md\n\n[c][Q]\n";
    let rewritten = retarget(&v, "n.md", text, "old.md", "new.md");
    assert_eq!(rewritten, text.replace("old.md", "new.md"));
    assert_round_trip(&v, ("n.md", text), ("n.md", &rewritten), "old.md", "new.md");
}

#[test]
fn a_dendron_label_that_ends_with_the_target_stays_as_written() {
    let options = ParseOptions { link_style: exo_vault::LinkStyle::Dendron, ..ParseOptions::default() };
    let rewrite = |text: &str| {
        let links = parse_note("n.md", text, &options).links;
        let edits = retarget_links(text, "n.md", &links, &|_| true, "new.md", &|t| t == "new");
        apply_edits(text, &edits)
    };
    assert_eq!(rewrite("[[Read old|old]]\n"), "[[Read old|new]]\n");
    assert_eq!(rewrite("[[old|old#h]]\n"), "[[old|new#h]]\n");
    assert_eq!(rewrite("[[Old book|dendron://v/old]]\n"), "[[Old book|dendron://v/new]]\n");
    // Both sides name the note alike: which is the label cannot be told, so both change and
    // the link resolves under either style.
    assert_eq!(rewrite("[[old|old]]\n"), "[[new|new]]\n");
}

#[test]
fn an_obsidian_alias_that_ends_with_the_target_stays_as_written() {
    let v = Vault::new(&[("old.md", &[]), ("n.md", &[])], &[]);
    let text = "[[old|Read old]] [[old#h|old]]\n";
    let rewritten = retarget(&v, "n.md", text, "old.md", "new.md");
    assert_eq!(rewritten, "[[new|Read old]] [[new#h|old]]\n");
    assert_round_trip(&v, ("n.md", text), ("n.md", &rewritten), "old.md", "new.md");
}

#[test]
fn relative_wikilinks_in_linking_notes_stay_relative() {
    let v = vault();
    let text = "[[./old]] [[./old#h|x]] ![[../folder/old]]\n";
    let same = retarget(&v, "folder/sibling.md", text, "folder/old.md", "folder/new.md");
    assert_eq!(same, "[[./new]] [[./new#h|x]] ![[./new]]\n");
    assert_round_trip(&v, ("folder/sibling.md", text), ("folder/sibling.md", &same), "folder/old.md", "folder/new.md");
    let away = retarget(&v, "folder/sibling.md", text, "folder/old.md", "archive/new.md");
    assert_eq!(away, "[[../archive/new]] [[../archive/new#h|x]] ![[../archive/new]]\n");
    assert_round_trip(&v, ("folder/sibling.md", text), ("folder/sibling.md", &away), "folder/old.md", "archive/new.md");
    // A root note of the same name would win over `./new`: the link gets the vault path.
    let shadowed = Vault::new(&[("folder/old.md", &[]), ("folder/sibling.md", &[]), ("new.md", &[])], &[]);
    let text = "[[./old]]\n";
    let rewritten = retarget(&shadowed, "folder/sibling.md", text, "folder/old.md", "folder/new.md");
    assert_eq!(rewritten, "[[folder/new]]\n");
    assert_round_trip(
        &shadowed,
        ("folder/sibling.md", text),
        ("folder/sibling.md", &rewritten),
        "folder/old.md",
        "folder/new.md",
    );
}

#[test]
fn an_entity_in_a_destination_is_not_a_fragment() {
    let v = vault();
    let text = "[t](../folder/old&#46;md) [u](../folder/old&#x2E;md#h) [w](../folder/old.md#&#49;)\n";
    let rewritten = retarget(&v, "a/n.md", text, "folder/old.md", "archive/new.md");
    assert_eq!(rewritten, "[t](../archive/new.md) [u](../archive/new.md#h) [w](../archive/new.md#&#49;)\n");
    assert_round_trip(&v, ("a/n.md", text), ("a/n.md", &rewritten), "folder/old.md", "archive/new.md");
}

#[test]
fn a_rooted_bare_name_stays_rooted() {
    let v = vault();
    let text = "[[/old]] [[/Old Alias]]\n";
    let rewritten = retarget(&v, "a/n.md", text, "folder/old.md", "archive/new.md");
    assert_eq!(rewritten, "[[/new]] [[/Old Alias]]\n");
    assert_round_trip(&v, ("a/n.md", text), ("a/n.md", &rewritten), "folder/old.md", "archive/new.md");
}

/// A `---` … `---` stretch mid-note is body to the relinker as to the parser: a link in it is
/// rewritten (read as a metadata block, it was left pointing at the old name).
#[test]
fn a_link_between_two_rules_mid_note_is_rewritten() {
    let v = vault();
    let text = "Tags:\n- [[tag]]\n---\n- see [[old]], [m](../folder/old.md), [r][d]\n---\n[d]: ../folder/old.md\n";
    let rewritten = retarget(&v, "a/n.md", text, "folder/old.md", "archive/new.md");
    assert_eq!(
        rewritten,
        "Tags:\n- [[tag]]\n---\n- see [[new]], [m](../archive/new.md), [r][d]\n---\n[d]: ../archive/new.md\n"
    );
}

/// A property link (`parent: "[[old]]"`) names the note like a wikilink in the body and moves
/// with it, written back as its YAML scalar needs (a quote doubled in a single-quoted value, an
/// escape read and written in a double-quoted one); a comment is left as written, even when it
/// says what a value says.
#[test]
fn a_link_in_a_frontmatter_value_is_rewritten() {
    let v = vault();
    let text = "---\nparent: \"[[old|Old]]\"\nsingle: '[[old]]' # was [[old]]\nescaped: \"[[\\u006fld]]\"\n\
                related:\n  - \"[[Old Alias]]\"\n  - \"[[../folder/old#Top]]\"\n# was [[old]]\n---\nBody [[old]]\n";
    let rewritten = retarget(&v, "a/n.md", text, "folder/old.md", "archive/it's.md");
    assert_eq!(
        rewritten,
        "---\nparent: \"[[it's|Old]]\"\nsingle: '[[it''s]]' # was [[old]]\nescaped: \"[[it's]]\"\n\
         related:\n  - \"[[Old Alias]]\"\n  - \"[[../archive/it's#Top]]\"\n# was [[old]]\n---\nBody [[it's]]\n"
    );
    let reparsed = parse("a/n.md", &rewritten);
    assert_eq!(reparsed.iter().filter(|l| l.kind == LinkKind::Property).count(), 5, "{reparsed:?}");
}
