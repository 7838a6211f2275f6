//! The MCP server: which tools it serves (all, or the read tools under `--read-only`), how a
//! tool call reaches exo-api, and what it says about itself.
//!
//! Invariants: the vault is found once, at start (a missing vault fails there, not on the
//! first call), and reopened on every call, so `exo.toml` edits and reindexes by others are
//! seen at once; one [`exo_api::Writer`] per process, shared by every session and transport,
//! so "the notes this server wrote" means this process under `--no-commit`.

use std::sync::Arc;

use exo_api::{CommitPolicy, Exo, VaultChoice, Writer};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::{CallToolRequestParams, CallToolResponse, Implementation, ServerCapabilities, ServerConfig};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, Json, RoleServer, ServerHandler, tool_handler};

use crate::{ServeError, errors};

/// How the face asked the server to run.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Where the vault is (`--vault`, `$EXO_ROOT`, the working folder), as the face was told.
    pub vault: VaultChoice,
    /// Serve only the read tools; the write tools are not listed at all.
    pub read_only: bool,
    /// `Hold` (`--no-commit`): writes are made and reindexed, and left for the caller to commit.
    pub commit: CommitPolicy,
}

/// The server one MCP session (or the one stdio connection) talks to. Cheap to clone: the
/// clones share the vault and the writer.
#[derive(Clone)]
pub struct ExoServer {
    shared: Arc<Shared>,
    router: ToolRouter<ExoServer>,
}

struct Shared {
    /// The vault root found at start, as a `--vault` flag, so each reopen skips discovery.
    choice: VaultChoice,
    writer: Writer,
    read_only: bool,
}

const INSTRUCTIONS: &str = "exo: a personal knowledge vault of Markdown notes in git. Search (search) and read \
(read_note) before you write; walk links with links, backlinks, neighbors and path. Notes are named by \
vault-relative path, title or alias. Every write (create_note, edit_note, move_note, delete_note) is one git \
commit a person can review; pass read_note's `hash` as `base_hash` when you edit, so you never overwrite a \
change you have not seen. Errors say what to do next.";

impl ExoServer {
    /// Finds the vault (failing now if there is none) and builds the tool list.
    pub fn new(options: ServerOptions) -> Result<ExoServer, ServeError> {
        let exo = Exo::open(&options.vault)?;
        let choice =
            VaultChoice { flag: Some(exo.vault().root().to_path_buf()), env: None, cwd: options.vault.cwd.clone() };
        let mut router = match options.read_only {
            true => Self::read_tools(),
            false => Self::read_tools() + Self::write_tools(),
        };
        for route in router.map.values_mut() {
            crate::portable::make_portable(&mut route.attr);
        }
        let shared = Shared { choice, writer: Writer::new(options.commit), read_only: options.read_only };
        Ok(ExoServer { shared: Arc::new(shared), router })
    }

    /// The vault this server serves, found at start.
    pub(crate) fn vault_choice(&self) -> &VaultChoice {
        &self.shared.choice
    }

    /// Every tool this server serves, as `tools/list` shows them.
    pub fn tools(&self) -> Vec<rmcp::model::Tool> {
        self.router.list_all()
    }

    /// Runs one exo-api call on a blocking thread against a freshly opened vault, and turns
    /// its error into text that says what to do. A panic in the call becomes an error result:
    /// the server keeps running.
    pub(crate) async fn answer<T, F>(&self, tool: &'static str, call: F) -> Result<Json<T>, String>
    where
        T: Send + 'static,
        F: FnOnce(&Exo, &Writer) -> exo_api::Result<T> + Send + 'static,
    {
        let shared = self.shared.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let exo = Exo::open(&shared.choice).map_err(|e| errors::describe(None, &e))?;
            call(&exo, &shared.writer).map_err(|e| errors::describe(Some(&exo), &e))
        })
        .await;
        match outcome {
            Ok(answer) => answer.map(Json),
            Err(failure) => Err(format!(
                "{tool} failed inside exo ({failure}); the server is still running: retry, or report this as a bug"
            )),
        }
    }
}

#[tool_handler(router = self.router)]
impl ServerHandler for ExoServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("exo", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS.to_string())
    }

    /// The generated dispatch, with one change: arguments that do not fit the tool (an unknown
    /// or missing parameter, a wrong type) come back as an error naming the parameters the
    /// tool accepts, and a write tool asked of a read-only server says why it is absent.
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        if self.shared.read_only && crate::tools::WRITE_TOOLS.contains(&name.as_str()) {
            return Ok(errors::tool_error(format!(
                "{name} is not available: this exo server runs read-only (exo mcp --read-only); \
                 ask the person to change the note, or to run the server without --read-only"
            )));
        }
        let tool = self.router.get(&name).cloned();
        let call = ToolCallContext::new(self, request, context);
        let response = self.router.call(call).await?;
        Ok(match tool {
            Some(tool) => errors::explain_bad_arguments(response, &tool),
            None => response,
        })
    }
}
