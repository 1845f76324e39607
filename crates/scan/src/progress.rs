//! Progress for long scans on a terminal: counters the scan updates, and a spinner that
//! shows them. Nothing is printed when standard error is not a terminal.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Counters a scan updates as layers stream past.
#[derive(Debug, Default)]
pub struct Counters {
    pub layer: AtomicU64,
    pub layers: AtomicU64,
    pub files: AtomicU64,
}

/// A terminal spinner showing [`Counters`]; stops when dropped.
#[derive(Debug)]
pub struct Spinner {
    bar: indicatif::ProgressBar,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Spinner {
    pub fn start(label: &str, counters: Arc<Counters>) -> Spinner {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {prefix} {msg} [{elapsed}]")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.set_prefix(label.to_owned());
        bar.enable_steady_tick(Duration::from_millis(120));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (b, s) = (bar.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let layers = counters.layers.load(Ordering::Relaxed);
                if layers > 0 {
                    b.set_message(format!(
                        "layer {}/{} · {} files",
                        (counters.layer.load(Ordering::Relaxed) + 1).min(layers),
                        layers,
                        counters.files.load(Ordering::Relaxed)
                    ));
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Spinner { bar, stop, thread: Some(thread) }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.bar.finish_and_clear();
    }
}
