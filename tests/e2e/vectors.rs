//! Vectors: progressive and resumable, reused by chunk content, an HTTP provider tested
//! against a real server on loopback, embedder changes, and a server that is down.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::TestVault;

fn vault() -> TestVault {
    let v = TestVault::plain();
    v.write("exo.toml", "");
    v.write("a.md", "# Apples\n\nApples grow on trees in orchards.\n\n## Storage\n\nKeep them cool and dry.\n");
    v.write("b.md", "# Bread\n\nBread is baked from flour, water and yeast.\n");
    v
}

fn index_json(v: &TestVault, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["index", "--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&v.exo_ok(all)).unwrap()
}

#[test]
fn builtin_vectors_fill_in_after_text_and_are_reused_per_chunk() {
    let v = vault();
    // Text and graph first: searchable at once, vectors reported as still to come.
    let report = index_json(&v, &["--no-vectors"]);
    assert_eq!(report["status"]["health"], "Progressing", "{report:#}");
    assert_eq!(report["status"]["vectors"]["embedded"], 0);
    let chunks = report["status"]["vectors"]["chunks"].as_u64().unwrap();
    assert_eq!(chunks, 3);
    let out = v.exo(["status"]);
    assert_eq!(out.status.code(), Some(0), "Progressing is usable: exit 0");
    assert!(String::from_utf8_lossy(&out.stdout).contains("vectors 0/3 chunks"));

    let report = index_json(&v, &[]);
    assert_eq!(report["vectors"]["embedded"], 3);
    assert_eq!(report["status"]["health"], "Healthy");
    assert_eq!(report["status"]["vectors"]["embedded"], 3);

    // Editing one paragraph re-embeds that chunk only.
    v.write("a.md", "# Apples\n\nApples grow on trees in old orchards.\n\n## Storage\n\nKeep them cool and dry.\n");
    let report = index_json(&v, &[]);
    assert_eq!(report["vectors"]["embedded"], 1, "{report:#}");

    let results: serde_json::Value =
        serde_json::from_str(&v.exo_ok(["search", "--json", "--explain", "fruit", "orchard"])).unwrap();
    assert_eq!(results["hits"][0]["path"], "a.md");
    assert!(results["signals_used"].as_array().unwrap().contains(&"vector".into()), "{results:#}");
    let vector_only: serde_json::Value =
        serde_json::from_str(&v.exo_ok(["search", "--json", "--mode", "vector", "a loaf from the bakery"])).unwrap();
    assert_eq!(vector_only["hits"][0]["path"], "b.md", "{vector_only:#}");
    assert_eq!(vector_only["hits"][0]["matched_on"][0], "vector");
}

#[test]
fn vectors_survive_a_rebuild() {
    let v = vault();
    index_json(&v, &[]);
    let report = index_json(&v, &["--rebuild"]);
    assert_eq!(report["vectors"]["embedded"], 0, "vectors are keyed by content and kept: {report:#}");
    assert_eq!(report["status"]["vectors"]["embedded"], 3);
}

/// (path, vector cosine) of each hit of a vector-only search.
fn vector_hits(v: &TestVault, query: &str) -> Vec<(String, f64)> {
    let results: serde_json::Value =
        serde_json::from_str(&v.exo_ok(["search", "--json", "--mode", "vector", query])).unwrap();
    results["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["path"].as_str().unwrap().to_string(), h["signals"]["vector"]["score"].as_f64().unwrap()))
        .collect()
}

#[test]
fn search_reads_the_flat_vectors_only_while_they_match_the_index() {
    let v = vault();
    index_json(&v, &[]);
    let flat = v.root.join(".exo/vectors.flat");
    assert!(flat.is_file(), "exo index lays the vectors out flat for search");
    let query = "a loaf from the bakery";
    let from_flat = vector_hits(&v, query);
    let saved = std::fs::read(&flat).unwrap();
    std::fs::remove_file(&flat).unwrap();
    let from_sqlite = vector_hits(&v, query);
    assert_ne!(from_flat, from_sqlite, "int8 cosines differ from f32 ones: the flat file was read");
    // Back in place, so the next fill can reuse its rows for the chunks that do not change.
    std::fs::write(&flat, &saved).unwrap();
    assert_eq!(from_flat.len(), from_sqlite.len());
    for ((flat_path, flat_cosine), (path, cosine)) in from_flat.iter().zip(&from_sqlite) {
        assert_eq!(flat_path, path, "{from_flat:?} vs {from_sqlite:?}");
        assert!((flat_cosine - cosine).abs() < 0.01, "int8 keeps the cosine: {flat_cosine} vs {cosine}");
    }

    // The bread note becomes an engine note; the flat file written before must not answer.
    v.write("b.md", "# Engines\n\nDiesel engines compress air until the fuel ignites.\n");
    // Coverage recorded by the last fill no longer holds: the new chunk has no vector yet.
    let report = index_json(&v, &["--no-vectors"]);
    assert_eq!(report["status"]["vectors"]["embedded"], 2, "{report:#}");
    assert_eq!(report["status"]["vectors"]["chunks"], 3, "{report:#}");
    index_json(&v, &[]);
    assert_eq!(v.status_json()["vectors"]["embedded"], 3);
    assert!(flat.is_file(), "rewritten for the new state");
    // Rewritten from the old file's rows for the unchanged chunks and the store for the new one.
    let rebuilt = vector_hits(&v, query);
    std::fs::write(&flat, &saved).unwrap();
    let with_stale_file = vector_hits(&v, query);
    std::fs::remove_file(&flat).unwrap();
    let now_from_sqlite = vector_hits(&v, query);
    assert_eq!(with_stale_file, now_from_sqlite, "a flat file from an older state is ignored");
    assert_eq!(rebuilt.len(), now_from_sqlite.len());
    for ((rebuilt_path, rebuilt_cosine), (path, cosine)) in rebuilt.iter().zip(&now_from_sqlite) {
        assert_eq!(rebuilt_path, path, "{rebuilt:?} vs {now_from_sqlite:?}");
        assert!((rebuilt_cosine - cosine).abs() < 0.01, "{rebuilt_cosine} vs {cosine}");
    }
    assert_ne!(with_stale_file, from_sqlite, "the edit changed the answer");
}

#[test]
fn coverage_after_a_rebuild_describes_the_new_catalog() {
    let v = vault();
    index_json(&v, &[]);
    // A rebuild starts a new catalog whose counters restart: what the last fill recorded
    // about the old catalog must not be taken for the new one's.
    v.write("b.md", "# Engines\n\nDiesel engines compress air until the fuel ignites.\n");
    let report = index_json(&v, &["--rebuild", "--no-vectors"]);
    assert_eq!(report["status"]["vectors"]["embedded"], 2, "{report:#}");
    assert_eq!(v.status_json()["vectors"]["embedded"], 2);
    assert!(vector_hits(&v, "diesel engines").iter().all(|(path, _)| path != "b.md"), "b.md has no vector yet");
}

/// A minimal OpenAI-compatible embeddings server: deterministic 8-dim vectors from the
/// bytes of each input; counts the texts it embedded.
struct FakeServer {
    url: String,
    texts: Arc<AtomicUsize>,
}

fn start_server() -> FakeServer {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let texts = Arc::new(AtomicUsize::new(0));
    let counter = texts.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            let mut line = String::new();
            let mut first = true;
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if first {
                    assert!(line.starts_with("POST /v1/embeddings"), "{line}");
                    first = false;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let request: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(request["model"], "fake-embed");
            let inputs = request["input"].as_array().unwrap();
            counter.fetch_add(inputs.len(), Ordering::SeqCst);
            let data: Vec<serde_json::Value> = inputs
                .iter()
                .enumerate()
                .map(|(i, text)| {
                    let bytes = text.as_str().unwrap().as_bytes();
                    let vector: Vec<f32> =
                        (0..8).map(|d| bytes.iter().skip(d).step_by(8).map(|&b| b as f32).sum()).collect();
                    serde_json::json!({"object": "embedding", "index": i, "embedding": vector})
                })
                .collect();
            let response = serde_json::json!({"object": "list", "data": data}).to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{response}",
                response.len()
            );
        }
    });
    FakeServer { url, texts }
}

fn http_config(url: &str) -> String {
    format!(
        "[embed]\nprovider = \"http\"\nurl = \"{url}\"\nmodel = \"fake-embed\"\ndims = 8\ntimeout_secs = 5\nretries = 0\n"
    )
}

#[test]
fn http_provider_and_embedder_changes() {
    let v = vault();
    index_json(&v, &[]);
    let server = start_server();
    v.write("exo.toml", &http_config(&server.url));

    // The built-in vectors no longer fit: Degraded, and the repair says how.
    let status = v.status_json();
    assert_eq!(status["health"], "Degraded", "{status:#}");
    assert_eq!(status["repair"], "exo index --reembed");
    assert!(status["reason"].as_str().unwrap().contains("embedder changed"));
    let report = index_json(&v, &[]);
    assert_eq!(report["vectors"]["embedded"], 0, "no silent re-embedding: {report:#}");
    assert_eq!(server.texts.load(Ordering::SeqCst), 0);

    let report = index_json(&v, &["--reembed"]);
    assert_eq!(report["vectors"]["embedded"], 3, "{report:#}");
    assert_eq!(server.texts.load(Ordering::SeqCst), 3);
    assert_eq!(report["status"]["health"], "Healthy");
    assert_eq!(report["status"]["vectors"]["embedder"], "http:fake-embed (8 dims, server, v1)");
    let results: serde_json::Value = serde_json::from_str(&v.exo_ok(["search", "--json", "apples"])).unwrap();
    assert!(results["signals_used"].as_array().unwrap().contains(&"vector".into()), "{results:#}");
}

#[test]
fn a_server_that_is_down_leaves_text_and_graph_working() {
    let v = vault();
    // A port that was just free: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    v.write("exo.toml", &http_config(&format!("http://127.0.0.1:{port}")));
    let out = v.exo(["index"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("warning: vectors:") && stderr.contains("is the server running"), "{stderr}");
    let status = v.status_json();
    assert_eq!(status["status"], "Synced");
    assert_eq!(status["health"], "Degraded");
    assert!(status["reason"].as_str().unwrap().starts_with("vectors:"), "{status:#}");
    assert_eq!(status["repair"], "exo index");
    let results: serde_json::Value = serde_json::from_str(&v.exo_ok(["search", "--json", "bread"])).unwrap();
    assert_eq!(results["hits"][0]["path"], "b.md");
}
