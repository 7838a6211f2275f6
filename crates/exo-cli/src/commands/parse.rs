//! `exo parse NOTE`: the parser's view of one note, so users can see why exo reads it so.

use std::process::ExitCode;

use anyhow::{Context, Result};
use exo_vault::{Note, ParseOptions, Span, content_hash, parse_bytes};
use serde::Serialize;

use crate::cli::{Globals, ParseArgs};
use crate::context::{cwd, try_open_vault};
use crate::output::{one_line, print_json};

#[derive(Serialize)]
struct ChunkView<'a> {
    heading: Option<&'a str>,
    span: Span,
    text: &'a str,
}

#[derive(Serialize)]
struct ParseReport<'a> {
    path: String,
    hash: String,
    size: usize,
    #[serde(flatten)]
    note: &'a Note,
    chunk_texts: Vec<ChunkView<'a>>,
}

pub fn run(globals: &Globals, args: ParseArgs) -> Result<ExitCode> {
    let cwd = cwd()?;
    let file = cwd.join(&args.note);
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", args.note.display()))?;
    let start = file.parent().unwrap_or(&cwd);
    let vault = try_open_vault(globals, start)?;
    let (path, options) = match &vault {
        Some(vault) => (
            vault.relative_path(&file, &cwd).unwrap_or_else(|_| args.note.display().to_string()),
            vault.parse_options(),
        ),
        None => (args.note.display().to_string(), ParseOptions::default()),
    };
    let note = parse_bytes(&path, &bytes, &options);
    let text = String::from_utf8_lossy(&bytes);
    let report = ParseReport {
        hash: content_hash(&bytes).0,
        size: bytes.len(),
        chunk_texts: note
            .chunks
            .iter()
            .map(|c| ChunkView {
                heading: c.heading.as_deref(),
                span: c.span,
                text: text.get(c.span.start..c.span.end).unwrap_or(""),
            })
            .collect(),
        note: &note,
        path,
    };
    if globals.json {
        print_json(&report)?;
    } else {
        print_human(&report);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_human(r: &ParseReport) {
    let n = r.note;
    println!("{}", r.path);
    println!("  title     {} (from {})", n.title, serde_plain(&n.title_source));
    if let Some(t) = &n.note_type {
        println!("  type      {t}");
    }
    if !n.aliases.is_empty() {
        println!("  aliases   {}", n.aliases.join(", "));
    }
    if !n.tags.is_empty() {
        let tags: Vec<String> = n.tags.iter().map(|t| format!("#{}", t.name)).collect();
        println!("  tags      {}", tags.join(" "));
    }
    if let Some(s) = &n.summary {
        println!("  summary   {}", one_line(s, 90));
    }
    println!("  words     {}   bytes {}   blake3 {}", n.word_count, r.size, &r.hash[..16]);
    for w in &n.warnings {
        println!("  warning   {}", w.message);
    }
    section("headings", n.headings.len());
    for h in &n.headings {
        println!("  {:>4}  {} {}  #{}", h.line, "#".repeat(h.level as usize), h.text, h.slug);
    }
    section("links", n.links.len());
    for l in &n.links {
        let mut target = if l.is_self_link() { "(this note)".to_string() } else { l.target.clone() };
        if let Some(h) = &l.heading {
            target.push_str(&format!(" #{h}"));
        }
        if let Some(b) = &l.block {
            target.push_str(&format!(" #^{b}"));
        }
        let display = l.display.as_deref().map(|d| format!("  \"{d}\"")).unwrap_or_default();
        println!("  {:>4}  {:<8} {target}{display}", l.line, l.kind.as_str());
    }
    section("blocks", n.blocks.len());
    for b in &n.blocks {
        println!("  {:>4}  ^{}", b.line, b.id);
    }
    section("chunks", r.chunk_texts.len());
    for (i, c) in r.chunk_texts.iter().enumerate() {
        let heading = c.heading.unwrap_or("(before any heading)");
        println!("  [{i}] {}..{}  {heading}: {}", c.span.start, c.span.end, one_line(c.text, 60));
    }
    if let Some(fm) = &n.frontmatter {
        println!("frontmatter");
        println!("  {}", serde_json::to_string(fm).unwrap_or_default());
    }
}

fn section(name: &str, count: usize) {
    if count > 0 {
        println!("{name} ({count})");
    }
}

fn serde_plain<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}
