//! `exo wander`: distant pairs of notes to read side by side.

use std::process::ExitCode;

use anyhow::Result;
use exo_garden::GardenSettings;
use exo_index::Index;

use crate::cli::{Globals, WanderArgs};
use crate::context::open_vault;
use crate::output::{paint, print_json};

pub fn run(globals: &Globals, args: WanderArgs) -> Result<ExitCode> {
    let index = Index::new(open_vault(globals)?);
    let settings = GardenSettings::from_vault(index.vault())?;
    let graph = index.graph()?;
    let seed = args.seed.unwrap_or_else(exo_garden::wander::default_seed);
    let walk = exo_garden::wander::wander(index.vault(), &graph, &settings, args.pairs, seed);
    if globals.json {
        print_json(&walk)?;
        return Ok(ExitCode::SUCCESS);
    }
    for (i, pair) in walk.pairs.iter().enumerate() {
        let d = &pair.distance;
        println!("{}. {}  ↔  {}", i + 1, paint(&pair.a.path, "1"), paint(&pair.b.path, "1"));
        let hops = d.hops.map_or("no link path".to_string(), |h| format!("{h} hops"));
        let days = d.days_apart.map_or("dates unknown".to_string(), |n| format!("{n} days apart"));
        let folders = if d.different_folders { "other folders" } else { "same folder" };
        let shared = if d.shared_words.is_empty() {
            "no shared words".to_string()
        } else {
            format!("shared: {}", d.shared_words.join(", "))
        };
        println!("   {hops} · {folders} · {days} · word overlap {:.2} ({shared})", d.vocabulary_overlap);
    }
    if let Some(note) = &walk.note {
        println!("{}", paint(&format!("note: {note}"), "2"));
    }
    println!("{}", paint(&format!("seed {} (exo wander --seed {} repeats this walk)", walk.seed, walk.seed), "2"));
    Ok(ExitCode::SUCCESS)
}
