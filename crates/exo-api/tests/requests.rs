//! Requests are what an MCP tool's input and clap's arguments both fill: an unknown field is
//! an error that names it (a model's guessed parameter must never silently widen a search),
//! defaults are the CLI's, and each request describes itself as a JSON schema.

use exo_api::{NeighborsRequest, PathRequest, SearchMode, SearchQuery, SyncRequest, WanderRequest};

#[test]
fn unknown_fields_are_refused_by_name() {
    let err = serde_json::from_str::<SearchQuery>(r#"{"query": "x", "limt": 3}"#).unwrap_err().to_string();
    assert!(err.contains("unknown field `limt`") && err.contains("`limit`"), "{err}");
    let err = serde_json::from_str::<PathRequest>(r#"{"from": "a", "to": "b", "direct": true}"#).unwrap_err();
    assert!(err.to_string().contains("direct"), "{err}");
}

#[test]
fn defaults_match_the_command_line() {
    let query: SearchQuery = serde_json::from_str(r#"{"query": "spaced repetition"}"#).unwrap();
    assert_eq!((query.mode, query.limit), (SearchMode::Hybrid, 10));
    assert!(query.where_.is_empty() && query.tags.is_empty());
    let query: SearchQuery =
        serde_json::from_str(r#"{"query": "x", "mode": "bm25", "where": {"status": "draft"}}"#).unwrap();
    assert_eq!(query.mode, SearchMode::Bm25);
    assert_eq!(query.where_.get("status").map(String::as_str), Some("draft"));
    let near: NeighborsRequest = serde_json::from_str(r#"{"note": "a"}"#).unwrap();
    assert_eq!(near.depth, 1);
    let walk: WanderRequest = serde_json::from_str("{}").unwrap();
    assert_eq!((walk.pairs, walk.seed), (3, None));
    let sync: SyncRequest = serde_json::from_str("{}").unwrap();
    assert!(sync.check && !sync.no_vectors && sync.wait_secs == 10);
}

#[test]
fn requests_describe_themselves() {
    let schema = serde_json::to_value(schemars::schema_for!(SearchQuery)).unwrap();
    let properties = schema["properties"].as_object().unwrap();
    for field in ["query", "mode", "limit", "tags", "types", "path", "where"] {
        assert!(properties.contains_key(field), "schema lacks {field}: {schema}");
    }
    assert_eq!(schema["required"], serde_json::json!(["query"]));
    assert_eq!(schema["additionalProperties"], false, "unknown fields are refused in the schema too");
}
