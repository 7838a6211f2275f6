//! Finding the vault the way every command does.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::cli::Globals;

pub fn cwd() -> Result<PathBuf> {
    std::env::current_dir().context("cannot read the current directory")
}

fn env_root() -> Option<PathBuf> {
    std::env::var_os("EXO_ROOT").map(PathBuf::from)
}

/// Where this invocation's vault is to be found: `--vault`, `$EXO_ROOT`, the working folder.
pub fn vault_choice(globals: &Globals) -> Result<exo_api::VaultChoice> {
    Ok(exo_api::VaultChoice { flag: globals.vault.clone(), env: env_root(), cwd: cwd()? })
}

/// The vault for this invocation, opened behind the library boundary.
pub fn open_exo(globals: &Globals) -> Result<exo_api::Exo> {
    Ok(exo_api::Exo::open(&vault_choice(globals)?)?)
}
