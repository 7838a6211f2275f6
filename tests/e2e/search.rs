//! `exo search`: ranking by field, filters, snippets, staleness, bad queries.

use crate::support::TestVault;

fn vault() -> TestVault {
    let v = TestVault::plain();
    v.write("exo.toml", "");
    v.write(
        "concepts/Spaced Repetition.md",
        "---\ntitle: Spaced Repetition\ntype: concept\ntags: [memory, method/review]\nstatus: evergreen\n---\n\
         Reviewing at growing intervals beats cramming. See [[Forgetting Curve]].\n\n## Scheduling\n\n\
         Each successful review pushes the next one further out.\n",
    );
    v.write(
        "concepts/Forgetting Curve.md",
        "---\ntitle: Forgetting Curve\ntype: concept\ntags: [memory]\n---\n\
         Ebbinghaus measured how memory decays: fast at first, then slower.\n",
    );
    v.write(
        "projects/Flashcard app.md",
        "---\ntype: project\nstatus: draft\n---\n# Flashcard app\n\nAn app that schedules cards with spaced repetition.\n",
    );
    v.write("daily/2024-01-02.md", "Went running. Nothing about memory here, only knee pain.\n");
    v.write("cjk/笔记.md", "# 知识管理\n\n间隔重复是一种学习方法。\n");
    v.exo_ok(["index", "--quiet"]);
    v
}

/// bm25 (and graph) only: these tests pin down text ranking; vectors have their own tests.
fn search_json(v: &TestVault, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["search", "--json", "--mode", "bm25"];
    all.extend_from_slice(args);
    serde_json::from_str(&v.exo_ok(all)).unwrap()
}

fn paths(results: &serde_json::Value) -> Vec<String> {
    results["hits"].as_array().unwrap().iter().map(|h| h["path"].as_str().unwrap().to_string()).collect()
}

#[test]
fn title_outranks_body_and_hits_explain_themselves() {
    let v = vault();
    let results = search_json(&v, &["spaced", "repetition"]);
    let found = paths(&results);
    assert_eq!(found[0], "concepts/Spaced Repetition.md", "{results:#}");
    assert!(found.contains(&"projects/Flashcard app.md".to_string()));
    assert!(!found.contains(&"daily/2024-01-02.md".to_string()));
    let top = &results["hits"][0];
    assert_eq!(top["title"], "Spaced Repetition");
    assert_eq!(top["type"], "concept");
    assert!(top["matched_on"].as_array().unwrap().contains(&"bm25".into()));
    assert_eq!(top["signals"]["bm25"]["rank"], 1);
    assert_eq!(results["index_status"], "Synced");
    // A snippet marks each query term it shows.
    let hit = results["hits"].as_array().unwrap().iter().find(|h| h["path"] == "projects/Flashcard app.md").unwrap();
    let text = hit["snippet"]["text"].as_str().unwrap();
    let marked: Vec<String> = hit["snippet"]["highlights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| text[r[0].as_u64().unwrap() as usize..r[1].as_u64().unwrap() as usize].to_lowercase())
        .collect();
    assert!(marked.contains(&"spaced".to_string()) && marked.contains(&"repetition".to_string()), "{hit:#}");
}

#[test]
fn stemming_finds_other_word_forms_and_cjk_is_searchable() {
    let v = vault();
    assert_eq!(paths(&search_json(&v, &["schedules"]))[0], "concepts/Spaced Repetition.md");
    assert!(paths(&search_json(&v, &["decaying"])).contains(&"concepts/Forgetting Curve.md".to_string()));
    assert_eq!(paths(&search_json(&v, &["间隔"])), ["cjk/笔记.md"]);
}

#[test]
fn filters_narrow_the_hits() {
    let v = vault();
    assert_eq!(
        paths(&search_json(&v, &["memory", "--type", "concept", "--tag", "method"])),
        ["concepts/Spaced Repetition.md"]
    );
    let tagged = paths(&search_json(&v, &["memory", "--tag", "#Memory"]));
    assert_eq!(tagged.len(), 2, "{tagged:?}");
    assert!(tagged.iter().all(|p| p.starts_with("concepts/")));
    assert_eq!(paths(&search_json(&v, &["spaced", "--path", "projects/"])), ["projects/Flashcard app.md"]);
    assert_eq!(paths(&search_json(&v, &["spaced", "--where", "status=draft"])), ["projects/Flashcard app.md"]);
    assert!(paths(&search_json(&v, &["spaced", "--where", "status=archived"])).is_empty());
}

#[test]
fn graph_signal_lifts_linked_neighbours_of_strong_hits() {
    let v = vault();
    let results = search_json(&v, &["cramming", "--explain"]);
    let curve = results["hits"].as_array().unwrap().iter().find(|h| h["path"] == "concepts/Forgetting Curve.md");
    let curve = curve.unwrap_or_else(|| panic!("the linked note should come in through the graph: {results:#}"));
    assert_eq!(curve["matched_on"], serde_json::json!(["graph"]));
}

#[test]
fn a_stale_index_is_flagged_at_query_time() {
    let v = vault();
    v.write("concepts/Forgetting Curve.md", "---\ntitle: Forgetting Curve\n---\nRewritten entirely.\n");
    let results = search_json(&v, &["memory"]);
    assert_eq!(results["index_status"], "OutOfSync");
    assert_eq!(results["stale_notes"], 1);
    let human = v.exo_ok(["search", "memory"]);
    let last = human.lines().last().unwrap();
    assert!(last.starts_with("warning: the index is OutOfSync") && last.contains("exo index"), "{human}");
}

#[test]
fn bad_queries_are_clear_or_degrade_to_plain_terms() {
    let v = vault();
    let out = v.exo(["search", "   "]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("exo: error: empty query") && err.lines().count() == 1, "{err}");
    let results = search_json(&v, &["title:(spaced", "AND"]);
    assert!(paths(&results).contains(&"concepts/Spaced Repetition.md".to_string()), "{results:#}");
    let out = v.exo(["search", "memory", "--where", "nokey"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("KEY=VALUE"));
    v.write("exo.toml", "[embed]\nprovider = \"none\"\n");
    let out = v.exo(["search", "memory", "--mode", "vector"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no vectors"));
    let hybrid: serde_json::Value =
        serde_json::from_str(&v.exo_ok(["search", "--json", "--explain", "memory"])).unwrap();
    assert_eq!(hybrid["signals_used"], serde_json::json!(["bm25", "graph"]), "{hybrid:#}");
    assert!(hybrid["notes"][0].as_str().unwrap().contains("vectors are off"), "{hybrid:#}");
}

#[test]
fn search_without_an_index_says_how_to_make_one() {
    let v = TestVault::plain();
    v.write("exo.toml", "");
    v.write("a.md", "hello\n");
    let out = v.exo(["search", "hello"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("exo index"), "{err}");
}

#[test]
fn ranking_settings_come_from_exo_toml_and_are_validated() {
    let v = vault();
    // With the body weighed at zero and no title boost, only the path field can match.
    v.write(
        "exo.toml",
        "[search.boosts]\nbody = 0.0\ntitle = 0.0\naliases = 0.0\nheadings = 0.0\ntags = 0.0\npath = 1.0\n",
    );
    assert_eq!(paths(&search_json(&v, &["flashcard"])), ["projects/Flashcard app.md"]);
    assert!(paths(&search_json(&v, &["ebbinghaus"])).is_empty());
    v.write("exo.toml", "[search.weights]\nbm25 = 1.0\nvectr = 2.0\n");
    let out = v.exo(["search", "memory"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("exo.toml") && err.contains("vectr"), "{err}");
}
