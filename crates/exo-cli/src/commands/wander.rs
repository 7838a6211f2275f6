//! `exo wander`: distant pairs of notes to read side by side.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

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
    let seed = args.seed.unwrap_or_else(today_seed);
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

/// Today's date as YYYYMMDD (UTC): one walk per day unless a seed is given.
fn today_seed() -> u64 {
    let days = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    (y as u64) * 10_000 + (m as u64) * 100 + d as u64
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(19783), (2024, 3, 1));
    }
}
