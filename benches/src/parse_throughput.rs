//! Parser throughput: every markdown file under the given folders is read into memory once,
//! then parsed repeatedly on one core and on all cores. Reports MB/s and notes/s.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use exo_vault::{Config, ParseOptions, parse_bytes};
use rayon::prelude::*;

fn collect(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
    let report = exo_vault::scan(dir, &Config::default())?;
    for file in report.notes {
        let bytes = std::fs::read(dir.join(&file.path))?;
        out.push((file.path, bytes));
    }
    Ok(())
}

pub fn run(dirs: &[PathBuf], repeat: usize) -> Result<()> {
    let mut files = Vec::new();
    for dir in dirs {
        collect(dir, &mut files)?;
    }
    let bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    let options = ParseOptions::default();
    println!("{} notes, {:.1} MB", files.len(), bytes as f64 / 1e6);
    let single = best_of(repeat, || files.iter().map(|(p, b)| parse_bytes(p, b, &options).links.len()).sum::<usize>());
    let parallel =
        best_of(repeat, || files.par_iter().map(|(p, b)| parse_bytes(p, b, &options).links.len()).sum::<usize>());
    for (label, secs) in [("1 core", single), (&*format!("{} cores", rayon::current_num_threads()), parallel)] {
        println!(
            "{label:>8}: {:>7.1} MB/s  {:>9.0} notes/s  ({:.1} ms per pass)",
            bytes as f64 / 1e6 / secs,
            files.len() as f64 / secs,
            secs * 1000.0
        );
    }
    Ok(())
}

fn best_of(repeat: usize, mut pass: impl FnMut() -> usize) -> f64 {
    let mut best = f64::MAX;
    let mut sink = 0;
    for _ in 0..repeat.max(1) {
        let started = Instant::now();
        sink += pass();
        best = best.min(started.elapsed().as_secs_f64());
    }
    std::hint::black_box(sink);
    best
}
