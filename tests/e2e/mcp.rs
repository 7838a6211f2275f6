//! `exo mcp` over stdio, driven by a real MCP client (rmcp's, over a child process running the
//! built `exo`), on a copy of vault-example in a real git repository: every tool is listed with
//! all four hints, every tool is called, and each structured answer is validated against the
//! tool's declared outputSchema by a JSON Schema validator; bad input is an `isError` result
//! that says what to do, and the server lives on; each write is exactly one commit authored
//! "<client> via exo", leaving a clean tree and a Synced index. The tool reference in
//! mcp/README.md is rendered from `tools/list` here, so it cannot drift:
//!
//! ```sh
//! EXO_UPDATE_SNAPSHOTS=1 cargo test -p exo-cli --test e2e mcp::readme
//! ```

use std::path::Path;

use rmcp::model::{CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation, Tool};
use rmcp::service::RunningService;
use rmcp::transport::TokioChildProcess;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::quickstart::example_vault;
use crate::support::TestVault;

type Client = RunningService<RoleClient, ClientConfig>;

const READ_TOOLS: [&str; 11] = [
    "backlinks",
    "garden",
    "links",
    "list_notes",
    "neighbors",
    "path",
    "read_note",
    "recent",
    "search",
    "status",
    "wander",
];
const WRITE_TOOLS: [&str; 4] = ["create_note", "delete_note", "edit_note", "move_note"];

/// vault-example in a git repository with one commit, indexed (vectors included).
fn git_vault() -> TestVault {
    let v = example_vault();
    v.write(".gitignore", ".exo/\n");
    v.git_ok(["init", "-q", "-b", "main"]);
    v.commit_all("vault-example");
    v.exo_ok(["index", "--quiet"]);
    v
}

/// A client named `name` talking to `exo mcp <args>` in the vault.
async fn connect(v: &TestVault, name: &str, args: &[&str]) -> Client {
    let mut command = tokio::process::Command::from(v.exo_cmd());
    command.arg("mcp").args(args);
    let transport = TokioChildProcess::new(command).expect("start exo mcp");
    ClientConfig::new(ClientCapabilities::default(), Implementation::new(name, "1.0"))
        .serve(transport)
        .await
        .expect("connect to exo mcp")
}

async fn call(client: &Client, tool: &str, arguments: Value) -> CallToolResult {
    let Value::Object(arguments) = arguments else { panic!("arguments must be an object") };
    let request = CallToolRequestParams::new(tool.to_string()).with_arguments(arguments);
    client.call_tool(request).await.unwrap_or_else(|e| panic!("{tool}: protocol error {e}"))
}

fn text_of(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text()).map(|t| t.text.clone()).collect::<Vec<_>>().join("\n")
}

/// The structured answer, after checking it is no error and fits the tool's outputSchema.
fn valid_answer(tools: &[Tool], tool: &str, result: &CallToolResult) -> Value {
    assert_ne!(result.is_error, Some(true), "{tool} failed: {}", text_of(result));
    let declared = tools.iter().find(|t| t.name == tool).unwrap_or_else(|| panic!("{tool} not listed"));
    let schema =
        Value::Object(declared.output_schema.as_deref().cloned().unwrap_or_else(|| panic!("{tool}: no outputSchema")));
    let answer = result.structured_content.clone().unwrap_or_else(|| panic!("{tool}: no structuredContent"));
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{tool}: bad schema: {e}"));
    let errors: Vec<String> =
        validator.iter_errors(&answer).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(
        errors.is_empty(),
        "{tool}: structuredContent does not fit its outputSchema:\n{}\n{answer:#}",
        errors.join("\n")
    );
    answer
}

fn commit_count(v: &TestVault) -> usize {
    v.git_ok(["rev-list", "--count", "HEAD"]).trim().parse().unwrap()
}

/// After a write: exactly one new commit, by "<client> via exo", touching only `paths`; a
/// clean tree; the index Synced.
fn assert_one_commit(v: &TestVault, before: usize, client: &str, answer: &Value, paths: &[&str]) {
    assert_eq!(commit_count(v), before + 1, "{answer:#}");
    let author = v.git_ok(["log", "-1", "--format=%an"]);
    assert_eq!(author.trim(), format!("{client} via exo"));
    let changed = v.git_ok(["show", "--name-only", "--no-renames", "--format=", "HEAD"]);
    let mut changed: Vec<&str> = changed.lines().filter(|l| !l.is_empty()).collect();
    changed.sort_unstable();
    assert_eq!(changed, paths, "{answer:#}");
    assert_eq!(v.git_ok(["status", "--porcelain"]), "", "tree not clean after {answer:#}");
    assert_eq!(answer["committed"], true, "{answer:#}");
    assert_eq!(answer["index_status"], "Synced", "{answer:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_is_listed_with_its_hints_and_answers_within_its_schema() {
    let v = git_vault();
    let client = connect(&v, "e2e-agent", &[]).await;
    let tools = client.list_all_tools().await.unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    let mut expected: Vec<&str> = READ_TOOLS.iter().chain(WRITE_TOOLS.iter()).copied().collect();
    expected.sort_unstable();
    assert_eq!(names, expected);
    for tool in &tools {
        let hints = tool.annotations.as_ref().unwrap_or_else(|| panic!("{}: no annotations", tool.name));
        let read = READ_TOOLS.contains(&tool.name.as_ref());
        assert_eq!(hints.read_only_hint, Some(read), "{}", tool.name);
        assert!(hints.destructive_hint.is_some() && hints.idempotent_hint.is_some(), "{}", tool.name);
        assert_eq!(hints.open_world_hint, Some(false), "{}", tool.name);
        assert!(tool.output_schema.is_some(), "{}: no outputSchema", tool.name);
        assert!(tool.description.as_deref().is_some_and(|d| d.len() > 40), "{}", tool.name);
    }
    assert_eq!(
        tools.iter().find(|t| t.name == "create_note").unwrap().annotations.as_ref().unwrap().destructive_hint,
        Some(false)
    );
    assert_eq!(
        tools.iter().find(|t| t.name == "delete_note").unwrap().annotations.as_ref().unwrap().destructive_hint,
        Some(true)
    );

    let calls: [(&str, Value); 11] = [
        ("search", json!({"query": "spaced repetition", "mode": "hybrid", "limit": 3})),
        ("read_note", json!({"note": "Spaced Repetition"})),
        ("list_notes", json!({"folder": "concepts", "sort": "modified", "limit": 5})),
        ("links", json!({"note": "concepts/Spaced Repetition.md"})),
        ("backlinks", json!({"note": "Spaced Repetition"})),
        ("neighbors", json!({"note": "Forgetting Curve", "depth": 2})),
        ("path", json!({"from": "Hermann Ebbinghaus", "to": "Leitner System"})),
        ("status", json!({})),
        ("garden", json!({"min_confidence": 0.0})),
        ("wander", json!({"seed": 7, "pairs": 2})),
        ("recent", json!({"days": 30})),
    ];
    let mut answers = std::collections::BTreeMap::new();
    for (tool, arguments) in calls {
        let result = call(&client, tool, arguments).await;
        answers.insert(tool, valid_answer(&tools, tool, &result));
    }
    assert_eq!(answers["search"]["hits"][0]["path"], "concepts/Spaced Repetition.md");
    assert!(answers["search"]["hits"][0]["matched_on"].as_array().is_some_and(|m| !m.is_empty()));
    let note = &answers["read_note"];
    assert_eq!(note["path"], "concepts/Spaced Repetition.md");
    assert_eq!(note["indexed"], true);
    let on_disk = std::fs::read(v.root.join("concepts/Spaced Repetition.md")).unwrap();
    assert_eq!(note["hash"], blake3::hash(&on_disk).to_hex().to_string());
    assert!(note["backlinks"].as_array().is_some_and(|b| !b.is_empty()), "{note:#}");
    assert!(answers["list_notes"]["total"].as_u64().unwrap() >= 5);
    assert_eq!(answers["list_notes"]["notes"].as_array().unwrap().len(), 5);
    assert_eq!(answers["status"]["status"], "Synced");
    assert_eq!(answers["recent"]["notes"].as_array().unwrap().len(), 30, "{:#}", answers["recent"]);
    assert_eq!(answers["recent"]["notes"][0]["commits"][0]["subject"], "vault-example");

    // The writes, each one commit by this client, clean tree and Synced index after.
    let before = commit_count(&v);
    let created = call(
        &client,
        "create_note",
        json!({"path": "inbox/mcp idea.md", "frontmatter": {"tags": ["idea"]}, "body": "A thought about [[Spaced Repetition]] and interleaving practice schedules.\n"}),
    )
    .await;
    let created = valid_answer(&tools, "create_note", &created);
    assert_one_commit(&v, before, "e2e-agent", &created, &["inbox/mcp idea.md"]);

    let read =
        valid_answer(&tools, "read_note", &call(&client, "read_note", json!({"note": "inbox/mcp idea.md"})).await);
    assert_eq!(read["hash"], created["hash"]);
    assert_eq!(read["indexed"], true, "a write reindexes what it touched: {read:#}");
    let edited = call(
        &client,
        "edit_note",
        json!({"note": "inbox/mcp idea.md", "operation": "append", "text": "\nMore.\n", "base_hash": read["hash"]}),
    )
    .await;
    let edited = valid_answer(&tools, "edit_note", &edited);
    assert_one_commit(&v, before + 1, "e2e-agent", &edited, &["inbox/mcp idea.md"]);

    let moved =
        call(&client, "move_note", json!({"from": "inbox/mcp idea.md", "to": "concepts/Interleaving Idea.md"})).await;
    let moved = valid_answer(&tools, "move_note", &moved);
    assert_one_commit(&v, before + 2, "e2e-agent", &moved, &["concepts/Interleaving Idea.md", "inbox/mcp idea.md"]);

    let refused = call(&client, "delete_note", json!({"note": "concepts/Interleaving Idea.md"})).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(text_of(&refused).contains("confirm: true"), "{}", text_of(&refused));
    let deleted = call(&client, "delete_note", json!({"note": "concepts/Interleaving Idea.md", "confirm": true})).await;
    let deleted = valid_answer(&tools, "delete_note", &deleted);
    assert_one_commit(&v, before + 3, "e2e-agent", &deleted, &["concepts/Interleaving Idea.md"]);
    assert!(!v.root.join("concepts/Interleaving Idea.md").exists());

    let recent = valid_answer(&tools, "recent", &call(&client, "recent", json!({"commits": 4})).await);
    let subjects: Vec<&str> =
        recent["notes"][0]["commits"].as_array().unwrap().iter().map(|c| c["subject"].as_str().unwrap()).collect();
    assert_eq!(recent["notes"][0]["path"], "concepts/Interleaving Idea.md", "{recent:#}");
    assert_eq!(recent["notes"][0]["change"], "deleted", "{recent:#}");
    assert_eq!(subjects.len(), 2, "{recent:#}");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_an_error_that_says_what_to_do_and_the_server_lives_on() {
    let v = git_vault();
    let client = connect(&v, "e2e-agent", &[]).await;

    let unknown = call(&client, "search", json!({"query": "memory", "max_results": 3})).await;
    assert_eq!(unknown.is_error, Some(true));
    assert_eq!(
        text_of(&unknown),
        "search has no parameter \"max_results\"; it accepts: query, limit, mode, path, tags, types, where. Call it again with those names"
    );
    let missing = call(&client, "links", json!({})).await;
    assert_eq!(missing.is_error, Some(true));
    assert_eq!(text_of(&missing), "links needs the parameter \"note\"; it accepts: note");
    let wrong_type = call(&client, "search", json!({"query": "memory", "limit": "ten"})).await;
    assert_eq!(wrong_type.is_error, Some(true));
    assert!(text_of(&wrong_type).contains("it accepts: query"), "{}", text_of(&wrong_type));

    let no_note = call(&client, "read_note", json!({"note": "Spaced Repetitoin"})).await;
    assert_eq!(no_note.is_error, Some(true));
    let said = text_of(&no_note);
    assert!(
        said.starts_with("no note is named \"Spaced Repetitoin\"; the closest names: concepts/Spaced Repetition.md"),
        "{said}"
    );

    let escape = call(&client, "create_note", json!({"path": "../../outside.md", "body": "x"})).await;
    assert_eq!(escape.is_error, Some(true), "{}", text_of(&escape));
    assert!(!v.root.join("../../outside.md").exists());
    let hidden = call(&client, "read_note", json!({"note": "../README"})).await;
    assert_eq!(hidden.is_error, Some(true));
    let outside = std::env::temp_dir().join("exo-mcp-e2e-absolute.md");
    let absolute = call(&client, "create_note", json!({"path": outside.display().to_string(), "body": "x"})).await;
    assert_eq!(absolute.is_error, Some(true), "{}", text_of(&absolute));
    assert!(!outside.exists());
    let git_config =
        call(&client, "edit_note", json!({"note": ".git/config", "operation": "append", "text": "x"})).await;
    assert_eq!(git_config.is_error, Some(true), "{}", text_of(&git_config));
    let twin =
        call(&client, "create_note", json!({"title": "Spaced Repetition", "folder": "inbox", "body": "Again."})).await;
    assert_eq!(twin.is_error, Some(true), "{}", text_of(&twin));
    assert!(text_of(&twin).contains("concepts/Spaced Repetition.md"), "{}", text_of(&twin));
    assert!(text_of(&twin).contains("force: true"), "{}", text_of(&twin));

    let empty = call(&client, "search", json!({"query": "   "})).await;
    assert_eq!(empty.is_error, Some(true));

    // Still serving after all of that.
    let fine = call(&client, "search", json!({"query": "memory", "mode": "bm25", "limit": 1})).await;
    assert_ne!(fine.is_error, Some(true), "{}", text_of(&fine));
    assert_eq!(v.git_ok(["status", "--porcelain"]), "");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_serves_no_write_tools() {
    let v = git_vault();
    let client = connect(&v, "e2e-agent", &["--read-only"]).await;
    let tools = client.list_all_tools().await.unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(names, READ_TOOLS);
    let refused = call(&client, "create_note", json!({"path": "x.md", "body": "x"})).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(text_of(&refused).contains("read-only"), "{}", text_of(&refused));
    assert!(!v.root.join("x.md").exists());
    client.cancel().await.unwrap();
}

/// One client's round: create a note of its own (alike by design, so `force` past the
/// near-duplicate refusal), then append a line to the shared index.md.
async fn write_round(client: &str, agent: &Client, i: usize) {
    let body = format!("Round {i} of {client}: a note about something else entirely, number {i}.\n");
    let created =
        call(agent, "create_note", json!({"path": format!("inbox/{client} {i}.md"), "body": body, "force": true}))
            .await;
    assert_ne!(created.is_error, Some(true), "{}", text_of(&created));
    let line = format!("- {client} was here ({i})\n");
    let appended = call(agent, "edit_note", json!({"note": "index.md", "operation": "append", "text": line})).await;
    assert_ne!(appended.is_error, Some(true), "{}", text_of(&appended));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_writing_at_once_both_land() {
    const ROUNDS: usize = 3;
    let v = git_vault();
    let before = commit_count(&v);
    let (a, b) = tokio::join!(connect(&v, "agent-a", &[]), connect(&v, "agent-b", &[]));
    // Each round both create a note and append to one shared note at the same moment: a
    // writer that read before the other landed would lose an append, or call it a person's.
    for i in 0..ROUNDS {
        tokio::join!(write_round("agent-a", &a, i), write_round("agent-b", &b, i));
    }
    assert_eq!(commit_count(&v), before + 4 * ROUNDS, "every write is its own commit");
    let shared = std::fs::read_to_string(v.root.join("index.md")).unwrap();
    for client in ["agent-a", "agent-b"] {
        for i in 0..ROUNDS {
            assert!(shared.contains(&format!("- {client} was here ({i})")), "append lost: {shared}");
            assert!(v.root.join(format!("inbox/{client} {i}.md")).exists());
        }
    }
    let authors = v.git_ok(["log", &format!("-{}", 4 * ROUNDS), "--format=%an"]);
    let mut authors: Vec<&str> = authors.lines().collect();
    authors.sort_unstable();
    authors.dedup();
    assert_eq!(authors, ["agent-a via exo", "agent-b via exo"]);
    assert_eq!(v.git_ok(["status", "--porcelain"]), "");
    a.cancel().await.unwrap();
    b.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_commit_writes_and_reindexes_but_leaves_the_commit() {
    let v = git_vault();
    let before = commit_count(&v);
    // An older client (MCP 2025-11-25, with `initialize`) names itself there, not per request.
    let mut command = tokio::process::Command::from(v.exo_cmd());
    command.args(["mcp", "--no-commit"]);
    let legacy = ClientConfig::new(ClientCapabilities::default(), Implementation::new("legacy-agent", "1.0"))
        .with_protocol_version(rmcp::model::ProtocolVersion::LATEST_WITH_INITIALIZE);
    let client = legacy.serve(TokioChildProcess::new(command).unwrap()).await.unwrap();
    let created =
        call(&client, "create_note", json!({"path": "inbox/held.md", "body": "Held for the gardener.\n"})).await;
    assert_ne!(created.is_error, Some(true), "{}", text_of(&created));
    let answer = created.structured_content.unwrap();
    assert_eq!(answer["committed"], false, "{answer:#}");
    assert_eq!(answer["index_status"], "Synced", "{answer:#}");
    // Its own held work is not a person's: the same server may edit it again.
    let edited =
        call(&client, "edit_note", json!({"note": "inbox/held.md", "operation": "append", "text": "More.\n"})).await;
    assert_ne!(edited.is_error, Some(true), "{}", text_of(&edited));
    assert_eq!(commit_count(&v), before);
    assert_eq!(v.git_ok(["status", "--porcelain"]).trim(), "?? inbox/");
    client.cancel().await.unwrap();
    // A later commit by the caller carries it; with it committed, a new server authors as this client.
    v.commit_all("garden: held work");
    let client = ClientConfig::new(ClientCapabilities::default(), Implementation::new("legacy-agent", "1.0"))
        .with_protocol_version(rmcp::model::ProtocolVersion::LATEST_WITH_INITIALIZE)
        .serve(TokioChildProcess::new(tokio::process::Command::from(mcp_command(&v))).unwrap())
        .await
        .unwrap();
    let edited =
        call(&client, "edit_note", json!({"note": "inbox/held.md", "operation": "append", "text": "Last.\n"})).await;
    assert_ne!(edited.is_error, Some(true), "{}", text_of(&edited));
    assert_eq!(v.git_ok(["log", "-1", "--format=%an"]).trim(), "legacy-agent via exo");
    client.cancel().await.unwrap();
}

fn mcp_command(v: &TestVault) -> std::process::Command {
    let mut command = v.exo_cmd();
    command.arg("mcp");
    command
}

/// mcp/README.md's tool reference is `tools/list` rendered: regenerate it with
/// `EXO_UPDATE_SNAPSHOTS=1`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_tool_reference_matches_the_served_tools() {
    let v = git_vault();
    let client = connect(&v, "e2e-agent", &[]).await;
    let mut tools = client.list_all_tools().await.unwrap();
    client.cancel().await.unwrap();
    tools.sort_by(|a, b| {
        let rank = |t: &Tool| !READ_TOOLS.contains(&t.name.as_ref());
        rank(a).cmp(&rank(b)).then_with(|| a.name.cmp(&b.name))
    });
    let reference = render_reference(&tools);
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../mcp/README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let (begin, end) = ("<!-- tools:begin (generated by tests/e2e/mcp.rs; do not edit) -->\n", "<!-- tools:end -->");
    let start = readme.find(begin).expect("README has no tools:begin marker") + begin.len();
    let stop = readme.find(end).expect("README has no tools:end marker");
    if std::env::var_os("EXO_UPDATE_SNAPSHOTS").is_some() {
        let updated = format!("{}{reference}{}", &readme[..start], &readme[stop..]);
        std::fs::write(&readme_path, updated).unwrap();
        return;
    }
    assert_eq!(
        readme[start..stop],
        reference,
        "mcp/README.md's tool reference is out of date: run EXO_UPDATE_SNAPSHOTS=1 cargo test -p exo-cli --test e2e mcp::readme"
    );
}

/// One section per tool: its description, hints and parameters, from the served schemas.
fn render_reference(tools: &[Tool]) -> String {
    let mut out = String::new();
    for tool in tools {
        let hints = tool.annotations.clone().unwrap_or_default();
        let said = |on: Option<bool>| match on {
            Some(true) => "yes",
            Some(false) => "no",
            None => "unset",
        };
        let shown = format!(
            "read-only: {}, destructive: {}, idempotent: {}, open-world: {}",
            said(hints.read_only_hint),
            said(hints.destructive_hint),
            said(hints.idempotent_hint),
            said(hints.open_world_hint)
        );
        out.push_str(&format!("### `{}`\n\n", tool.name));
        out.push_str(&format!(
            "{}\n\n",
            tool.description.as_deref().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ")
        ));
        out.push_str(&format!("*Hints:* {shown}\n\n"));
        out.push_str(&parameters_table(tool));
    }
    out
}

fn parameters_table(tool: &Tool) -> String {
    let schema = Value::Object(tool.input_schema.as_ref().clone());
    let Some(properties) = schema["properties"].as_object().filter(|p| !p.is_empty()) else {
        return "No parameters.\n\n".to_string();
    };
    let required: Vec<&str> =
        schema["required"].as_array().map(|r| r.iter().filter_map(|v| v.as_str()).collect()).unwrap_or_default();
    let mut out = String::from("| parameter | type | required | description |\n|---|---|---|---|\n");
    for (name, property) in properties {
        let property = resolve(&schema, property);
        let description =
            property["description"].as_str().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ");
        let default = match &property["default"] {
            Value::Null => String::new(),
            value => format!(" Default: `{value}`."),
        };
        out.push_str(&format!(
            "| `{name}` | {} | {} | {}{default} |\n",
            type_of(&schema, property),
            if required.contains(&name.as_str()) { "yes" } else { "no" },
            description.replace('|', "\\|"),
        ));
    }
    out.push('\n');
    out
}

/// A property's schema, following one `$ref` into `$defs` (descriptions live on either side).
fn resolve<'a>(root: &'a Value, property: &'a Value) -> &'a Value {
    match property["$ref"].as_str().and_then(|r| r.strip_prefix("#/$defs/")) {
        Some(name) if property["description"].is_null() => &root["$defs"][name],
        _ => property,
    }
}

fn type_of(root: &Value, property: &Value) -> String {
    if let Some(name) = property["$ref"].as_str().and_then(|r| r.strip_prefix("#/$defs/")) {
        return type_of(root, &root["$defs"][name]);
    }
    if let Some(values) = property["enum"].as_array() {
        return values.iter().filter_map(|v| v.as_str()).map(|v| format!("`{v}`")).collect::<Vec<_>>().join(" \\| ");
    }
    if let Some(options) = property["oneOf"].as_array().or(property["anyOf"].as_array()) {
        let mut names: Vec<String> = options.iter().map(|o| type_of(root, o)).filter(|t| t != "null").collect();
        names.dedup();
        return names.join(" \\| ");
    }
    if let Some(constant) = property["const"].as_str() {
        return format!("`{constant}`");
    }
    match &property["type"] {
        Value::String(t) if t == "array" => format!("{}[]", type_of(root, &property["items"])),
        Value::String(t) => t.clone(),
        Value::Array(types) => {
            types.iter().filter_map(|t| t.as_str()).filter(|t| *t != "null").collect::<Vec<_>>().join(" \\| ")
        }
        _ => "any".to_string(),
    }
}

/// The gardener hands its agent `exo mcp --no-commit` (EXO_GARDENER_MCP_CONFIG): the agent's
/// write through it is reindexed but not committed, and the night lands as one
/// `garden: DATE` commit by the gardener, not by the agent.
#[test]
fn the_gardener_agent_writes_through_mcp_and_the_night_is_one_commit() {
    let v = crate::gardener::committed_example_without_vectors();
    let before: usize = commit_count(&v);
    let agent = v.root.parent().unwrap().join("mcp-agent.sh");
    std::fs::write(&agent, MCP_AGENT).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/exo-gardener");
    let out = v
        .program("bash")
        .arg(script)
        .args(["--date", "2026-01-16", "--author", "Night Gardener <night@example.com>"])
        .env("EXO_GARDENER_AGENT", format!("sh {}", agent.display()))
        .output()
        .unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{said}");
    assert_eq!(commit_count(&v), before + 1, "{said}");
    assert_eq!(v.git_ok(["log", "-1", "--format=%an|%s"]).trim(), "Night Gardener|garden: 2026-01-16");
    let files = v.git_ok(["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(files.lines().collect::<Vec<_>>(), ["books/Make It Stick.md", "garden-log/2026-01-16.md"]);
    let text = std::fs::read_to_string(v.root.join("books/Make It Stick.md")).unwrap();
    assert!(text.contains("The [[Forgetting Curve|forgetting curve]] is the background"), "{text}");
    assert_eq!(v.git_ok(["status", "--porcelain"]), "");
}

/// A scripted agent that finds exo's MCP server in the gardener's config and makes one edit
/// through it as a 2026-07-28 client (no `initialize`: the request carries its own `_meta`).
const MCP_AGENT: &str = r#"#!/bin/sh
set -e
cat > /dev/null
cfg="$EXO_GARDENER_MCP_CONFIG"
grep -q '"mcp", "--no-commit"' "$cfg"
cmd=$(sed -n 's/.*"command": "\([^"]*\)".*/\1/p' "$cfg")
vault=$(sed -n 's/.*"--vault", "\([^"]*\)".*/\1/p' "$cfg")
out=$(mktemp)
{
  printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"edit_note","arguments":{"note":"books/Make It Stick.md","operation":"find_replace","find":"The forgetting curve is the background","replace":"The [[Forgetting Curve|forgetting curve]] is the background"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"night-agent","version":"0"}}}}'
  i=0
  until grep -q '"id":1' "$out"; do i=$((i+1)); [ "$i" -lt 600 ] || exit 1; sleep 0.1; done
} | "$cmd" --vault "$vault" mcp --no-commit > "$out"
grep -q '"isError":false' "$out" || { cat "$out" >&2; exit 1; }
grep -q '"committed":false' "$out" || { cat "$out" >&2; exit 1; }
echo "Changed:"
echo "- books/Make It Stick.md: linked the mention of the forgetting curve (through exo's MCP server)"
echo "Skipped:"
echo "- the rest: a test agent does one thing"
"#;

/// Over stdio, SIGTERM (what a client sends to stop its server) ends `exo mcp` with exit 0,
/// and stdout holds nothing but protocol messages.
#[cfg(unix)]
#[test]
fn stdio_answers_a_stateless_request_and_exits_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader, Write};
    let v = git_vault();
    let mut child = mcp_command(&v)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let request = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "status", "arguments": {}, "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "raw-stdio", "version": "0"}}}});
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{request}").unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let answer: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: not JSON-RPC on stdout: {line}"));
    assert_eq!(answer["id"], 1, "{answer}");
    assert_eq!(answer["result"]["structuredContent"]["status"], "Synced", "{answer}");
    let out = v.program("kill").args(["-TERM", &child.id().to_string()]).output().unwrap();
    assert!(out.status.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(rest, "", "stdout after the answer");
    drop(stdin);
}

/// A note a person just saved is read as it is on disk: a new one by its path before any
/// reindex, an edited one with `indexed: false`; `recent` lists both as uncommitted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_note_reads_the_file_as_it_is_now() {
    let v = git_vault();
    v.write("inbox/just saved.md", "# Just Saved\n\nLinks to [[Spaced Repetition]].\n");
    let edited = std::fs::read_to_string(v.root.join("concepts/Spaced Repetition.md")).unwrap() + "\nA new line.\n";
    v.write("concepts/Spaced Repetition.md", &edited);
    let client = connect(&v, "e2e-agent", &[]).await;
    let tools = client.list_all_tools().await.unwrap();

    let new = valid_answer(&tools, "read_note", &call(&client, "read_note", json!({"note": "inbox/just saved"})).await);
    assert_eq!(new["path"], "inbox/just saved.md");
    assert_eq!(new["indexed"], false);
    assert_eq!(new["title"], "Just Saved");
    assert_eq!(new["outlinks"][0]["path"], "concepts/Spaced Repetition.md", "{new:#}");
    assert_eq!(new["index_status"], "OutOfSync");

    let changed =
        valid_answer(&tools, "read_note", &call(&client, "read_note", json!({"note": "Spaced Repetition"})).await);
    assert_eq!(changed["indexed"], false);
    assert!(changed["body"].as_str().unwrap().ends_with("A new line.\n"), "{changed:#}");
    assert_eq!(changed["hash"], blake3::hash(edited.as_bytes()).to_hex().to_string());

    // list_notes: the index's notes, newest file first, paged.
    let in_concepts = std::fs::read_dir(v.root.join("concepts")).unwrap().count() as u64;
    let arguments = json!({"folder": "concepts", "sort": "modified", "limit": 2});
    let page = valid_answer(&tools, "list_notes", &call(&client, "list_notes", arguments).await);
    assert_eq!(page["total"], in_concepts, "{page:#}");
    assert_eq!(page["notes"][0]["path"], "concepts/Spaced Repetition.md", "{page:#}");
    assert_eq!(page["next_offset"], 2);
    let arguments = json!({"folder": "./concepts/", "offset": in_concepts - 1, "limit": 5});
    let last = valid_answer(&tools, "list_notes", &call(&client, "list_notes", arguments).await);
    assert_eq!(last["notes"].as_array().unwrap().len(), 1, "{last:#}");
    assert_eq!(last["next_offset"], Value::Null);
    let tagged = valid_answer(&tools, "list_notes", &call(&client, "list_notes", json!({"tag": "#memory"})).await);
    assert!(tagged["total"].as_u64().unwrap() > 0, "{tagged:#}");
    for note in tagged["notes"].as_array().unwrap() {
        let tags: Vec<&str> = note["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
        assert!(tags.iter().any(|t| *t == "memory" || t.starts_with("memory/")), "{note:#}");
    }

    let recent = valid_answer(&tools, "recent", &call(&client, "recent", json!({"days": 1})).await);
    assert_eq!(
        recent["uncommitted"],
        json!([
            {"path": "concepts/Spaced Repetition.md", "change": "modified"},
            {"path": "inbox/just saved.md", "change": "new"}
        ])
    );
    client.cancel().await.unwrap();
}
