//! Which vault a call is about.

use std::path::PathBuf;

/// Where to look for the vault, as the face was told: `--vault` (`flag`), `$EXO_ROOT` (`env`,
/// read by the face, never here), and the folder to search upwards from (`cwd`).
#[derive(Debug, Clone, Default)]
pub struct VaultChoice {
    pub flag: Option<PathBuf>,
    pub env: Option<PathBuf>,
    pub cwd: PathBuf,
}

impl VaultChoice {
    pub(crate) fn discover(&self) -> Result<exo_vault::Vault, exo_vault::VaultError> {
        exo_vault::Vault::discover(self.flag.as_deref(), self.env.as_deref(), &self.cwd)
    }
}
