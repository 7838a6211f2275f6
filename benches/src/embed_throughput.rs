//! Built-in model throughput: tokens per second embedding a folder of notes (whole files,
//! truncated to the model's 256 tokens as the index does with chunks), plus query latency,
//! with the kernel the CPU chose for the linear layers or one named on the command line.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use exo_embed::{BuiltinMiniLm, Kernel};

pub fn run(dir: &Path, limit: usize, kernel: Option<&str>) -> Result<()> {
    let mut texts = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "md") {
            texts.push(std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?);
        }
        if limit > 0 && texts.len() >= limit {
            break;
        }
    }
    texts.sort();
    let model = match kernel {
        Some(name) => BuiltinMiniLm::with_kernel(Kernel::from_name(name)?)?,
        None => BuiltinMiniLm::new(),
    };
    let choice = if kernel.is_some() { "forced" } else { "detected" };
    println!("kernel: {} ({choice}; this CPU can run: {})", model.kernel(), available().join(", "));
    let load = Instant::now();
    model.tokenize("warm up")?;
    println!("model load: {:.1} ms", load.elapsed().as_secs_f64() * 1000.0);

    let start = Instant::now();
    let ids: Vec<Vec<u32>> = texts.iter().map(|t| model.tokenize(t)).collect::<Result<_, _>>()?;
    let tokenize = start.elapsed();
    let tokens: usize = ids.iter().map(Vec::len).sum();
    let (start, cpu_start) = (Instant::now(), crate::process::cpu_time_ms());
    let vectors = model.embed_ids(&ids)?;
    let (embed, cpu_ms) = (start.elapsed(), crate::process::cpu_time_ms() - cpu_start);
    println!(
        "{} texts, {} tokens: tokenize {:.2} s, embed {:.2} s = {:.0} tokens/s ({} threads)",
        vectors.len(),
        tokens,
        tokenize.as_secs_f64(),
        embed.as_secs_f64(),
        tokens as f64 / embed.as_secs_f64(),
        rayon::current_num_threads()
    );
    // Per CPU-second as well: on a shared machine the wall clock also counts other people's
    // work, CPU time mostly does not (gemm_ceiling.py prints the same unit).
    println!("embed CPU {:.2} s = {:.0} tokens per CPU-second", cpu_ms / 1000.0, tokens as f64 / (cpu_ms / 1000.0));

    let queries =
        ["spaced repetition and the forgetting curve", "0-dimensional biomaterials lack inductive properties."];
    let mut times = Vec::new();
    for _ in 0..20 {
        for q in queries {
            let start = Instant::now();
            exo_embed::Embedder::embed(&model, &[q])?;
            times.push(start.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    println!("query embedding: p50 {:.1} ms, p95 {:.1} ms", times[times.len() / 2], times[times.len() * 95 / 100]);
    Ok(())
}

fn available() -> Vec<&'static str> {
    Kernel::ALL.into_iter().filter(|k| k.is_available()).map(Kernel::name).collect()
}
