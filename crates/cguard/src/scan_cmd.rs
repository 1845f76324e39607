//! `cguard scan IMAGE`.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use anyhow::Context;

#[derive(clap::Args)]
pub struct ScanArgs {
    /// The image: docker-archive:PATH, oci:PATH, docker:NAME[:TAG], dir:PATH, registry:REF or a bare reference.
    image: String,
    /// Output format: table, json, cyclonedx (CycloneDX 1.5 JSON) or spdx (SPDX 2.3 JSON).
    #[arg(long, short, default_value = "table")]
    format: String,
    /// Write the report to this file instead of standard output.
    #[arg(long, short)]
    output: Option<std::path::PathBuf>,
    /// Platform to pick from a multi-platform image (os/arch[/variant]).
    #[arg(long, default_value = "linux/amd64")]
    platform: String,
    /// Registry user name (overrides ~/.docker/config.json).
    #[arg(long, env = "CGUARD_REGISTRY_USERNAME")]
    username: Option<String>,
    /// Registry password or token (prefer the environment variable or --password-stdin).
    #[arg(long, env = "CGUARD_REGISTRY_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Read the registry password from standard input.
    #[arg(long, conflicts_with = "password")]
    password_stdin: bool,
    /// Talk plain HTTP to this registry (host[:port]); loopback registries always are.
    #[arg(long = "insecure-registry")]
    insecure_registries: Vec<String>,
    /// Extra PEM CA certificate(s) to trust for HTTPS registries and their token servers.
    #[arg(long = "registry-ca-file")]
    ca_file: Option<std::path::PathBuf>,
    /// Analyses to run besides the inventory, comma-separated: vuln, malware, secret,
    /// baseline, or none (default: all available).
    #[arg(long, value_delimiter = ',', default_values_t = AVAILABLE_SCANNERS.iter().map(|s| s.to_string()))]
    scanners: Vec<String>,
    /// Vulnerability database (default: $CGUARD_DB or ~/.cache/cguard/vuln.db).
    #[arg(long, env = "CGUARD_DB")]
    db: Option<std::path::PathBuf>,
    /// Warn when the database is older than this many hours.
    #[arg(long, default_value_t = 72)]
    max_db_age_hours: u64,
    /// Ignore rules (default: .cguardignore.yaml in the current directory, when present).
    #[arg(long)]
    ignore_file: Option<std::path::PathBuf>,
    /// Urgency rule settings (YAML or JSON), see docs/urgency.md.
    #[arg(long)]
    urgency_config: Option<std::path::PathBuf>,
    /// Exit with --exit-code when a finding (not ignored) is at least this urgent.
    #[arg(long, value_parser = ["fix-asap", "can-delay", "no-need-now"])]
    fail_on: Option<String>,
    /// Extra YARA rule directory for the malware scanner (repeatable).
    #[arg(long = "malware-rules")]
    malware_rules: Vec<std::path::PathBuf>,
    /// ClamAV-format hash signature directory (.hdb .hsb .hdu .hsu; repeatable).
    #[arg(long = "malware-signatures")]
    malware_signatures: Vec<std::path::PathBuf>,
    /// Largest file the malware rules read, in MiB (hash signatures apply to any size).
    #[arg(long, default_value_t = 64)]
    malware_max_file_mib: u64,
    /// How deep archives inside archives are opened by the malware scanner (0 = never).
    #[arg(long, default_value_t = 2)]
    malware_archive_depth: u32,
    /// Exit code for --fail-on.
    #[arg(long, default_value_t = 1)]
    exit_code: u8,
}

const KNOWN_SCANNERS: &[&str] = &["vuln", "malware", "secret", "baseline"];
/// Scanners this build runs; the others are named so that scripts written for them get a
/// clear error rather than a silent pass.
const AVAILABLE_SCANNERS: &[&str] = &["vuln", "malware", "secret", "baseline"];

/// Opens the vulnerability database for a scan. Without an explicit `--db`, a missing
/// database is a warning (the inventory still comes out); a named one must open.
fn vuln_options(args: &ScanArgs) -> anyhow::Result<Option<scan::vulns::VulnOptions>> {
    let explicit = args.db.is_some();
    let path = args.db.clone().unwrap_or_else(vulndb::default_db_path);
    if !explicit && !path.exists() {
        eprintln!(
            "warning: no vulnerability database at {}: vulnerabilities are not checked \
             (run `cguard db update`, or `cguard db build --from DIR`)",
            path.display()
        );
        return Ok(None);
    }
    let db = vulndb::Database::open(&path)
        .with_context(|| format!("opening the vulnerability database {}", path.display()))?;
    let status = db.status();
    if status.is_older_than(std::time::Duration::from_secs(args.max_db_age_hours * 3600)) {
        eprintln!(
            "warning: the vulnerability database was built {} ({} hours ago): run `cguard db update`",
            status.built_at,
            status.age_seconds / 3600
        );
    }
    let ignore_path = args.ignore_file.clone().or_else(|| {
        let default = std::path::PathBuf::from(".cguardignore.yaml");
        default.exists().then_some(default)
    });
    let ignore = match &ignore_path {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            vulndb::ignore::IgnoreRules::parse(&text).with_context(|| format!("in {}", p.display()))?
        }
        None => Default::default(),
    };
    let policy = match &args.urgency_config {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            serde_yaml::from_str(&text).with_context(|| format!("parsing {}", p.display()))?
        }
        None => vulndb::UrgencyPolicy::default(),
    };
    let database = scan::vulns::DatabaseSummary {
        path: path.display().to_string(),
        built: Some(status.built_at.clone()),
        sources: status.sources.iter().map(|s| s.name.clone()).collect(),
    };
    Ok(Some(scan::vulns::VulnOptions {
        source: std::sync::Arc::new(db),
        policy,
        ignore,
        database,
        today: scan::now_utc()[..10].to_owned(),
    }))
}

pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let format: scan::Format = args.format.parse().map_err(anyhow::Error::msg)?;
    if args.scanners.iter().any(|s| s == "none") {
        if args.scanners.len() > 1 {
            anyhow::bail!("--scanners none cannot be combined with other scanners");
        }
    } else if let Some(unknown) = args.scanners.iter().find(|s| !KNOWN_SCANNERS.contains(&s.as_str())) {
        anyhow::bail!("unknown scanner {unknown:?} (expected {})", KNOWN_SCANNERS.join(", "));
    }
    if let Some(missing) =
        args.scanners.iter().find(|s| !AVAILABLE_SCANNERS.contains(&s.as_str()) && s.as_str() != "none")
    {
        anyhow::bail!(
            "the {missing} scanner is not available in this version (available: {})",
            AVAILABLE_SCANNERS.join(", ")
        );
    }
    let mut options = scan::Options::default();
    let wants = |name: &str| args.scanners.iter().any(|s| s == name);
    if wants("vuln") {
        options.vulns = vuln_options(&args)?;
    }
    if wants("malware") {
        let config = detect::malware::Config {
            rule_dirs: args.malware_rules.clone(),
            signature_dirs: args.malware_signatures.clone(),
            max_file_size: args.malware_max_file_mib << 20,
            archive_depth: args.malware_archive_depth,
            ..Default::default()
        };
        let engine = detect::malware::Engine::new(config).context("loading malware rules and signatures")?;
        for w in engine.warnings() {
            eprintln!("warning: {w}");
        }
        options.malware = Some(engine);
    }
    options.secrets = wants("secret");
    options.baseline = wants("baseline");
    options.open.platform = Some(args.platform.clone());
    options.open.username = args.username.clone();
    options.open.password = args.password.clone();
    if args.password_stdin {
        let mut pw = String::new();
        std::io::stdin().read_to_string(&mut pw).context("reading the password from standard input")?;
        options.open.password = Some(pw.trim_end_matches(['\r', '\n']).to_owned());
    }
    options.open.insecure_registries = args.insecure_registries.clone();
    options.open.ca_file = args.ca_file.clone();
    let progress = std::io::stderr().is_terminal().then(|| {
        let counters = std::sync::Arc::new(scan::progress::Counters::default());
        options.progress = Some(counters.clone());
        scan::progress::Spinner::start(&args.image, counters)
    });
    let result = scan::scan(&args.image, &options);
    drop(progress);
    let report = result.with_context(|| format!("scanning {}", args.image))?;
    let text = scan::render(&report, format, &scan::now_utc());
    match &args.output {
        Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?,
        None => std::io::stdout().write_all(text.as_bytes()).context("writing the report")?,
    }
    if let (Some(level), Some(v)) = (&args.fail_on, &report.vulnerabilities) {
        let threshold = vulndb::Urgency::parse(level).unwrap_or(vulndb::Urgency::FixAsap);
        if v.fails(threshold) {
            return Ok(ExitCode::from(args.exit_code));
        }
    }
    Ok(ExitCode::SUCCESS)
}
