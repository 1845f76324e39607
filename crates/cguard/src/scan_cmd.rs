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
}

pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let format: scan::Format = args.format.parse().map_err(anyhow::Error::msg)?;
    let mut options = scan::Options::default();
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
    Ok(ExitCode::SUCCESS)
}
