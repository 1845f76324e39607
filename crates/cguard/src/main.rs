//! The `cguard` binary: command-line parsing and wiring only.

mod db_cmd;
mod scan_cmd;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cguard", version, about = "Container Guard Service: image scanning and container protection")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan one image and report what is in it.
    Scan(Box<scan_cmd::ScanArgs>),
    /// Manage the vulnerability database.
    #[command(subcommand)]
    Db(db_cmd::DbCommand),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CGUARD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan_cmd::run(*args),
        Command::Db(cmd) => db_cmd::run(cmd).map(|()| std::process::ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        // A reader that went away (`cguard … | head`) is not an error of ours.
        Err(e) if is_broken_pipe(&e) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cguard: error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
