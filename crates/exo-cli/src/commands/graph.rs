//! The graph commands: links, backlinks, neighbors, path, orphans, unresolved, graph. Each is
//! one exo-api call, rendered; like search, each says when the index is behind the files.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use exo_api::SyncState;
use exo_api::types::Direction;
use exo_api::{
    Backlinks, Fresh, GraphExport, GraphPicture, Links, Neighbors, NeighborsRequest, NoteRef, Orphans, PathAnswer,
    PathRequest, Unresolved,
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
        GraphCommand::Graph(args) => match &args.html {
            Some(file) => {
                let vault = exo.vault().root().file_name().map(|n| n.to_string_lossy().into_owned());
                write_page(exo.graph_picture()?, vault.unwrap_or_default(), file, json)
            }
            None => export(exo.graph_export()?, &args, json),
        },
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

/// The page `--html` writes: markup, style and script in one file, so it opens offline.
const PAGE_TEMPLATE: &str = include_str!("../../assets/graph.html");
/// Where the page template takes its data (inside `<script type="application/json">`).
const DATA_SLOT: &str = "/*EXO_GRAPH_DATA*/";
/// Link kinds, in the order the page's `kinds` table lists them.
const LINK_KINDS: [&str; 4] = ["wiki", "markdown", "embed", "property"];

/// What the page reads. Arrays, not objects, per node and link: a 10k-note page with 150k
/// links is under 4 MB. The layout is documented at the top of `assets/graph.html`.
#[derive(Serialize)]
struct PageData<'a> {
    vault: String,
    /// Notes the index is behind the files by, when it is (the page says so).
    stale: Option<usize>,
    kinds: [&'static str; 4],
    nodes: Vec<PageNode<'a>>,
    /// `[source, target, kind, count]`, indexes into `nodes` and `kinds`.
    links: Vec<(usize, usize, usize, usize)>,
    /// `[target as written, count, [referrer node indexes]]`: link targets no note answers to.
    wanted: Vec<(&'a str, usize, Vec<usize>)>,
}

/// `[path, title, type, tags, in_degree, out_degree, orphan]`
type PageNode<'a> = (&'a str, &'a str, Option<&'a str>, &'a [String], usize, usize, bool);

#[derive(Serialize)]
struct PageWritten<'a> {
    path: &'a Path,
    nodes: usize,
    edges: usize,
    unresolved: usize,
    #[serde(flatten)]
    freshness: &'a exo_api::Freshness,
}

/// `exo graph --html FILE`: writes the page, prints one line (or one JSON object).
fn write_page(picture: Fresh<GraphPicture>, vault: String, file: &Path, as_json: bool) -> Result<ExitCode> {
    warn_unchecked(&picture.freshness);
    let data = page_data(&picture.answer, vault, picture.freshness.stale_notes.filter(|&n| n > 0));
    let page = render_page(&data)?;
    std::fs::write(file, page).map_err(|e| {
        anyhow::anyhow!("cannot write {}: {e} (check that its folder exists and is writable)", file.display())
    })?;
    let written = PageWritten {
        path: file,
        nodes: data.nodes.len(),
        edges: data.links.len(),
        unresolved: data.wanted.len(),
        freshness: &picture.freshness,
    };
    if as_json {
        print_json(&written)?;
    } else {
        outln!(
            "exo: wrote {} ({}, {}, {})",
            escape(&file.display().to_string()),
            count(written.nodes, "note"),
            count(written.edges, "link"),
            count(written.unresolved, "unresolved target")
        );
        print_freshness(&picture.freshness)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// "1 note", "2 notes".
fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

fn page_data(picture: &GraphPicture, vault: String, stale: Option<usize>) -> PageData<'_> {
    let graph = &picture.graph;
    let index: HashMap<&str, usize> = graph.nodes.iter().enumerate().map(|(i, n)| (n.path.as_str(), i)).collect();
    let orphans: std::collections::HashSet<&str> = picture.orphans.iter().map(String::as_str).collect();
    let nodes = graph
        .nodes
        .iter()
        .map(|n| {
            let orphan = orphans.contains(n.path.as_str());
            (
                n.path.as_str(),
                n.title.as_str(),
                n.note_type.as_deref(),
                n.tags.as_slice(),
                n.in_degree,
                n.out_degree,
                orphan,
            )
        })
        .collect();
    let links = graph
        .edges
        .iter()
        .filter_map(|e| {
            let kind = LINK_KINDS.iter().position(|k| *k == e.kind.as_str()).unwrap_or(0);
            Some((*index.get(e.src.as_str())?, *index.get(e.dst.as_str())?, kind, e.count))
        })
        .collect();
    let wanted = picture
        .unresolved
        .iter()
        .map(|w| {
            let mut referrers: Vec<usize> =
                w.referrers.iter().filter_map(|r| index.get(r.path.as_str()).copied()).collect();
            referrers.sort_unstable();
            referrers.dedup();
            (w.target.as_str(), w.count, referrers)
        })
        .collect();
    PageData { vault, stale, kinds: LINK_KINDS, nodes, links, wanted }
}

/// The template with the data in its slot. JSON inside a `<script>` element must not
/// contain `</script` or `<!--` (the HTML parser ends or changes the element there), and
/// older JavaScript parsers reject raw U+2028/U+2029: all three are written as `\uXXXX`
/// escapes, which JSON reads back as the same characters (they only occur inside strings).
fn render_page(data: &PageData<'_>) -> Result<String> {
    let json = serde_json::to_string(data)?;
    let json = json.replace('<', "\\u003c").replace('\u{2028}', "\\u2028").replace('\u{2029}', "\\u2029");
    let (before, after) =
        PAGE_TEMPLATE.split_once(DATA_SLOT).context("the graph page template has lost its data slot (a build bug)")?;
    Ok([before, &json, after].concat())
}
