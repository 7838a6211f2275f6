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
