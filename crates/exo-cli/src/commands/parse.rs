//! `exo parse NOTE`: the parser's view of one note, so users can see why exo reads it so.

use std::process::ExitCode;

use anyhow::Result;
use exo_api::NoteReport;
use serde::Serialize;

use crate::cli::{Globals, ParseArgs};
use crate::context::vault_choice;
use crate::output::{escape, one_line, outln, print_json};

pub fn run(globals: &Globals, args: ParseArgs) -> Result<ExitCode> {
    let report = exo_api::inspect_note(&vault_choice(globals)?, &args.note)?;
    if globals.json {
        print_json(&report)?;
    } else {
        print_human(&report)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_human(r: &NoteReport) -> Result<()> {
    let n = &r.note;
    outln!("{}", escape(&r.path));
    outln!("  title     {} (from {})", escape(&n.title), serde_plain(&n.title_source));
    if let Some(t) = &n.note_type {
        outln!("  type      {}", escape(t));
    }
    if !n.aliases.is_empty() {
        outln!("  aliases   {}", escape(&n.aliases.join(", ")));
    }
    if !n.tags.is_empty() {
        let tags: Vec<String> = n.tags.iter().map(|t| format!("#{}", t.name)).collect();
        outln!("  tags      {}", escape(&tags.join(" ")));
    }
    if let Some(s) = &n.summary {
        outln!("  summary   {}", one_line(s, 90));
    }
    outln!("  words     {}   bytes {}   blake3 {}", n.word_count, r.size, &r.hash[..16]);
    for w in &n.warnings {
        outln!("  warning   {}", escape(&w.message));
    }
    section("headings", n.headings.len())?;
    for h in &n.headings {
        outln!("  {:>4}  {} {}  #{}", h.line, "#".repeat(h.level as usize), escape(&h.text), escape(&h.slug));
    }
    section("links", n.links.len())?;
    for l in &n.links {
        let mut target = if l.is_self_link() { "(this note)".to_string() } else { l.target.clone() };
        if let Some(h) = &l.heading {
            target.push_str(&format!(" #{h}"));
        }
        if let Some(b) = &l.block {
            target.push_str(&format!(" #^{b}"));
        }
        let display = l.display.as_deref().map(|d| format!("  \"{d}\"")).unwrap_or_default();
        outln!("  {:>4}  {:<8} {}{}", l.line, l.kind.as_str(), escape(&target), escape(&display));
    }
    section("blocks", n.blocks.len())?;
    for b in &n.blocks {
        outln!("  {:>4}  ^{}", b.line, escape(&b.id));
    }
    section("chunks", r.chunk_texts.len())?;
    for (i, c) in r.chunk_texts.iter().enumerate() {
        let heading = c.heading.as_deref().unwrap_or("(before any heading)");
        outln!("  [{i}] {}..{}  {}: {}", c.span.start, c.span.end, escape(heading), one_line(&c.text, 60));
    }
    if let Some(fm) = &n.frontmatter {
        outln!("frontmatter");
        // JSON escapes C0 controls but not DEL or the C1 range; escape() covers those.
        outln!("  {}", escape(&serde_json::to_string(fm).unwrap_or_default()));
    }
    Ok(())
}

fn section(name: &str, count: usize) -> Result<()> {
    if count > 0 {
        outln!("{name} ({count})");
    }
    Ok(())
}

fn serde_plain<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
}
