//! exo-mcp: the MCP server face (issue 19), not built yet. It will be a thin face over
//! exo-api like the CLI: deserialize a tool's input, make one exo-api call, return the answer.
//! It must never hold the index's writer lock between requests.

#![forbid(unsafe_code)]
