//! The `cguard` binary: command-line parsing and wiring only.

use std::io::Write;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cguard", version, about = "Container Guard Service")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan one image: inventory (and, as they land, vulnerabilities and detections).
    Scan(ScanArgs),
}

#[derive(clap::Args)]
struct ScanArgs {
    /// docker-archive:PATH, oci:PATH, docker:NAME[:TAG], dir:PATH, registry:REF or a bare reference.
    image: String,
    /// Output format.
    #[arg(long, default_value = "table")]
    format: String,
    /// Write the report here instead of standard output.
    #[arg(long, short)]
    output: Option<std::path::PathBuf>,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("CGUARD_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Scan(args) => run_scan(args),
    }
}

fn run_scan(args: ScanArgs) -> anyhow::Result<()> {
    let report =
        scan::scan(&args.image, &scan::Options::default()).with_context(|| format!("scanning {}", args.image))?;
    let text = serde_json::to_string_pretty(&report)?;
    match args.output {
        Some(path) => std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?,
        None => writeln!(std::io::stdout(), "{text}")?,
    }
    Ok(())
}
