//! exo-bench: `gen` writes a deterministic synthetic vault, `run` times whole exo processes
//! on generated vaults (with `git status` on the same repository for scale), and `parse`
//! measures parser throughput over real folders.

mod embed_throughput;
mod generate;
mod harness;
mod mcp_bench;
mod parse_throughput;
mod process;
mod vector_recall;
mod vectors;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "exo-bench", about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a synthetic vault: same notes and seed give byte-identical files
    Gen {
        #[arg(long)]
        notes: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        /// Vectors for the vault: none (text and graph only), fake (a pseudo-random unit vector
        /// per chunk, written straight into the vector store), real (the built-in model)
        #[arg(long, value_enum, default_value = "none")]
        vectors: vectors::Vectors,
        /// The exo binary that indexes the vault (for --vectors fake|real)
        #[arg(long, default_value = "target/release/exo")]
        exo: PathBuf,
    },
    /// Time exo on generated vaults of each size (release build recommended)
    Run {
        /// Vault sizes, comma separated
        #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
        notes: Vec<usize>,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The exo binary to time
        #[arg(long, default_value = "target/release/exo")]
        exo: PathBuf,
        /// Where generated vaults are kept between runs
        #[arg(long, default_value = "target/bench-vaults")]
        work: PathBuf,
        /// Repetitions for the fast measurements (median reported)
        #[arg(long, default_value_t = 7)]
        repeat: usize,
        /// Vectors for the vaults (none, fake, real); with vectors the full index is timed
        /// for text and graph, and the vectors are added before the other measurements
        #[arg(long, value_enum, default_value = "none")]
        vectors: vectors::Vectors,
    },
    /// Built-in embedding model throughput (tokens/s) over a folder of notes
    Embed {
        dir: PathBuf,
        /// Embed at most this many notes (0: all)
        #[arg(long, default_value_t = 0)]
        limit: usize,
        /// Force a kernel (avx512-vnni, avx-vnni, int8-portable, f32) instead of the CPU's best
        #[arg(long)]
        kernel: Option<String>,
    },
    /// A warm `exo mcp` over stdio: cold start to first answer, then p50/p99 of search
    /// (hybrid), read_note and create_note (release build recommended)
    Mcp {
        #[arg(long, default_value_t = 10000)]
        notes: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// The exo binary to drive
        #[arg(long, default_value = "target/release/exo")]
        exo: PathBuf,
        /// Where generated vaults are kept between runs
        #[arg(long, default_value = "target/bench-vaults")]
        work: PathBuf,
        /// Calls of each tool
        #[arg(long, default_value_t = 200)]
        calls: usize,
    },
    /// Recall@10 and latency of vector search's coarse pass against the exact scan, on
    /// SciFact's real vectors and on larger sets made from them with noise (release build)
    VectorRecall {
        /// An indexed copy of the SciFact vault (built-in model)
        #[arg(long)]
        vault: PathBuf,
        /// SciFact's queries (id, tab, text)
        #[arg(long, default_value = "../shared/eval/scifact/queries-train.tsv")]
        queries: PathBuf,
        /// Set sizes in chunks, comma separated (0: SciFact itself)
        #[arg(long, value_delimiter = ',', default_value = "0,338000,1000000")]
        chunks: Vec<usize>,
        /// Norm of the Gaussian added to each copied chunk vector before renormalising
        #[arg(long, default_value_t = 0.5)]
        noise: f32,
        /// Candidate notes rescored, comma separated (each measured besides the default)
        #[arg(long, value_delimiter = ',', default_value = "500,1000,2000,4000")]
        candidates: Vec<usize>,
        /// Notes asked for per query (hybrid search asks for 100)
        #[arg(long, default_value_t = 100)]
        k: usize,
        /// Use only the first N queries (0: all)
        #[arg(long, default_value_t = 0)]
        max_queries: usize,
        /// Where the sets are written (a 1M-chunk set is about 470 MB)
        #[arg(long, default_value = "target/bench-vectors")]
        work: PathBuf,
        /// Write SciFact's vector-only runs per scan here, for ../shared/eval/score.py
        #[arg(long)]
        runs: Option<PathBuf>,
    },
    /// Parser throughput over folders of markdown, on one core and on all cores
    Parse {
        dirs: Vec<PathBuf>,
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Gen { notes, seed, out, vectors, exo } => {
            let stats = generate::generate(&out, notes, seed)?;
            println!("wrote {} notes ({} bytes, {} links) to {}", stats.notes, stats.bytes, stats.links, out.display());
            vectors::provide(&exo, &out, vectors)?;
        }
        Command::Run { notes, seed, exo, work, repeat, vectors } => {
            harness::run(&notes, seed, &exo, &work, repeat, vectors)?
        }
        Command::Mcp { notes, seed, exo, work, calls } => mcp_bench::run(notes, seed, &exo, &work, calls)?,
        Command::Parse { dirs, repeat } => parse_throughput::run(&dirs, repeat)?,
        Command::VectorRecall { vault, queries, chunks, noise, candidates, k, max_queries, work, runs } => {
            vector_recall::run(&vector_recall::Options {
                vault,
                queries,
                chunks,
                noise,
                candidates,
                k,
                max_queries,
                work,
                runs,
            })?
        }
        Command::Embed { dir, limit, kernel } => embed_throughput::run(&dir, limit, kernel.as_deref())?,
    }
    Ok(())
}
