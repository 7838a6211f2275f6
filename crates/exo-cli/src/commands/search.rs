//! `exo search`: ranked, explained search over the index, with a staleness warning when
//! the index is behind the files.

use std::process::ExitCode;

use anyhow::{Result, bail};
use std::collections::BTreeMap;

use exo_api::IndexError;
use exo_api::types::{Hit, Mode, Snippet, Stale};
use exo_api::{ApiError, SearchQuery, SearchResults, SyncState};

use crate::cli::{Globals, SearchArgs};
use crate::context::open_exo;
use crate::output::{escape, outln, paint, print_json, prose, use_color};

pub fn run(globals: &Globals, args: SearchArgs) -> Result<ExitCode> {
    let exo = open_exo(globals)?;
    // `--limit 0` shows no hits, as `git log -n 0` and `rg -m 0` show nothing: with --json
    // it asks only whether the index is fresh and how far vectors cover it.
    let query = SearchQuery {
        query: args.query.join(" "),
        mode: args.mode.into(),
        limit: args.limit,
        tags: args.tag,
        types: args.r#type,
        path: args.path,
        where_: parse_where(&args.r#where)?,
    };
    let results = match exo.search(&query) {
        Err(ApiError::Index(IndexError::EmptyQuery)) => {
            bail!("empty query: give some words to search for, e.g. `exo search spaced repetition`")
        }
        other => other?,
    };
    if globals.json {
        print_json(&results)?;
    } else {
        print_human(&results, args.limit, args.explain)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `--where KEY=VALUE`, repeated, into the structured filter every face fills.
fn parse_where(pairs: &[String]) -> Result<BTreeMap<String, String>> {
    let mut fields = BTreeMap::new();
    for pair in pairs {
        let Some((key, value)) = pair.split_once('=').filter(|(key, _)| !key.trim().is_empty()) else {
            bail!("--where {pair:?}: expected KEY=VALUE, e.g. --where status=draft");
        };
        if fields.insert(key.trim().to_string(), value.trim().to_string()).is_some() {
            bail!("--where {}: given twice; a key can hold one value", key.trim());
        }
    }
    Ok(fields)
}

fn print_human(results: &SearchResults, limit: usize, explain: bool) -> Result<()> {
    if results.hits.is_empty() && limit > 0 {
        outln!("no matches for {}", escape(&format!("{:?}", results.query)));
    }
    for (i, hit) in results.hits.iter().enumerate() {
        print_hit(i + 1, hit, explain)?;
    }
    if explain {
        let used: Vec<String> = results.signals_used.iter().map(|s| format!("{s:?}").to_lowercase()).collect();
        outln!("{}", paint(&format!("signals used: {}", used.join(" + ")), "2"));
    }
    for note in &results.notes {
        outln!("{}", paint(&format!("note: {}", escape(note)), "2"));
    }
    if let Some(coverage) = results.vector_coverage.filter(|c| c.embedded > 0 && !c.complete()) {
        // No vectors at all is already said by a note; a part of them is easy to miss.
        let missing = match results.mode {
            Mode::Vector => "notes without them cannot be found in vector mode",
            Mode::Hybrid | Mode::Bm25 => "notes without them are found by bm25 and graph only",
        };
        let line = format!(
            "warning: vectors cover {} of {} chunks; {missing} — run `exo index` to embed the rest",
            coverage.embedded, coverage.total
        );
        outln!("{}", paint(&line, "1;33"));
    }
    if results.index_status == Some(SyncState::OutOfSync) {
        outln!(
            "{}",
            paint(
                &format!(
                    "warning: the index is OutOfSync ({} notes changed since it was built); results may be stale — run `exo index`",
                    results.stale_notes.unwrap_or_default()
                ),
                "1;33"
            )
        );
    }
    Ok(())
}

fn print_hit(n: usize, hit: &Hit, explain: bool) -> Result<()> {
    let signals: Vec<String> = hit.matched_on.iter().map(|s| format!("{s:?}").to_lowercase()).collect();
    let stale = match hit.stale {
        None => String::new(),
        Some(Stale::Modified) => format!("  {}", paint("[changed since indexed]", "1;33")),
        Some(Stale::Deleted) => format!("  {}", paint("[deleted since indexed]", "1;31")),
    };
    outln!(
        "{n:>2}. {}  {}  {}{stale}",
        paint(&escape(&hit.path), "1;36"),
        escape(&hit.title),
        paint(&format!("{:.3} [{}]", hit.score, signals.join(", ")), "2")
    );
    if let Some(heading) = &hit.heading {
        outln!("    § {}", escape(heading));
    }
    if !hit.snippet.text.is_empty() {
        outln!("    {}", highlighted(&hit.snippet));
    }
    if explain {
        for (name, score) in [("bm25", hit.signals.bm25), ("vector", hit.signals.vector), ("graph", hit.signals.graph)]
        {
            if let Some(s) = score {
                outln!(
                    "    {}",
                    paint(
                        &format!("{name:<6} rank {:>3}  score {:.4}  normalised {:.3}", s.rank, s.score, s.normalized),
                        "2"
                    )
                );
            }
        }
    }
    Ok(())
}

/// The snippet with matches in bold on a terminal and `**…**`-free plain text otherwise,
/// its control characters escaped (each piece on its own: the highlights are byte ranges
/// of the raw text).
fn highlighted(snippet: &Snippet) -> String {
    let text = &snippet.text;
    if !use_color() {
        return prose(text).into_owned();
    }
    let mut out = String::new();
    let mut at = 0;
    for &(from, to) in &snippet.highlights {
        let (Some(before), Some(matched)) = (text.get(at..from), text.get(from..to)) else {
            continue;
        };
        out.push_str(&prose(before));
        out.push_str(&paint(&prose(matched), "1;33"));
        at = to;
    }
    out.push_str(&prose(text.get(at..).unwrap_or_default()));
    out
}
