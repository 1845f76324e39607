//! Connected mode: the shield enrolled with a `cguard server`. It keeps the node's
//! identity in its state directory, heartbeats with the node's facts, fetches the
//! policies when their revision changes (or the node's images do), and delivers the
//! events of the durable [`Spool`] in batches, exactly once: a batch leaves the spool
//! only when the server acknowledged it, and the server stores an event id once.
//!
//! State directory (0700, default `/var/lib/cguard-shield`):
//! - `node.json` (0600): the server URL, node and cluster ids and the node credential;
//! - `policies.json` (0600): the last policies fetched, used when the shield starts while
//!   the server is unreachable;
//! - `spool/`: see [`crate::spool`].

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use api::policy::SecurityPolicy;
use api::shield::{EnrolRequest, EventBatch, Heartbeat};
use serde::{Deserialize, Serialize};

use crate::client::{ClientError, ServerClient};
use crate::engines::Engines;
use crate::local_scan::LocalScanner;
use crate::policy::{Policy, from_server};
use crate::private_file::write_private;
use crate::spool::{Spool, Spooled};

/// The shield's version, reported at enrolment and in heartbeats.
pub const SHIELD_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The default state directory.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/cguard-shield";
/// Events and bytes of one delivery batch (the server takes at most 1,000 events).
pub const BATCH_EVENTS: usize = 500;
pub const BATCH_BYTES: usize = 1 << 20;
/// Longest wait between two delivery attempts while the server is unreachable.
const MAX_BACKOFF: Duration = Duration::from_secs(8);
/// How often the node's image list is looked at for images new to the policies.
const TICK: Duration = Duration::from_secs(1);

/// The node's identity, as the server gave it at enrolment.
#[derive(Clone, Serialize, Deserialize)]
pub struct NodeIdentity {
    pub server: String,
    pub node_id: String,
    pub cluster_id: String,
    pub credential: String,
}

impl std::fmt::Debug for NodeIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeIdentity")
            .field("server", &self.server)
            .field("node_id", &self.node_id)
            .field("cluster_id", &self.cluster_id)
            .finish_non_exhaustive()
    }
}

/// Why connected mode could not start.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(
        "this node is not enrolled with {server}: give the cluster's enrolment token in CGUARD_ENROLMENT_TOKEN \
         (shown when the cluster's protection is turned on)"
    )]
    NotEnrolled { server: String },
    #[error("the enrolment token belongs to cluster {actual}, not {expected}")]
    WrongCluster { expected: String, actual: String },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ConnectError {
    let context = context.into();
    move |source| ConnectError::Io { context, source }
}

/// What connected mode starts with.
#[derive(Debug, Clone)]
pub struct ConnectConfig {
    pub server: String,
    pub state_dir: PathBuf,
    /// The cluster's enrolment token (needed once, to enrol).
    pub enrolment_token: Option<String>,
    /// The cluster the node must join, when given.
    pub cluster: Option<String>,
    pub node_name: String,
}

/// The node's identity: the one saved in the state directory for this server, or obtained
/// by enrolling with the token when there is none, when the server refuses the saved
/// credential, or when it belongs to another cluster than `--cluster`. A token that stays
/// in the environment (a DaemonSet's) therefore enrols once, not at every restart.
pub fn establish(config: &ConnectConfig, facts: serde_json::Value) -> Result<NodeIdentity, ConnectError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&config.state_dir)
        .map_err(io(format!("creating the state directory {}", config.state_dir.display())))?;
    let file = config.state_dir.join("node.json");
    let client = ServerClient::new(&config.server)?;
    let saved: Option<NodeIdentity> = match std::fs::read(&file) {
        Ok(bytes) => match serde_json::from_slice::<NodeIdentity>(&bytes) {
            Ok(id) if id.server == client.base() => Some(id),
            Ok(id) => {
                tracing::warn!(saved = id.server, server = client.base(), "the saved identity is for another server");
                None
            }
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "the saved node identity is unreadable");
                None
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(format!("reading {}", file.display()))(e)),
    };
    let usable = |saved: &NodeIdentity| {
        if config.cluster.as_ref().is_some_and(|c| *c != saved.cluster_id) {
            return false;
        }
        let beat = Heartbeat {
            shield_version: SHIELD_VERSION.to_owned(),
            facts: facts.clone(),
            policy_revision: 0,
            local_images: Vec::new(),
        };
        // Only a refusal of the credential sends the node to enrol again; a server that
        // cannot be reached now says nothing about the credential.
        !matches!(client.clone().with_credential(saved.credential.clone()).heartbeat(&beat), Err(e) if e.is_unauthorised())
    };
    let identity = match (&config.enrolment_token, saved) {
        (None, Some(saved)) => saved,
        (Some(_), Some(saved)) if usable(&saved) => saved,
        (None, None) => return Err(ConnectError::NotEnrolled { server: client.base().to_owned() }),
        (Some(token), saved) => {
            // The saved credential proves that this is the node already enrolled under its
            // name: the server refuses to enrol a taken name without it (or an operator's
            // permission).
            let client = match saved {
                Some(saved) => client.clone().with_credential(saved.credential),
                None => client.clone(),
            };
            let answer = client.enrol(&EnrolRequest {
                token: token.clone(),
                node_name: config.node_name.clone(),
                shield_version: SHIELD_VERSION.to_owned(),
                facts,
            })?;
            let identity = NodeIdentity {
                server: client.base().to_owned(),
                node_id: answer.node_id,
                cluster_id: answer.cluster_id,
                credential: answer.credential,
            };
            let text = serde_json::to_vec_pretty(&identity).map_err(|e| io("encoding node.json")(e.into()))?;
            write_private(&file, &text).map_err(io(format!("writing {}", file.display())))?;
            tracing::info!(node = identity.node_id, cluster = identity.cluster_id, "enrolled");
            identity
        }
    };
    if let Some(expected) = &config.cluster
        && *expected != identity.cluster_id
    {
        return Err(ConnectError::WrongCluster { expected: expected.clone(), actual: identity.cluster_id });
    }
    Ok(identity)
}

/// The policies cached in the state directory, and their revision.
#[derive(Debug, Default, Serialize, Deserialize)]
struct PolicyCache {
    revision: i64,
    policies: Vec<SecurityPolicy>,
}

/// The node's facts for heartbeats: its images (the server sends the policies of these),
/// kernel, and the spool's state.
pub fn node_facts(engines: &Engines, spool: Option<&Spool>) -> serde_json::Value {
    let mut images = engines.docker.image_references().unwrap_or_else(|e| {
        tracing::debug!(error = %e, "cannot list the Docker engine's images");
        Vec::new()
    });
    images.extend(engines.containerd.image_references());
    images.sort_unstable();
    images.dedup();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut facts = serde_json::json!({ "images": images, "kernel": kernel.trim() });
    if let Some(spool) = spool {
        let s = spool.stats();
        facts["spool"] = serde_json::json!({ "pending": s.pending, "bytes": s.bytes, "lost": s.lost });
    }
    facts
}

/// The images of the node's Docker engine, for the catalogue's local images.
fn local_images(engines: &Engines) -> Vec<api::shield::LocalImage> {
    let mut images = engines.docker.local_images().unwrap_or_else(|e| {
        tracing::debug!(error = %e, "cannot list the Docker engine's images");
        Vec::new()
    });
    images.truncate(2000);
    images
}

/// Counters of the background work, for the summary at stop.
#[derive(Debug, Default)]
pub struct Delivery {
    /// Events the server stored for the first time.
    pub accepted: std::sync::atomic::AtomicU64,
    /// Events the server already had (sent again after a lost answer or a restart).
    pub duplicates: std::sync::atomic::AtomicU64,
    /// Events the server refused as invalid (they never will be stored).
    pub refused: std::sync::atomic::AtomicU64,
}

/// The background threads of connected mode.
pub struct Connected {
    stop: Arc<AtomicBool>,
    /// Until when the delivery loop keeps sending once stopping.
    drain_until: Arc<Mutex<Option<Instant>>>,
    threads: Vec<JoinHandle<()>>,
    pub delivery: Arc<Delivery>,
}

/// The policies to start with: fetched now, or the cached ones when the server cannot be
/// reached; also the revision they have.
pub fn initial_policies(client: &ServerClient, engines: &Engines, state_dir: &Path) -> (Vec<Policy>, i64) {
    let cache_file = state_dir.join("policies.json");
    // The server picks the node's policies by the images of its last heartbeat.
    let _ = client.heartbeat(&Heartbeat {
        shield_version: SHIELD_VERSION.to_owned(),
        facts: node_facts(engines, None),
        policy_revision: 0,
        local_images: local_images(engines),
    });
    match client.policies() {
        Ok(p) => {
            save_policies(&cache_file, p.revision, &p.policies);
            (from_server(&p.policies), p.revision)
        }
        Err(e) => {
            let cache: PolicyCache =
                std::fs::read(&cache_file).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default();
            tracing::warn!(
                error = %e,
                cached = cache.policies.len(),
                "cannot fetch the policies; starting with the last ones fetched"
            );
            (from_server(&cache.policies), cache.revision)
        }
    }
}

fn save_policies(file: &Path, revision: i64, policies: &[SecurityPolicy]) {
    let cache = PolicyCache { revision, policies: policies.to_vec() };
    let written = serde_json::to_vec(&cache).map_err(std::io::Error::other).and_then(|b| write_private(file, &b));
    if let Err(e) = written {
        tracing::warn!(file = %file.display(), error = %e, "cannot cache the policies");
    }
}

impl Connected {
    /// Starts heartbeats (with policy updates sent to `policy_tx`) and event delivery.
    pub fn start(
        client: ServerClient,
        engines: Engines,
        spool: Arc<Spool>,
        state_dir: PathBuf,
        revision: i64,
        policy_tx: Sender<Vec<Policy>>,
    ) -> std::io::Result<Connected> {
        let stop = Arc::new(AtomicBool::new(false));
        let drain_until = Arc::new(Mutex::new(None));
        let delivery = Arc::new(Delivery::default());
        let heartbeats = {
            let (client, spool, stop) = (client.clone(), Arc::clone(&spool), Arc::clone(&stop));
            let docker_host = format!("unix://{}", engines.docker.socket().display());
            let scanner = LocalScanner::start(client.clone(), Some(docker_host))?;
            std::thread::Builder::new().name("shield-heartbeat".into()).spawn(move || {
                let cache = state_dir.join("policies.json");
                let beats = Beats {
                    client: &client,
                    engines: &engines,
                    spool: &spool,
                    cache_file: &cache,
                    policy_tx: &policy_tx,
                    scanner: &scanner,
                    stop: &stop,
                };
                heartbeat_loop(&beats, revision);
                scanner.stop();
            })?
        };
        let sender = {
            let (stop, drain_until, delivery) = (Arc::clone(&stop), Arc::clone(&drain_until), Arc::clone(&delivery));
            std::thread::Builder::new()
                .name("shield-delivery".into())
                .spawn(move || deliver_loop(&client, &spool, &stop, &drain_until, &delivery))?
        };
        Ok(Connected { stop, drain_until, threads: vec![heartbeats, sender], delivery })
    }

    /// Stops: events still in the spool are sent for up to `drain` (the rest stay in the
    /// spool for the next start).
    pub fn stop(self, drain: Duration) {
        *self.drain_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now() + drain);
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

/// Sleeps up to `d`, waking early when `stop` is set; returns whether it is set.
fn pause(d: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until {
        if stop.load(Ordering::Relaxed) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
    }
    stop.load(Ordering::Relaxed)
}

/// What the heartbeat loop works with.
struct Beats<'a> {
    client: &'a ServerClient,
    engines: &'a Engines,
    spool: &'a Spool,
    cache_file: &'a Path,
    policy_tx: &'a Sender<Vec<Policy>>,
    /// Scans the node's images the server asks for.
    scanner: &'a LocalScanner,
    stop: &'a AtomicBool,
}

fn heartbeat_loop(beats: &Beats<'_>, mut revision: i64) {
    let Beats { client, engines, spool, cache_file, policy_tx, scanner, stop } = *beats;
    let mut interval = Duration::from_secs(10);
    // `initial_policies` has just sent a heartbeat and fetched the policies.
    let mut last_beat = Some(Instant::now());
    let mut reported_images = Some(node_facts(engines, None)["images"].clone());
    let mut failing = false;
    loop {
        let facts = node_facts(engines, Some(spool));
        let images_changed = reported_images.as_ref() != Some(&facts["images"]);
        if last_beat.is_none_or(|t| t.elapsed() >= interval) || images_changed {
            last_beat = Some(Instant::now());
            let images = facts["images"].clone();
            let beat = Heartbeat {
                shield_version: SHIELD_VERSION.to_owned(),
                facts,
                policy_revision: revision,
                local_images: local_images(engines),
            };
            match client.heartbeat(&beat) {
                Ok(answer) => {
                    if failing {
                        tracing::info!("the server answers heartbeats again");
                        failing = false;
                    }
                    for id in &answer.scan_images {
                        scanner.request(id);
                    }
                    interval = Duration::from_secs(u64::from(answer.interval_seconds.clamp(1, 3600)));
                    if answer.policy_revision != revision || images_changed {
                        match client.policies() {
                            Ok(p) => {
                                save_policies(cache_file, p.revision, &p.policies);
                                revision = p.revision;
                                reported_images = Some(images);
                                if policy_tx.send(from_server(&p.policies)).is_err() {
                                    return;
                                }
                            }
                            Err(e) => tracing::warn!(error = %e, "cannot fetch the policies"),
                        }
                    }
                }
                Err(e) => {
                    if e.is_unauthorised() {
                        tracing::error!(error = %e, "the server refuses this node's credential: enrol it again");
                    } else if !failing {
                        tracing::warn!(error = %e, "heartbeat failed; retrying");
                    }
                    failing = true;
                }
            }
        }
        if pause(TICK, stop) {
            return;
        }
    }
}

fn deliver_loop(
    client: &ServerClient,
    spool: &Spool,
    stop: &AtomicBool,
    drain_until: &Mutex<Option<Instant>>,
    delivery: &Delivery,
) {
    let mut batch: Vec<Spooled> = Vec::new();
    let mut backoff = Duration::from_millis(250);
    let mut failing = false;
    let draining_over = || {
        stop.load(Ordering::Relaxed)
            && drain_until.lock().unwrap_or_else(|p| p.into_inner()).is_none_or(|t| Instant::now() >= t)
    };
    loop {
        if batch.is_empty() {
            batch = match spool.next_batch(BATCH_EVENTS, BATCH_BYTES, Duration::from_millis(200)) {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the event spool");
                    Vec::new()
                }
            };
            if batch.is_empty() {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                continue;
            }
        }
        match send(client, &batch, delivery) {
            Ok(()) => {
                if failing {
                    tracing::info!("the server takes events again");
                    failing = false;
                }
                backoff = Duration::from_millis(250);
                let next = batch.last().map_or(0, |s| s.seq + 1);
                if let Err(e) = spool.ack(next) {
                    tracing::error!(error = %e, "cannot record delivered events; they may be sent again");
                }
                batch.clear();
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, pending = spool.stats().pending, "events cannot be delivered; they stay in the spool");
                    failing = true;
                }
                if draining_over() {
                    return;
                }
                if stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(250));
                } else {
                    pause(backoff, stop);
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
        if draining_over() {
            return;
        }
    }
}

/// Sends one batch. A batch the server refuses as invalid is sent again event by event, so
/// that one bad event does not hold back the others; the events it refuses are counted
/// and left out. Errors are what can succeed later (server down, credential refused).
fn send(client: &ServerClient, batch: &[Spooled], delivery: &Delivery) -> Result<(), ClientError> {
    let events: Vec<_> = batch.iter().map(|s| s.event.clone()).collect();
    match client.ingest(&EventBatch { events }) {
        Ok(r) => {
            delivery.accepted.fetch_add(r.accepted, Ordering::Relaxed);
            delivery.duplicates.fetch_add(r.duplicates, Ordering::Relaxed);
            Ok(())
        }
        Err(e) if e.is_transient() || e.is_unauthorised() || batch.len() == 1 && !is_invalid(&e) => Err(e),
        Err(e) if batch.len() == 1 => {
            delivery.refused.fetch_add(1, Ordering::Relaxed);
            tracing::error!(event = batch[0].event.id, error = %e, "the server refuses an event; it is left out");
            Ok(())
        }
        Err(_) => {
            for one in batch {
                send(client, std::slice::from_ref(one), delivery)?;
            }
            Ok(())
        }
    }
}

fn is_invalid(e: &ClientError) -> bool {
    matches!(e, ClientError::Refused { status: 400 | 413 | 422, .. })
}
