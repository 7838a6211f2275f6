//! `exo check [--staged]`: the `[check]` policy of exo.toml. One line per violation,
//! `path:line: rule: message`; exit 0 in audit mode, 1 when enforce mode finds a violation,
//! 2 on error. The pre-commit hook runs it with `--staged`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use exo_api::{CheckAnswer, CheckMode, CheckRequest, CheckSource};

use crate::cli::{CheckArgs, Globals};
use crate::context::open_exo;
use crate::output::{escape, outln, print_json};

pub fn run(globals: &Globals, args: CheckArgs) -> Result<ExitCode> {
    let answer =
        open_exo(globals)?.check(&CheckRequest { staged: args.staged, index_file: index_file(args.staged)? })?;
    if globals.json {
        print_json(&answer)?;
    } else {
        print_human(&answer)?;
    }
    Ok(if answer.blocked { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The index git is committing from, when a hook runs us: `git commit -a` and `git commit
/// <path>` stage into a temporary index that only `GIT_INDEX_FILE` names (a path relative to
/// the working directory git gave the hook).
fn index_file(staged: bool) -> Result<Option<PathBuf>> {
    let Some(file) = std::env::var_os("GIT_INDEX_FILE").filter(|f| staged && !f.is_empty()) else {
        return Ok(None);
    };
    Ok(Some(std::path::absolute(PathBuf::from(file))?))
}

fn print_human(answer: &CheckAnswer) -> Result<()> {
    if !answer.policy {
        eprintln!("exo check: exo.toml has no [check] section; nothing to check");
        return Ok(());
    }
    for v in &answer.violations {
        outln!("{}:{}: {}: {}", escape(&v.path), v.line, v.rule.name(), escape(&v.message));
    }
    let what = match answer.source {
        CheckSource::Staged => "staged note(s) changed since HEAD",
        CheckSource::WorkingTree => "note(s)",
    };
    let notes = answer.violations.iter().map(|v| &v.path).collect::<std::collections::BTreeSet<_>>().len();
    let verdict = match (answer.mode, answer.violations.is_empty()) {
        (_, true) => "all pass".to_string(),
        (CheckMode::Audit, false) => {
            format!("{} violation(s) in {notes} note(s) (mode = audit: reported only)", answer.violations.len())
        }
        (CheckMode::Enforce, false) => {
            format!("{} violation(s) in {notes} note(s) (mode = enforce: refused)", answer.violations.len())
        }
    };
    eprintln!("exo check: {} {what} checked; {verdict}", answer.checked);
    Ok(())
}
