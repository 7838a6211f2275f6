//! The graph commands: links, backlinks, neighbors, path, orphans, unresolved, graph. Each is
//! one exo-api call, rendered; like search, each says when the index is behind the files.

use std::process::ExitCode;

use anyhow::Result;
use exo_api::SyncState;
use exo_api::types::Direction;
use exo_api::{
    Backlinks, Fresh, GraphExport, Links, Neighbors, NeighborsRequest, NoteRef, Orphans, PathAnswer, PathRequest,
    Unresolved,
};
use serde::Serialize;

use crate::cli::Globals;
use crate::cli::{GraphArgs, GraphCommand, GraphFormat};
use crate::context::open_exo;
use crate::output::{escape, out, outln, paint, print_freshness, print_json, prose, warn_unchecked};

pub fn run(globals: &Globals, command: GraphCommand) -> Result<ExitCode> {
    let exo = open_exo(globals)?;
    let json = globals.json;
    match command {
        GraphCommand::Links { note } => show(exo.links(&NoteRef { note })?, json, print_links),
        GraphCommand::Backlinks { note } => show(exo.backlinks(&NoteRef { note })?, json, print_backlinks),
        GraphCommand::Neighbors { note, depth } => {
            show(exo.neighbors(&NeighborsRequest { note, depth })?, json, print_neighbors)
        }
        GraphCommand::Path { from, to, directed } => {
            let answer = exo.path(&PathRequest { from, to, directed })?;
            let found = answer.answer.found();
            show(answer, json, print_path)?;
            // Like grep: no path is exit 1.
            Ok(if found { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        GraphCommand::Orphans => show(exo.orphans()?, json, print_orphans),
        GraphCommand::Unresolved => show(exo.unresolved()?, json, print_unresolved),
        GraphCommand::Graph(args) => export(exo.graph_export()?, &args, json),
    }
}

/// Prints an answer as JSON or for a person, then the staleness warning.
fn show<T: Serialize>(answer: Fresh<T>, as_json: bool, human: fn(&T) -> Result<()>) -> Result<ExitCode> {
    warn_unchecked(&answer.freshness);
    if as_json {
        print_json(&answer)?;
    } else {
        human(&answer.answer)?;
        print_freshness(&answer.freshness)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_links(answer: &Links) -> Result<()> {
    for link in &answer.links {
        let anchor = link.heading.as_ref().map(|h| format!("#{h}")).or(link.block.as_ref().map(|b| format!("#^{b}")));
        let written = format!("{}{}", link.target, anchor.unwrap_or_default());
        let goes = match (&link.path, &link.attachment) {
            (Some(path), _) => escape(path).into_owned(),
            (None, Some(file)) => format!("{} (attachment)", escape(file)),
            (None, None) => paint("unresolved", "31"),
        };
        outln!("{:>5}  {:<8} {}  →  {goes}", link.line, link.kind, escape(&written));
    }
    if answer.links.is_empty() {
        outln!("{} has no links", escape(&answer.note));
    }
    Ok(())
}

fn print_backlinks(answer: &Backlinks) -> Result<()> {
    for link in &answer.backlinks {
        outln!("{}:{}  {}", paint(&escape(&link.path), "1"), link.line, prose(&link.context));
    }
    if answer.backlinks.is_empty() {
        outln!("no note links to {}", escape(&answer.note));
    }
    Ok(())
}

fn print_neighbors(answer: &Neighbors) -> Result<()> {
    for item in &answer.neighbors {
        outln!("{}  {}  ({})", item.distance, escape(&item.path), escape(&item.title));
    }
    if answer.neighbors.is_empty() {
        let links = if answer.depth == 1 { "link" } else { "links" };
        outln!("{} has no neighbours within {} {links}", escape(&answer.note), answer.depth);
    }
    Ok(())
}

fn print_path(answer: &PathAnswer) -> Result<()> {
    match &answer.path {
        Some(steps) => {
            for step in steps {
                let arrow = match step.via {
                    None => "  ",
                    Some(Direction::Out) => "→ ",
                    Some(Direction::In) => "← ",
                };
                outln!("{arrow}{}  ({})", escape(&step.path), escape(&step.title));
            }
        }
        None => outln!("no link path from {} to {}", escape(&answer.from), escape(&answer.to)),
    }
    Ok(())
}

fn print_orphans(answer: &Orphans) -> Result<()> {
    for item in &answer.orphans {
        outln!("{}", escape(&item.path));
    }
    Ok(())
}

fn print_unresolved(answer: &Unresolved) -> Result<()> {
    for item in &answer.unresolved {
        let from: Vec<String> = item.referrers.iter().map(|r| format!("{}:{}", escape(&r.path), r.line)).collect();
        outln!("{} ({})  ← {}", paint(&escape(&item.target), "1"), item.count, from.join(", "));
    }
    Ok(())
}

/// The whole graph. JSON carries the freshness envelope like every other answer; DOT is
/// for graphviz, so a stale index is said on stderr rather than inside the file.
fn export(answer: Fresh<GraphExport>, args: &GraphArgs, as_json: bool) -> Result<ExitCode> {
    warn_unchecked(&answer.freshness);
    if as_json || args.format == GraphFormat::Json {
        print_json(&answer)?;
        return Ok(ExitCode::SUCCESS);
    }
    out!("{}", answer.answer.to_dot());
    if let (Some(SyncState::OutOfSync), Some(stale)) = (answer.freshness.index_status, answer.freshness.stale_notes) {
        eprintln!("exo: warning: the index is behind the files ({stale} notes differ) — run `exo index`");
    }
    Ok(ExitCode::SUCCESS)
}
