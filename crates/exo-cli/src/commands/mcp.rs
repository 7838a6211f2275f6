//! `exo mcp`: the MCP server over stdio (what Claude Code and Claude Desktop start), or over
//! streamable HTTP with `--http`; `exo mcp token` makes the HTTP bearer token. The face reads
//! the environment (`EXO_MCP_TOKEN`, the config folder) and hands exo-mcp plain values.
//!
//! On stdio, stdout is the protocol: everything this command says goes to stderr, the log of
//! `--watch` included (the same lines as `exo watch`, or JSON objects with `--json`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use exo_api::{CommitPolicy, WatchEvent, WatchOptions};
use exo_mcp::http::{HttpOptions, MCP_PATH};
use exo_mcp::token::{TokenAnswer, ensure_token, read_token};
use exo_mcp::{ServeWatch, ServerOptions, Transport};

use crate::cli::{Globals, McpAction, McpArgs, McpTokenArgs};
use crate::context::vault_choice;
use crate::output::{outln, print_json};

pub fn run(globals: &Globals, args: McpArgs) -> Result<ExitCode> {
    if let Some(McpAction::Token(token_args)) = args.action {
        return token(globals, token_args);
    }
    let options = ServerOptions {
        vault: vault_choice(globals)?,
        read_only: args.read_only,
        commit: if args.no_commit { CommitPolicy::Hold } else { CommitPolicy::Commit },
    };
    let transport = match args.http {
        None => Transport::Stdio,
        Some(addr) => {
            let (token, source) = http_token()?;
            eprintln!("exo mcp: bearer token from {source}");
            Transport::Http(HttpOptions { addr, token, allow_remote: args.allow_remote, extra_hosts: args.allow_host })
        }
    };
    let watch = args.watch.then(|| ServeWatch {
        options: WatchOptions {
            debounce: Duration::from_millis(args.debounce),
            rescan: Duration::from_secs(args.rescan),
            ..WatchOptions::default()
        },
        on_event: Box::new(watch_logger(globals.json)),
    });
    exo_mcp::run(options, transport, watch, |addr| {
        eprintln!("exo mcp: serving http://{addr}{MCP_PATH} (Ctrl-C stops)");
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Each watch event as one line on stderr, timed: `exo watch`'s line, or its `--json` object.
fn watch_logger(json: bool) -> impl FnMut(WatchEvent) + Send {
    move |event| {
        let at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        let line = match json {
            true => super::watch::json_line(&at, &event).unwrap_or_else(|e| format!("{at} cannot render event: {e}")),
            false => format!("{at} {}", super::watch::human_line(&event)),
        };
        eprintln!("{line}");
    }
}

/// `EXO_MCP_TOKEN`, else the token file; and where it came from, to say so.
fn http_token() -> Result<(String, String)> {
    if let Some(token) = std::env::var("EXO_MCP_TOKEN").ok().filter(|t| !t.trim().is_empty()) {
        return Ok((token.trim().to_string(), "EXO_MCP_TOKEN".to_string()));
    }
    let dir = config_dir()?;
    match read_token(&dir)? {
        Some(token) => Ok((token, exo_mcp::token::token_path(&dir).display().to_string())),
        None => bail!(
            "exo mcp --http needs a bearer token and found none: run `exo mcp token` to create one, or set EXO_MCP_TOKEN"
        ),
    }
}

fn token(globals: &Globals, args: McpTokenArgs) -> Result<ExitCode> {
    let dir = config_dir()?;
    let answer = ensure_token(&dir, args.show)?;
    if globals.json {
        print_json(&answer)?;
        return Ok(ExitCode::SUCCESS);
    }
    let TokenAnswer { path, created, token } = answer;
    match (created, token) {
        (true, Some(token)) => {
            outln!("{token}");
            eprintln!("exo mcp: token written to {} (mode 0600); it is shown only this once", path.display());
        }
        (false, Some(token)) => outln!("{token}"),
        (_, None) => outln!("a token exists in {} (exo mcp token --show prints it)", path.display()),
    }
    Ok(ExitCode::SUCCESS)
}

/// exo's folder in the user's config folder: `$XDG_CONFIG_HOME/exo`, else `~/.config/exo`
/// (`%APPDATA%\exo` on Windows).
fn config_dir() -> Result<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| cfg!(windows).then(|| std::env::var_os("APPDATA").map(PathBuf::from)).flatten())
        .or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|home| PathBuf::from(home).join(".config")))
        .context("cannot find a config folder for the token: set XDG_CONFIG_HOME or HOME")?;
    Ok(base.join("exo"))
}
