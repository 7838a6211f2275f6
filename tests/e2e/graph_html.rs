//! `exo graph --html FILE`: the page is written, fetches nothing, and carries the vault's
//! graph; an opt-in test opens it in headless Chromium and reads back what it drew.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::quickstart::example_vault;
use crate::support::{TestVault, stderr, stdout};

/// The vault's graph as `exo graph --json` and `exo unresolved --json` report it.
struct Counts {
    nodes: usize,
    edges: usize,
    unresolved: usize,
}

fn counts(v: &TestVault) -> Counts {
    let graph: Value = serde_json::from_str(&v.exo_ok(["graph", "--json"])).unwrap();
    let wanted: Value = serde_json::from_str(&v.exo_ok(["unresolved", "--json"])).unwrap();
    Counts {
        nodes: graph["nodes"].as_array().unwrap().len(),
        edges: graph["edges"].as_array().unwrap().len(),
        unresolved: wanted["unresolved"].as_array().unwrap().len(),
    }
}

fn indexed_example() -> TestVault {
    let v = example_vault();
    v.exo_ok(["index", "--no-vectors"]);
    v
}

/// The JSON the page embeds, read back as the browser's JSON.parse would.
fn embedded_data(page: &str) -> Value {
    let open = r#"<script id="graph-data" type="application/json">"#;
    let start = page.find(open).expect("the page has its data element") + open.len();
    let end = start + page[start..].find("</script>").expect("the data element is closed");
    serde_json::from_str(&page[start..end]).expect("the embedded data is JSON")
}

/// Every URL the page would load by itself: `src=`, `href=` on link elements, CSS `url(` and
/// `@import`. Anchors (`<a href>`) are followed only when clicked, so they do not count.
fn remote_loads(page: &str) -> Vec<String> {
    let lower = page.to_lowercase();
    let mut found = Vec::new();
    for needle in ["src=\"http", "src='http", "src=http", "url(http", "url(\"http", "url('http", "@import"] {
        if let Some(at) = lower.find(needle) {
            found.push(page[at..(at + 60).min(page.len())].to_string());
        }
    }
    for (at, _) in lower.match_indices("<link") {
        let tag = &lower[at..at + lower[at..].find('>').unwrap_or(0)];
        if tag.contains("href=\"http") || tag.contains("href='http") || tag.contains("href=http") {
            found.push(tag.to_string());
        }
    }
    found
}

#[test]
fn the_page_is_written_self_contained_and_embeds_the_whole_graph() {
    let v = indexed_example();
    let expected = counts(&v);
    assert!(expected.nodes >= 30 && expected.edges > 0 && expected.unresolved > 0, "vault-example changed?");
    let file = v.root.join("graph.html");
    let line = v.exo_ok(["graph", "--html", file.to_str().unwrap()]);
    assert_eq!(
        line.trim(),
        format!(
            "exo: wrote {} ({} notes, {} links, {} unresolved targets)",
            file.display(),
            expected.nodes,
            expected.edges,
            expected.unresolved
        )
    );
    let page = std::fs::read_to_string(&file).unwrap();
    assert!(page.starts_with("<!doctype html>"), "{}", &page[..100]);
    assert_eq!(remote_loads(&page), Vec::<String>::new());
    assert!(!page.contains("/*EXO_GRAPH_DATA*/"), "the data slot was filled");

    let data = embedded_data(&page);
    assert_eq!(data["vault"], "vault");
    assert_eq!(data["nodes"].as_array().unwrap().len(), expected.nodes);
    assert_eq!(data["links"].as_array().unwrap().len(), expected.edges);
    assert_eq!(data["wanted"].as_array().unwrap().len(), expected.unresolved);
    // Orphans are marked: vault-example's two planted orphans.
    let orphans: Vec<&str> =
        data["nodes"].as_array().unwrap().iter().filter(|n| n[6] == true).map(|n| n[0].as_str().unwrap()).collect();
    assert_eq!(orphans.len(), 2, "{orphans:?}");
    // Every link names two notes of the page.
    for link in data["links"].as_array().unwrap() {
        assert!(link[0].as_u64().unwrap() < expected.nodes as u64 && link[1].as_u64().unwrap() < expected.nodes as u64);
    }

    // --json: one object with the same counts.
    let json: Value = serde_json::from_str(&v.exo_ok(["graph", "--html", "again.html", "--json"])).unwrap();
    assert_eq!(json["nodes"], expected.nodes);
    assert_eq!(json["edges"], expected.edges);
    assert_eq!(json["unresolved"], expected.unresolved);
    assert_eq!(json["index_status"], "Synced");
    assert!(v.root.join("again.html").is_file());
}

#[test]
fn names_that_would_end_the_script_element_are_escaped() {
    let v = TestVault::plain();
    v.write("exo.toml", "[embed]\nprovider = \"none\"\n");
    let hostile = "</script><script>document.title='owned'</script><!-- x";
    v.write("a.md", &format!("---\ntitle: \"{hostile}\"\n---\n# A\n\n[[b\u{2028}c]] [[</script>]]\n"));
    v.write("b\u{2028}c.md", "# B\n\nLinks back to [[a]].\n");
    v.exo_ok(["index"]);
    v.exo_ok(["graph", "--html", "g.html"]);
    let page = std::fs::read_to_string(v.root.join("g.html")).unwrap();
    let template = include_str!("../../crates/exo-cli/assets/graph.html");
    // As many closing tags as the template has: none came from the data.
    assert_eq!(page.matches("</script").count(), template.matches("</script").count());
    assert_eq!(page.matches("<!--").count(), template.matches("<!--").count());
    assert!(!page.contains('\u{2028}') && !page.contains('\u{2029}'), "raw line separators left in the page");
    let data = embedded_data(&page);
    assert_eq!(data["nodes"][0][1], hostile, "the title reads back unchanged");
    assert_eq!(data["nodes"][1][0], "b\u{2028}c.md");
    assert_eq!(data["links"].as_array().unwrap().len(), 2, "a and b\u{2028}c link to each other");
    assert_eq!(data["wanted"][0][0], "</script>");
}

#[test]
fn an_unwritable_file_is_one_error_line_naming_it() {
    let v = indexed_example();
    let out = v.exo(["graph", "--html", "no/such/folder/g.html"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.starts_with("exo: error: cannot write no/such/folder/g.html"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(stdout(&out).is_empty());
}

/// Chromium from `$EXO_CHROMIUM`, else Debian's or another on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("EXO_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// What headless Chromium made of a page: the DOM after the layout had time to settle, and
/// every console line the page wrote.
struct Rendered {
    dom: String,
    console: Vec<String>,
}

fn render(chromium: &Path, page: &Path, fragment: &str) -> Rendered {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        // Virtual time: timers and frames run as fast as the CPU allows, up to 60 s of page time.
        .args(["--virtual-time-budget=60000", "--window-size=1200,800", "--dump-dom"])
        .arg(format!("file://{}{fragment}", page.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "chromium failed: {}", stderr(&out));
    let console = stderr(&out).lines().filter(|l| l.contains(":CONSOLE")).map(str::to_string).collect();
    Rendered { dom: stdout(&out), console }
}

/// The value of `data-NAME` on the page's `<html>` element.
fn root_attribute(dom: &str, name: &str) -> Option<String> {
    let html = &dom[dom.find("<html")?..];
    let tag = &html[..html.find('>')?];
    let key = format!("data-{name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(tag[start..start + tag[start..].find('"')?].to_string())
}

#[test]
#[ignore = "opt-in: needs headless Chromium (`apt-get install chromium`); run with --ignored"]
fn chromium_loads_the_page_without_errors_and_draws_every_note_and_link() {
    let Some(chromium) = chromium() else {
        eprintln!("skipped: no chromium on PATH (apt-get install chromium, or set EXO_CHROMIUM)");
        return;
    };
    let v = indexed_example();
    let expected = counts(&v);
    let file = v.root.join("graph.html");
    v.exo_ok(["graph", "--html", file.to_str().unwrap()]);
    let rendered = render(&chromium, &file, "");
    let dom = &rendered.dom;
    assert_eq!(root_attribute(dom, "error"), None, "the page threw");
    let others: Vec<&String> = rendered.console.iter().filter(|l| !l.contains("\"exo graph: settled in")).collect();
    assert!(others.is_empty(), "console lines other than exo's: {others:#?}");
    let settled = format!("{} notes, {} links, {} unresolved\"", expected.nodes, expected.edges, expected.unresolved);
    assert!(rendered.console.iter().any(|l| l.contains(&settled)), "{:#?}", rendered.console);
    assert!(root_attribute(dom, "settled-ms").is_some(), "the layout never settled");
    // After settling the view fits the whole graph, so the last frame drew everything.
    assert_eq!(root_attribute(dom, "drawn-notes"), Some(expected.nodes.to_string()));
    assert_eq!(root_attribute(dom, "drawn-links"), Some(expected.edges.to_string()));
    assert!(dom.contains(&format!("({} notes, {} links)</title>", expected.nodes, expected.edges)), "title");
    assert!(dom.contains(r#"<aside id="panel" hidden="">"#), "no note is selected at first");

    // `#note=PATH` selects a note: the panel lists its links and backlinks, as `exo links`
    // and `exo backlinks` count them (distinct notes; a link to its own heading is no edge).
    let note = "concepts/Spaced Repetition.md";
    let links: Value = serde_json::from_str(&v.exo_ok(["links", note, "--json"])).unwrap();
    let backlinks: Value = serde_json::from_str(&v.exo_ok(["backlinks", note, "--json"])).unwrap();
    let distinct = |list: &Value, key: &str| {
        let mut paths: Vec<&str> =
            list.as_array().unwrap().iter().filter_map(|l| l[key].as_str()).filter(|p| *p != note).collect();
        paths.sort_unstable();
        paths.dedup();
        paths.len()
    };
    let rendered = render(&chromium, &file, "#note=concepts/Spaced%20Repetition.md");
    let dom = &rendered.dom;
    assert_eq!(root_attribute(dom, "error"), None, "the page threw");
    assert!(dom.contains(r#"<aside id="panel">"#), "the panel is open");
    assert!(dom.contains(r#"<h2 id="panel-title">Spaced Repetition</h2>"#));
    assert!(dom.contains(&format!(">Links ({})</h3>", distinct(&links["links"], "path"))), "links");
    assert!(dom.contains(&format!(">Backlinks ({})</h3>", distinct(&backlinks["backlinks"], "path"))), "backlinks");
}
