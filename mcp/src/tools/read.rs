//! The read tools. All four hints are set on each: read-only, not destructive, idempotent and
//! closed-world (they touch nothing outside the vault; the spec's defaults for the last two,
//! destructive and open-world, would be wrong).

use exo_api::{
    Backlinks, Fresh, GardenRequest, Links, ListNotesRequest, Neighbors, NeighborsRequest, NoteContent, NoteList,
    NoteRef, PathAnswer, PathRequest, ReadNoteRequest, Recent, RecentRequest, Report, SearchQuery, SearchResults,
    Status, StatusRequest, Wander, WanderRequest,
};
use rmcp::handler::server::wrapper::Parameters;
use rmcp::{Json, tool, tool_router};

use crate::ExoServer;

#[tool_router(router = read_tools, vis = "pub(crate)")]
impl ExoServer {
    #[tool(
        description = "Search the vault's notes by words and meaning. Returns ranked hits, each with path, title, \
        a snippet, the heading it comes from and `matched_on` (which signals found it: bm25 words, vector meaning, \
        graph links), plus whether the index is in sync with the files. Pass a hit's `path` to read_note to read it. \
        Filters narrow the search: tags (all must match), types, path (folder prefix), where (frontmatter key: value).",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn search(&self, Parameters(query): Parameters<SearchQuery>) -> Result<Json<SearchResults>, String> {
        self.answer("search", move |exo, _| exo.search(&query)).await
    }

    #[tool(
        description = "Read one note by vault-relative path, title or alias: its frontmatter, Markdown body, \
        headings, outgoing links (with where each resolves), backlinks (notes linking to it, with the line), and \
        `hash`. Pass `hash` as `base_hash` to edit_note, move_note or delete_note so they refuse if the note \
        changed since you read it. `indexed` says whether search and the graph know this version of the file.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn read_note(
        &self,
        Parameters(request): Parameters<ReadNoteRequest>,
    ) -> Result<Json<Fresh<NoteContent>>, String> {
        self.answer("read_note", move |exo, _| exo.read_note(&request)).await
    }

    #[tool(
        description = "List the vault's notes (path, title, type, tags, aliases, word count, modified time), \
        filtered by folder, tag or type, sorted by path or by modified (newest first), one page at a time: \
        `total` counts all matches; pass `next_offset` back as `offset` for the next page.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn list_notes(
        &self,
        Parameters(request): Parameters<ListNotesRequest>,
    ) -> Result<Json<Fresh<NoteList>>, String> {
        self.answer("list_notes", move |exo, _| exo.list_notes(&request)).await
    }

    #[tool(
        description = "The links written in one note (by path, title or alias), in order, each with its line, kind \
        (wiki, embed, markdown, property: a link in the frontmatter), target as written, and the note or attachment it resolves to (`resolved: false` \
        means no note answers to it).",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn links(&self, Parameters(request): Parameters<NoteRef>) -> Result<Json<Fresh<Links>>, String> {
        self.answer("links", move |exo, _| exo.links(&request)).await
    }

    #[tool(
        description = "The notes that link to one note (by path, title or alias), each with the line of the link \
        as the file reads now.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn backlinks(&self, Parameters(request): Parameters<NoteRef>) -> Result<Json<Fresh<Backlinks>>, String> {
        self.answer("backlinks", move |exo, _| exo.backlinks(&request)).await
    }

    #[tool(
        description = "Notes within `depth` links of one note (default 1), following links in either direction, \
        nearest first, each with its distance.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn neighbors(
        &self,
        Parameters(request): Parameters<NeighborsRequest>,
    ) -> Result<Json<Fresh<Neighbors>>, String> {
        self.answer("neighbors", move |exo, _| exo.neighbors(&request)).await
    }

    #[tool(
        description = "A shortest chain of links from one note to another (each by path, title or alias), with how \
        each step was reached; `path` and `hops` are null when no chain exists. `directed: true` follows links \
        only the way they are written.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn path(&self, Parameters(request): Parameters<PathRequest>) -> Result<Json<Fresh<PathAnswer>>, String> {
        self.answer("path", move |exo, _| exo.path(&request)).await
    }

    #[tool(
        description = "Whether exo's index matches the files (Synced or OutOfSync, with the notes modified, new or \
        deleted since indexing), its health, note count, vector coverage and per-note warnings.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn status(&self, Parameters(request): Parameters<StatusRequest>) -> Result<Json<Status>, String> {
        self.answer("status", move |exo, _| exo.status(&request)).await
    }

    #[tool(
        description = "What is rotting in the vault: orphans, unresolved links, broken anchors, unlinked mentions, \
        similar unlinked notes, near-duplicates, stale summaries, stubs, invalid frontmatter. Each finding has a \
        confidence (0-1), evidence and a `fix` concrete enough to act on. `only` picks kinds.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn garden(&self, Parameters(request): Parameters<GardenRequest>) -> Result<Json<Report>, String> {
        self.answer("garden", move |exo, _| exo.garden(&request)).await
    }

    #[tool(
        description = "Pairs of distant notes (other folders, other times, other words, no short link path) to read \
        side by side and look for a connection; each pair comes with a prompt. The same `seed` gives the same pairs \
        (default: today's).",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn wander(&self, Parameters(request): Parameters<WanderRequest>) -> Result<Json<Fresh<Wander>>, String> {
        self.answer("wander", move |exo, _| exo.wander(&request)).await
    }

    #[tool(
        description = "Notes changed lately, from git history: in the last `days` days (default 7) or the last \
        `commits` commits, most recent first, each with what changed (added, modified, deleted, renamed) and the \
        subjects of the commits that changed it; plus `uncommitted`, the notes changed and not committed yet.",
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn recent(&self, Parameters(request): Parameters<RecentRequest>) -> Result<Json<Recent>, String> {
        self.answer("recent", move |exo, _| exo.recent(&request)).await
    }
}
