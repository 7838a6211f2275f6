//! exo: the command-line face of the exo libraries. Thin: it parses arguments, calls one
//! library function per command, and renders the result for a human or, with `--json`,
//! for a script. Errors end as one line on stderr and exit code 2; a reader that closes
//! stdout early (`exo graph | head -1`) ends exo quietly with exit 0.

#![forbid(unsafe_code)]

mod cli;
mod commands;
mod context;
mod output;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let matches = commands::completions::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.format(&mut Cli::command()).exit(),
    };
    match run(cli) {
        Ok(code) => code,
        Err(error) if error.is::<output::StdoutClosed>() => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("exo: error: {}{}", output::error_line(&error), output::remedy_text(&error));
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let globals = cli.globals;
    match cli.command {
        Command::Init(args) => commands::init::run(&globals, args),
        Command::Parse(args) => commands::parse::run(&globals, args),
        Command::Index(args) => commands::index::run(&globals, args),
        Command::Status(args) => commands::status::run(&globals, args),
        Command::Search(args) => commands::search::run(&globals, args),
        Command::Watch(args) => commands::watch::run(&globals, args),
        Command::Hooks(command) => commands::hooks::run(&globals, command),
        Command::Graph(command) => commands::graph::run(&globals, command),
        Command::Garden(args) => commands::garden::run(&globals, args),
        Command::Check(args) => commands::check::run(&globals, args),
        Command::Wander(args) => commands::wander::run(&globals, args),
        Command::Notify(args) => commands::notify::run(&globals, args),
        Command::New(args) => commands::write::new(&globals, args),
        Command::Mv(args) => commands::write::mv(&globals, args),
        Command::Rm(args) => commands::write::rm(&globals, args),
        Command::Mcp(args) => commands::mcp::run(&globals, args),
        Command::Completions(args) => commands::completions::completions(args),
        Command::Man => commands::completions::man(),
    }
}
