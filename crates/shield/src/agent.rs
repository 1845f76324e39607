//! The detection loop: loads the kernel programs, keeps the container cache fresh from the
//! engine's events, turns kernel events into findings with the rules, and hands them to the
//! writer.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender};
use std::time::Duration;

use api::shield::ProcessInfo;
use shield_bpf::{Event, FileOp, MatchKind, PathRule, ProbeConfig, Probes, ResultOf, Syscall, SyscallPhase, UserPath};

use crate::containerd::ContainerdClient;
use crate::containers::{Container, Containers, RuleChanges};
use crate::docker::{ContainerAction, ContainerInfo, DockerClient, EventStream, Source};
use crate::enforce::{Enforcer, ExecDenial};
use crate::engines::Engines;
use crate::error::ShieldError;
use crate::finding::{self, Finding};
use crate::output::{Emitter, EventContext, EventSink};
use crate::paths::{escape_rules, escape_write, host_path, is_host_critical, normalise};
use crate::policy::{Mode, Policy};
use crate::runtime::bundle;
use crate::runtime::listener::{RuntimeListener, Starting};
use crate::runtime::setup::{self, is_runtime_setup};
use crate::runtime::{Answer, StartRequest};
use crate::scan::{FileKey, ScanJob, ScanQueue};
use crate::{environment, miner, proctree, rootfs};

/// The high-risk syscalls reported as `syscall` events (issue 6's list).
pub const HIGH_RISK_SYSCALLS: &[Syscall] = &[
    Syscall::Ptrace,
    Syscall::Setns,
    Syscall::Unshare,
    Syscall::OpenByHandleAt,
    Syscall::Reboot,
    Syscall::InitModule,
    Syscall::FinitModule,
    Syscall::KexecLoad,
    Syscall::Bpf,
    Syscall::Mount,
    Syscall::Keyctl,
    Syscall::Userfaultfd,
    Syscall::ProcessVmWritev,
    Syscall::Personality,
];

/// Programs that run the file named by their first operand (a script).
const INTERPRETERS: &[&str] = &[
    "sh", "dash", "bash", "ash", "zsh", "ksh", "busybox", "perl", "python", "python2", "python3", "ruby", "php", "node",
];

/// How long the loop waits for kernel events before looking at other work. Exec and exit
/// events do not wake the loop (the kernel side wakes it for every other event, and when
/// its ring buffer fills up), so this is also how late they may be handled.
const POLL: Duration = Duration::from_millis(10);
/// How often containers of containerd and CRI-O are checked for still being there.
const SWEEP: Duration = Duration::from_secs(30);
/// How often the ring buffer's drop counters are looked at.
const DROP_CHECK: Duration = Duration::from_secs(10);
/// Most remembered processes that executed a program (for the runtime-setup filter, and
/// to name a process that exited before its event was handled).
const MAX_EXECED: usize = 16_384;
/// How long a process that exited stays known by its exec: exec and exit events are
/// handled in batches, and a child's exec may be handled after its parent's exit.
const EXITED_KEEP: Duration = Duration::from_secs(1);
/// How long a file event of an enforced container waits for its syscall's result (whether
/// the write was refused) before it is written without it.
const RESULT_WAIT: Duration = Duration::from_secs(2);

/// What the agent is started with.
#[derive(Debug)]
pub struct ShieldConfig {
    pub policies: Vec<Policy>,
    pub docker_socket: PathBuf,
    /// The malware engine's configuration (rules, signatures, limits).
    pub malware: detect::malware::Config,
    /// Size of the kernel's event ring buffer (`None`: the default, 4 MiB).
    pub ring_buffer_bytes: Option<u32>,
    /// The host name copied into events.
    pub node: Option<String>,
    /// New policies while running (connected mode: the server's, after each change).
    pub policy_updates: Option<Receiver<Vec<Policy>>>,
    /// containerd's sockets (those that exist are asked about containers the Docker
    /// engine does not know).
    pub containerd_sockets: Vec<PathBuf>,
    /// Where `cguard-runc` asks the shield to protect a starting container (`None`: not
    /// listened on).
    pub runtime_socket: Option<PathBuf>,
    /// Whether a container whose enforce-mode policy cannot be put in place may not start
    /// (and what `cguard-runc` does when the shield does not answer in time).
    pub runtime_fail_closed: bool,
    /// What the container-environment checks report beyond explicit choices.
    pub environment: environment::Settings,
}

/// What happened once the agent stopped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Events written.
    pub events: u64,
    /// Kernel events lost because the ring buffer was full.
    pub kernel_drops: u64,
    /// Executed files not scanned because the scan queue was full.
    pub scan_drops: u64,
}

/// Messages of the engine-events thread.
enum Update {
    Upsert(Box<crate::docker::ContainerInfo>, ContainerAction),
    Removed(String),
    Died(String),
    /// The stream was re-opened: the cache is re-read.
    Resync,
    /// `cguard-runc` is about to start a container's first program.
    Starting(Starting),
}

/// Runs the shield until `stop` is set: loads the programs, reads the containers, calls
/// `ready` (with a line describing what is used) once both are done, then detects.
/// Events go to `sink`.
pub fn run(
    mut config: ShieldConfig,
    sink: Box<dyn EventSink>,
    stop: Arc<AtomicBool>,
    enforcer: Box<dyn Enforcer>,
    ready: impl FnOnce(&str),
) -> Result<Summary, ShieldError> {
    let features = shield_bpf::probe_kernel();
    if !features.detection_supported() {
        return Err(ShieldError::Unsupported(features.to_string().replace('\n', "; ")));
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let writer = std::thread::Builder::new()
        .name("shield-writer".into())
        .spawn(move || crate::output::write_events(rx, sink))
        .map_err(|source| ShieldError::Io { context: "starting the event writer".into(), source })?;
    let emitter = Emitter::new(tx, config.node.clone());
    let policy_updates = config.policy_updates.take();
    let result = detect_loop(&config, policy_updates, &emitter, &stop, enforcer, &features, ready);
    drop(emitter);
    let events = match writer.join() {
        Ok(Ok(n)) => n,
        Ok(Err(source)) => return Err(ShieldError::Io { context: "writing events".into(), source }),
        Err(_) => {
            return Err(ShieldError::Io { context: "event writer".into(), source: std::io::Error::other("panicked") });
        }
    };
    result.map(|mut summary| {
        summary.events = events;
        summary
    })
}

fn detect_loop(
    config: &ShieldConfig,
    policy_updates: Option<Receiver<Vec<Policy>>>,
    emitter: &Emitter,
    stop: &Arc<AtomicBool>,
    enforcer: Box<dyn Enforcer>,
    features: &shield_bpf::KernelFeatures,
    ready: impl FnOnce(&str),
) -> Result<Summary, ShieldError> {
    let docker = DockerClient::new(&config.docker_socket);
    let scans = ScanQueue::start(config.malware.clone(), emitter.clone());
    let mut probe_config = ProbeConfig { syscalls: HIGH_RISK_SYSCALLS.to_vec(), ..ProbeConfig::default() };
    if let Some(bytes) = config.ring_buffer_bytes {
        probe_config.ring_buffer_bytes = bytes;
    }
    let mut probes = Probes::load(&probe_config)?;
    let mut next_rule_id = 1;
    let mut add_rule = |probes: &mut Probes, rule: &PathRule| -> Result<(), ShieldError> {
        probes.add_path_rule(rule, next_rule_id)?;
        next_rule_id += 1;
        Ok(())
    };
    let mut fixed: Vec<PathRule> = escape_rules();
    fixed.extend(policy_rules(&config.policies).into_iter().filter(|r| !fixed.contains(r)).collect::<Vec<_>>());
    for rule in &fixed {
        add_rule(&mut probes, rule)?;
    }
    // Subscribe before listing, so that no container created meanwhile is missed. A node
    // without the Docker engine (containerd or CRI-O only) knows its containers from their
    // OCI bundles and from cguard-runc.
    let engine_here = std::fs::metadata(&config.docker_socket).is_ok_and(|m| {
        use std::os::unix::fs::FileTypeExt;
        m.file_type().is_socket()
    });
    if !engine_here {
        tracing::warn!(socket = %config.docker_socket.display(), "no Docker engine: containers are known from their OCI bundles");
    }
    let stream = if engine_here { Some(docker.events()?) } else { None };
    let stopper = stream
        .as_ref()
        .map(EventStream::stopper)
        .transpose()
        .map_err(|source| ShieldError::Io { context: "event stream".into(), source })?;
    let (updates_tx, updates) = std::sync::mpsc::channel();
    let runtime = config.runtime_socket.as_deref().and_then(|path| {
        let tx = updates_tx.clone();
        let deliver = Box::new(move |s: Starting| tx.send(Update::Starting(s)).is_ok());
        RuntimeListener::start(path, config.runtime_fail_closed, deliver)
            .inspect_err(
                |e| tracing::warn!(error = %e, socket = %path.display(), "cguard-runc cannot reach this shield"),
            )
            .ok()
            .map(|listener| (listener, path.display().to_string()))
    });
    let watcher = stream
        .map(|stream| {
            let docker = docker.clone();
            let stop = Arc::clone(stop);
            std::thread::Builder::new()
                .name("shield-docker-events".into())
                .spawn(move || watch_engine(stream, &docker, &updates_tx, &stop))
                .map_err(|source| ShieldError::Io { context: "starting the engine watcher".into(), source })
        })
        .transpose()?;
    let mut agent = Agent {
        engines: Engines { docker, containerd: ContainerdClient::new(config.containerd_sockets.clone()) },
        containers: Containers::new(config.policies.clone()),
        emitter: emitter.clone(),
        scans,
        enforcer,
        execed: HashMap::new(),
        pruned: std::time::Instant::now(),
        env_reported: HashSet::new(),
        fixed,
        protected: HashSet::new(),
        awaiting_result: HashMap::new(),
        runtime_fail_closed: config.runtime_fail_closed,
        environment: config.environment,
        swept: std::time::Instant::now(),
    };
    let mut changes = RuleChanges::default();
    if engine_here {
        agent.load_all(&mut changes)?;
    }
    agent.apply(&mut probes, &mut changes, &mut add_rule);
    if !agent.enforcer.blocks() {
        for policy in config.policies.iter().filter(|p| p.mode == Mode::Enforce) {
            tracing::warn!(
                policy = policy.name,
                enforcer = agent.enforcer.name(),
                "policy is in enforce mode but this shield cannot refuse anything yet: detecting only"
            );
        }
    }
    let used: Vec<&str> = features.entries().iter().filter(|(_, s)| s.is_available()).map(|(n, _)| *n).collect();
    let hooks = match probes.syscall_hooks() {
        shield_bpf::SyscallHooks::PerSyscall => format!(
            "tp_btf exec/exit, {} per-syscall entry tracepoints and tp_btf sys_exit",
            probes.entry_tracepoints().len()
        ),
        shield_bpf::SyscallHooks::Raw => "tp_btf exec/exit and tp_btf sys_enter/sys_exit".to_owned(),
    };
    let mut runtime_text = match &runtime {
        Some((_, path)) => format!("cguard-runc answered on {path}"),
        None => "no runtime socket".to_owned(),
    };
    if !engine_here {
        runtime_text.push_str(&format!("; no Docker engine at {}", config.docker_socket.display()));
    }
    let containerd: Vec<String> = agent.engines.containerd.present().iter().map(|s| s.display().to_string()).collect();
    if !containerd.is_empty() {
        runtime_text.push_str(&format!("; containerd at {}", containerd.join(", ")));
    }
    ready(&format!(
        "kernel offers: {}; using {hooks} and a ring buffer; enforcement: {}; {runtime_text}; {} containers, {} policies",
        used.join(", "),
        agent.enforcer.name(),
        agent.containers.len(),
        config.policies.len()
    ));
    let mut dropped = 0;
    let mut checked = std::time::Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if checked.elapsed() >= DROP_CHECK {
            checked = std::time::Instant::now();
            let now = probes.drop_counters().map(|c| c.total_dropped()).unwrap_or(dropped);
            if now > dropped {
                tracing::warn!(lost = now - dropped, total = now, "kernel events lost: the ring buffer was full");
                dropped = now;
            }
        }
        let mut answers = Vec::new();
        for update in updates.try_iter() {
            answers.extend(agent.update(update, &mut changes));
        }
        if !answers.is_empty() {
            // A starting container's kernel state is in place before it may start.
            agent.apply(&mut probes, &mut changes, &mut add_rule);
            for (reply, answer) in answers {
                let _ = reply.send(answer);
            }
        }
        if let Some(policies) = policy_updates.as_ref().and_then(|rx| rx.try_iter().last()) {
            agent.set_policies(policies, &mut changes);
        }
        for event in probes.poll_events(POLL)? {
            agent.handle(&event, &mut changes);
        }
        agent.enforcement_events(RESULT_WAIT);
        agent.forget_exited();
        agent.forget_gone(&mut changes);
        agent.apply(&mut probes, &mut changes, &mut add_rule);
    }
    // Nothing is lost at a stop: refusals not yet reported, writes whose result is pending.
    agent.enforcement_events(Duration::ZERO);
    drop(runtime);
    if let Some(stopper) = stopper {
        stopper.stop();
    }
    if let Some(watcher) = watcher {
        let _ = watcher.join();
    }
    let kernel_drops = probes.drop_counters().map(|c| c.total_dropped()).unwrap_or(0);
    drop(probes);
    let scan_drops = agent.scans.dropped();
    agent.scans.finish();
    Ok(Summary { events: 0, kernel_drops, scan_drops })
}

/// Reads the engine's container events until the stream ends, re-opening it (and asking
/// for a re-read of the cache) unless the agent is stopping.
fn watch_engine(mut stream: EventStream, docker: &DockerClient, tx: &Sender<Update>, stop: &AtomicBool) {
    loop {
        while let Some(event) = stream.next_event() {
            let update = match event.action {
                ContainerAction::Create | ContainerAction::Start => match docker.inspect(&event.id) {
                    Ok(Some(info)) => Update::Upsert(Box::new(info), event.action),
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, container = event.id, "cannot inspect a new container");
                        continue;
                    }
                },
                ContainerAction::Die => Update::Died(event.id),
                ContainerAction::Destroy => Update::Removed(event.id),
            };
            if tx.send(update).is_err() {
                return;
            }
        }
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_secs(1));
            match docker.events() {
                Ok(s) => {
                    stream = s;
                    if tx.send(Update::Resync).is_err() {
                        return;
                    }
                    break;
                }
                Err(e) => tracing::warn!(error = %e, "Docker event stream lost; retrying"),
            }
        }
    }
}

struct Agent {
    /// Whether a starting container whose protection failed may not start.
    runtime_fail_closed: bool,
    engines: Engines,
    containers: Containers,
    emitter: Emitter,
    scans: ScanQueue,
    enforcer: Box<dyn Enforcer>,
    /// Processes seen executing a program inside a container, with what they executed
    /// (kept [`EXITED_KEEP`] after their exit).
    execed: HashMap<u32, Execed>,
    /// When exited processes were last forgotten.
    pruned: std::time::Instant,
    /// When containers that are gone were last looked for.
    swept: std::time::Instant,
    /// Containers whose environment was checked.
    env_reported: HashSet<String>,
    /// What the environment checks report beyond explicit choices.
    environment: environment::Settings,
    /// Rules installed for the whole life of the agent (never removed).
    fixed: Vec<PathRule>,
    /// Containers handed to the enforcer.
    protected: HashSet<String>,
    /// File events of enforced containers waiting for their syscall's result, by thread id.
    awaiting_result: HashMap<u32, AwaitingResult>,
}

/// Findings of a write in an enforced container, written once the syscall's result says
/// whether the read-only protection refused it.
struct AwaitingResult {
    /// Each finding, and whether it is about a path an enforce-mode policy protects.
    findings: Vec<(Finding, bool)>,
    context: EventContext,
    since: std::time::Instant,
}

/// The containers no engine event will remove (described by containerd or by their
/// bundle) that are no longer `alive`.
fn gone_containers<'a>(
    cache: impl Iterator<Item = &'a ContainerInfo>,
    alive: impl Fn(&ContainerInfo) -> bool,
) -> Vec<String> {
    cache
        .filter(|c| matches!(c.source, Source::Containerd | Source::Bundle) && !alive(c))
        .map(|c| c.id.clone())
        .collect()
}

/// Whether a write's return value is the protection refusing it: `EROFS` for writes,
/// `EBUSY` for a rename over or unlink of the bind-mounted file, and `EPERM` when the
/// enforcer's LSM programs refuse (`lsm`).
fn refused_by_protection(ret: i64, lsm: bool) -> bool {
    ret == -i64::from(rustix::io::Errno::ROFS.raw_os_error())
        || ret == -i64::from(rustix::io::Errno::BUSY.raw_os_error())
        || lsm && ret == -i64::from(rustix::io::Errno::PERM.raw_os_error())
}

impl Agent {
    /// Reads every container of the engine. Running ones are inspected (for their pid and
    /// settings); the others are taken from the list, because one of them may be starting,
    /// and the engine answers `inspect` of a container it starts only once it started, which
    /// cguard-runc makes wait for this loop. Their start event brings the rest.
    fn load_all(&mut self, changes: &mut RuleChanges) -> Result<(), ShieldError> {
        for summary in self.engines.docker.list()? {
            if !summary.running {
                self.upsert(summary, None, changes);
                continue;
            }
            match self.engines.docker.inspect(&summary.id) {
                Ok(Some(info)) => {
                    let running = info.running;
                    self.upsert(info, running.then_some(ContainerAction::Start), changes);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, container = summary.short_id(), "cannot inspect a container");
                    self.upsert(summary, None, changes);
                }
            }
        }
        Ok(())
    }

    fn apply(
        &mut self,
        probes: &mut Probes,
        changes: &mut RuleChanges,
        add: &mut impl FnMut(&mut Probes, &PathRule) -> Result<(), ShieldError>,
    ) {
        for rule in changes.add.drain(..) {
            if let Err(e) = add(probes, &rule) {
                tracing::warn!(error = %e, rule = %rule, "cannot install a path rule");
            }
        }
        for rule in changes.remove.drain(..) {
            if !self.fixed.contains(&rule) {
                let _ = probes.remove_path_rule(&rule);
            }
        }
        for cgroup in changes.watch.drain(..) {
            if let Err(e) = probes.watch_cgroup(cgroup) {
                tracing::warn!(error = %e, cgroup, "cannot watch the cgroup of a container in the host's pid namespace");
            }
        }
        for cgroup in changes.unwatch.drain(..) {
            let _ = probes.unwatch_cgroup(cgroup);
            let _ = probes.unwatch_reads(cgroup);
        }
        for rule in changes.add_reads.drain(..) {
            if let Err(e) = probes.add_read_rule(&rule, 0) {
                tracing::warn!(error = %e, rule = %rule, "cannot install a read rule");
            }
        }
        for rule in changes.remove_reads.drain(..) {
            let _ = probes.remove_read_rule(&rule);
        }
        for cgroup in changes.watch_reads.drain(..) {
            if let Err(e) = probes.watch_reads(cgroup) {
                tracing::warn!(error = %e, cgroup, "cannot watch the reads of a container that mounts host files");
            }
        }
    }

    /// Applies an update; a starting container's answer is returned, to be sent once the
    /// kernel state it needs is in place.
    fn update(&mut self, update: Update, changes: &mut RuleChanges) -> Option<(SyncSender<Answer>, Answer)> {
        match update {
            Update::Starting(Starting { request, reply }) => {
                let answer = self.starting(&request, changes);
                return Some((reply, answer));
            }
            Update::Upsert(info, action) => self.upsert(*info, Some(action), changes),
            Update::Died(id) => {
                if self.protected.remove(&id) {
                    self.enforcer.release(&id);
                }
            }
            Update::Removed(id) => {
                changes.merge(self.containers.remove(&id));
                self.env_reported.remove(&id);
                if self.protected.remove(&id) {
                    self.enforcer.release(&id);
                }
            }
            Update::Resync => {
                if let Err(e) = self.load_all(changes) {
                    tracing::warn!(error = %e, "cannot re-read the containers");
                }
            }
        }
        None
    }

    /// A container about to run its first program (`cguard-runc` at `runc start`): it is
    /// attributed and, when an enforce-mode policy applies, protected before the answer.
    /// What it is comes from the cache (the engine's create event), else the [`Engines`]
    /// (the engine's list, not `inspect`: the engine holds a container it starts), with the
    /// bundle `runc state` named.
    fn starting(&mut self, request: &StartRequest, changes: &mut RuleChanges) -> Answer {
        let spec = bundle::read_spec(std::path::Path::new(&request.bundle)).ok();
        if spec.as_ref().is_some_and(bundle::is_sandbox) {
            return Answer { start: true, enforced: false, message: String::new() };
        }
        let mut info = match self.containers.get(&request.id) {
            Some(c) => c.info.clone(),
            None => self.engines.describe(&request.id, request.pid, spec.as_ref()).unwrap_or_else(|| ContainerInfo {
                source: Source::Unknown,
                id: request.id.clone(),
                name: request.id.clone(),
                ..Default::default()
            }),
        };
        if let Some(spec) = &spec
            && info.pid_mode.is_empty()
            && bundle::shares_host_pid(spec)
        {
            info.pid_mode = "host".to_owned();
        }
        info.pid = request.pid;
        info.running = true;
        let id = info.id.clone();
        if self.protected.remove(&id) {
            // A restarted container whose death was not handled yet: protected anew.
            self.enforcer.release(&id);
        }
        changes.merge(self.containers.upsert(info));
        self.check_environment(&id);
        let answer = self.protect_if_enforced(&id);
        if let Some(c) = self.containers.get(&id) {
            tracing::info!(container = c.info.short_id(), image = c.info.image, result = ?answer, "container starting");
        }
        match answer {
            Ok(enforced) => Answer { start: true, enforced, message: String::new() },
            Err(message) => Answer { start: !self.runtime_fail_closed, enforced: false, message },
        }
    }

    /// Caches a container, checks its environment once (at create, or at start for one
    /// created before the agent), and hands it to the enforcer if a policy enforces.
    fn upsert(
        &mut self,
        info: crate::docker::ContainerInfo,
        action: Option<ContainerAction>,
        changes: &mut RuleChanges,
    ) {
        let id = info.id.clone();
        changes.merge(self.containers.upsert(info));
        if action.is_some() {
            self.check_environment(&id);
        }
        let _ = self.protect_if_enforced(&id);
    }

    /// Reports a container's risky settings, once, when they are known (a description
    /// from the engine's list is replaced by its `inspect` at the start event).
    fn check_environment(&mut self, id: &str) {
        let Some(container) = self.containers.get(id).filter(|c| c.info.settings_known()) else { return };
        if self.env_reported.insert(id.to_owned()) {
            let context = base_context(container, Vec::new());
            for env in environment::check(&container.info, &self.environment) {
                self.emitter.emit(finding::environment(&env), &context, false);
            }
        }
    }

    /// Applies new policies while running: the kernel's path rules, each container's
    /// applied policies, and enforcement (a running container's exec allow-list and
    /// read-only files follow its new enforce-mode policies).
    fn set_policies(&mut self, policies: Vec<Policy>, changes: &mut RuleChanges) {
        if policies == self.containers.policies() {
            return;
        }
        let escape = escape_rules();
        let wanted: Vec<PathRule> =
            policy_rules(&policies).into_iter().filter(|r| !escape.contains(r)).collect::<Vec<_>>();
        let old: Vec<PathRule> = std::mem::take(&mut self.fixed).into_iter().filter(|r| !escape.contains(r)).collect();
        for rule in wanted.iter().filter(|r| !old.contains(r)) {
            if !self.containers.uses_rule(rule) {
                changes.add.push(rule.clone());
            }
        }
        for rule in old.iter().filter(|r| !wanted.contains(r)) {
            if !self.containers.uses_rule(rule) {
                changes.remove.push(rule.clone());
            }
        }
        self.fixed = escape.into_iter().chain(wanted).collect();
        tracing::info!(policies = policies.len(), "policies updated");
        self.containers.set_policies(policies);
        // Each protected or newly enforced running container gets its new enforce-mode
        // policies in place (no moment without protection); none: its protection ends.
        let running: Vec<(ContainerInfo, Vec<Policy>)> = self
            .containers
            .iter()
            .filter(|c| c.info.running)
            .map(|c| (c.info.clone(), self.enforced_policies(c)))
            .filter(|(info, enforced)| !enforced.is_empty() || self.protected.contains(&info.id))
            .collect();
        for (info, enforced) in running {
            if let Err(e) = self.enforcer.update(&info, &enforced) {
                tracing::warn!(error = %e, container = info.short_id(), "enforcement could not follow the new policies");
            }
            if enforced.is_empty() {
                self.protected.remove(&info.id);
            } else {
                self.protected.insert(info.id.clone());
            }
        }
    }

    /// The enforce-mode policies that apply to a container.
    fn enforced_policies(&self, container: &Container) -> Vec<Policy> {
        if !container.applied.enforce {
            return Vec::new();
        }
        let names = &container.applied.names;
        self.containers
            .policies()
            .iter()
            .filter(|p| p.mode == Mode::Enforce && names.contains(&p.name))
            .cloned()
            .collect()
    }

    /// Hands a running container to the enforcer once, if an enforce-mode policy applies.
    /// Whether it is protected now; `Err` says what could not be put in place.
    fn protect_if_enforced(&mut self, id: &str) -> Result<bool, String> {
        let Some(container) = self.containers.get(id) else { return Ok(false) };
        if !(container.applied.enforce && container.info.running) {
            return Ok(false);
        }
        if self.protected.contains(id) {
            return Ok(true);
        }
        let info = container.info.clone();
        let mut failed = Vec::new();
        for policy in &self.enforced_policies(container) {
            if let Err(e) = self.enforcer.protect(&info, policy) {
                tracing::warn!(error = %e, container = info.short_id(), "enforcement could not protect the container");
                failed.push(format!("policy {}: {e}", policy.name));
            }
        }
        self.protected.insert(id.to_owned());
        if failed.is_empty() { Ok(true) } else { Err(failed.join("; ")) }
    }

    fn handle(&mut self, event: &Event, changes: &mut RuleChanges) {
        let process = event.process();
        if let Event::Exit { process, .. } = event {
            if let Some(e) = self.execed.get_mut(&process.tgid) {
                e.exited = Some(std::time::Instant::now());
            }
            return;
        }
        if let Event::Result { of: ResultOf::FileWrite, ret, .. } = event
            && let Some(waiting) = self.awaiting_result.remove(&process.pid)
        {
            self.emit_file_findings(waiting.findings, &waiting.context, Some(*ret));
        }
        if matches!(event, Event::Result { .. }) {
            return;
        }
        let Some(container) = self.containers.resolve(process.cgroup_id, process.tgid, &self.engines, changes) else {
            return;
        };
        let container = container.clone();
        if is_runtime_setup(&process.comm.to_string_lossy(), process.tgid, process.ppid, &self.execed)
            && !matches!(event, Event::Exec { .. })
        {
            return;
        }
        match event {
            Event::Exec { .. } => {
                if self.is_runtime_init(event, &container) {
                    return;
                }
                if self.execed.len() >= MAX_EXECED {
                    self.execed.clear();
                }
                self.on_exec(event, &container);
            }
            Event::Syscall { name, syscall, phase, .. } => {
                let refused = match phase {
                    SyscallPhase::Entry => None,
                    SyscallPhase::RefusedBeforeEntry { ret } => Some(*ret),
                };
                if !syscall.is_some_and(|s| HIGH_RISK_SYSCALLS.contains(&s)) {
                    return;
                }
                let context = self.context(&container, process.tgid, None, process.ppid);
                self.emitter.emit(finding::syscall(name, refused), &context, false);
                if *syscall == Some(Syscall::OpenByHandleAt) {
                    self.emitter.emit(finding::shocker(refused), &context, false);
                }
            }
            Event::FileWrite { path, read: true, .. } => self.on_file_read(&container, process, path),
            Event::FileWrite { op, path, path2, matched, completed, .. } => {
                self.on_file_write(&container, process, *op, (path, path2.as_ref()), matched.kind, *completed)
            }
            Event::Exit { .. } | Event::Result { .. } => {}
        }
    }

    fn context(&self, container: &Container, tgid: u32, first: Option<ProcessInfo>, ppid: u32) -> EventContext {
        // A process that already exited is described by the program it executed.
        let first = first.or_else(|| {
            (!std::path::Path::new(&format!("/proc/{tgid}")).exists())
                .then(|| self.execed.get(&tgid).map(|e| e.info.clone()))
                .flatten()
        });
        // The container's processes share its pid namespace; with `--pid=host` they share
        // the host's, and the container's cgroup tells them apart.
        let ns = proctree::pid_namespace(container.info.pid);
        let id = container.info.id.as_str();
        let inside = |pid: u32| {
            if container.info.pid_mode == "host" || ns.is_none() {
                crate::attribution::container_id_of_pid(pid).as_deref() == Some(id)
            } else {
                proctree::pid_namespace(pid) == ns
            }
        };
        // Exec and exit events are handled up to a poll interval late: a parent may have
        // exited by then, its exec event said what it was.
        let exited = |pid: u32| {
            self.execed.get(&pid).filter(|e| e.container == container.info.id).map(|e| (e.info.clone(), e.ppid))
        };
        base_context(container, proctree::process_tree(tgid, first, ppid, &inside, &exited))
    }

    /// Whether an exec is the runtime starting the container's init (see
    /// [`setup::is_runtime_init`]): not the container's program, so not judged, and not
    /// remembered as a container process.
    fn is_runtime_init(&self, event: &Event, container: &Container) -> bool {
        let Event::Exec { process, filename, filename_truncated, argv, args_truncated, .. } = event else {
            return false;
        };
        if *filename_truncated || *args_truncated {
            return false;
        }
        // Cheap tests first: the namespace is read from /proc only for a candidate.
        let argv: Vec<String> = argv.iter().take(3).map(|a| a.to_string_lossy().into_owned()).collect();
        let exec = setup::Exec {
            filename: &filename.to_string_lossy(),
            argv: &argv,
            tgid: process.tgid,
            ppid: process.ppid,
            outside_container: true,
        };
        if !setup::is_runtime_init(&exec, &self.execed) {
            return false;
        }
        let info = &container.info;
        let outside = setup::outside_container(process.mnt_ns, process.tgid, process.ppid, &info.id, info.pid);
        let init = setup::is_runtime_init(&setup::Exec { outside_container: outside, ..exec }, &self.execed);
        if init {
            tracing::debug!(pid = process.tgid, container = container.info.short_id(), "the runtime's init");
        }
        init
    }

    fn on_exec(&mut self, event: &Event, container: &Container) {
        let Event::Exec {
            process,
            filename,
            argv,
            inode,
            device,
            size,
            ctime,
            memfd,
            deleted,
            interpreted,
            exe_name,
            ..
        } = event
        else {
            return;
        };
        let tgid = process.tgid;
        let argv: Vec<String> = argv.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        let raw = filename.to_string_lossy().into_owned();
        // The working directory names relative paths only: most execs have none to read.
        let cwd_cell = std::cell::OnceCell::new();
        let absolute = |p: &str| {
            let cwd = if p.starts_with('/') {
                None
            } else {
                cwd_cell
                    .get_or_init(|| {
                        std::fs::read_link(format!("/proc/{tgid}/cwd")).ok().map(|p| p.to_string_lossy().into_owned())
                    })
                    .as_deref()
            };
            normalise(cwd, p)
        };
        let path = absolute(&raw).unwrap_or_else(|| raw.clone());
        let first = ProcessInfo { pid: i64::from(tgid), exe: path.clone(), argv: argv.clone() };
        let info = ProcessInfo { argv: argv.iter().take(16).cloned().collect(), ..first.clone() };
        let execed = Execed { info, ppid: process.ppid, container: container.info.id.clone(), exited: None };
        self.execed.insert(tgid, execed);
        let roots = [tgid, container.info.pid];
        let mut findings: Vec<Finding> = Vec::new();
        // Whitelist: the path as executed, or the same file under a whitelisted name.
        if !container.applied.exec_allowed(&[path.as_str()]) {
            let file = if *memfd || *deleted { None } else { rootfs::identity(&roots, &path) };
            let alias = file.is_some_and(|id| {
                container
                    .applied
                    .whitelists
                    .iter()
                    .flat_map(|(_, l)| l)
                    .any(|w| rootfs::identity(&roots, w) == Some(id))
            });
            if !alias {
                let names: Vec<String> = container.applied.whitelists.iter().map(|(n, _)| n.clone()).collect();
                findings.push(finding::abnormal_program(&path, &names));
            }
        }
        if let Some(reason) = miner::miner_reason(&path, &argv) {
            findings.push(finding::miner_behaviour(&path, &reason));
        }
        if *memfd || *deleted {
            findings.push(finding::fileless_exec(*memfd, &path, &exe_name.to_string_lossy()));
        }
        // Files to scan: the program, and the script an interpreter was asked to run. A
        // program the kernel mapped with an identity already found clean is not opened.
        let mut files: Vec<(std::fs::File, String)> = Vec::new();
        let mapped: FileKey = (device.st_dev(), *inode, ctime.0, i64::from(ctime.1), *size);
        let known = !*interpreted && !*memfd && !*deleted && self.scans.known_clean_key(&mapped);
        let via_proc = raw.starts_with("/proc/") || raw.starts_with("/dev/fd/") || *memfd || *deleted;
        if !known {
            let program = if via_proc { None } else { rootfs::open_regular(&roots, &path) };
            if let Some(f) = program.or_else(|| rootfs::open_exe(tgid, *inode)) {
                files.push((f, path.clone()));
            }
        }
        let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_owned();
        let interpreter = INTERPRETERS.contains(&base(&path).as_str())
            || INTERPRETERS.contains(
                &base(&exe_name.to_string_lossy()).trim_end_matches(|c: char| c.is_ascii_digit() || c == '.'),
            );
        if interpreter
            && let Some(script) = argv.iter().skip(1).find(|a| !a.starts_with('-'))
            && let Some(script) = absolute(script)
            && let Some(f) = rootfs::open_regular(&roots, &script)
        {
            files.push((f, script));
        }
        // A file whose unchanged content was scanned clean before is not queued again.
        files.retain(|(f, _)| !self.scans.known_clean(f));
        // The process tree is read only when there is something to report or to scan: an
        // allowed exec of a known program costs no more than the checks above.
        if findings.is_empty() && files.is_empty() {
            return;
        }
        let context = self.context(container, tgid, Some(first), process.ppid);
        for f in findings {
            self.emitter.emit(f, &context, false);
        }
        for (file, shown) in files {
            self.scans.submit(ScanJob { file, shown, context: context.clone() });
        }
    }

    /// A read-only open matched in a container that mounts host critical files: reported
    /// when the path reaches one of them.
    fn on_file_read(&mut self, container: &Container, process: &shield_bpf::Process, path: &UserPath) {
        let Some(p) = normalise(None, &path.path.to_string_lossy()) else { return };
        let Some((host, _)) = host_path(&container.info.mounts, &p).filter(|(host, _)| is_host_critical(host)) else {
            return;
        };
        let context = self.context(container, process.tgid, None, process.ppid);
        self.emitter.emit(finding::host_file_access(&p, &host, "read"), &context, false);
    }

    fn on_file_write(
        &mut self,
        container: &Container,
        process: &shield_bpf::Process,
        op: FileOp,
        (path, path2): (&UserPath, Option<&UserPath>),
        kind: MatchKind,
        completed: Option<i64>,
    ) {
        let tgid = process.tgid;
        // Which paths the operation changes: symlink's second path is only its target.
        let mut written = vec![path];
        if matches!(op, FileOp::Rename | FileOp::Link) {
            written.extend(path2);
        }
        let own_pids = own_pids(tgid);
        let enforced = self.enforcer.blocks() && self.protected.contains(&container.info.id);
        // Each finding, and whether it is about a path an enforce-mode policy protects.
        let mut findings: Vec<(Finding, bool)> = Vec::new();
        for user_path in written {
            let raw = user_path.path.to_string_lossy();
            let base = if raw.starts_with('/') {
                None
            } else {
                let link = match user_path.dirfd {
                    Some(fd) => format!("/proc/{tgid}/fd/{fd}"),
                    None => format!("/proc/{tgid}/cwd"),
                };
                std::fs::read_link(link).ok().map(|p| p.to_string_lossy().into_owned())
            };
            let Some(p) = normalise(base.as_deref(), &raw) else {
                tracing::debug!(path = %raw, ?kind, "relative path of a file event could not be resolved");
                continue;
            };
            if let Some(policy) = container.applied.protecting(&p) {
                let protected = enforced && self.enforce_protects(container, &p);
                findings.push((finding::file_modified(&p, op.name(), policy), protected));
            }
            if let Some(kind) = escape_write(&p, &own_pids) {
                findings.push((finding::escape_write(kind, &p), false));
            }
            if let Some((host, _)) = host_path(&container.info.mounts, &p)
                && is_host_critical(&host)
            {
                findings.push((finding::host_file_access(&p, &host, &format!("wrote ({})", op.name())), false));
            }
        }
        findings.dedup_by(|a, b| a.0.kind == b.0.kind && a.0.description == b.0.description);
        if findings.is_empty() {
            return;
        }
        let context = self.context(container, tgid, None, process.ppid);
        if !enforced || completed.is_some() {
            self.emit_file_findings(findings, &context, completed);
        } else {
            // The read-only mount refuses the write in the kernel: its result tells.
            let waiting = AwaitingResult { findings, context, since: std::time::Instant::now() };
            if let Some(old) = self.awaiting_result.insert(process.pid, waiting) {
                self.emit_file_findings(old.findings, &old.context, None);
            }
        }
    }

    /// Whether an enforce-mode policy that applies to the container protects `path`.
    fn enforce_protects(&self, container: &Container, path: &str) -> bool {
        self.containers
            .policies()
            .iter()
            .any(|p| p.mode == Mode::Enforce && container.applied.names.contains(&p.name) && p.protects(path))
    }

    /// Writes a write's findings: blocked when the result is the protection's refusal of
    /// a path an enforce-mode policy protects.
    fn emit_file_findings(&self, findings: Vec<(Finding, bool)>, context: &EventContext, ret: Option<i64>) {
        let lsm = self.enforcer.refuses_writes_with_eperm();
        let refused = ret.is_some_and(|r| refused_by_protection(r, lsm));
        for (mut f, protected) in findings {
            let blocked = protected && refused;
            if blocked {
                f.description.push_str("; refused: the file is read-only in enforce mode");
            }
            self.emitter.emit(f, context, blocked);
        }
    }

    /// Events of enforcement, after each poll: refused execs (which never reach the
    /// kernel's exec tracepoint) and file events whose result did not come within `wait`.
    fn enforcement_events(&mut self, wait: Duration) {
        for denial in self.enforcer.take_denials() {
            self.on_exec_denied(&denial);
        }
        let stale: Vec<u32> =
            self.awaiting_result.iter().filter(|(_, w)| w.since.elapsed() >= wait).map(|(t, _)| *t).collect();
        for tid in stale {
            if let Some(w) = self.awaiting_result.remove(&tid) {
                self.emit_file_findings(w.findings, &w.context, None);
            }
        }
    }

    /// Forgets processes that exited more than [`EXITED_KEEP`] ago (once a second).
    fn forget_exited(&mut self) {
        if self.pruned.elapsed() < EXITED_KEEP {
            return;
        }
        self.pruned = std::time::Instant::now();
        self.execed.retain(|_, e| e.exited.is_none_or(|t| t.elapsed() < EXITED_KEEP));
    }

    /// Forgets the containers of containerd and CRI-O that are gone, which no engine event
    /// says. One is gone when the process the shield knows it by has left it, and its source
    /// says so too: containerd no longer has it, or its bundle was removed with its task.
    fn forget_gone(&mut self, changes: &mut RuleChanges) {
        if self.swept.elapsed() < SWEEP {
            return;
        }
        self.swept = std::time::Instant::now();
        let containerd = &self.engines.containerd;
        let alive = |c: &ContainerInfo| {
            crate::attribution::container_id_of_pid(c.pid).as_deref() == Some(c.id.as_str())
                || match c.source {
                    Source::Containerd => !matches!(containerd.lookup(&c.id), Ok(None)),
                    Source::Bundle => bundle::find_bundle(&c.id).is_some(),
                    Source::Docker | Source::DockerList | Source::Unknown => true,
                }
        };
        let gone = gone_containers(self.containers.iter().map(|c| &c.info), alive);
        for id in gone {
            tracing::info!(container = id, "container gone");
            self.update(Update::Removed(id), changes);
        }
    }

    fn on_exec_denied(&mut self, denial: &ExecDenial) {
        let Some(container) = self.containers.get(&denial.container_id).cloned() else { return };
        let first =
            ProcessInfo { pid: i64::from(denial.pid), exe: denial.path.clone(), argv: vec![denial.path.clone()] };
        let context = self.context(&container, denial.pid, Some(first), 0);
        let names: Vec<String> = container.applied.whitelists.iter().map(|(n, _)| n.clone()).collect();
        let mut f = finding::abnormal_program(&denial.path, &names);
        f.description =
            format!("{}; refused ({})", f.description.replace(" was executed ", " was to be executed "), denial.reason);
        self.emitter.emit(f, &context, true);
    }
}

/// A process seen executing a program in a container, until its exit event.
#[derive(Debug, Clone)]
struct Execed {
    /// The program and (the first 16 of) its arguments.
    info: ProcessInfo,
    ppid: u32,
    container: String,
    /// When its exit event was handled.
    exited: Option<std::time::Instant>,
}

/// The kernel path rules of the policies' protected files.
fn policy_rules(policies: &[Policy]) -> Vec<PathRule> {
    let mut rules: Vec<PathRule> = Vec::new();
    for rule in policies.iter().flat_map(|p| p.file_protection.iter().map(|f| PathRule::parse(f))) {
        if !rules.contains(&rule) {
            rules.push(rule);
        }
    }
    rules
}

fn base_context(container: &Container, process_tree: Vec<ProcessInfo>) -> EventContext {
    EventContext { container: container.reference(), image: container.info.image.clone(), process_tree }
}

/// A process's own pid numbers: on the host and in each pid namespace (`NSpid`).
fn own_pids(tgid: u32) -> Vec<u32> {
    let mut pids = vec![tgid];
    if let Ok(status) = std::fs::read_to_string(format!("/proc/{tgid}/status"))
        && let Some(line) = status.lines().find_map(|l| l.strip_prefix("NSpid:"))
    {
        pids.extend(line.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
    }
    pids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_containers_without_engine_events_and_bundle_are_gone() {
        let info = |id: &str, source| ContainerInfo { id: id.into(), source, ..Default::default() };
        let cache = [
            info("docker-no-bundle", Source::Docker),
            info("listed-no-bundle", Source::DockerList),
            info("unknown-no-bundle", Source::Unknown),
            info("ctrd-alive", Source::Containerd),
            info("ctrd-gone", Source::Containerd),
            info("crio-gone", Source::Bundle),
        ];
        let gone = gone_containers(cache.iter(), |c| c.id.ends_with("alive"));
        assert_eq!(gone, vec!["ctrd-gone", "crio-gone"]);
    }

    #[test]
    fn only_read_only_refusals_block_a_protected_write() {
        assert!(refused_by_protection(-30, false), "EROFS");
        assert!(refused_by_protection(-16, false), "EBUSY: rename over or unlink of the bind mount");
        assert!(!refused_by_protection(-1, false), "EPERM is not the read-only mount");
        assert!(refused_by_protection(-1, true), "EPERM is the LSM programs' refusal");
        assert!(!refused_by_protection(-13, true));
        assert!(!refused_by_protection(0, true));
        assert!(!refused_by_protection(3, false));
    }

    #[test]
    fn the_high_risk_syscalls_are_issue_sixs_list() {
        let names: Vec<&str> = HIGH_RISK_SYSCALLS.iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            [
                "ptrace",
                "setns",
                "unshare",
                "open_by_handle_at",
                "reboot",
                "init_module",
                "finit_module",
                "kexec_load",
                "bpf",
                "mount",
                "keyctl",
                "userfaultfd",
                "process_vm_writev",
                "personality"
            ]
        );
    }
}
