//! `exo new`, `exo mv`, `exo rm`: the note writes a person makes, through the same exo-api
//! functions as the MCP server's write tools. Each is one commit, authored by the person's git
//! identity (`GIT_AUTHOR_NAME`/`GIT_AUTHOR_EMAIL`, else git config), unless `--no-commit`.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use exo_api::{
    CommitIdentity, CommitPolicy, CreateNoteRequest, DeleteNoteRequest, FrontmatterValues, MoveNoteRequest,
    WriteAnswer, WriteOrigin, Writer,
};

use crate::cli::{Globals, MvArgs, NewArgs, RmArgs};
use crate::context::open_exo;
use crate::output::{escape, outln, print_json};

pub fn new(globals: &Globals, args: NewArgs) -> Result<ExitCode> {
    let request = CreateNoteRequest {
        path: args.path,
        title: args.title,
        folder: args.folder,
        frontmatter: frontmatter(&args.frontmatter)?,
        body: body(args.body, args.body_file.as_deref())?,
        force: args.force,
    };
    let exo = open_exo(globals)?;
    let answer = exo.create_note(&writer(args.no_commit), &WriteOrigin::default(), &request)?;
    render(globals, &answer)
}

pub fn mv(globals: &Globals, args: MvArgs) -> Result<ExitCode> {
    let request = MoveNoteRequest { from: args.old, to: args.new, base_hash: None, force: args.force };
    let exo = open_exo(globals)?;
    let answer = exo.move_note(&writer(args.no_commit), &WriteOrigin::default(), &request)?;
    render(globals, &answer)
}

pub fn rm(globals: &Globals, args: RmArgs) -> Result<ExitCode> {
    let request = DeleteNoteRequest { note: args.note, confirm: args.yes, base_hash: None, force: args.force };
    let exo = open_exo(globals)?;
    let answer = exo.delete_note(&writer(args.no_commit), &WriteOrigin::default(), &request)?;
    render(globals, &answer)
}

/// A writer committing as this person, as `git commit` would name them.
fn writer(no_commit: bool) -> Writer {
    let policy = if no_commit { CommitPolicy::Hold } else { CommitPolicy::Commit };
    let name = std::env::var("GIT_AUTHOR_NAME").ok().filter(|n| !n.trim().is_empty());
    let email = std::env::var("GIT_AUTHOR_EMAIL").ok().filter(|e| !e.trim().is_empty());
    let explicit = name.zip(email).map(|(name, email)| CommitIdentity { name, email });
    Writer::new(policy).as_git_user(explicit)
}

/// `--body TEXT`, `--body-file FILE`, or `--body-file -` for stdin.
fn body(text: Option<String>, file: Option<&std::path::Path>) -> Result<String> {
    match (text, file) {
        (Some(text), _) => Ok(text),
        (None, Some(path)) if path.as_os_str() == "-" => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).context("cannot read the body from stdin")?;
            Ok(text)
        }
        (None, Some(path)) => {
            std::fs::read_to_string(path).with_context(|| format!("cannot read the body from {}", path.display()))
        }
        (None, None) => Ok(String::new()),
    }
}

/// `key=value` pairs, in the order given; a value that reads as JSON (`3`, `true`,
/// `["a","b"]`) is taken as such, anything else as a string.
fn frontmatter(pairs: &[String]) -> Result<FrontmatterValues> {
    let mut map = FrontmatterValues::default();
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=') else {
            bail!("--frontmatter {pair:?} is not key=value");
        };
        let value = serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
        map.insert(key.trim().to_string(), value);
    }
    Ok(map)
}

fn render(globals: &Globals, answer: &WriteAnswer) -> Result<ExitCode> {
    if globals.json {
        print_json(answer)?;
        return Ok(ExitCode::SUCCESS);
    }
    let landed = match (&answer.commit, &answer.not_committed) {
        (Some(commit), _) => format!("commit {}", &commit.id[..commit.id.len().min(12)]),
        (None, Some(why)) => format!("not committed: {why}"),
        (None, None) => "not committed".to_string(),
    };
    outln!("{} ({})", escape(&answer.done), escape(&landed));
    for warning in &answer.warnings {
        eprintln!("exo: warning: {warning}");
    }
    Ok(ExitCode::SUCCESS)
}
