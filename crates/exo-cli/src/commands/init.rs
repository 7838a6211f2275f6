//! `exo init`: make a folder a vault without touching any note.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Globals, InitArgs};
use crate::context::cwd;
use crate::output::{escape, outln, print_json};

pub fn run(globals: &Globals, args: InitArgs) -> Result<ExitCode> {
    let cwd = cwd()?;
    let dir = cwd.join(args.dir.as_deref().or(globals.vault.as_deref()).unwrap_or(Path::new(".")));
    let report = exo_api::init(&dir)?;
    if globals.json {
        print_json(&report)?;
    } else {
        let config = if report.config_written { "wrote exo.toml" } else { "exo.toml already there" };
        let ignore =
            if report.gitignore_updated { "added .exo/ to .gitignore" } else { ".gitignore already ignores .exo/" };
        outln!("exo: {} — {config}; {ignore}. Next: exo index", escape(&report.root));
    }
    Ok(ExitCode::SUCCESS)
}
