//! What exo says about itself: the long version, shell completions and the man page, all
//! from the one clap definition so they cannot drift from the commands.

use std::process::ExitCode;

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use std::io::Write;

use crate::output::stdout_error;

/// `exo --version`: the version, the git revision it was built from, and the built-in
/// model, so a bug report says exactly which exo and which vectors.
pub fn long_version() -> String {
    format!(
        "{} (git {})\nbuilt-in model: {}",
        env!("CARGO_PKG_VERSION"),
        env!("EXO_GIT_REVISION"),
        exo_api::built_in_model()
    )
}

/// The clap command with the long version filled in (it is computed, so derive cannot).
pub fn command() -> clap::Command {
    Cli::command().long_version(long_version())
}

pub fn completions(args: CompletionsArgs) -> Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command(), "exo", &mut script);
    std::io::stdout().lock().write_all(&script).map_err(stdout_error)?;
    Ok(ExitCode::SUCCESS)
}

pub fn man() -> Result<ExitCode> {
    let mut page = Vec::new();
    clap_mangen::Man::new(command()).render(&mut page)?;
    std::io::stdout().lock().write_all(&page).map_err(stdout_error)?;
    Ok(ExitCode::SUCCESS)
}
