//! `cguard shield`: the node agent. Standalone mode reads its policies from a file and
//! writes runtime events as JSON lines; connected mode (`--server URL`) enrols with a
//! `cguard server`, takes its policies from it and delivers events through a durable
//! spool (docs/shield.md).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, bail};
use clap::Args;

#[derive(Args)]
pub struct ShieldArgs {
    /// Run without a server: policies from --policy-file, events to --events-file.
    #[arg(long, conflicts_with = "server")]
    standalone: bool,
    /// Connected mode: the `cguard server` to enrol with, take policies from and deliver
    /// events to (`http://host:port`). The first start needs the cluster's enrolment token
    /// in CGUARD_ENROLMENT_TOKEN.
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// Connected mode: the cluster the node must belong to (checked against the token's).
    #[arg(long, value_name = "ID", requires = "server")]
    cluster: Option<String>,
    /// Connected mode: where the node's identity, cached policies and event spool live.
    #[arg(long, value_name = "DIR", default_value = shield::connected::DEFAULT_STATE_DIR)]
    state_dir: PathBuf,
    /// Connected mode: the most disk the event spool may use, in MiB (past it, the oldest
    /// undelivered events are dropped and counted).
    #[arg(long, value_name = "MIB", default_value_t = 256, value_parser = clap::value_parser!(u64).range(8..=1 << 20))]
    spool_max_mib: u64,
    /// This node's name, in events and at enrolment (default: the host name; in a pod,
    /// give the node's name).
    #[arg(long, value_name = "NAME")]
    node_name: Option<String>,
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
    /// A containerd socket to ask about containers the Docker engine does not know
    /// (repeatable; default: containerd's own and the Docker engine's, where they exist).
    #[arg(long, value_name = "PATH")]
    containerd_socket: Vec<PathBuf>,
    /// Where `cguard-runc` (the OCI runtime wrapper) asks this shield to protect a
    /// container before its first program runs; `none`: not listened on.
    #[arg(long, value_name = "PATH", default_value = shield::runtime::DEFAULT_SOCKET)]
    runtime_socket: String,
    /// Report `no-new-privileges:false` for every container that leaves no-new-privileges
    /// at the runtime's default, not only for those whose configuration turns it off.
    #[arg(long)]
    report_default_no_new_privileges: bool,
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

/// Where events go and what runs beside the agent in connected mode.
struct Mode {
    policies: Vec<shield::Policy>,
    sink: Box<dyn shield::output::EventSink>,
    connected: Option<Connection>,
}

struct Connection {
    client: shield::client::ServerClient,
    engines: shield::engines::Engines,
    spool: Arc<shield::spool::Spool>,
    revision: i64,
}

/// `--containerd-socket`, or containerd's usual sockets.
fn containerd_sockets(args: &ShieldArgs) -> Vec<PathBuf> {
    if args.containerd_socket.is_empty() {
        shield::containerd::DEFAULT_SOCKETS.iter().map(PathBuf::from).collect()
    } else {
        args.containerd_socket.clone()
    }
}

fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_owned())
}

fn standalone(args: &ShieldArgs) -> anyhow::Result<Mode> {
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
    Ok(Mode { policies, sink: Box::new(shield::output::JsonLines(out)), connected: None })
}

fn connect(args: &ShieldArgs, server: &str) -> anyhow::Result<Mode> {
    if args.policy_file.is_some() {
        bail!("--policy-file is for --standalone; connected mode takes its policies from the server");
    }
    let engines = shield::engines::Engines {
        docker: shield::docker::DockerClient::new(&args.docker_socket),
        containerd: shield::containerd::ContainerdClient::new(containerd_sockets(args)),
    };
    let token = std::env::var("CGUARD_ENROLMENT_TOKEN").ok().filter(|t| !t.is_empty());
    let node_name = match &args.node_name {
        Some(n) => n.clone(),
        None => host_name().context("reading the host name (give --node-name)")?,
    };
    let config = shield::connected::ConnectConfig {
        server: server.to_owned(),
        state_dir: args.state_dir.clone(),
        enrolment_token: token,
        cluster: args.cluster.clone(),
        node_name,
    };
    let identity = shield::connected::establish(&config, shield::connected::node_facts(&engines, None))?;
    let client = shield::client::ServerClient::new(server)?.with_credential(identity.credential.clone());
    let spool = shield::spool::Spool::open(&args.state_dir.join("spool"), args.spool_max_mib << 20)
        .with_context(|| format!("opening the event spool in {}", args.state_dir.display()))?;
    let spool = Arc::new(spool);
    let (policies, revision) = shield::connected::initial_policies(&client, &engines, &args.state_dir);
    eprintln!(
        "cguard shield: node {} of cluster {} at {}; {} spooled events to deliver",
        identity.node_id,
        identity.cluster_id,
        client.base(),
        spool.stats().pending
    );
    let sink = Box::new(Arc::clone(&spool));
    Ok(Mode { policies, sink, connected: Some(Connection { client, engines, spool, revision }) })
}

pub fn run(args: ShieldArgs) -> anyhow::Result<std::process::ExitCode> {
    let mode = match (&args.server, args.standalone) {
        (Some(server), _) => connect(&args, server)?,
        (None, true) => standalone(&args)?,
        (None, false) => bail!(
            "choose a mode: `--standalone --policy-file FILE` or `--server URL` (with CGUARD_ENROLMENT_TOKEN the \
             first time)"
        ),
    };
    let Mode { policies, sink, connected } = mode;
    let ring_buffer_bytes = match args.ring_buffer_mib {
        Some(mib) => Some(mib.checked_mul(1 << 20).context("--ring-buffer-mib is too large")?),
        None => None,
    };
    let containerd_sockets = containerd_sockets(&args);
    let stop = Arc::new(AtomicBool::new(false));
    spawn_signal_watcher(Arc::clone(&stop))?;
    let malware = detect::malware::Config {
        rule_dirs: args.rules_dir,
        signature_dirs: args.signatures_dir,
        ..Default::default()
    };
    let (policy_tx, policy_rx) = std::sync::mpsc::channel();
    let background = match connected {
        Some(c) => Some((
            shield::connected::Connected::start(
                c.client,
                c.engines,
                Arc::clone(&c.spool),
                args.state_dir.clone(),
                c.revision,
                policy_tx,
            )
            .context("starting delivery")?,
            c.spool,
        )),
        None => None,
    };
    let config = shield::ShieldConfig {
        policies,
        docker_socket: args.docker_socket,
        malware,
        ring_buffer_bytes,
        node: args.node_name.clone().or_else(host_name),
        policy_updates: background.is_some().then_some(policy_rx),
        containerd_sockets,
        runtime_socket: (args.runtime_socket != "none").then(|| PathBuf::from(&args.runtime_socket)),
        runtime_fail_closed: args.enforce_fail_mode == FailMode::Closed,
        environment: shield::environment::Settings {
            report_default_no_new_privileges: args.report_default_no_new_privileges,
        },
    };
    // The kernel backends only when a policy enforces (or, connected, may come to): they
    // need root and hold execs.
    let may_enforce = background.is_some() || config.policies.iter().any(|p| p.mode == shield::Mode::Enforce);
    let enforcer: Box<dyn shield::Enforcer> = if may_enforce {
        let enforce = shield::EnforceConfig {
            answer_timeout: std::time::Duration::from_millis(args.enforce_answer_timeout_ms),
            fail_closed: args.enforce_fail_mode == FailMode::Closed,
        };
        shield::enforce::start_kernel_enforcer(enforce).context("starting enforcement for enforce-mode policies")?
    } else {
        Box::new(shield::DetectOnly)
    };
    let summary = shield::run(config, sink, stop, enforcer, |what| {
        eprintln!("cguard shield: {what}");
        eprintln!("ready");
    });
    let delivered = background.map(|(connected, spool)| {
        let delivery = Arc::clone(&connected.delivery);
        connected.stop(std::time::Duration::from_secs(5));
        let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "; {} events delivered ({} already delivered, {} refused), {} left in the spool",
            load(&delivery.accepted),
            load(&delivery.duplicates),
            load(&delivery.refused),
            spool.stats().pending
        )
    });
    let summary = summary?;
    eprintln!(
        "cguard shield: stopped; {} events written, {} kernel events lost, {} executed files not scanned{}",
        summary.events,
        summary.kernel_drops,
        summary.scan_drops,
        delivered.unwrap_or_default()
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
