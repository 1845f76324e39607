//! `cguard db …`: build, update, inspect, export and import the vulnerability database.

use std::path::PathBuf;

use std::io::Write;

use anyhow::Context;

#[derive(clap::Subcommand)]
pub enum DbCommand {
    /// Build the database from a directory of feeds in their upstream formats.
    Build {
        /// Feed directory (debian/, osv/<Ecosystem>/, alpine/vX.Y/, cve/, nvd/).
        #[arg(long)]
        from: PathBuf,
        #[arg(long, env = "CGUARD_DB")]
        db: Option<PathBuf>,
    },
    /// Download the configured feeds and replace the database atomically.
    Update {
        #[arg(long, env = "CGUARD_DB")]
        db: Option<PathBuf>,
        /// Feed configuration (JSON or YAML; default: the upstream locations).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Show the database's age, sources and counts.
    Status {
        #[arg(long, env = "CGUARD_DB")]
        db: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Write a signed offline bundle of the database (for air-gapped sites).
    Export {
        #[arg(long, env = "CGUARD_DB")]
        db: Option<PathBuf>,
        /// Bundle file to write.
        #[arg(long)]
        out: PathBuf,
        /// Ed25519 private key (PEM) to sign with.
        #[arg(long)]
        key: PathBuf,
    },
    /// Verify a signed bundle and install its database.
    Import {
        /// Bundle file.
        bundle: PathBuf,
        #[arg(long, env = "CGUARD_DB")]
        db: Option<PathBuf>,
        /// Trusted Ed25519 public key (PEM).
        #[arg(long)]
        trusted_key: PathBuf,
    },
    /// Generate an Ed25519 key pair for signing bundles.
    Keygen {
        /// Directory to write the key files into.
        dir: PathBuf,
    },
}

fn path(db: Option<PathBuf>) -> PathBuf {
    db.unwrap_or_else(vulndb::default_db_path)
}

fn ensure_parent(db: &std::path::Path) -> anyhow::Result<()> {
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    Ok(())
}

pub fn run(cmd: DbCommand) -> anyhow::Result<()> {
    let mut so = std::io::stdout().lock();
    match cmd {
        DbCommand::Build { from, db } => {
            let db = path(db);
            ensure_parent(&db)?;
            let start = std::time::Instant::now();
            let stats = vulndb::build_from_dir(&from, &db).map_err(anyhow::Error::msg)?;
            writeln!(
                so,
                "built {} in {:.2}s: {} vulnerabilities, {} affected entries, {} packages, {} bytes",
                db.display(),
                start.elapsed().as_secs_f64(),
                stats.vulnerabilities,
                stats.affected,
                stats.packages,
                stats.file_size
            )?;
        }
        DbCommand::Update { db, config } => {
            let db = path(db);
            ensure_parent(&db)?;
            let config = match config {
                Some(p) => {
                    let text = std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
                    serde_yaml::from_str(&text).with_context(|| format!("parsing {}", p.display()))?
                }
                None => vulndb::update::UpdateConfig::default(),
            };
            let report = vulndb::update::update(&config, &db, &vulndb::records_from_dir)?;
            for f in &report.feeds {
                let how = if f.downloaded { "downloaded" } else { "unchanged" };
                writeln!(so, "{:<32} {how:<10} {:>12} bytes", f.name, f.size)?;
            }
            match &report.built {
                Some(s) => writeln!(
                    so,
                    "updated {}: {} vulnerabilities, {} affected",
                    db.display(),
                    s.vulnerabilities,
                    s.affected
                )?,
                None => writeln!(so, "{} is up to date", db.display())?,
            }
            for w in &report.warnings {
                eprintln!("warning: {w}");
            }
        }
        DbCommand::Status { db, json } => {
            let db = path(db);
            let opened = vulndb::Database::open(&db).with_context(|| format!("opening {}", db.display()))?;
            let status = opened.status();
            if json {
                writeln!(so, "{}", serde_json::to_string_pretty(&status)?)?;
            } else {
                writeln!(so, "database:  {}", status.path.display())?;
                writeln!(
                    so,
                    "built:     {} ({} days ago) by cguard {}",
                    status.built_at,
                    status.age_seconds / 86_400,
                    status.cguard_version
                )?;
                writeln!(
                    so,
                    "contents:  {} vulnerabilities, {} affected entries, {} packages, {} bytes",
                    status.vulnerabilities, status.affected, status.packages, status.file_size
                )?;
                writeln!(so, "ecosystems: {}", status.ecosystems.join(", "))?;
                for s in &status.sources {
                    writeln!(
                        so,
                        "  {:<28} {:>7} vulns {:>7} affected  {}",
                        s.name,
                        s.vulnerabilities,
                        s.affected,
                        s.updated.as_deref().unwrap_or("")
                    )?;
                }
            }
        }
        DbCommand::Export { db, out, key } => {
            let m = vulndb::bundle::export(&path(db), &out, &key)?;
            writeln!(so, "wrote {} (database sha256 {})", out.display(), m.database.sha256)?;
        }
        DbCommand::Import { bundle, db, trusted_key } => {
            let db = path(db);
            ensure_parent(&db)?;
            vulndb::bundle::import(&bundle, &db, &trusted_key)?;
            writeln!(so, "installed the database from {} at {}", bundle.display(), db.display())?;
        }
        DbCommand::Keygen { dir } => {
            let keys = vulndb::bundle::generate_keypair(&dir)?;
            writeln!(so, "private key: {}\npublic key:  {}", keys.private.display(), keys.public.display())?;
        }
    }
    Ok(())
}
