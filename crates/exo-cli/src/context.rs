//! Finding the vault the way every command does.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use exo_vault::Vault;

use crate::cli::Globals;

pub fn cwd() -> Result<PathBuf> {
    std::env::current_dir().context("cannot read the current directory")
}

fn env_root() -> Option<PathBuf> {
    std::env::var_os("EXO_ROOT").map(PathBuf::from)
}

/// The vault for this invocation: `--vault`, `$EXO_ROOT`, `exo.toml`, git top level.
pub fn open_vault(globals: &Globals) -> Result<Vault> {
    let cwd = cwd()?;
    Ok(Vault::discover(globals.vault.as_deref(), env_root().as_deref(), &cwd)?)
}

/// Like [`open_vault`], but `None` when there is no vault around `start` rather than an error.
pub fn try_open_vault(globals: &Globals, start: &Path) -> Result<Option<Vault>> {
    match Vault::discover(globals.vault.as_deref(), env_root().as_deref(), start) {
        Ok(vault) => Ok(Some(vault)),
        Err(exo_vault::VaultError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
