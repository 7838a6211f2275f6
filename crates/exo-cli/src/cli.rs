use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// exo: a trustworthy index over a git vault of markdown notes.
#[derive(Debug, Parser)]
#[command(name = "exo", version, about, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub globals: Globals,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Globals {
    /// Vault root (default: $EXO_ROOT, else the nearest folder with exo.toml, else the git top level)
    #[arg(long, global = true, value_name = "PATH")]
    pub vault: Option<PathBuf>,
    /// Machine-readable JSON on stdout instead of human output
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Make this folder an exo vault: write a commented exo.toml and ignore .exo/ in git
    Init(InitArgs),
    /// Show what exo sees in one note: frontmatter, title, tags, headings, links, chunks, warnings
    Parse(ParseArgs),
    /// Bring the index in line with the files (only what changed is re-read)
    Index(IndexArgs),
    /// Does the index match the files? Exit 0 when Synced, 1 otherwise, 2 on error
    Status(StatusArgs),
    /// Ranked search (bm25, vectors, graph) with snippets; warns when the index is stale
    Search(SearchArgs),
    /// Keep the index in line while you edit: reconcile moments after each save, rescan now
    /// and then for what the OS missed; one log line per reconcile (Ctrl-C stops)
    Watch(WatchArgs),
    /// Git hooks that reconcile the index on every commit, merge, checkout and rebase
    #[command(subcommand)]
    Hooks(HooksCommand),
    #[command(flatten)]
    Graph(GraphCommand),
    /// What is rotting in the vault: orphans, wanted notes, unlinked mentions, near-duplicates,
    /// stale summaries, stubs, invalid frontmatter — each with evidence and a fix
    Garden(GardenArgs),
    /// Check notes against the [check] policy in exo.toml (required keys, value types, summary
    /// length, links resolve, unique titles): one `path:line: rule: message` per violation; exit
    /// 1 in enforce mode when any rule is broken, else 0
    Check(CheckArgs),
    /// Pairs of distant notes (other folders, other times, other words, no short link path)
    /// for a person or an agent to read side by side
    Wander(WanderArgs),
    /// POST a JSON object read on stdin to a webhook with --notify's timeout, retry and token
    /// (scripts/exo-gardener sends its summary this way); exit 1 when it could not be sent
    Notify(NotifyCommandArgs),
    /// Create a note (refused when it exists, or when notes with its name or text do, unless
    /// --force); one git commit
    New(NewArgs),
    /// Move or rename a note and rewrite every link to it; one git commit
    Mv(MvArgs),
    /// Delete a note (needs --yes; says which notes link to it); one git commit
    Rm(RmArgs),
    /// Serve the vault to AI agents over MCP (stdio; --http for streamable HTTP): search, read,
    /// walk links, and write notes, each write one git commit
    Mcp(McpArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions(CompletionsArgs),
    /// Print exo's man page (roff), e.g. `exo man > ~/.local/share/man/man1/exo.1`
    Man,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The link graph. NOTE is a vault-relative path, a title or an alias.
#[derive(Debug, Subcommand)]
pub enum GraphCommand {
    /// Links written in NOTE, with where each one resolves
    Links { note: String },
    /// Notes that link to NOTE, with the line of each link
    Backlinks { note: String },
    /// Notes within --depth links of NOTE, in either direction
    Neighbors {
        note: String,
        /// How many links away (0 finds none: a note is not its own neighbour)
        #[arg(long, short, default_value_t = 1)]
        depth: usize,
    },
    /// A shortest chain of links between two notes (exit 1 when there is none)
    Path {
        from: String,
        to: String,
        /// Follow links only the way they are written
        #[arg(long)]
        directed: bool,
    },
    /// Notes with no links in or out (the [garden] roots in exo.toml excepted)
    Orphans,
    /// Link targets no note answers to, with who links to them
    Unresolved,
    /// The whole graph: nodes with title, type, tags and degree; edges with kind
    Graph(GraphArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Json,
    Dot,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[arg(long, value_enum, default_value_t = GraphFormat::Json)]
    pub format: GraphFormat,
    /// Write the graph as one self-contained HTML page (open it in any browser, offline):
    /// coloured by type or folder, sized by links, with search and a panel per note
    #[arg(long, value_name = "FILE", conflicts_with = "format")]
    pub html: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct NotifyCommandArgs {
    /// The webhook (an ntfy topic, an n8n workflow)
    #[arg(value_name = "URL")]
    pub url: String,
    /// Send `Authorization: Bearer <token>` with the token in this environment variable
    /// (default: EXO_NOTIFY_TOKEN, when set)
    #[arg(long, value_name = "VAR")]
    pub notify_token_env: Option<String>,
    /// Set the summary's `findings` (counts by kind) from this `exo garden --json` report
    #[arg(long, value_name = "FILE")]
    pub findings_from: Option<PathBuf>,
}

/// `--notify`: tell a webhook how a run went.
#[derive(Debug, Clone, Args)]
pub struct NotifyArgs {
    /// POST a JSON summary of the run (status, counts, what changed, findings by kind) to URL,
    /// e.g. an ntfy topic or an n8n webhook; a failed POST is a warning, never a failed run
    #[arg(long, value_name = "URL")]
    pub notify: Option<String>,
    /// Send `Authorization: Bearer <token>` with the token in this environment variable
    /// (default: EXO_NOTIFY_TOKEN, when set)
    #[arg(long, value_name = "VAR", requires = "notify")]
    pub notify_token_env: Option<String>,
}

#[derive(Debug, Args)]
pub struct GardenArgs {
    /// Show at most N findings of each kind (the counts still say how many there are)
    #[arg(long, value_name = "N")]
    pub max: Option<usize>,
    /// Only these kinds (comma-separated or repeated): orphan, unresolved, broken-anchor,
    /// unlinked-mention, near-duplicate, similar-unlinked, stale-summary, stub, invalid-frontmatter
    #[arg(long, value_name = "KIND", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Leave out findings under this confidence, 0 to 1 (default: `[garden] min_confidence`
    /// in exo.toml, 0.5); 0 shows every candidate
    #[arg(long, value_name = "C")]
    pub min_confidence: Option<f32>,
    /// Exit 1 when there is any finding, 0 when there is none (like `git diff --exit-code`),
    /// so CI or cron can fail on, say, `--only unresolved,broken-anchor`
    #[arg(long)]
    pub exit_code: bool,
    #[command(flatten)]
    pub notify: NotifyArgs,
}

#[derive(Debug, Args)]
pub struct WanderArgs {
    /// How many pairs (at most half the notes: a note is in one pair)
    #[arg(long, default_value_t = 3)]
    pub pairs: usize,
    /// The same seed gives the same pairs (default: today's date, so a day has one walk)
    #[arg(long)]
    pub seed: Option<u64>,
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Throw the index away and build it again from the files
    #[arg(long)]
    pub rebuild: bool,
    /// Hash every note instead of trusting unchanged size and mtime
    #[arg(long)]
    pub verify: bool,
    /// Print nothing on success (for hooks and scripts)
    #[arg(long, short)]
    pub quiet: bool,
    /// Throw away every vector and embed all chunks again (after changing the embedder)
    #[arg(long, conflicts_with = "no_vectors")]
    pub reembed: bool,
    /// Index text and graph only; leave vectors for a later run
    #[arg(long)]
    pub no_vectors: bool,
    /// Seconds to wait for another exo process that is writing the index
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub wait: u64,
    #[command(flatten)]
    pub notify: NotifyArgs,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Seconds between safety rescans, which catch changes the OS did not report
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub rescan: u64,
    /// Milliseconds a file must stay quiet before its change counts (an editor's save is
    /// several writes)
    #[arg(long, value_name = "MS", default_value_t = 150, value_parser = clap::value_parser!(u64).range(4..=60_000))]
    pub debounce: u64,
    /// No file events, only the rescan, every --rescan seconds but at least every 5 (for
    /// network file systems, which report no events)
    #[arg(long)]
    pub poll: bool,
    /// Seconds a reconcile waits for another exo process that is writing the index
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub wait: u64,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Check the notes as staged for the next commit (git's index, not the working files);
    /// only staged notes that differ from HEAD are reported (the pre-commit hook runs this)
    #[arg(long)]
    pub staged: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Hash every note instead of trusting unchanged size and mtime
    #[arg(long)]
    pub verify: bool,
}

#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    /// Install exo's hooks where git runs hooks from, never disabling anyone's: into the vault's
    /// .githooks/ (setting core.hooksPath) when you have no hooks; else into your core.hooksPath
    /// folder or .git/hooks, chained into your shell hooks as a marked `# >>> exo >>>` block
    Install {
        /// Rewrite exo's own scripts and blocks with this version (after an upgrade, or over
        /// edits); your hooks and the lines outside exo's blocks are never touched
        #[arg(long)]
        force: bool,
    },
    /// Say where exo's hooks live, whether git runs them, and whether they can find exo
    Status,
    /// Fill vectors in the background for the hooks: one fill at a time, catching up with
    /// commits made meanwhile (the hooks start it; you need not)
    #[command(hide = true)]
    Fill,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folder to initialise (default: --vault, else the current directory)
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// The note file to parse
    pub note: PathBuf,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SearchMode {
    Bm25,
    Vector,
    Hybrid,
}

impl From<SearchMode> for exo_api::SearchMode {
    fn from(mode: SearchMode) -> Self {
        match mode {
            SearchMode::Bm25 => exo_api::SearchMode::Bm25,
            SearchMode::Vector => exo_api::SearchMode::Vector,
            SearchMode::Hybrid => exo_api::SearchMode::Hybrid,
        }
    }
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// What to look for (words, "a phrase", title:word, term*)
    #[arg(required = true, num_args = 1..)]
    pub query: Vec<String>,
    /// Which signals rank the hits
    #[arg(long, value_enum, default_value_t = SearchMode::Hybrid)]
    pub mode: SearchMode,
    /// How many hits to show (0 shows none, like `git log -n 0`; with --json that still says
    /// whether the index is fresh)
    #[arg(long, short = 'n', default_value_t = 10)]
    pub limit: usize,
    /// Only notes with this tag (nested tags included); repeat to require several
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
    /// Only notes of this frontmatter type; repeat to allow several
    #[arg(long = "type", value_name = "TYPE")]
    pub r#type: Vec<String>,
    /// Only notes whose path starts with this
    #[arg(long, value_name = "PREFIX")]
    pub path: Option<String>,
    /// Only notes whose frontmatter KEY holds VALUE; repeat to require several
    #[arg(long = "where", value_name = "KEY=VALUE")]
    pub r#where: Vec<String>,
    /// Show each signal's score and rank
    #[arg(long)]
    pub explain: bool,
}

/// `exo new PATH` or `exo new --title T [--folder F]`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Vault-relative path of the new note (".md" is added to a name without extension)
    #[arg(required_unless_present = "title")]
    pub path: Option<String>,
    /// The note's title; without PATH the file is FOLDER/TITLE.md
    #[arg(long)]
    pub title: Option<String>,
    /// Folder for a note named by --title
    #[arg(long, requires = "title")]
    pub folder: Option<String>,
    /// The body text
    #[arg(long, conflicts_with = "body_file")]
    pub body: Option<String>,
    /// Read the body from FILE (`-`: stdin)
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
    /// A frontmatter key=value (repeat); JSON values (3, true, ["a","b"]) are kept as such
    #[arg(long, value_name = "KEY=VALUE")]
    pub frontmatter: Vec<String>,
    /// Create it even when notes with the same name or nearly the same text exist
    #[arg(long)]
    pub force: bool,
    /// Write and reindex, but leave the commit to you
    #[arg(long)]
    pub no_commit: bool,
}

/// `exo mv OLD NEW`.
#[derive(Debug, Args)]
pub struct MvArgs {
    /// The note to move: path, title or alias
    pub old: String,
    /// Its new vault-relative path (must not exist)
    pub new: String,
    /// Move even when it or a note linking to it has uncommitted changes
    #[arg(long)]
    pub force: bool,
    /// Write and reindex, but leave the commit to you
    #[arg(long)]
    pub no_commit: bool,
}

/// `exo rm NOTE --yes`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// The note to delete: path, title or alias
    pub note: String,
    /// Really delete it (without it, exo says which notes link to it and deletes nothing)
    #[arg(long, short)]
    pub yes: bool,
    /// Delete even when it has uncommitted changes
    #[arg(long)]
    pub force: bool,
    /// Delete and reindex, but leave the commit to you
    #[arg(long)]
    pub no_commit: bool,
}

/// `exo mcp`: the MCP server.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct McpArgs {
    #[command(subcommand)]
    pub action: Option<McpAction>,
    /// Serve streamable HTTP at ADDR (default 127.0.0.1:8765), path /mcp, instead of stdio;
    /// requires a bearer token (EXO_MCP_TOKEN, else the file `exo mcp token` makes)
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "127.0.0.1:8765")]
    pub http: Option<std::net::SocketAddr>,
    /// Let --http listen on a non-loopback address (the token is still required)
    #[arg(long, requires = "http")]
    pub allow_remote: bool,
    /// With --allow-remote: another Host name clients use to reach this server (repeatable)
    #[arg(long, value_name = "HOST", requires = "allow_remote")]
    pub allow_host: Vec<String>,
    /// Serve only the read tools (search, read_note, links, …); the write tools are not listed
    #[arg(long)]
    pub read_only: bool,
    /// Make writes and reindex them, but leave committing to the caller (the gardener)
    #[arg(long)]
    pub no_commit: bool,
    /// Also watch the vault and reindex each saved change, as `exo watch` does, so search never
    /// answers from a stale index; the watch's log lines go to stderr
    #[arg(long)]
    pub watch: bool,
    /// With --watch: seconds between safety rescans, which catch changes the OS did not report
    #[arg(long, value_name = "SECS", default_value_t = 60, requires = "watch", value_parser = clap::value_parser!(u64).range(1..))]
    pub rescan: u64,
    /// With --watch: milliseconds a file must stay quiet before its change counts
    #[arg(long, value_name = "MS", default_value_t = 150, requires = "watch", value_parser = clap::value_parser!(u64).range(4..=60_000))]
    pub debounce: u64,
}

#[derive(Debug, Subcommand)]
pub enum McpAction {
    /// Create the bearer token for `exo mcp --http` (mode 0600 in the config folder) and print
    /// it once; later calls print where it is
    Token(McpTokenArgs),
}

#[derive(Debug, Args)]
pub struct McpTokenArgs {
    /// Print the existing token too
    #[arg(long)]
    pub show: bool,
}
