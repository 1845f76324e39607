//! The crate's integration tests, in one binary: one module per area. None needs a
//! Kubernetes API server: requests are checked for their shape, and the client against a
//! closed port, a listener that closes, a plain-text listener and `openssl s_server`.

mod chart;
mod client;
mod common;
mod kubeconfig_invalid;
mod kubeconfig_properties;
mod kubeconfig_valid;
mod manifest;
mod rest;
