//! Kubernetes for the cguard server.
//!
//! A cluster registered as Kubernetes comes with a kubeconfig. Turning its protection on
//! applies the shield DaemonSet through the cluster's API; turning it off deletes it. This
//! crate holds the three parts of that:
//!
//! - [`Kubeconfig`]: parses a kubeconfig (YAML or JSON) and resolves one context into a
//!   [`Target`] (server URL, CA, credentials). Only self-contained kubeconfigs are accepted:
//!   the server cannot read the user's files or run their credential plugins, so those are
//!   refused with a message that says how to embed them.
//! - [`render`]: the objects of the shield (Namespace, ServiceAccount, Secret, DaemonSet),
//!   built from `deploy/kubernetes/cguard-shield.yaml`, the same file users apply by hand.
//! - [`Cluster`]: a client for one cluster's API server: its version, server-side apply of
//!   objects, and deletion of the shield. The requests are built by pure functions
//!   ([`rest`]) so their shape is tested without an API server.
//!
//! Secrets (tokens, passwords, private keys, the enrolment token) never appear in `Debug`
//! output or in error messages.

mod client;
mod error;
mod kubeconfig;
mod manifest;
pub mod rest;
mod target;

pub use client::{Cluster, REQUEST_TIMEOUT};
pub use error::{K8sError, KubeconfigError};
pub use kubeconfig::{Kubeconfig, MAX_KUBECONFIG_BYTES, MAX_YAML_FLOW_BRACKETS};
pub use manifest::{
    DAEMONSET_NAME, DEFAULT_DOCKER_SOCKET, DEFAULT_NAMESPACE, PLACEHOLDERS, SECRET_NAME, SECRET_TOKEN_KEY,
    SERVICE_ACCOUNT_NAME, SHIELD_MANIFEST, ShieldDeployment, manifest_objects, render,
};
pub use rest::ServerVersion;
pub use target::{Auth, Target};
