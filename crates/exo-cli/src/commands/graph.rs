//! The graph commands: links, backlinks, neighbors, path, orphans, unresolved, graph. Each
//! answers from the index and, like search, says when the index is behind the files.

use std::process::ExitCode;

use anyhow::Result;
use exo_index::graph::{Direction, Graph, LinkInfo};
use exo_index::{Index, SyncState};
use serde::Serialize;
use serde_json::json;

use crate::cli::Globals;
use crate::cli::{GraphArgs, GraphCommand, GraphFormat};
use crate::context::open_vault;
use crate::output::{paint, print_json, print_stale_warning};

pub fn run(globals: &Globals, command: GraphCommand) -> Result<ExitCode> {
    let index = Index::new(open_vault(globals)?);
    let (graph, freshness) = index.beside_freshness(|| index.graph());
    let (graph, freshness) = (graph?, freshness.ok());
    let body = match command {
        GraphCommand::Links { note } => links(&graph, &note, globals.json)?,
        GraphCommand::Backlinks { note } => backlinks(&index, &graph, &note, globals.json)?,
        GraphCommand::Neighbors { note, depth } => neighbors(&graph, &note, depth, globals.json)?,
        GraphCommand::Path { from, to, directed } => path(&graph, &from, &to, directed, globals.json)?,
        GraphCommand::Orphans => orphans(&index, &graph, globals.json)?,
        GraphCommand::Unresolved => unresolved(&graph, globals.json)?,
        GraphCommand::Graph(args) => return export(&graph, &args, globals.json),
    };
    finish(body, freshness, globals.json)
}

/// What a command found: JSON for scripts (lines for people are printed as it goes), and
/// whether it found what was asked (`exo path` exits 1 when no path exists, like grep).
struct Answer {
    json: serde_json::Value,
    found: bool,
}

fn finish(answer: Answer, freshness: Option<(SyncState, usize)>, as_json: bool) -> Result<ExitCode> {
    let (state, stale) = freshness.unwrap_or((SyncState::Synced, 0));
    if as_json {
        let mut value = answer.json;
        if let Some(map) = value.as_object_mut() {
            map.insert("index_status".into(), json!(state));
            map.insert("stale_notes".into(), json!(stale));
        }
        print_json(&value)?;
    } else {
        print_stale_warning(state, stale);
    }
    Ok(if answer.found { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

#[derive(Serialize)]
struct LinkOut<'a> {
    line: u32,
    kind: &'a str,
    target: &'a str,
    heading: Option<&'a str>,
    block: Option<&'a str>,
    display: Option<&'a str>,
    /// The note it resolves to.
    path: Option<&'a str>,
    attachment: Option<&'a str>,
    resolved: bool,
}

fn link_out<'a>(graph: &'a Graph, link: &'a LinkInfo) -> LinkOut<'a> {
    let written = &link.written;
    let own = written.is_self_link().then(|| graph.note(link.src).path.as_str());
    LinkOut {
        line: written.line,
        kind: written.kind.as_str(),
        target: &written.target,
        heading: written.heading.as_deref(),
        block: written.block.as_deref(),
        display: written.display.as_deref(),
        path: link.dst.map(|d| graph.note(d).path.as_str()).or(own),
        attachment: link.attachment.as_deref(),
        resolved: !link.is_unresolved(),
    }
}

fn links(graph: &Graph, note: &str, as_json: bool) -> Result<Answer> {
    let id = graph.find(note)?;
    let list: Vec<LinkOut> = graph.outgoing(id).map(|l| link_out(graph, l)).collect();
    if !as_json {
        for link in &list {
            let anchor = link.heading.map(|h| format!("#{h}")).or(link.block.map(|b| format!("#^{b}")));
            let written = format!("{}{}", link.target, anchor.unwrap_or_default());
            let goes = match (link.path, link.attachment) {
                (Some(path), _) => path.to_string(),
                (None, Some(file)) => format!("{file} (attachment)"),
                (None, None) => paint("unresolved", "31"),
            };
            println!("{:>5}  {:<8} {written}  →  {goes}", link.line, link.kind);
        }
        if list.is_empty() {
            println!("{} has no links", graph.note(id).path);
        }
    }
    Ok(Answer { json: json!({ "note": graph.note(id).path, "links": list }), found: true })
}

fn backlinks(index: &Index, graph: &Graph, note: &str, as_json: bool) -> Result<Answer> {
    let id = graph.find(note)?;
    let list = graph.backlinks(id, index.vault().root());
    if !as_json {
        for link in &list {
            println!("{}:{}  {}", paint(&link.path, "1"), link.line, link.context);
        }
        if list.is_empty() {
            println!("no note links to {}", graph.note(id).path);
        }
    }
    Ok(Answer { json: json!({ "note": graph.note(id).path, "backlinks": list }), found: true })
}

fn neighbors(graph: &Graph, note: &str, depth: usize, as_json: bool) -> Result<Answer> {
    let id = graph.find(note)?;
    let found: Vec<serde_json::Value> = graph
        .neighbors(id, depth.max(1))
        .into_iter()
        .map(|(n, distance)| {
            let info = graph.note(n);
            json!({ "path": info.path, "title": info.title, "distance": distance })
        })
        .collect();
    if !as_json {
        for item in &found {
            println!(
                "{}  {}  ({})",
                item["distance"],
                item["path"].as_str().unwrap_or(""),
                item["title"].as_str().unwrap_or("")
            );
        }
        if found.is_empty() {
            println!("{} has no neighbours", graph.note(id).path);
        }
    }
    Ok(Answer { json: json!({ "note": graph.note(id).path, "depth": depth.max(1), "neighbors": found }), found: true })
}

fn path(graph: &Graph, from: &str, to: &str, directed: bool, as_json: bool) -> Result<Answer> {
    let (a, b) = (graph.find(from)?, graph.find(to)?);
    let steps = graph.shortest_path(a, b, directed);
    if !as_json {
        match &steps {
            Some(steps) => {
                for step in steps {
                    let arrow = match step.via {
                        None => "  ",
                        Some(Direction::Out) => "→ ",
                        Some(Direction::In) => "← ",
                    };
                    println!("{arrow}{}  ({})", step.path, step.title);
                }
            }
            None => println!("no link path from {} to {}", graph.note(a).path, graph.note(b).path),
        }
    }
    let hops = steps.as_ref().map(|s| s.len().saturating_sub(1));
    let found = steps.is_some();
    Ok(Answer {
        json: json!({ "from": graph.note(a).path, "to": graph.note(b).path, "directed": directed, "hops": hops, "path": steps }),
        found,
    })
}

fn orphans(index: &Index, graph: &Graph, as_json: bool) -> Result<Answer> {
    let settings = exo_garden::GardenSettings::from_vault(index.vault())?;
    let list: Vec<serde_json::Value> = graph
        .orphans(&settings.roots)
        .into_iter()
        .map(|id| json!({ "path": graph.note(id).path, "title": graph.note(id).title }))
        .collect();
    if !as_json {
        for item in &list {
            println!("{}", item["path"].as_str().unwrap_or(""));
        }
    }
    Ok(Answer { found: true, json: json!({ "roots": settings.roots, "orphans": list }) })
}

fn unresolved(graph: &Graph, as_json: bool) -> Result<Answer> {
    let wanted = graph.wanted();
    if !as_json {
        for item in &wanted {
            let from: Vec<String> = item.referrers.iter().map(|r| format!("{}:{}", r.path, r.line)).collect();
            println!("{} ({})  ← {}", paint(&item.target, "1"), item.count, from.join(", "));
        }
    }
    Ok(Answer { found: true, json: json!({ "unresolved": wanted }) })
}

fn export(graph: &Graph, args: &GraphArgs, as_json: bool) -> Result<ExitCode> {
    let export = graph.export();
    match (args.format, as_json) {
        (GraphFormat::Json, _) | (_, true) => print_json(&export)?,
        (GraphFormat::Dot, false) => print!("{}", export.to_dot()),
    }
    Ok(ExitCode::SUCCESS)
}
