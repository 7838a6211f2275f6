//! Tool schemas in the spelling most MCP clients accept. schemars writes an `Option<T>` as
//! `"type": ["integer", "null"]`, legal JSON Schema that clients mapping schemas onto a
//! single-`type` dialect (the OpenAPI subset behind Gemini function declarations) reject or
//! drop; the MCP Inspector's `--strict` lint flags it. Here it becomes `anyOf` with one type a
//! branch. schemars' integer formats (`uint32`, `int64`, …) are not JSON Schema formats and
//! validators warn on them; `minimum: 0` already says what `uint` meant, so they go.
//!
//! Only the spelling changes: every value valid before is valid after, and nothing else.

use rmcp::model::Tool;
use serde_json::{Map, Value};

/// Keywords that describe a schema rather than constrain it: they stay outside the `anyOf`.
const ANNOTATIONS: [&str; 6] = ["description", "title", "default", "examples", "deprecated", "readOnly"];

/// Formats schemars writes for Rust's number types.
const RUST_NUMBER_FORMATS: [&str; 14] = [
    "uint", "uint8", "uint16", "uint32", "uint64", "uint128", "int", "int8", "int16", "int32", "int64", "int128",
    "float", "double",
];

/// Rewrites a tool's input and output schemas in place.
pub(crate) fn make_portable(tool: &mut Tool) {
    let mut input = Value::Object(tool.input_schema.as_ref().clone());
    rewrite(&mut input);
    if let Value::Object(input) = input {
        tool.input_schema = std::sync::Arc::new(input);
    }
    if let Some(output) = &tool.output_schema {
        let mut output = Value::Object(output.as_ref().clone());
        rewrite(&mut output);
        if let Value::Object(output) = output {
            tool.output_schema = Some(std::sync::Arc::new(output));
        }
    }
}

fn rewrite(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            for value in object.values_mut() {
                rewrite(value);
            }
            drop_rust_format(object);
            split_nullable_type(object);
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite),
        _ => {}
    }
}

fn drop_rust_format(object: &mut Map<String, Value>) {
    if object.get("format").and_then(Value::as_str).is_some_and(|f| RUST_NUMBER_FORMATS.contains(&f)) {
        object.remove("format");
    }
}

/// `{"type": [T, "null"], …}` → `{"anyOf": [{"type": T, …}, {"type": "null"}]}`, annotations
/// kept outside.
fn split_nullable_type(object: &mut Map<String, Value>) {
    let Some(Value::Array(types)) = object.get("type") else { return };
    let others: Vec<Value> = types.iter().filter(|t| t.as_str() != Some("null")).cloned().collect();
    if others.len() != 1 || types.len() != 2 {
        return;
    }
    let mut branch = Map::new();
    branch.insert("type".into(), others[0].clone());
    let keys: Vec<String> =
        object.keys().filter(|k| *k != "type" && !ANNOTATIONS.contains(&k.as_str())).cloned().collect();
    for key in keys {
        if let Some(value) = object.remove(&key) {
            branch.insert(key, value);
        }
    }
    object.remove("type");
    let null = serde_json::json!({"type": "null"});
    object.insert("anyOf".into(), Value::Array(vec![Value::Object(branch), null]));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_nullable_type_becomes_any_of_with_its_constraints_inside() {
        let mut schema = json!({"properties": {"seed": {
            "description": "The seed.", "type": ["integer", "null"], "format": "uint64", "minimum": 0, "default": null
        }}});
        rewrite(&mut schema);
        assert_eq!(
            schema,
            json!({"properties": {"seed": {
                "description": "The seed.", "default": null,
                "anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]
            }}})
        );
    }

    #[test]
    fn other_schemas_are_left_alone() {
        let mut schema = json!({"type": "string", "format": "date-time", "enum": ["a"], "items": {"type": ["string"]}});
        let before = schema.clone();
        rewrite(&mut schema);
        assert_eq!(schema, before);
    }
}
