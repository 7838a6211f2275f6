//! The write tools: each is one exo-api write (path checks, refusals, atomic write, reindex,
//! exactly one git commit authored "<client> via exo"). The client's name comes from the
//! request's client info when it has one (2026-07-28 clients send it in each request's
//! `_meta`; older ones at `initialize`); without it the author is "MCP client via exo".
//!
//! Hints, all four set (the spec defaults destructive and open-world to true):
//! - all are closed-world: they change only the vault;
//! - create_note is not destructive: it only adds a file and refuses to overwrite one;
//! - edit_note, move_note and delete_note are destructive: they replace or remove text a
//!   person may have written (move_note rewrites links in other notes), even though each
//!   lands as a commit that can be reverted;
//! - idempotent means "calling again with the same arguments changes nothing more": true of
//!   create_note (the second call is refused: the file exists), move_note (the source is gone)
//!   and delete_note (the note is gone); false of edit_note (append appends again).

use exo_api::{CreateNoteRequest, DeleteNoteRequest, EditNoteRequest, MoveNoteRequest, WriteAnswer, WriteOrigin};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::service::RequestContext;
use rmcp::{Json, RoleServer, tool, tool_router};

use crate::ExoServer;

/// Who asked, for the commit author. rmcp answers a legacy client on a stateless HTTP request
/// with a made-up `{name: "rmcp"}`; that is no client's name.
fn origin(context: &RequestContext<RoleServer>) -> WriteOrigin {
    let name = context.client_info().map(|info| info.name).filter(|name| !name.trim().is_empty() && name != "rmcp");
    WriteOrigin { client: name }
}

#[tool_router(router = write_tools, vis = "pub(crate)")]
impl ExoServer {
    #[tool(
        description = "Create a new note from `path` (or `title` and optional `folder`), optional `frontmatter` \
        (an object) and a Markdown `body`. Refused if the file exists (use edit_note), or if notes with the same \
        title or alias or nearly the same text exist: the refusal lists them; read them, and edit one instead, or \
        pass `force: true` if yours is really new. Lands as one git commit; returns the new note's `hash`.",
        annotations(read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn create_note(
        &self,
        Parameters(request): Parameters<CreateNoteRequest>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<WriteAnswer>, String> {
        let origin = origin(&context);
        self.answer("create_note", move |exo, writer| exo.create_note(writer, &origin, &request)).await
    }

    #[tool(
        description = "Change an existing note (by path, title or alias) with one `operation`: append or prepend \
        `text`; replace_section (the text under `heading`, up to the next heading of its level, becomes `text`); \
        find_replace (`find` -> `replace`, refused unless it occurs exactly `expected_count` times, default 1); \
        set_frontmatter (merge the `frontmatter` object into the note's; null removes a key). Pass `base_hash` \
        (read_note's `hash`) so the edit is refused if the note changed since you read it. One git commit; returns \
        the new `hash`.",
        annotations(read_only_hint = false, destructive_hint = true, idempotent_hint = false, open_world_hint = false)
    )]
    async fn edit_note(
        &self,
        Parameters(request): Parameters<EditNoteRequest>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<WriteAnswer>, String> {
        let origin = origin(&context);
        self.answer("edit_note", move |exo, writer| exo.edit_note(writer, &origin, &request)).await
    }

    #[tool(
        description = "Move or rename a note (`from`: path, title or alias; `to`: the new vault-relative path, which \
        must not exist) and rewrite every link to it in other notes (wikilinks with their aliases, headings and \
        block refs, embeds, Markdown links), all in one git commit. Says how many links in how many notes it \
        rewrote.",
        annotations(read_only_hint = false, destructive_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn move_note(
        &self,
        Parameters(request): Parameters<MoveNoteRequest>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<WriteAnswer>, String> {
        let origin = origin(&context);
        self.answer("move_note", move |exo, writer| exo.move_note(writer, &origin, &request)).await
    }

    #[tool(
        description = "Delete a note (by path, title or alias). Needs `confirm: true`; without it the refusal lists \
        the notes that link to it (their links would be left unresolved), so you can decide first. One git commit.",
        annotations(read_only_hint = false, destructive_hint = true, idempotent_hint = true, open_world_hint = false)
    )]
    async fn delete_note(
        &self,
        Parameters(request): Parameters<DeleteNoteRequest>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<WriteAnswer>, String> {
        let origin = origin(&context);
        self.answer("delete_note", move |exo, writer| exo.delete_note(writer, &origin, &request)).await
    }
}
