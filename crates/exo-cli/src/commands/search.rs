//! `exo search`: ranked, explained search over the index, with a staleness warning when
//! the index is behind the files.

use std::process::ExitCode;

use anyhow::{Result, bail};
use exo_index::search::{Filters, Hit, SearchRequest, SearchResults, Snippet};
use exo_index::{Index, SyncState};

use crate::cli::{Globals, SearchArgs};
use crate::context::open_vault;
use crate::output::{paint, print_json, use_color};

pub fn run(globals: &Globals, args: SearchArgs) -> Result<ExitCode> {
    let index = Index::new(open_vault(globals)?);
    let query = args.query.join(" ");
    if query.trim().is_empty() {
        bail!("empty query: give some words to search for, e.g. `exo search spaced repetition`");
    }
    let filters =
        Filters { tags: args.tag, types: args.r#type, path_prefix: args.path, fields: parse_where(&args.r#where)? };
    let request = SearchRequest { query, mode: args.mode.into(), limit: args.limit.max(1), filters };
    let results = index.search(&request)?;
    if globals.json {
        print_json(&results)?;
    } else {
        print_human(&results, args.explain);
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_where(pairs: &[String]) -> Result<Vec<(String, String)>> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => Ok((key.trim().to_string(), value.trim().to_string())),
            _ => bail!("--where {pair:?}: expected KEY=VALUE, e.g. --where status=draft"),
        })
        .collect()
}

fn print_human(results: &SearchResults, explain: bool) {
    if results.hits.is_empty() {
        println!("no matches for {:?}", results.query);
    }
    for (i, hit) in results.hits.iter().enumerate() {
        print_hit(i + 1, hit, explain);
    }
    if explain {
        let used: Vec<String> = results.signals_used.iter().map(|s| format!("{s:?}").to_lowercase()).collect();
        println!("{}", paint(&format!("signals used: {}", used.join(" + ")), "2"));
    }
    for note in &results.notes {
        println!("{}", paint(&format!("note: {note}"), "2"));
    }
    if results.index_status == SyncState::OutOfSync {
        println!(
            "{}",
            paint(
                &format!(
                    "warning: the index is OutOfSync ({} notes changed since it was built); results may be stale — run `exo index`",
                    results.stale_notes
                ),
                "1;33"
            )
        );
    }
}

fn print_hit(n: usize, hit: &Hit, explain: bool) {
    let signals: Vec<String> = hit.matched_on.iter().map(|s| format!("{s:?}").to_lowercase()).collect();
    println!(
        "{n:>2}. {}  {}  {}",
        paint(&hit.path, "1;36"),
        hit.title,
        paint(&format!("{:.3} [{}]", hit.score, signals.join(", ")), "2")
    );
    if let Some(heading) = &hit.heading {
        println!("    § {heading}");
    }
    if !hit.snippet.text.is_empty() {
        println!("    {}", highlighted(&hit.snippet));
    }
    if explain {
        for (name, score) in [("bm25", hit.signals.bm25), ("vector", hit.signals.vector), ("graph", hit.signals.graph)]
        {
            if let Some(s) = score {
                println!(
                    "    {}",
                    paint(
                        &format!("{name:<6} rank {:>3}  score {:.4}  normalised {:.3}", s.rank, s.score, s.normalized),
                        "2"
                    )
                );
            }
        }
    }
}

/// The snippet with matches in bold on a terminal and `**…**`-free plain text otherwise.
fn highlighted(snippet: &Snippet) -> String {
    if !use_color() {
        return snippet.text.clone();
    }
    let mut out = String::new();
    let mut at = 0;
    for &(from, to) in &snippet.highlights {
        if from < at || to > snippet.text.len() {
            continue;
        }
        out.push_str(&snippet.text[at..from]);
        out.push_str(&paint(&snippet.text[from..to], "1;33"));
        at = to;
    }
    out.push_str(&snippet.text[at..]);
    out
}
