//! `exo hooks install|status|fill`.

use std::process::ExitCode;

use anyhow::Result;
use exo_api::{HookKind, HookState, HooksInstallRequest, HooksStatus, InstallReport};

use crate::cli::{Globals, HooksCommand};
use crate::context::open_exo;
use crate::output::{escape, outln, print_json};

pub fn run(globals: &Globals, command: HooksCommand) -> Result<ExitCode> {
    let exo = open_exo(globals)?;
    match command {
        HooksCommand::Install { force } => {
            let exe = std::env::current_exe().ok();
            let report = exo.hooks_install(&HooksInstallRequest { force }, exe.as_deref())?;
            if globals.json {
                print_json(&report)?;
            } else {
                print_install(&report)?;
                print_status(&report.status)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        HooksCommand::Status => {
            let status = exo.hooks_status()?;
            if globals.json {
                print_json(&status)?;
            } else {
                print_status(&status)?;
            }
            Ok(if status.works() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        HooksCommand::Fill => {
            // The hook sends stderr to `.exo/hook-embed.log`.
            for error in exo.hooks_fill()?.errors {
                eprintln!("exo: background vector fill: {}", escape(&error));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print_install(report: &InstallReport) -> Result<()> {
    let dir = &report.hooks_path;
    let placed = &report.placed;
    for name in &placed.written {
        outln!("exo: wrote {dir}/{name}");
    }
    for name in &placed.chained {
        outln!("exo: chained exo into your {dir}/{name} (a marked `# >>> exo >>>` block; your lines are untouched)");
    }
    for name in &placed.updated {
        outln!("exo: updated exo's part of {dir}/{name}");
    }
    for name in &placed.kept {
        outln!("exo: kept {dir}/{name} (already runs exo)");
    }
    for name in &placed.outdated {
        outln!(
            "exo: kept {dir}/{name}: exo's part is from another exo version or edited; `exo hooks install --force` rewrites it"
        );
    }
    for step in &placed.by_hand {
        outln!(
            "exo: {dir}/{} is not a shell script, so exo left it as it is; add this line to run exo's hook from it: {}",
            step.hook,
            step.line
        );
    }
    Ok(())
}

fn print_status(status: &HooksStatus) -> Result<()> {
    let configured = status.configured.as_deref().unwrap_or("unset");
    if status.active {
        outln!("exo: hooks active (git runs hooks from {}; core.hooksPath is {configured})", status.hooks_path);
    } else {
        outln!(
            "exo: hooks not active (git runs hooks from {}; core.hooksPath is {configured}) — run `exo hooks install`",
            status.hooks_path
        );
    }
    for hook in &status.hooks {
        outln!("  {:<14}{}", hook.name, describe(hook));
    }
    let exo = &status.exo;
    if !exo.finds_exo {
        let recorded = exo.recorded.as_deref().map_or("no path recorded".to_string(), |p| format!("{p} is gone"));
        outln!("exo: the hooks cannot find exo (not on PATH; {recorded}) — reinstall with `exo hooks install`");
    } else if !exo.on_path {
        outln!("exo: exo is not on PATH; the hooks run {}", exo.recorded.as_deref().unwrap_or("?"));
    }
    Ok(())
}

fn describe(hook: &HookState) -> String {
    let what = match hook.kind {
        HookKind::Missing => return "missing".to_string(),
        HookKind::Exo => "exo's script",
        HookKind::Chained => "your hook, calling exo in a marked block",
        HookKind::CallsExo => "your hook, calling exo's script beside it",
        HookKind::Shell => "your hook, not calling exo — `exo hooks install` chains exo into it",
        HookKind::NotShell => "your hook (not a shell script), not calling exo — `exo hooks install` says what to add",
    };
    let mut text = what.to_string();
    if matches!(hook.kind, HookKind::Exo | HookKind::Chained) && !hook.current {
        text.push_str("; outdated — `exo hooks install --force` rewrites exo's part");
    }
    if !hook.executable {
        text.push_str("; not executable, so git skips it (chmod +x)");
    }
    text
}
