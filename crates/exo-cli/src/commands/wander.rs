//! `exo wander`: distant pairs of notes to read side by side.

use std::process::ExitCode;

use anyhow::Result;
use exo_api::{Wander, WanderRequest};

use crate::cli::{Globals, WanderArgs};
use crate::context::open_exo;
use crate::output::{escape, outln, paint, print_freshness, print_json, warn_unchecked};

pub fn run(globals: &Globals, args: WanderArgs) -> Result<ExitCode> {
    let exo = open_exo(globals)?;
    let walk = exo.wander(&WanderRequest { pairs: args.pairs, seed: args.seed })?;
    warn_unchecked(&walk.freshness);
    if globals.json {
        print_json(&walk)?;
    } else {
        print_human(&walk.answer)?;
        print_freshness(&walk.freshness)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_human(walk: &Wander) -> Result<()> {
    for (i, pair) in walk.pairs.iter().enumerate() {
        let d = &pair.distance;
        outln!("{}. {}  ↔  {}", i + 1, paint(&escape(&pair.a.path), "1"), paint(&escape(&pair.b.path), "1"));
        let hops = d.hops.map_or("no link path".to_string(), |h| format!("{h} hops"));
        let days = d.days_apart.map_or("dates unknown".to_string(), |n| format!("{n} days apart"));
        let folders = if d.different_folders { "other folders" } else { "same folder" };
        let shared = if d.shared_words.is_empty() {
            "no shared words".to_string()
        } else {
            format!("shared: {}", escape(&d.shared_words.join(", ")))
        };
        outln!("   {hops} · {folders} · {days} · word overlap {:.2} ({shared})", d.vocabulary_overlap);
    }
    if let Some(note) = &walk.note {
        outln!("{}", paint(&format!("note: {}", escape(note)), "2"));
    }
    outln!("{}", paint(&format!("seed {} (exo wander --seed {} repeats this walk)", walk.seed, walk.seed), "2"));
    Ok(())
}
