//! Who a write's commit names as its author (and committer).
//!
//! An agent's write (the MCP server): "<client> via exo" <exo@localhost>, the client's name
//! from its client info, "MCP client via exo" without one. `exo.toml` may override both:
//!
//! ```toml
//! [write]
//! author_name = "Gardener"       # used verbatim for every agent write
//! author_email = "me@example.com"
//! ```
//!
//! A person's write (the CLI, [`super::Writer::as_git_user`]): their git identity, as `git
//! commit` would take it; "exo" <exo@localhost> when git has none.

use serde::Deserialize;

use super::{CommitIdentity, PersonAuthor, WriteOrigin, Writer};
use crate::{ApiError, Result};

pub(crate) const DEFAULT_EMAIL: &str = "exo@localhost";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WriteSettings {
    author_name: Option<String>,
    author_email: Option<String>,
}

/// The author for a write by `writer` on behalf of `origin`.
pub(crate) fn author(
    vault: &exo_vault::Vault,
    repo: Option<&git2::Repository>,
    writer: &Writer,
    origin: &WriteOrigin,
) -> Result<CommitIdentity> {
    match &writer.person {
        Some(PersonAuthor::Given(identity)) => Ok(identity.clone()),
        Some(PersonAuthor::GitConfig) => Ok(git_user(repo)),
        None => agent(vault, origin),
    }
}

fn git_user(repo: Option<&git2::Repository>) -> CommitIdentity {
    let signature = repo.and_then(|repo| repo.signature().ok());
    match signature.as_ref().and_then(|s| Some((s.name().ok()?.to_string(), s.email().ok()?.to_string()))) {
        Some((name, email)) => CommitIdentity { name, email },
        None => CommitIdentity { name: "exo".into(), email: DEFAULT_EMAIL.into() },
    }
}

fn agent(vault: &exo_vault::Vault, origin: &WriteOrigin) -> Result<CommitIdentity> {
    let settings = settings(vault)?;
    let client = origin.client.as_deref().map(str::trim).filter(|c| !c.is_empty()).unwrap_or("MCP client");
    Ok(CommitIdentity {
        name: settings.author_name.unwrap_or_else(|| format!("{} via exo", clean(client))),
        email: settings.author_email.unwrap_or_else(|| DEFAULT_EMAIL.into()),
    })
}

/// A client's self-chosen name, made safe for a commit header (no `<`, `>` or line breaks).
fn clean(name: &str) -> String {
    let cleaned: String = name.chars().filter(|c| !c.is_control() && *c != '<' && *c != '>').take(80).collect();
    cleaned.trim().to_string()
}

fn settings(vault: &exo_vault::Vault) -> Result<WriteSettings> {
    let table = vault.config().write.clone();
    toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| {
        let file = vault.root().join(exo_vault::CONFIG_FILE);
        ApiError::Invalid(format!("{}: [write] {}", file.display(), e.message().trim()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_names_cannot_forge_headers() {
        assert_eq!(clean("Claude <x@y>\nAuthor: z"), "Claude x@yAuthor: z");
    }
}
