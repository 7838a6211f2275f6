//! The graph answers, asked of a small index built for real (SQLite, tantivy) in a temp
//! folder: the same calls the CLI and the MCP server make.

use exo_api::{Exo, NeighborsRequest, NoteRef, PathRequest, SyncRequest, SyncState, VaultChoice, WanderRequest};

/// hub -> a -> b -> c (to a heading), a embeds d, e alone, x wants a missing note; a self-link.
fn vault() -> (tempfile::TempDir, Exo) {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("exo.toml", "[embed]\nprovider = \"none\"\n\n[garden]\nroots = [\"hub.md\"]\n");
    write("hub.md", "# Hub\n\n[[a]]\n");
    write("notes/a.md", "---\naliases: [Alpha]\n---\n# A\n\nTo [[b]] and ![[d]]; see [[#A]].\n");
    write("notes/b.md", "# Bee Note\n\n## Part One\n\nOn to [[c#Part]].\n");
    write("notes/c.md", "# C\n\n## Part\n\nEnd.\n");
    write("other/d.md", "# D\n\nEmbedded.\n");
    write("other/e.md", "# E\n\nAlone.\n");
    write("other/x.md", "# X\n\nWants [[Missing Note]] and [[missing note]].\n");
    let exo = Exo::open(&VaultChoice { flag: Some(dir.path().to_path_buf()), ..VaultChoice::default() }).unwrap();
    exo.sync(&SyncRequest { no_vectors: true, ..SyncRequest::default() }, Default::default()).unwrap();
    (dir, exo)
}

fn note(name: &str) -> NoteRef {
    NoteRef { note: name.into() }
}

#[test]
fn links_resolve_by_alias_and_self_links_to_their_own_note() {
    let (_dir, exo) = vault();
    let links = exo.links(&note("Alpha")).unwrap();
    assert_eq!(links.answer.note, "notes/a.md");
    let targets: Vec<(&str, Option<&str>, bool)> =
        links.answer.links.iter().map(|l| (l.target.as_str(), l.path.as_deref(), l.resolved)).collect();
    assert_eq!(
        targets,
        [("b", Some("notes/b.md"), true), ("d", Some("other/d.md"), true), ("", Some("notes/a.md"), true)]
    );
    assert_eq!(links.freshness.index_status, Some(SyncState::Synced));
    assert_eq!(links.freshness.stale_notes, Some(0));
}

#[test]
fn backlinks_carry_the_line_as_it_reads_now() {
    let (_dir, exo) = vault();
    let back = exo.backlinks(&note("notes/b")).unwrap().answer;
    assert_eq!(back.backlinks.len(), 1);
    assert_eq!((back.backlinks[0].path.as_str(), back.backlinks[0].line), ("notes/a.md", 6));
    assert!(back.backlinks[0].context.contains("To [[b]]"), "{}", back.backlinks[0].context);
}

#[test]
fn neighbours_by_depth_and_zero_asks_for_none() {
    let (_dir, exo) = vault();
    let near = exo.neighbors(&NeighborsRequest { note: "b".into(), depth: 1 }).unwrap().answer;
    let paths: Vec<&str> = near.neighbors.iter().map(|n| n.path.as_str()).collect();
    assert_eq!(paths, ["notes/a.md", "notes/c.md"]);
    let two = exo.neighbors(&NeighborsRequest { note: "b".into(), depth: 2 }).unwrap().answer;
    assert!(two.neighbors.iter().any(|n| n.path == "hub.md" && n.distance == 2));
    let none = exo.neighbors(&NeighborsRequest { note: "b".into(), depth: 0 }).unwrap().answer;
    assert!(none.neighbors.is_empty());
}

#[test]
fn paths_count_hops_and_directed_paths_follow_the_arrows() {
    let (_dir, exo) = vault();
    let path = exo.path(&PathRequest { from: "hub".into(), to: "c".into(), directed: true }).unwrap().answer;
    assert_eq!(path.hops, Some(3));
    let steps: Vec<&str> = path.path.as_ref().unwrap().iter().map(|s| s.path.as_str()).collect();
    assert_eq!(steps, ["hub.md", "notes/a.md", "notes/b.md", "notes/c.md"]);
    let back = exo.path(&PathRequest { from: "c".into(), to: "hub".into(), directed: true }).unwrap().answer;
    assert!(!back.found() && back.hops.is_none());
    let undirected = exo.path(&PathRequest { from: "c".into(), to: "hub".into(), directed: false }).unwrap().answer;
    assert_eq!(undirected.hops, Some(3));
}

#[test]
fn orphans_leave_out_the_roots_and_wanted_notes_group_their_spellings() {
    let (_dir, exo) = vault();
    let orphans = exo.orphans().unwrap().answer;
    assert_eq!(orphans.roots, ["hub.md"]);
    let paths: Vec<&str> = orphans.orphans.iter().map(|o| o.path.as_str()).collect();
    assert_eq!(paths, ["other/e.md", "other/x.md"]);
    let wanted = exo.unresolved().unwrap().answer.unresolved;
    assert_eq!(wanted.len(), 1);
    assert_eq!((wanted[0].target.as_str(), wanted[0].count), ("Missing Note", 2));
}

#[test]
fn names_that_match_nothing_or_several_are_typed_errors() {
    let (dir, exo) = vault();
    match exo.links(&note("No Such Note")).unwrap_err() {
        exo_api::ApiError::Index(exo_index::IndexError::NoteNotFound { name }) => assert_eq!(name, "No Such Note"),
        other => panic!("expected NoteNotFound, got {other}"),
    }
    std::fs::write(
        dir.path().join("notes/twin.md"),
        "# Twin
",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("other/twin.md"),
        "# Twin
",
    )
    .unwrap();
    exo.sync(&SyncRequest { no_vectors: true, ..SyncRequest::default() }, Default::default()).unwrap();
    match exo.links(&note("twin")).unwrap_err() {
        exo_api::ApiError::Index(exo_index::IndexError::AmbiguousNote { name, candidates }) => {
            assert_eq!(name, "twin");
            assert_eq!(candidates, ["notes/twin.md", "other/twin.md"]);
        }
        other => panic!("expected AmbiguousNote, got {other}"),
    }
    let export = exo.graph_export().unwrap().answer;
    assert_eq!(export.nodes.len(), 9);
}

#[test]
fn answers_say_when_the_index_is_behind_the_files() {
    let (dir, exo) = vault();
    std::fs::write(dir.path().join("other/new.md"), "# New\n").unwrap();
    let links = exo.links(&note("a")).unwrap();
    assert_eq!(links.freshness.index_status, Some(SyncState::OutOfSync));
    assert_eq!(links.freshness.stale_notes, Some(1));
    let walk = exo.wander(&WanderRequest { pairs: 1, seed: Some(3) }).unwrap();
    assert_eq!(walk.freshness.index_status, Some(SyncState::OutOfSync), "wander carries the envelope too");
    let json = serde_json::to_value(&walk).unwrap();
    assert_eq!(json["index_status"], "OutOfSync");
    assert_eq!(json["seed"], 3);
}
