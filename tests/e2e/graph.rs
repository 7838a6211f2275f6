//! The graph commands over a small vault whose links are known by construction.

use serde_json::Value;

use crate::support::{TestVault, stderr, stdout};

/// hub -> a -> b -> c, d <- a (embed), e alone, x links to a missing note; f links to a
/// missing heading of b.
fn vault() -> TestVault {
    let v = TestVault::plain();
    v.write("exo.toml", "[embed]\nprovider = \"none\"\n\n[garden]\nroots = [\"hub.md\"]\n");
    v.write("hub.md", "# Hub\n\n[[a]]\n");
    v.write("notes/a.md", "---\naliases: [Alpha]\n---\n# A\n\nTo [[b]] and ![[d]].\n");
    v.write("notes/b.md", "# Bee Note\n\n## Part One\n\nOn to [[c#Part]].\n");
    v.write("notes/c.md", "# C\n\n## Part\n\nEnd.\n");
    v.write("other/d.md", "# D\n\nEmbedded.\n");
    v.write("other/e.md", "# E\n\nAlone.\n");
    v.write(
        "other/x.md",
        "# X\n\nWants [[Missing Note]] and [[missing note]]; knows [[b#Part One]] and [[b#No Such]].\n",
    );
    v.exo_ok(["index"]);
    v
}

fn json(v: &TestVault, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&v.exo_ok(all)).unwrap()
}

fn paths(list: &Value, key: &str) -> Vec<String> {
    list.as_array().unwrap().iter().map(|x| x[key].as_str().unwrap().to_string()).collect()
}

#[test]
fn links_and_backlinks_with_lines_and_context() {
    let v = vault();
    let links = json(&v, &["links", "Alpha"]);
    assert_eq!(links["note"], "notes/a.md");
    assert_eq!(paths(&links["links"], "path"), ["notes/b.md", "other/d.md"]);
    assert_eq!(links["links"][1]["kind"], "embed");
    assert_eq!(links["index_status"], "Synced");

    let back = json(&v, &["backlinks", "notes/b"]);
    // One entry per link: x links to b twice.
    assert_eq!(paths(&back["backlinks"], "path"), ["notes/a.md", "other/x.md", "other/x.md"]);
    assert_eq!(back["backlinks"][0]["line"], 6);
    assert_eq!(back["backlinks"][0]["context"], "To [[b]] and ![[d]].");
    let human = v.exo_ok(["backlinks", "Bee Note"]);
    assert!(human.contains("notes/a.md:6  To [[b]] and ![[d]]."), "{human}");
}

#[test]
fn neighbors_by_depth_and_shortest_paths() {
    let v = vault();
    let one = json(&v, &["neighbors", "b"]);
    assert_eq!(paths(&one["neighbors"], "path"), ["notes/a.md", "notes/c.md", "other/x.md"]);
    let two = json(&v, &["neighbors", "b", "--depth", "2"]);
    assert_eq!(paths(&two["neighbors"], "path"), ["notes/a.md", "notes/c.md", "other/x.md", "hub.md", "other/d.md"]);

    let path = json(&v, &["path", "hub", "c"]);
    assert_eq!(path["hops"], 3);
    assert_eq!(paths(&path["path"], "path"), ["hub.md", "notes/a.md", "notes/b.md", "notes/c.md"]);
    let back = json(&v, &["path", "c", "hub"]);
    assert_eq!(back["path"][1]["via"], "in");
    let directed = v.exo(["path", "c", "hub", "--directed"]);
    assert_eq!(directed.status.code(), Some(1), "{}", stdout(&directed));
    assert!(stdout(&directed).contains("no link path"));
    assert_eq!(v.exo(["path", "e", "hub"]).status.code(), Some(1));
}

#[test]
fn orphans_unresolved_and_export() {
    let v = vault();
    assert_eq!(paths(&json(&v, &["orphans"])["orphans"], "path"), ["other/e.md"]);
    let wanted = json(&v, &["unresolved"]);
    assert_eq!(wanted["unresolved"].as_array().unwrap().len(), 1, "{wanted:#}");
    assert_eq!(wanted["unresolved"][0]["count"], 2);
    assert_eq!(wanted["unresolved"][0]["target"], "Missing Note");

    let graph = json(&v, &["graph"]);
    assert_eq!(graph["nodes"].as_array().unwrap().len(), 7);
    let b = graph["nodes"].as_array().unwrap().iter().find(|n| n["path"] == "notes/b.md").unwrap();
    assert_eq!((b["in_degree"].as_u64(), b["out_degree"].as_u64()), (Some(2), Some(1)));
    let dot = v.exo_ok(["graph", "--format", "dot"]);
    assert!(dot.starts_with("digraph exo {"), "{dot}");
    assert!(dot.contains("\"notes/a.md\" -> \"other/d.md\" [style=dashed];"), "{dot}");

    let garden: Value = serde_json::from_str(&v.exo_ok(["garden", "--json", "--only", "broken-anchor"])).unwrap();
    assert_eq!(garden["findings"].as_array().unwrap().len(), 1, "{garden:#}");
    assert_eq!(garden["findings"][0]["evidence"]["anchor"], "No Such");
}

#[test]
fn unknown_or_ambiguous_names_are_one_line_errors() {
    let v = vault();
    let out = v.exo(["links", "Nope"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("no note named \"Nope\"") && err.lines().count() == 1, "{err}");

    v.write("notes/Part.md", "# Dup\n");
    v.write("other/Part.md", "# Dup\n");
    v.exo_ok(["index"]);
    let err = stderr(&v.exo(["links", "Dup"]));
    assert!(err.contains("names 2 notes: notes/Part.md, other/Part.md"), "{err}");
    let ok = json(&v, &["links", "notes/Part.md"]);
    assert_eq!(ok["note"], "notes/Part.md");

    let missing = TestVault::plain();
    missing.write("exo.toml", "");
    let err = stderr(&missing.exo(["orphans"]));
    assert!(err.contains("run `exo index` first"), "{err}");
}

#[test]
fn a_stale_index_says_so() {
    let v = vault();
    v.write("other/e.md", "# E\n\nNow links [[a]].\n");
    let out = v.exo_ok(["orphans"]);
    assert!(out.contains("the index is behind the files (1 notes differ)"), "{out}");
    assert_eq!(json(&v, &["orphans"])["index_status"], "OutOfSync");
}
