//! The crate's integration tests, in one binary: one module per area.

mod common;
mod detect_image;
mod inventory_peers;
mod scan_formats;
mod scan_sources;
mod server_process;
mod shield_containerd;
mod shield_delivery;
mod shield_enforce;
mod shield_runtime;
mod shield_runtime_init;
mod shield_scenarios;
mod vuln_alpine;
mod vuln_debian;
mod vuln_osv;
mod worker_process;
