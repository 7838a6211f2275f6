//! A deterministic synthetic vault: folders, Zipf-distributed prose, frontmatter, headings,
//! tags, wikilinks (some unresolved, some in code), with sizes spread like real notes.
//! The same note count and seed always give byte-identical files and mtimes.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const WORDS: &str = "the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were had her she there been one all we their has would when if so no will more out can some into them only its time other new two may then first any like now my such make over our even most me state after also made many did must before back see through way where get much go well your know should down work year because come people just say each those take day good how long little use man great never being here old against life own while last thought still world high might part house know last form system order group number question fact place public point case company program interest life right small side far problem world area head need hand study field change light plan idea model theory note graph index vault search garden link sync memory agent commit branch review design decision project meeting reading concept person daily rust sqlite tantivy markdown query vector signal ranking feedback budget launch metric customer latency storage network protocol schema migration release incident";

pub struct Stats {
    pub notes: usize,
    pub bytes: u64,
    pub links: usize,
}

struct Plan {
    paths: Vec<String>,
    titles: Vec<String>,
}

fn zipf_word<'a>(rng: &mut ChaCha8Rng, words: &[&'a str]) -> &'a str {
    // Inverse-CDF sampling of an approximate Zipf(1) over the vocabulary.
    let n = words.len() as f64;
    let u: f64 = rng.random();
    let rank = ((n + 1.0).powf(u) - 1.0).floor() as usize;
    words[rank.min(words.len() - 1)]
}

fn plan(notes: usize, rng: &mut ChaCha8Rng, words: &[&str]) -> Plan {
    let folders = (notes / 150).max(1);
    let mut paths = Vec::with_capacity(notes);
    let mut titles = Vec::with_capacity(notes);
    for i in 0..notes {
        let mut title = String::new();
        for k in 0..rng.random_range(2..=4) {
            let w = words[rng.random_range(0..words.len())];
            if k > 0 {
                title.push(' ');
            }
            title.push_str(&w[..1].to_uppercase());
            title.push_str(&w[1..]);
        }
        title.push_str(&format!(" {i}"));
        let folder = rng.random_range(0..folders);
        let area = folder % 12;
        // Named by title, as most Obsidian vaults are, so `[[Title]]` links resolve by stem.
        paths.push(format!("area-{area:02}/topic-{folder:04}/{title}.md"));
        titles.push(title);
    }
    Plan { paths, titles }
}

pub fn generate(out: &Path, notes: usize, seed: u64) -> Result<Stats> {
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let plan = plan(notes, &mut rng, &words);
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    // Text and graph only unless `--vectors` adds them (`vectors::provide`); the embedder has
    // its own benchmark (exo-bench embed).
    std::fs::write(out.join("exo.toml"), crate::vectors::initial_config())?;
    std::fs::write(out.join(".gitignore"), ".exo/\n")?;
    let base_time = 1_700_000_000i64;
    let mut stats = Stats { notes, bytes: 0, links: 0 };
    for i in 0..notes {
        let (text, links) = note_text(i, &plan, &mut rng, &words);
        let path = out.join(&plan.paths[i]);
        std::fs::create_dir_all(path.parent().unwrap_or(out))?;
        std::fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
        // Old, deterministic mtimes, as in a vault that has lived a while.
        let mtime = filetime::FileTime::from_unix_time(base_time + (i as i64) * 37, 0);
        filetime::set_file_mtime(&path, mtime)?;
        stats.bytes += text.len() as u64;
        stats.links += links;
    }
    Ok(stats)
}

fn note_text(i: usize, plan: &Plan, rng: &mut ChaCha8Rng, words: &[&str]) -> (String, usize) {
    let mut text = String::new();
    let mut links = 0;
    let has_frontmatter = rng.random_bool(0.8);
    if has_frontmatter {
        let tags: Vec<String> =
            (0..rng.random_range(1..=3)).map(|_| format!("tag{}", rng.random_range(0..60))).collect();
        let types = ["concept", "project", "person", "daily", "reading", "decision"];
        let _ = write!(
            text,
            "---\ntitle: {}\ntags: [{}]\ntype: {}\ncreated: 2024-{:02}-{:02}\n",
            plan.titles[i],
            tags.join(", "),
            types[rng.random_range(0..types.len())],
            rng.random_range(1..=12),
            rng.random_range(1..=28)
        );
        if rng.random_bool(0.3) {
            let _ = writeln!(text, "summary: A note about {} and {}.", zipf_word(rng, words), zipf_word(rng, words));
        }
        text.push_str("---\n");
    } else {
        let _ = writeln!(text, "# {}", plan.titles[i]);
    }
    // Log-normal-ish size: most notes are short, a few are long.
    let sections = 1 + (rng.random::<f64>().powi(3) * 8.0) as usize;
    for s in 0..sections {
        if s > 0 || has_frontmatter {
            let _ = writeln!(text, "\n## {} {}\n", capitalise(zipf_word(rng, words)), zipf_word(rng, words));
        }
        for _ in 0..rng.random_range(1..=4) {
            let len = rng.random_range(20..=120);
            for w in 0..len {
                if w > 0 {
                    text.push(' ');
                }
                let roll: f64 = rng.random();
                if roll < 0.035 {
                    let target = rng.random_range(0..plan.titles.len());
                    if rng.random_bool(0.05) {
                        let _ = write!(text, "[[Missing {}]]", rng.random_range(0..1000));
                    } else if rng.random_bool(0.2) {
                        let _ = write!(text, "[[{}|{}]]", plan.titles[target], zipf_word(rng, words));
                    } else {
                        let _ = write!(text, "[[{}]]", plan.titles[target]);
                    }
                    links += 1;
                } else if roll < 0.04 {
                    let _ = write!(text, "#tag{}", rng.random_range(0..60));
                } else {
                    text.push_str(zipf_word(rng, words));
                }
            }
            text.push_str(".\n\n");
        }
        if rng.random_bool(0.05) {
            text.push_str("```rust\nlet link = \"[[not a link]]\";\n```\n");
        }
    }
    (text, links)
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A generated vault must have a real graph: links that resolve (all but the planted
    /// `[[Missing N]]` ones), or every graph and garden figure measures an empty graph.
    #[test]
    fn generated_links_resolve() {
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path(), 300, 7).unwrap();
        let scan = exo_vault::scan(dir.path(), &exo_vault::Config::default()).unwrap();
        let notes: Vec<(String, Vec<String>)> = scan.notes.iter().map(|n| (n.path.clone(), Vec::new())).collect();
        let resolver = exo_vault::LinkResolver::new(notes, Vec::<String>::new());
        let (mut resolved, mut total) = (0, 0);
        for note in &scan.notes {
            let bytes = std::fs::read(dir.path().join(&note.path)).unwrap();
            let parsed = exo_vault::parse_bytes(&note.path, &bytes, &exo_vault::ParseOptions::default());
            for link in parsed.links.iter().filter(|l| !l.target.starts_with("Missing ")) {
                total += 1;
                resolved += usize::from(resolver.resolve(&note.path, link).note().is_some());
            }
        }
        assert!(total > 300, "{total} links");
        assert_eq!(resolved, total, "{resolved} of {total} links resolve");
    }
}
