//! Scanning the node's own images when the server asks: one at a time, at low CPU
//! priority, with the node's engine (the image is read from the engine, never pulled),
//! and the report (without vulnerabilities: the server matches them) uploaded to the
//! server. An image whose scan or upload failed is tried again after a while, when the
//! server still asks for it.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::client::ServerClient;

/// Scan requests waiting at most; more are dropped (the server asks again).
const QUEUE: usize = 8;
/// An image whose scan failed is tried again after this long.
const RETRY_AFTER: Duration = Duration::from_secs(600);
/// An image scanned and uploaded is scanned again only when the server still asks after
/// this long: the server asks once more when a user wants a new scan, while a heartbeat
/// answered just before the upload arrived must not start a second scan.
const RESCAN_AFTER: Duration = Duration::from_secs(30);

/// The scanner thread and the way to ask it for scans.
pub struct LocalScanner {
    requests: SyncSender<String>,
    thread: JoinHandle<()>,
}

impl LocalScanner {
    pub fn start(client: ServerClient, docker_host: Option<String>) -> std::io::Result<LocalScanner> {
        let (requests, rx) = std::sync::mpsc::sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("shield-image-scan".into())
            .spawn(move || run(&client, docker_host, &rx))?;
        Ok(LocalScanner { requests, thread })
    }

    /// Asks for a scan of the engine's image `id`; false when the queue is full.
    pub fn request(&self, id: &str) -> bool {
        match self.requests.try_send(id.to_owned()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => false,
        }
    }

    /// Stops after the scan in progress.
    pub fn stop(self) {
        drop(self.requests);
        let _ = self.thread.join();
    }
}

fn run(client: &ServerClient, docker_host: Option<String>, requests: &Receiver<String>) {
    // Below the agent's own work and the containers'.
    if let Err(e) = rustix::process::setpriority_process(None, 10) {
        tracing::debug!(error = %e, "cannot lower the image scanner's priority");
    }
    let mut engine = None;
    // When each image was last scanned or tried: the server asks at every heartbeat until
    // the upload arrives.
    let mut tried: HashMap<String, (Instant, bool)> = HashMap::new();
    while let Ok(id) = requests.recv() {
        match tried.get(&id) {
            Some((at, true)) if at.elapsed() < RESCAN_AFTER => continue,
            Some((at, false)) if at.elapsed() < RETRY_AFTER => continue,
            _ => {}
        }
        if engine.is_none() {
            match detect::malware::Engine::new(detect::malware::Config::default()) {
                Ok(e) => engine = Some(e),
                Err(e) => tracing::warn!(error = %e, "cannot load the malware rules; scanning without them"),
            }
        }
        let options = ::scan::Options {
            open: image::source::OpenOptions { docker_host: docker_host.clone(), ..Default::default() },
            malware: engine.clone(),
            secrets: true,
            baseline: true,
            ..Default::default()
        };
        let started = std::time::Instant::now();
        let outcome = ::scan::scan(&format!("docker:{id}"), &options)
            .map_err(|e| e.to_string())
            .and_then(|mut report| {
                report.vulnerabilities = None;
                ::scan::packed::pack(&report)
            })
            .and_then(|packed| {
                client
                    .upload_scan(&api::shield::LocalScan { image_id: id.clone(), report: packed })
                    .map_err(|e| e.to_string())
            });
        match outcome {
            Ok(kept) => {
                tracing::info!(image = %id, digest = %kept.digest, seconds = started.elapsed().as_secs_f64(),
                    "local image scanned and uploaded");
                tried.insert(id, (Instant::now(), true));
            }
            Err(e) => {
                tracing::warn!(image = %id, error = %e, "local image scan failed");
                tried.insert(id, (Instant::now(), false));
            }
        }
    }
}
