//! `cguard server` and `cguard audit …`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;

#[derive(clap::Args)]
pub struct ServerArgs {
    /// Directory for the embedded database and the server's files (created 0700).
    #[arg(long, env = "CGUARD_DATA_DIR", default_value = "/var/lib/cguard")]
    data_dir: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// `postgres://…` to share one database between replicas; default: SQLite in the data
    /// directory.
    #[arg(long, env = "CGUARD_DATABASE")]
    database: Option<String>,
    /// URL the shields use to reach this server (default: http://LISTEN).
    #[arg(long)]
    public_url: Option<String>,
    /// This deployment's region name.
    #[arg(long, default_value = "default")]
    region: String,
    /// Days audit records are kept.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=3650))]
    audit_retention_days: u32,
    /// The key (32 bytes, mode 0600) that seals secrets at rest such as kubeconfigs; created
    /// at first start. Replicas must share it. Default: DATA_DIR/secret.key.
    #[arg(long, env = "CGUARD_SECRET_KEY_FILE", value_name = "FILE")]
    secret_key_file: Option<PathBuf>,
    /// The shield's container image, for the DaemonSet applied to Kubernetes clusters.
    #[arg(long, value_name = "IMAGE")]
    shield_image: Option<String>,
    #[command(flatten)]
    background: BackgroundArgs,
}

/// What the background workers need: shared by `cguard server` and `cguard worker`.
#[derive(clap::Args)]
pub struct BackgroundArgs {
    /// The vulnerability database the server matches images against (default:
    /// DATA_DIR/vuln.db). `cguard db update --db FILE` or `cguard db import` replace it, and
    /// every process notices.
    #[arg(long, env = "CGUARD_VULN_DB", value_name = "FILE")]
    vuln_db: Option<PathBuf>,
    /// Background workers (scans, registry syncs) in this process; 0 for none. With two or
    /// more, one is kept for manual scans and new images.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=64))]
    workers: u32,
    /// Seconds a worker's claim on a job lasts without renewal (renewed every third of it):
    /// the job of a worker that died is taken again after this.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(3..=3600))]
    job_lease_seconds: u64,
    /// Time of day (UTC, HH:MM) of the daily full detection.
    #[arg(long, default_value = "03:00", value_parser = parse_time_of_day)]
    daily_detection_at: (u8, u8),
    /// Largest image scanned, in MiB of compressed layers.
    #[arg(long, default_value_t = 10240)]
    max_image_size_mib: u64,
    /// Scans pulling from one registry at the same time, per process.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    pulls_per_registry: u32,
}

fn parse_time_of_day(s: &str) -> Result<(u8, u8), String> {
    domain::jobs::scheduler::parse_time_of_day(s).ok_or_else(|| "expected HH:MM (00:00 to 23:59)".into())
}

impl BackgroundArgs {
    fn apply(&self, config: &mut server::ServerConfig, data_dir: &Path) {
        config.vuln_db = self.vuln_db.clone().unwrap_or_else(|| data_dir.join("vuln.db"));
        config.workers = self.workers as usize;
        config.job_lease = std::time::Duration::from_secs(self.job_lease_seconds);
        config.daily_detection_at = self.daily_detection_at;
        config.image_security.max_image_bytes = self.max_image_size_mib.saturating_mul(1 << 20);
        config.image_security.pulls_per_registry = self.pulls_per_registry as usize;
    }
}

#[derive(clap::Args)]
pub struct WorkerArgs {
    /// The server's data directory, and its database (`--database postgres://…`, shared
    /// with the server replicas).
    #[command(flatten)]
    db: DatabaseArgs,
    /// The server's secret key file (registry passwords are sealed with it).
    #[arg(long, env = "CGUARD_SECRET_KEY_FILE", value_name = "FILE")]
    secret_key_file: Option<PathBuf>,
    #[command(flatten)]
    background: BackgroundArgs,
}

#[derive(clap::Subcommand)]
pub enum AuditCommand {
    /// Check the audit log's hash chain; exits non-zero when a record was changed,
    /// removed or inserted.
    Verify(VerifyArgs),
    /// Print the chain's head (`seq=N hash=H`), to keep outside the server: `audit verify
    /// --from-checkpoint` then catches records removed or rewritten since.
    Checkpoint(DatabaseArgs),
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    db: DatabaseArgs,
    /// The server's secret key file: the chain is keyed with a key derived from it.
    /// Default: DATA_DIR/secret.key.
    #[arg(long, env = "CGUARD_SECRET_KEY_FILE", value_name = "FILE")]
    secret_key_file: Option<PathBuf>,
    /// A checkpoint printed earlier by `cguard audit checkpoint` (`seq=N hash=H`): fails
    /// when its record is gone or has another hash, or the chain from it does not verify.
    #[arg(long, value_name = "CHECKPOINT", value_parser = parse_checkpoint)]
    from_checkpoint: Option<store::Checkpoint>,
}

fn parse_checkpoint(text: &str) -> Result<store::Checkpoint, String> {
    text.parse()
}

#[derive(clap::Args)]
pub struct DatabaseArgs {
    #[arg(long, env = "CGUARD_DATA_DIR", default_value = "/var/lib/cguard")]
    pub(crate) data_dir: PathBuf,
    #[arg(long, env = "CGUARD_DATABASE")]
    pub(crate) database: Option<String>,
}

pub(crate) fn database_url(data_dir: &Path, database: Option<String>) -> anyhow::Result<String> {
    if let Some(url) = database {
        return Ok(url);
    }
    create_private_dir(data_dir)?;
    Ok(format!("sqlite://{}/cguard.db", data_dir.display()))
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating the data directory {}", dir.display()))?;
    let mode = std::fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(dir = %dir.display(), mode = format!("{mode:o}"), "the data directory is readable by others");
    }
    Ok(())
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

pub fn run_server(args: ServerArgs) -> anyhow::Result<()> {
    let url = database_url(&args.data_dir, args.database)?;
    let key_file = match args.secret_key_file {
        Some(f) => f,
        None => {
            create_private_dir(&args.data_dir)?;
            args.data_dir.join("secret.key")
        }
    };
    let mut config = server::ServerConfig::new(args.listen, url);
    config.secret_key = Some(server::secrets::SecretKey::load_or_create(&key_file)?);
    if let Some(image) = args.shield_image {
        config.shield_image = image;
    }
    config.admin_password = std::env::var("CGUARD_ADMIN_PASSWORD").ok().filter(|p| !p.is_empty());
    config.region = args.region;
    config.audit_retention_days = args.audit_retention_days;
    if let Some(u) = args.public_url {
        config.public_url = u;
    }
    args.background.apply(&mut config, &args.data_dir);
    runtime()?.block_on(server::serve(config))?;
    Ok(())
}

pub fn run_worker(args: WorkerArgs) -> anyhow::Result<()> {
    let data_dir = args.db.data_dir;
    let url = database_url(&data_dir, args.db.database)?;
    if url.starts_with("sqlite:") {
        tracing::warn!("a worker on SQLite shares the file with one server process; use PostgreSQL to scale out");
    }
    let key_file = args.secret_key_file.unwrap_or_else(|| data_dir.join("secret.key"));
    if !key_file.exists() {
        anyhow::bail!(
            "no secret key at {}: give the server's key (--secret-key-file) so that registry passwords can be opened",
            key_file.display()
        );
    }
    let listen: SocketAddr = "127.0.0.1:0".parse().context("address")?;
    let mut config = server::ServerConfig::new(listen, url);
    config.secret_key = Some(server::secrets::SecretKey::load_or_create(&key_file)?);
    args.background.apply(&mut config, &data_dir);
    if config.workers == 0 {
        anyhow::bail!("--workers must be at least 1 for a worker");
    }
    runtime()?.block_on(server::run_worker(config, server::shutdown_signal()))?;
    Ok(())
}

pub fn run_audit(cmd: AuditCommand) -> anyhow::Result<std::process::ExitCode> {
    match cmd {
        AuditCommand::Checkpoint(db) => {
            let url = database_url(&db.data_dir, db.database)?;
            runtime()?.block_on(async {
                let store = store::open(&url).await?;
                println!("{}", store::audit_checkpoint(&store).await?);
                Ok(std::process::ExitCode::SUCCESS)
            })
        }
        AuditCommand::Verify(args) => verify_audit(args),
    }
}

fn verify_audit(args: VerifyArgs) -> anyhow::Result<std::process::ExitCode> {
    let key_file = args.secret_key_file.unwrap_or_else(|| args.db.data_dir.join("secret.key"));
    let key = server::secrets::SecretKey::load(&key_file)?.audit_key();
    let url = database_url(&args.db.data_dir, args.db.database)?;
    runtime()?.block_on(async {
        let store = store::open(&url).await?;
        let v = match &args.from_checkpoint {
            Some(checkpoint) => store::verify_audit_from(&store, &key, checkpoint).await?,
            None => store::verify_audit(&store, &key).await?,
        };
        let from = match &args.from_checkpoint {
            Some(c) => format!(" from checkpoint {c}"),
            None => String::new(),
        };
        if v.problems.is_empty() {
            println!(
                "audit log intact{from}: {} records (sequence {}..={}), head {}",
                v.records,
                v.anchor_seq + 1,
                v.head_seq,
                v.head()
            );
            if v.unkeyed > 0 {
                println!(
                    "note: {} records were written before the chain was keyed; only a checkpoint taken after them \
                     protects them from a rewrite",
                    v.unkeyed
                );
            }
            Ok(std::process::ExitCode::SUCCESS)
        } else {
            for p in &v.problems {
                match p {
                    store::ChainProblem::CheckpointPruned { .. } => println!("CANNOT CHECK: {p}"),
                    _ => println!("TAMPERED: {p}"),
                }
            }
            println!("audit log NOT intact{from}: {} problem(s) in {} records", v.problems.len(), v.records);
            Ok(std::process::ExitCode::from(1))
        }
    })
}
