//! Errors as an agent reads them: `isError` tool results whose text says what to do next.
//!
//! exo-api's errors already say what went wrong and, for writes, what to do; here they gain
//! what only the MCP face can say: a missing note lists the closest names, a remedy is said as
//! something an agent can do, and arguments that do not fit a tool (rmcp's "failed to
//! deserialize parameters: unknown field …") name the parameters the tool accepts, so a model
//! that guessed a name corrects itself instead of having the guess silently ignored.

use exo_api::{ApiError, Exo, IndexError, Remedy};
use rmcp::model::{CallToolResponse, CallToolResult, ContentBlock, Tool};

/// How rmcp begins the text of a result whose arguments did not deserialize.
const BAD_ARGUMENTS: &str = "failed to deserialize parameters:";

/// An `isError` result with one text block.
pub fn tool_error(text: String) -> CallToolResponse {
    CallToolResult::error(vec![ContentBlock::text(text)]).into()
}

/// One line for the agent: the error with each cause said once, then what fixes it. With the
/// vault at hand, a name that matches no note comes with the closest names.
pub fn describe(exo: Option<&Exo>, error: &ApiError) -> String {
    let mut text = causes(error);
    if let Some(name) = not_found_name(error) {
        let closest = exo.and_then(|exo| exo.closest_notes(name, 5).ok()).unwrap_or_default();
        text = match closest.is_empty() {
            true => format!("no note is named {name:?}; find it with search, or list_notes to browse"),
            false => format!(
                "no note is named {name:?}; the closest names: {}. Pass one of these paths, or find it with search",
                closest.join(", ")
            ),
        };
        return text;
    }
    if let Some(remedy) = error.remedy() {
        text.push_str(&remedy_text(&remedy));
    }
    text
}

fn not_found_name(error: &ApiError) -> Option<&str> {
    match error {
        ApiError::Index(IndexError::NoteNotFound { name }) => Some(name),
        _ => None,
    }
}

/// The error and its sources, each said once (a source a message already quotes is skipped).
fn causes(error: &ApiError) -> String {
    let mut line = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let said = cause.to_string();
        if !line.contains(&said) {
            line.push_str(": ");
            line.push_str(&said);
        }
        source = cause.source();
    }
    line
}

/// What fixes an index problem, said to an agent: it may have a shell tool, or a person may.
fn remedy_text(remedy: &Remedy) -> String {
    match remedy {
        Remedy::Index => {
            " — the vault has no index yet: run `exo index` in the vault (ask the person if you have no shell)".into()
        }
        Remedy::IndexAgain => ", then run `exo index` in the vault again".into(),
        Remedy::Rebuild => " — the index needs a rebuild: run `exo index --rebuild` in the vault".into(),
        Remedy::WaitLonger => " — another exo process is writing the index: retry in a few seconds".into(),
        Remedy::EmbedOrSearchWords => {
            ": search with mode \"bm25\" meanwhile, or run `exo index` to embed the notes".into()
        }
        Remedy::SearchFor(name) => format!(" — look for it with search (query {name:?})"),
    }
}

/// Rewrites rmcp's argument error into one that names the tool's parameters; any other
/// response passes through unchanged.
pub fn explain_bad_arguments(response: CallToolResponse, tool: &Tool) -> CallToolResponse {
    let CallToolResponse::Complete(result) = &response else { return response };
    if result.is_error != Some(true) {
        return response;
    }
    let Some(serde_text) = result.content.first().and_then(|c| c.as_text()).map(|t| t.text.as_str()) else {
        return response;
    };
    let Some(detail) = serde_text.strip_prefix(BAD_ARGUMENTS) else { return response };
    tool_error(argument_message(&tool.name, detail.trim(), &accepted_parameters(tool)))
}

/// The tool's parameters from its input schema, required ones first.
pub fn accepted_parameters(tool: &Tool) -> Vec<String> {
    let required: Vec<&str> = tool
        .input_schema
        .get("required")
        .and_then(|r| r.as_array())
        .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    let mut names: Vec<String> = tool
        .input_schema
        .get("properties")
        .and_then(|p| p.as_object())
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    names.sort_by_key(|name| (!required.contains(&name.as_str()), name.clone()));
    names
}

/// serde's "unknown field `x`, expected one of …", "missing field `x`" or "invalid type …",
/// said in terms of the tool's parameters.
fn argument_message(tool: &str, serde_detail: &str, accepted: &[String]) -> String {
    let list = match accepted.is_empty() {
        true => "none (call it with {})".to_string(),
        false => accepted.join(", "),
    };
    if let Some(field) = quoted_after(serde_detail, "unknown field `") {
        let hint = closest_parameter(&field, accepted).map(|p| format!(" (did you mean {p:?}?)")).unwrap_or_default();
        return format!("{tool} has no parameter {field:?}{hint}; it accepts: {list}. Call it again with those names");
    }
    if let Some(field) = quoted_after(serde_detail, "missing field `") {
        return format!("{tool} needs the parameter {field:?}; it accepts: {list}");
    }
    format!("{tool}: the arguments do not fit ({serde_detail}); it accepts: {list}")
}

/// The text between `prefix` and the next backtick.
fn quoted_after(text: &str, prefix: &str) -> Option<String> {
    let start = text.find(prefix)? + prefix.len();
    let rest = &text[start..];
    Some(rest[..rest.find('`')?].to_string())
}

/// An accepted parameter that a guessed one probably meant: the same letters ignoring case,
/// `_` and `-`, one containing the other ("note_type" → "type"), or a typo away (at most two
/// edits: "qury" → "query"). "max_results" → "limit" is beyond this.
fn closest_parameter<'a>(guess: &str, accepted: &'a [String]) -> Option<&'a String> {
    let squash = |s: &str| s.to_lowercase().replace(['_', '-'], "");
    let guess = squash(guess);
    if guess.len() < 3 {
        return None;
    }
    let near = |name: &String| {
        let name = squash(name);
        name == guess || name.contains(&guess) || guess.contains(&name) || edits(&name, &guess) <= 2
    };
    accepted.iter().find(|name| near(name))
}

/// Levenshtein distance, for short parameter names.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_field_names_what_is_accepted() {
        let accepted = vec!["query".to_string(), "limit".to_string(), "mode".to_string()];
        let message = argument_message(
            "search",
            "unknown field `max_results`, expected one of `query`, `limit`, `mode`",
            &accepted,
        );
        assert_eq!(
            message,
            "search has no parameter \"max_results\"; it accepts: query, limit, mode. Call it again with those names"
        );
        let message = argument_message("search", "unknown field `Query`, expected one of `query`", &accepted);
        assert!(message.contains("did you mean \"query\"?"), "{message}");
        let message = argument_message("search", "unknown field `qury`, expected one of `query`", &accepted);
        assert!(message.contains("did you mean \"query\"?"), "{message}");
        let message = argument_message("search", "unknown field `colour`, expected one of `query`", &accepted);
        assert!(!message.contains("did you mean"), "{message}");
    }

    #[test]
    fn a_missing_field_is_named() {
        let accepted = vec!["note".to_string()];
        assert_eq!(
            argument_message("links", "missing field `note`", &accepted),
            "links needs the parameter \"note\"; it accepts: note"
        );
    }
}
