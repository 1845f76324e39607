//! The `cguard` binary: command-line parsing and wiring only.

mod db_cmd;
mod scan_cmd;
mod server_cmd;
mod shield_cmd;
mod user_cmd;

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
    /// Run the control plane: REST API, identities, audit, protection objects.
    Server(Box<server_cmd::ServerArgs>),
    /// Run background workers only (scans, registry syncs, matching again) on the server's
    /// database: scale-out beside `cguard server` replicas.
    Worker(Box<server_cmd::WorkerArgs>),
    /// Unlock an account or set its password, on the server's host.
    #[command(subcommand)]
    User(user_cmd::UserCommand),
    /// Inspect the audit log.
    #[command(subcommand)]
    Audit(server_cmd::AuditCommand),
    /// Run the shield: runtime detection for the containers of this node.
    Shield(Box<shield_cmd::ShieldArgs>),
}

fn main() -> std::process::ExitCode {
    // Run as `cguard-runc`, the binary is the OCI runtime wrapper of the shield: runc's
    // arguments, not ours, and no logging set-up: its refusals go to standard error.
    let mut args = std::env::args_os();
    let program = args.next().unwrap_or_default();
    if std::path::Path::new(&program).file_name() == Some(std::ffi::OsStr::new(shield::runtime::WRAPPER_NAME)) {
        return shield::runtime::wrapper::main(args.collect());
    }
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
        Command::Server(args) => server_cmd::run_server(*args).map(|()| std::process::ExitCode::SUCCESS),
        Command::Worker(args) => server_cmd::run_worker(*args).map(|()| std::process::ExitCode::SUCCESS),
        Command::Audit(cmd) => server_cmd::run_audit(cmd),
        Command::User(cmd) => user_cmd::run(cmd).map(|()| std::process::ExitCode::SUCCESS),
        Command::Shield(args) => shield_cmd::run(*args),
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
