//! `cguard shield`: the node agent. Standalone mode reads its policies from a file and
//! writes runtime events as JSON lines (docs/shield.md).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, bail};
use clap::Args;

#[derive(Args)]
pub struct ShieldArgs {
    /// Run without a server: policies from --policy-file, events to --events-file.
    #[arg(long)]
    standalone: bool,
    /// JSON array of policies: {"name","processWhitelist","fileProtection","mode","images"}.
    #[arg(long, value_name = "FILE")]
    policy_file: Option<PathBuf>,
    /// Where events go, one JSON object per line (appended); `-` for standard output.
    #[arg(long, value_name = "FILE", default_value = "-")]
    events_file: String,
    /// The Docker engine's socket.
    #[arg(long, value_name = "PATH", default_value = shield::docker::DEFAULT_SOCKET)]
    docker_socket: PathBuf,
    /// Extra directory of YARA rule files (.yar, .yara) for executed files; repeatable.
    #[arg(long, value_name = "DIR")]
    rules_dir: Vec<PathBuf>,
    /// Directory of ClamAV-format hash signatures (.hdb, .hsb, .hdu, .hsu); repeatable.
    #[arg(long, value_name = "DIR")]
    signatures_dir: Vec<PathBuf>,
    /// Size of the kernel event ring buffer, in MiB (a power of two).
    #[arg(long, value_name = "MIB")]
    ring_buffer_mib: Option<u32>,
    /// Enforce mode: what an exec not decided within --enforce-answer-timeout-ms gets
    /// (`closed`: refused with EPERM; `open`: it runs). A shield that dies always fails
    /// open: the kernel allows every exec it held.
    #[arg(long, value_name = "MODE", default_value = "closed")]
    enforce_fail_mode: FailMode,
    /// Enforce mode: longest time an exec is held for the allow-list decision, in ms.
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    enforce_answer_timeout_ms: u64,
}

/// `--enforce-fail-mode`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FailMode {
    Open,
    Closed,
}

pub fn run(args: ShieldArgs) -> anyhow::Result<std::process::ExitCode> {
    if !args.standalone {
        bail!("only standalone mode exists so far: run `cguard shield --standalone --policy-file FILE`");
    }
    let Some(policy_file) = &args.policy_file else {
        bail!("--standalone needs --policy-file FILE");
    };
    let policies = shield::load_policy_file(policy_file)?;
    let out: Box<dyn Write + Send> = if args.events_file == "-" {
        Box::new(std::io::stdout())
    } else {
        Box::new(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&args.events_file)
                .with_context(|| format!("opening events file {}", args.events_file))?,
        )
    };
    let ring_buffer_bytes = match args.ring_buffer_mib {
        Some(mib) => Some(mib.checked_mul(1 << 20).context("--ring-buffer-mib is too large")?),
        None => None,
    };
    let stop = Arc::new(AtomicBool::new(false));
    spawn_signal_watcher(Arc::clone(&stop))?;
    let malware = detect::malware::Config {
        rule_dirs: args.rules_dir,
        signature_dirs: args.signatures_dir,
        ..Default::default()
    };
    let config = shield::ShieldConfig {
        policies,
        docker_socket: args.docker_socket,
        malware,
        ring_buffer_bytes,
        node: std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_owned()),
    };
    // The kernel backends only when a policy enforces: they need root and hold execs.
    let enforcer: Box<dyn shield::Enforcer> = if config.policies.iter().any(|p| p.mode == shield::Mode::Enforce) {
        let enforce = shield::EnforceConfig {
            answer_timeout: std::time::Duration::from_millis(args.enforce_answer_timeout_ms),
            fail_closed: args.enforce_fail_mode == FailMode::Closed,
        };
        Box::new(shield::KernelEnforcer::start(enforce).context("starting enforcement for enforce-mode policies")?)
    } else {
        Box::new(shield::DetectOnly)
    };
    let summary = shield::run(config, out, stop, enforcer, |what| {
        eprintln!("cguard shield: {what}");
        eprintln!("ready");
    })?;
    eprintln!(
        "cguard shield: stopped; {} events written, {} kernel events lost, {} executed files not scanned",
        summary.events, summary.kernel_drops, summary.scan_drops
    );
    Ok(std::process::ExitCode::SUCCESS)
}

/// Sets `stop` on SIGINT (Ctrl-C) or SIGTERM.
fn spawn_signal_watcher(stop: Arc<AtomicBool>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build().context("signal runtime")?;
    // Registered here, before the agent starts, so that an early signal is not lost.
    let mut term = runtime
        .block_on(async { tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) })
        .context("installing the SIGTERM handler")?;
    let mut int = runtime
        .block_on(async { tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()) })
        .context("installing the SIGINT handler")?;
    std::thread::Builder::new().name("signals".into()).spawn(move || {
        runtime.block_on(async {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        });
        stop.store(true, Ordering::Relaxed);
    })?;
    Ok(())
}
