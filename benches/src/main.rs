//! exo-bench: `gen` writes a deterministic synthetic vault, `run` times whole exo processes
//! on generated vaults (with `git status` on the same repository for scale), and `parse`
//! measures parser throughput over real folders.

mod embed_throughput;
mod generate;
mod harness;
mod parse_throughput;
mod process;

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
    /// Parser throughput over folders of markdown, on one core and on all cores
    Parse {
        dirs: Vec<PathBuf>,
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Gen { notes, seed, out } => {
            let stats = generate::generate(&out, notes, seed)?;
            println!("wrote {} notes ({} bytes, {} links) to {}", stats.notes, stats.bytes, stats.links, out.display());
        }
        Command::Run { notes, seed, exo, work, repeat } => harness::run(&notes, seed, &exo, &work, repeat)?,
        Command::Parse { dirs, repeat } => parse_throughput::run(&dirs, repeat)?,
        Command::Embed { dir, limit, kernel } => embed_throughput::run(&dir, limit, kernel.as_deref())?,
    }
    Ok(())
}
