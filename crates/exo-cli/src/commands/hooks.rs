//! `exo hooks install|status`.

use std::process::ExitCode;

use anyhow::Result;
use exo_garden::hooks::{self, HooksStatus};

use crate::cli::{Globals, HooksCommand};
use crate::context::open_vault;
use crate::output::print_json;

pub fn run(globals: &Globals, command: HooksCommand) -> Result<ExitCode> {
    let vault = open_vault(globals)?;
    match command {
        HooksCommand::Install { force } => {
            let report = hooks::install(vault.root(), force)?;
            if globals.json {
                print_json(&report)?;
            } else {
                for name in &report.written {
                    println!("exo: wrote {}/{name}", report.hooks_path);
                }
                for name in &report.kept {
                    println!("exo: kept existing {}/{name}", report.hooks_path);
                }
                print_status(&report.status);
            }
            Ok(ExitCode::SUCCESS)
        }
        HooksCommand::Status => {
            let status = hooks::status(vault.root())?;
            if globals.json {
                print_json(&status)?;
            } else {
                print_status(&status);
            }
            Ok(if status.active { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}

fn print_status(status: &HooksStatus) {
    if status.active {
        println!("exo: hooks active (core.hooksPath = {})", status.hooks_path);
    } else {
        let configured = status.configured.as_deref().unwrap_or("unset");
        println!(
            "exo: hooks not active (core.hooksPath is {configured}, want {}) — run `exo hooks install`",
            status.hooks_path
        );
    }
    for hook in &status.hooks {
        let state = match (hook.present, hook.executable, hook.from_exo) {
            (false, _, _) => "missing",
            (true, false, _) => "not executable",
            (true, true, false) => "present (not exo's script; make sure it runs `exo index --quiet`)",
            (true, true, true) => "ok",
        };
        println!("  {:<14}{state}", hook.name);
    }
}
