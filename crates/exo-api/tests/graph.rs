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

/// The answers for one note as the whole loaded graph gives them (what `links`, `backlinks`
/// and `read_note` answered before they queried one note's rows): the reference the per-note
/// answers must equal.
mod whole_graph {
    use exo_index::graph::Graph;
    use serde_json::{Value, json};

    pub fn load(exo: &exo_api::Exo) -> Graph {
        exo_index::Index::new(exo.vault().clone()).graph().unwrap()
    }

    /// The note a name finds, or the error as it reads.
    pub fn find(graph: &Graph, name: &str) -> Result<String, exo_index::IndexError> {
        graph.find(name).map(|id| graph.note(id).path.clone())
    }

    pub fn links(graph: &Graph, name: &str) -> Value {
        let id = graph.find(name).unwrap();
        let views: Vec<Value> = graph
            .outgoing(id)
            .map(|link| {
                let w = &link.written;
                let own = w.is_self_link().then(|| graph.note(link.src).path.clone());
                json!({
                    "line": w.line, "kind": w.kind.as_str(), "target": w.target, "heading": w.heading,
                    "block": w.block, "display": w.display,
                    "path": link.dst.map(|d| graph.note(d).path.clone()).or(own),
                    "attachment": link.attachment, "resolved": !link.is_unresolved(),
                })
            })
            .collect();
        json!(views)
    }

    pub fn backlinks(graph: &Graph, name: &str, root: &std::path::Path) -> Value {
        serde_json::to_value(graph.backlinks(graph.find(name).unwrap(), root)).unwrap()
    }

    /// A link in a note whose file differs from the index, resolved by name alone.
    pub fn by_name(graph: &Graph, from: &str, link: &exo_vault::Link) -> Value {
        let path = match link.is_self_link() {
            true => Some(from.to_string()),
            false => graph.find(&link.target).ok().map(|id| graph.note(id).path.clone()),
        };
        json!({
            "line": link.line, "kind": link.kind.as_str(), "target": link.target, "heading": link.heading,
            "block": link.block, "display": link.display, "path": path, "attachment": null,
            "resolved": path.is_some(),
        })
    }
}

/// Every name a note can be asked by (path with and without `.md`, in other case, title,
/// stem, aliases) and every link target written anywhere, with a few that match nothing.
fn names_to_ask(graph: &exo_index::graph::Graph) -> Vec<String> {
    let mut names = vec!["No Such Note".to_string(), "./".to_string(), String::new()];
    for note in graph.notes() {
        let stem = note.path.rsplit('/').next().unwrap().trim_end_matches(".md").to_string();
        names.extend([note.path.clone(), note.path.trim_end_matches(".md").to_string(), note.path.to_uppercase()]);
        names.extend([note.title.clone(), note.title.to_lowercase(), stem, format!("./{}", note.path)]);
        names.extend(note.aliases.iter().cloned());
    }
    names.extend(graph.links().iter().map(|l| l.written.target.clone()));
    names.sort();
    names.dedup();
    names
}

/// Asks `links`, `backlinks` and `read_note` for every name and compares each answer with
/// the whole graph's; returns how many names found a note (so a vacuous pass shows).
fn assert_per_note_answers_equal_the_whole_graph(root: &std::path::Path, exo: &Exo) -> usize {
    let graph = whole_graph::load(exo);
    let mut found = 0;
    for name in names_to_ask(&graph) {
        let expected = whole_graph::find(&graph, &name);
        let links = exo.links(&note(&name));
        let back = exo.backlinks(&note(&name));
        let read = exo.read_note(&exo_api::ReadNoteRequest { note: name.clone() });
        let path = match expected {
            Ok(path) => path,
            Err(error) => {
                let error_text = format!("{error:?}");
                assert_eq!(format!("{:?}", links.map(|_| ()).unwrap_err()), format!("Index({error_text})"), "{name:?}");
                assert_eq!(format!("{:?}", back.map(|_| ()).unwrap_err()), format!("Index({error_text})"), "{name:?}");
                // A name no indexed note answers to may still be a file's path (read from disk).
                if matches!(error, exo_index::IndexError::AmbiguousNote { .. }) {
                    assert_eq!(format!("{:?}", read.map(|_| ()).unwrap_err()), format!("Index({error_text})"));
                }
                continue;
            }
        };
        found += 1;
        let (links, back, read) = (links.unwrap(), back.unwrap(), read.unwrap());
        assert_eq!((&links.answer.note, &back.answer.note, &read.answer.path), (&path, &path, &path), "{name:?}");
        let want_links = whole_graph::links(&graph, &name);
        let want_back = whole_graph::backlinks(&graph, &name, root);
        assert_eq!(serde_json::to_value(&links.answer.links).unwrap(), want_links, "links({name:?})");
        assert_eq!(serde_json::to_value(&back.answer.backlinks).unwrap(), want_back, "backlinks({name:?})");
        if read.answer.indexed {
            assert_eq!(serde_json::to_value(&read.answer.outlinks).unwrap(), want_links, "read_note({name:?})");
        } else {
            let parsed = exo.vault().parse(&path, &std::fs::read(root.join(&path)).unwrap());
            let by_name: Vec<_> = parsed.links.iter().map(|l| whole_graph::by_name(&graph, &path, l)).collect();
            assert_eq!(serde_json::to_value(&read.answer.outlinks).unwrap(), serde_json::json!(by_name), "{name:?}");
        }
        assert_eq!(serde_json::to_value(&read.answer.backlinks).unwrap(), want_back, "read_note({name:?})");
        assert_eq!(links.freshness, back.freshness);
    }
    found
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == ".exo" || name == ".git" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn open_and_sync(dir: &std::path::Path) -> Exo {
    let exo = Exo::open(&VaultChoice { flag: Some(dir.to_path_buf()), ..VaultChoice::default() }).unwrap();
    exo.sync(&SyncRequest { no_vectors: true, ..SyncRequest::default() }, Default::default()).unwrap();
    exo
}

#[test]
fn per_note_answers_equal_the_whole_graph_on_the_example_vault() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../vault-example"), dir.path());
    let exo = open_and_sync(dir.path());
    let found = assert_per_note_answers_equal_the_whole_graph(dir.path(), &exo);
    assert!(found > 40, "only {found} names found a note");
}

/// Names shared between notes by stem, title and alias, in other cases and Unicode forms;
/// links to them, to attachments, to headings, to their own note by name; one note edited
/// after indexing, so `read_note` resolves its links by name.
#[test]
fn per_note_answers_equal_the_whole_graph_when_names_are_ambiguous() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("exo.toml", "[embed]\nprovider = \"none\"\n");
    write("a/twin.md", "# Twin\n\nSee [[twin]] and [[b/twin]] and [[Shared]].\n");
    write(
        "b/twin.md",
        "---\naliases: [Shared, Only B]\n---\n# Other Twin\n\n[[a/twin]] [[a/twin#Twin]] [[#Other Twin]]\n",
    );
    write("c/titled.md", "---\naliases: [shared]\n---\n# Twin\n\nTitle clash: [[Twin]], [[TITLED]], ![[pic.png]].\n");
    write("c/Café.md", "# Café\n\nTo [[cafe\u{301}]] and [[Café]] and [[Only B]] and [[only b#nowhere]].\n");
    write("d/self.md", "# Self\n\nMe: [[self]] and [[Self#Self]]; out: [[c/titled]] [[c/titled]] [[Missing]].\n");
    write("d/x.md.md", "# Double\n\n[[d/x.md]] [[x]] [[b/twin|shown]] [[b/twin#^blk]].\n");
    write("hub.md", "# Hub\n\n[[Twin]] [[Shared]] [[Café]] [[self]] [[x.md]] [[Double]]\n[[d/self]] [[d/self]]\n");
    write("pic.png", "not really a picture");
    let exo = open_and_sync(dir.path());
    let found = assert_per_note_answers_equal_the_whole_graph(dir.path(), &exo);
    assert!(found > 20, "only {found} names found a note");
    write("d/self.md", "# Self\n\nNow: [[Twin]] [[Only B]] [[hub]] [[#Self]] [[Nothing]] [[d/x.md]].\n");
    let found_after_edit = assert_per_note_answers_equal_the_whole_graph(dir.path(), &exo);
    assert_eq!(found_after_edit, found);
}
