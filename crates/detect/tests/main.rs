//! The crate's integration tests, in one binary: one module per area.

mod baseline_accounts;
mod baseline_image;
mod layer_support;
mod malware_archives;
mod malware_image;
mod malware_samples;
mod malware_signatures;
mod malware_support;
mod secrets_bookworm_image;
mod secrets_layers;
mod secrets_rules;
