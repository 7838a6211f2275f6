//! `exo garden` and `exo wander` on vault-example (whose planted defects are listed in its
//! README), on the stale-summary fixture in a real git history, and without git.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::quickstart::example_vault;
use crate::support::TestVault;

fn fixture(version: &str, name: &str) -> String {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/stale-summary").join(version).join(name);
    std::fs::read_to_string(path).unwrap()
}

/// vault-example in a git repository whose history has the Memory Palace note as it was
/// before its body was rewritten, as this repository's own history does.
fn example_with_history() -> TestVault {
    let v = example_vault();
    let current = std::fs::read_to_string(v.root.join("concepts/Memory Palace.md")).unwrap();
    v.git_ok(["init", "-q", "-b", "main"]);
    v.write("concepts/Memory Palace.md", &fixture("v1", "Memory Palace.md"));
    v.commit_all("vault as it was");
    v.write("concepts/Memory Palace.md", &current);
    v.commit_all("Memory Palace moves on to VR rooms");
    v.exo_ok(["index"]);
    v
}

fn garden_json(v: &TestVault, args: &[&str]) -> Value {
    let mut all = vec!["garden", "--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&v.exo_ok(all)).unwrap()
}

/// (kind, path, related...) of every finding, the shape the README's table lists.
fn found(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let related: Vec<&str> = f["related"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
            format!("{} {} {}", f["kind"].as_str().unwrap(), f["path"].as_str().unwrap(), related.join(" "))
                .trim_end()
                .to_string()
        })
        .collect()
}

const PLANTED: &[&str] = &[
    "orphan concepts/Pomodoro Technique.md",
    "orphan people/Barbara Oakley.md",
    "unresolved books/How We Learn (Carey).md books/Make It Stick.md",
    "unresolved daily/2024-03-01.md",
    "unresolved concepts/Chunking in Working Memory.md",
    "unlinked-mention concepts/Chunking in Working Memory.md concepts/Active Recall.md",
    "unlinked-mention books/Make It Stick.md concepts/Forgetting Curve.md",
    "unlinked-mention people/Sönke Ahrens.md concepts/Evergreen Notes.md",
    "similar-unlinked concepts/Leitner System.md projects/Anki Workflow.md",
    "near-duplicate concepts/Active Recall.md daily/2024-03-02 retrieval practice.md",
    "stale-summary concepts/Memory Palace.md",
    "stub concepts/Desirable Difficulty.md",
    "stub concepts/Elaborative Interrogation.md",
    "invalid-frontmatter books/Building a Second Brain.md",
];

#[test]
fn garden_finds_every_planted_defect_and_nothing_else() {
    let v = example_with_history();
    let report = garden_json(&v, &[]);
    let planted: BTreeSet<String> = PLANTED.iter().map(|s| s.to_string()).collect();
    let got = found(&report);
    let missed: Vec<_> = planted.difference(&got).collect();
    let extra: Vec<_> = got.difference(&planted).collect();
    let hits = planted.intersection(&got).count();
    eprintln!(
        "planted defects: precision {:.2}, recall {:.2} ({hits} of {} found, {} extra)",
        hits as f64 / got.len().max(1) as f64,
        hits as f64 / planted.len() as f64,
        planted.len(),
        extra.len()
    );
    assert!(missed.is_empty() && extra.is_empty(), "missed {missed:#?}\nextra {extra:#?}\n{report:#}");
    assert!(report["skipped"].as_array().unwrap().is_empty(), "{report:#}");
    // Found at the default settings, the default minimum confidence included: the cut that
    // keeps a real vault's report short must not cost a planted defect.
    let min = report["settings"]["min_confidence"].as_f64().unwrap();
    assert!(min >= 0.5, "the default cut is what this test guards: {min}");
    let findings = report["findings"].as_array().unwrap();
    assert!(findings.iter().all(|f| f["confidence"].as_f64().unwrap() >= min), "{report:#}");
    assert_confidence_orders_each_kind(&report);
    assert_eq!(report["index_status"], "Synced");

    let wanted: BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "unresolved")
        .map(|f| f["evidence"]["target"].as_str().unwrap())
        .collect();
    assert_eq!(wanted, BTreeSet::from(["Interleaved Practice", "Sleep and Memory", "missing-note.md"]));
    let mention = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "unlinked-mention" && f["path"] == "books/Make It Stick.md")
        .unwrap();
    assert!(mention["evidence"]["context"].as_str().unwrap().contains("forgetting curve is the background"));
    assert!(mention["fix"].as_str().unwrap().contains("[[Forgetting Curve]]"), "{mention:#}");
}

/// Within each kind the most confident finding comes first, and every guess says why.
fn assert_confidence_orders_each_kind(report: &Value) {
    let findings = report["findings"].as_array().unwrap();
    for pair in findings.windows(2) {
        if pair[0]["kind"] == pair[1]["kind"] {
            let (a, b) = (pair[0]["confidence"].as_f64().unwrap(), pair[1]["confidence"].as_f64().unwrap());
            assert!(a >= b, "{} before {} in {}", a, b, pair[0]["kind"]);
        }
    }
    for f in findings.iter().filter(|f| f["kind"] == "unlinked-mention" || f["kind"] == "similar-unlinked") {
        assert!(!f["evidence"]["confidence_reasons"].as_array().unwrap().is_empty(), "{f:#}");
    }
}

#[test]
fn min_confidence_leaves_out_guesses_and_counts_them() {
    let v = example_with_history();
    let all = garden_json(&v, &["--min-confidence", "0"]);
    let default = garden_json(&v, &[]);
    assert!(all["below_confidence"].as_object().unwrap().is_empty(), "{all:#}");
    assert_eq!((all["min_confidence"].as_f64(), default["min_confidence"].as_f64()), (Some(0.0), Some(0.5)));
    assert_confidence_orders_each_kind(&all);
    let (all_found, default_found) = (found(&all), found(&default));
    assert!(default_found.is_subset(&all_found));
    let hidden: u64 = default["below_confidence"].as_object().unwrap().values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(all_found.len() - default_found.len(), hidden as usize, "what the cut leaves out is counted");
    // At 1 only the facts are left: orphans, wanted notes, stubs are not guesses.
    let facts = garden_json(&v, &["--min-confidence", "1"]);
    let kinds: BTreeSet<&str> =
        facts["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains("orphan") && kinds.contains("unresolved") && kinds.contains("stub"), "{kinds:?}");
    assert!(!kinds.contains("unlinked-mention") && !kinds.contains("similar-unlinked"), "{kinds:?}");
    let human = v.exo_ok(["garden", "--min-confidence", "1"]);
    assert!(human.contains("less likely candidates left out"), "{human}");

    let bad = v.exo(["garden", "--min-confidence", "1.5"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("between 0 and 1"));
}

/// A generated vault (no vectors) where one title is a word every note uses, written with a
/// capital as a name would be, and another is a name most notes that use it link: the name's
/// unlinked mention is reported at the default cut, the word's are not.
#[test]
fn garden_takes_a_title_most_notes_use_for_a_word_and_reports_a_specific_name() {
    let v = small_vault_without_vectors();
    // Long enough not to be a stub: the word, not the note, is what keeps it out.
    let body = "How the search box finds notes, ranks them and shows why. ".repeat(5);
    v.write("Search.md", &format!("# Search\n\n{body}\n"));
    v.write(
        "Spaced Repetition Systems.md",
        "# Spaced Repetition Systems\n\nSoftware that schedules reviews at growing intervals.\n",
    );
    for i in 0..30 {
        let link = if i < 4 { "Reviews are planned by [[Spaced Repetition Systems]]." } else { "" };
        v.write(
            &format!("topic {i:02}.md"),
            &format!("# Topic {i:02}\n\nWe use the Search box for words here. {link}\n"),
        );
    }
    v.write("planted.md", "# Planted\n\nI keep my cards in spaced repetition systems and search them.\n");
    v.exo_ok(["index"]);
    let report = garden_json(&v, &["--only", "unlinked-mention"]);
    let got = found(&report);
    assert!(got.contains("unlinked-mention planted.md Spaced Repetition Systems.md"), "{report:#}");
    assert!(!got.iter().any(|f| f.ends_with(" Search.md")), "\"search\" is a word here: {got:#?}");
    assert!(report["below_confidence"]["unlinked-mention"].as_u64().unwrap() >= 30, "{report:#}");
}

/// An empty note (a tag page some vaults link from a "Tags:" line, a placeholder) has nothing
/// to read: its name in prose is no missing link, at any confidence. Once it has text, it is.
#[test]
fn an_empty_note_is_never_the_target_of_a_mention() {
    let v = small_vault_without_vectors();
    v.write("Tags/Kernel Modules.md", "");
    v.write("Other.md", "# Other\n\nLoading kernel modules at boot needs care, and more text follows here.\n");
    v.exo_ok(["index"]);
    let mention = "unlinked-mention Other.md Tags/Kernel Modules.md";
    let report = garden_json(&v, &["--only", "unlinked-mention", "--min-confidence", "0"]);
    assert!(!found(&report).contains(mention), "{report:#}");
    v.write("Tags/Kernel Modules.md", "# Kernel Modules\n\nCode the kernel loads and unloads while it runs.\n");
    v.exo_ok(["index"]);
    let report = garden_json(&v, &["--only", "unlinked-mention", "--min-confidence", "0"]);
    assert!(found(&report).contains(mention), "{report:#}");
}

/// Callout titles, the app's own menu words and a name inside a longer one are weighed below
/// the same name in running prose, and the evidence says where each mention stands.
#[test]
fn mentions_in_callout_titles_menus_and_longer_names_weigh_less_than_in_prose() {
    let v = small_vault_without_vectors();
    v.write(
        "Core Plugins.md",
        "# Core Plugins\n\nThe plugins that ship with the app, each one turned on in settings.\n",
    );
    v.write("Database.md", "# Database\n\nAn organised store of records that a program queries and updates.\n");
    v.write("Prose.md", "# Prose\n\nThe app ships Core Plugins you can turn off, and more text follows here.\n");
    v.write("Callout.md", "# Callout\n\n> [!tip] Core Plugins come first\n> Turn the ones you need on, then go on.\n");
    v.write("Steps.md", "# Steps\n\n1. Open settings.\n2. Under **Core Plugins**, enable the one you need.\n");
    v.write("Menu.md", "# Menu\n\nGo to Settings > Core Plugins and enable the one you need today.\n");
    v.write("Course.md", "# Course\n\nShe took Database Systems last term, and more text follows here.\n");
    v.write("Store.md", "# Store\n\nThe app keeps it in a Database that it queries, and more text follows.\n");
    v.exo_ok(["index"]);
    let report = garden_json(&v, &["--only", "unlinked-mention", "--min-confidence", "0"]);
    let finding = |note: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["path"] == note)
            .unwrap_or_else(|| panic!("no mention in {note}: {report:#}"))
            .clone()
    };
    // Each place says what it takes from the confidence, and says it in the evidence.
    let place_reason = |note: &str| {
        let f = finding(note);
        let reasons: Vec<String> = f["evidence"]["confidence_reasons"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r.as_str().filter(|r| r.contains(" only in ")).map(String::from))
            .collect();
        (f["evidence"]["place"].as_str().unwrap_or("").to_string(), reasons)
    };
    assert_eq!(place_reason("Prose.md"), ("prose".to_string(), vec![]));
    assert_eq!(
        place_reason("Callout.md"),
        ("callout title".to_string(), vec!["-1.0 only in a callout title".to_string()])
    );
    for note in ["Steps.md", "Menu.md"] {
        let expected = ("interface label".to_string(), vec!["-1.5 only in an interface label".to_string()]);
        assert_eq!(place_reason(note), expected, "{note}");
    }
    let (course, store) = (finding("Course.md"), finding("Store.md"));
    let reasons = course["evidence"]["confidence_reasons"].to_string();
    assert!(reasons.contains("-1.2 part of a longer name"), "{course:#}");
    assert!(!store["evidence"]["confidence_reasons"].to_string().contains("longer name"), "{store:#}");
}

/// Some vaults give a note its tag as an alias (`aliases: ["#tools/obsidian"]`): the tag
/// written in other notes is a tag, not a mention to link; the note's name still is.
#[test]
fn a_tag_given_as_an_alias_is_never_a_mention() {
    let v = small_vault_without_vectors();
    v.write(
        "Obsidian.md",
        "---\naliases:\n  - \"#tools/obsidian\"\n  - Obsidian app\n---\n# Obsidian\n\nA note-taking app over a folder of markdown files.\n",
    );
    v.write(
        "Tagged.md",
        "# Tagged\n\nResizing images needs a plugin, and more text follows.\n\ntags: #tools/obsidian\n",
    );
    v.write("Named.md", "# Named\n\nThe Obsidian app resizes images with a plugin, and more text.\n");
    v.exo_ok(["index"]);
    let report = garden_json(&v, &["--only", "unlinked-mention", "--min-confidence", "0"]);
    let found = found(&report);
    assert!(!found.contains("unlinked-mention Tagged.md Obsidian.md"), "{report:#}");
    assert!(found.contains("unlinked-mention Named.md Obsidian.md"), "{report:#}");
}

/// A note whose title is a template's heading ("Definition") still has its file's name: saying
/// it names itself, and a copy filed under the same name as the named note is a copy to merge,
/// not a note missing a link. Another note's mention of the name stands.
#[test]
fn a_note_never_mentions_its_own_file_name_or_its_namesake() {
    let v = small_vault_without_vectors();
    v.write(
        "Mechanics/Potential energy.md",
        "---\naliases: [stored work]\n---\n# Potential energy\n\nEnergy a body holds by its position in a field.\n",
    );
    v.write("Mechanics/Energy stored.md", "# Stored energy\n\nEnergy kept for later, in a spring or a battery.\n");
    // Its own file name, under a template's heading: the note names itself.
    v.write("Energy/Stored energy.md", "# Definition\n\nStored energy is what a body keeps for later use.\n");
    // Filed under the named note's file name: a copy to merge.
    v.write("Copy/Potential energy.md", "# Summary\n\nHere stored work sits in the Earth's gravity field.\n");
    v.write("Other.md", "# Other\n\nA raised weight holds stored work and stored energy, and more text follows.\n");
    v.exo_ok(["index"]);
    let report = garden_json(&v, &["--only", "unlinked-mention", "--min-confidence", "0"]);
    let found = found(&report);
    assert!(found.contains("unlinked-mention Other.md Mechanics/Potential energy.md"), "{report:#}");
    assert!(found.contains("unlinked-mention Other.md Mechanics/Energy stored.md"), "{report:#}");
    assert!(!found.iter().any(|f| f.contains(" Energy/") || f.contains(" Copy/")), "{report:#}");
}

/// A title wrapped across a soft line break is still a mention, and reading where it stands
/// must not slice the note at the wrong line's end (the garden once panicked on it).
#[test]
fn garden_reads_a_name_wrapped_across_a_line_break() {
    let v = small_vault_without_vectors();
    v.write("Lookup View.md", "# Lookup View\n\nThe lookup view finds notes by their hierarchy and their names.\n");
    v.write("Other.md", "# Other\n\nHere the Lookup\nView works fine, and more text follows here.\n");
    v.exo_ok(["index"]);
    let report = garden_json(&v, &["--only", "unlinked-mention", "--min-confidence", "0"]);
    assert!(found(&report).contains("unlinked-mention Other.md Lookup View.md"), "{report:#}");
}

#[test]
fn garden_output_is_byte_identical_across_runs_and_ordered_by_kind() {
    let v = example_with_history();
    let first = v.exo_ok(["garden", "--json"]);
    let second = v.exo_ok(["garden", "--json"]);
    assert_eq!(first, second);
    assert_eq!(v.exo_ok(["garden"]), v.exo_ok(["garden"]));
    let report: Value = serde_json::from_str(&first).unwrap();
    let kinds: Vec<&str> = report["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    let order = ["orphan", "unresolved", "unlinked-mention", "similar-unlinked", "near-duplicate", "stale-summary"];
    let positions: Vec<usize> = order.iter().map(|k| kinds.iter().position(|x| x == k).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{kinds:?}");
}

#[test]
fn garden_only_and_max_select_and_cap_without_losing_counts() {
    let v = example_with_history();
    let report = garden_json(&v, &["--only", "stub,orphans", "--max", "1"]);
    let kinds: Vec<&str> = report["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["orphan", "stub"]);
    assert_eq!(report["counts"]["stub"], 2);
    assert_eq!(report["counts"]["orphan"], 2);
    assert!(report["counts"].get("unresolved").is_none());
    let human = v.exo_ok(["garden", "--only", "stub", "--max", "1"]);
    assert!(human.contains("1 more stub"), "{human}");

    let bad = v.exo(["garden", "--only", "rot"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown finding kind \"rot\""));
}

fn small_vault_without_vectors() -> TestVault {
    let v = TestVault::git_repo();
    v.write("exo.toml", "[embed]\nprovider = \"none\"\n");
    v
}

#[test]
fn stale_summary_fixture_only_the_unchanged_summary_is_stale() {
    let v = small_vault_without_vectors();
    for name in ["Memory Palace.md", "Other Note.md"] {
        v.write(name, &fixture("v1", name));
    }
    v.commit_all("v1");
    for name in ["Memory Palace.md", "Other Note.md"] {
        v.write(name, &fixture("v2", name));
    }
    v.commit_all("v2");
    v.exo_ok(["index"]);
    let report = garden_json(&v, &["--only", "stale-summary"]);
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report:#}");
    assert_eq!(findings[0]["path"], "Memory Palace.md");
    let first_commit = v.git_ok(["rev-list", "--max-parents=0", "HEAD"]);
    let since = findings[0]["evidence"]["since_commit"].as_str().unwrap();
    assert!(first_commit.starts_with(since), "{since} vs {first_commit}");
    assert!(findings[0]["evidence"]["body_overlap"].as_f64().unwrap() < 0.3);

    // Rewriting the summary (uncommitted) is the fix: the finding goes away.
    let text = fixture("v2", "Memory Palace.md").replace(
        "summary: An ancient mnemonic that places items along a route through a familiar building.",
        "summary: Building rooms in a VR headset app to hold things to remember.",
    );
    assert_ne!(text, fixture("v2", "Memory Palace.md"), "the fixture's summary line changed; update this test");
    v.write("Memory Palace.md", &text);
    v.exo_ok(["index"]);
    assert!(garden_json(&v, &["--only", "stale-summary"])["findings"].as_array().unwrap().is_empty());
}

#[test]
fn stale_summary_without_git_compares_with_the_body_first_seen() {
    let v = TestVault::plain();
    v.write("exo.toml", "[embed]\nprovider = \"none\"\n");
    v.write("Memory Palace.md", &fixture("v1", "Memory Palace.md"));
    v.exo_ok(["index"]);
    let first = garden_json(&v, &["--only", "stale-summary"]);
    assert!(first["findings"].as_array().unwrap().is_empty(), "{first:#}");
    assert!(first["skipped"][0].as_str().unwrap().contains("not a git repository"), "{first:#}");

    v.write("Memory Palace.md", &fixture("v2", "Memory Palace.md"));
    v.exo_ok(["index"]);
    let second = garden_json(&v, &["--only", "stale-summary"]);
    let findings = second["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{second:#}");
    assert!(findings[0]["message"].as_str().unwrap().contains("since exo first saw this summary"));
}

#[test]
fn garden_without_vectors_says_the_similarity_checks_were_skipped() {
    let v = small_vault_without_vectors();
    v.write("a.md", "# A\n\nSee [[b]] and [[Nowhere]].\n");
    v.write("b.md", "# B\n\nBack to [[a]].\n");
    v.exo_ok(["index"]);
    let report = garden_json(&v, &[]);
    assert!(report["skipped"][0].as_str().unwrap().starts_with("similar-unlinked, near-duplicate"), "{report:#}");
    assert_eq!(found(&report).iter().filter(|f| f.starts_with("unresolved")).count(), 1);

    v.write("a.md", "# A\n\nSee [[b]] and [[Nowhere]] and [[c]].\n");
    let human = v.exo_ok(["garden"]);
    assert!(human.contains("the index is behind the files"), "{human}");
}

#[test]
fn wander_is_repeatable_for_a_seed_and_pairs_are_far_apart() {
    let v = example_with_history();
    let first = v.exo_ok(["wander", "--json", "--seed", "42", "--pairs", "3"]);
    assert_eq!(first, v.exo_ok(["wander", "--json", "--seed", "42", "--pairs", "3"]));
    let walk: Value = serde_json::from_str(&first).unwrap();
    let pairs = walk["pairs"].as_array().unwrap();
    assert!(!pairs.is_empty(), "{walk:#}");
    let mut seen = BTreeSet::new();
    for pair in pairs {
        let hops = &pair["distance"]["hops"];
        assert!(hops.is_null() || hops.as_u64().unwrap() >= 4, "{pair:#}");
        for side in ["a", "b"] {
            let path = pair[side]["path"].as_str().unwrap();
            assert!(seen.insert(path.to_string()), "{path} is in two pairs");
            assert_ne!(path, "index.md", "the map note is a garden root, never wandered to");
        }
        assert!(pair["prompt"].as_str().unwrap().contains("nothing connects"));
    }
    assert_eq!(walk["seed"], 42);
}

#[test]
fn exit_code_says_whether_anything_was_found() {
    let v = example_vault();
    v.exo_ok(["index"]);
    let found = v.exo(["garden", "--only", "unresolved", "--exit-code"]);
    assert_eq!(found.status.code(), Some(1), "vault-example has planted unresolved links");
    assert_eq!(
        v.exo(["garden", "--only", "unresolved"]).status.code(),
        Some(0),
        "without the flag a report is a success"
    );

    let clean = TestVault::git_repo();
    clean.write("a.md", "# A\n\nSee [[b]].\n");
    clean.write("b.md", "# B\n\nBack to [[a]].\n");
    clean.exo_ok(["index"]);
    let out = clean.exo(["garden", "--only", "unresolved,broken-anchor", "--exit-code"]);
    assert_eq!(out.status.code(), Some(0), "{}", crate::support::stderr(&out));
}

/// An Obsidian Excalidraw drawing: its frontmatter opens with a blank line, and its text is
/// the drawing's labels under the plugin's "# Text Elements", rewritten on every save. It is
/// titled by its file name, its frontmatter is valid, and it is neither the source of an
/// unlinked mention (a link written there would not stay) nor one side of a similar pair
/// (labels are alike with whatever they picture).
#[test]
fn an_excalidraw_drawing_is_titled_by_its_file_and_neither_mentions_nor_pairs() {
    let v = example_vault();
    let pictured = std::fs::read_to_string(v.root.join("concepts/Leitner System.md")).unwrap();
    // The note's prose as the drawing's labels, without its links (labels are plain text).
    let body = pictured.rsplit("---").next().unwrap().replace("[[", "").replace("]]", "");
    let labels = body.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>();
    v.write(
        "Excalidraw/Leitner boxes.excalidraw.md",
        &format!(
            "---\n\nexcalidraw-plugin: parsed\ntags: [excalidraw]\n\n---\n==⚠  Switch to EXCALIDRAW VIEW ==\n\n\n\
             # Text Elements\n{} ^a1b2c3\n\nForgetting Curve ^d4e5f6\n\n%%\n# Drawing\n```compressed-json\nN4KAkARALgng\n```\n%%\n",
            labels.join(" ")
        ),
    );
    v.exo_ok(["index"]);
    let report = garden_json(&v, &["--min-confidence", "0"]);
    let drawing: Vec<String> = found(&report).into_iter().filter(|f| f.contains("Leitner boxes")).collect();
    assert_eq!(drawing, ["orphan Excalidraw/Leitner boxes.excalidraw.md"], "{report:#}");
    let orphan = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "orphan" && f["path"] == "Excalidraw/Leitner boxes.excalidraw.md");
    let message = orphan.unwrap()["message"].as_str().unwrap();
    assert!(message.starts_with("Leitner boxes.excalidraw "), "titled by its file, not \"Text Elements\": {message}");
}

/// Cards filled from one template: each opens with the template's "# Overview", which exo
/// takes for its title. Every card says "Overview", but that names no card, so no pair of
/// cards is one note naming the other; and four cards as alike as these are a family: a pair
/// with both other cards as near to it weighs less (the nearest pairs, which only one sibling
/// comes within reach of, do not). A note that says another's file name does name it.
#[test]
fn template_cards_are_a_family_and_a_shared_first_heading_names_none_of_them() {
    let v = example_vault();
    // Alike in kind, not copies: each card's sentences are its own (a near-duplicate shares
    // half its word trigrams).
    let cards = [
        (
            "Beech",
            "Beech is a pale hardwood with a fine even grain. Furniture makers steam it to bend chair backs, and toy makers like that it does not splinter.",
        ),
        (
            "Teak",
            "Teak is an oily tropical hardwood that shrugs off rain and rot, so shipwrights lay it on boat decks and garden benches last for decades.",
        ),
        (
            "Pine",
            "Pine is a cheap, light softwood full of knots. Builders frame houses with it, and flat-pack furniture is often pine board under a veneer.",
        ),
        (
            "Spruce",
            "Spruce is a springy, pale softwood. House framing uses it by the tonne, and luthiers choose quarter-sawn spruce for guitar and violin tops.",
        ),
    ];
    for (wood, text) in cards {
        v.write(
            &format!("Woods/{wood}.md"),
            &format!("# Overview\n\n{text}\n\n# Properties\n\nA timber for the workshop.\n"),
        );
    }
    v.write(
        "Woods/Steam bending.md",
        "# Overview\n\nSteam bending softens a pale hardwood such as Beech for an hour in a steam box; \
         furniture makers then clamp the wood over a form to bend chair backs that do not splinter.\n",
    );
    v.exo_ok(["index"]);
    let report = garden_json(&v, &["--only", "similar-unlinked", "--min-confidence", "0"]);
    let pairs: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["path"].as_str().unwrap().starts_with("Woods/") && f["related"][0].as_str().unwrap().starts_with("Woods/")
        })
        .collect();
    let is_card = |p: &Value| !p.as_str().unwrap().contains("Steam bending");
    let cards: Vec<&&Value> = pairs.iter().filter(|f| is_card(&f["path"]) && is_card(&f["related"][0])).collect();
    assert!(cards.len() >= 3, "the cards pair up: {report:#}");
    for f in &cards {
        let reasons = f["evidence"]["confidence_reasons"].to_string();
        assert!(!reasons.contains("names the other"), "\"Overview\" names no card: {f:#}");
    }
    assert!(
        cards.iter().any(|f| f["evidence"]["confidence_reasons"].to_string().contains("family of look-alikes")),
        "{report:#}"
    );
    let named = pairs.iter().find(|f| {
        let ends = [f["path"].as_str().unwrap(), f["related"][0].as_str().unwrap()];
        ends.contains(&"Woods/Beech.md") && ends.contains(&"Woods/Steam bending.md")
    });
    let named = named.unwrap_or_else(|| panic!("steam bending and the card it speaks of pair up: {report:#}"));
    assert!(named["evidence"]["confidence_reasons"].to_string().contains("names the other"), "{named:#}");
}
