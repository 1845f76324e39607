//! Who describes a container: the Docker engine (its container list, which answers even
//! while the engine starts the container), else containerd's API (Kubernetes and other
//! containerd clients), else the container's OCI bundle on disk (CRI-O, or a containerd
//! the shield cannot reach).

use crate::containerd::ContainerdClient;
use serde_json::Value;

use crate::docker::{ContainerInfo, DockerClient};
use crate::runtime::bundle;

/// The sources of container descriptions on this node.
#[derive(Debug, Clone)]
pub struct Engines {
    pub docker: DockerClient,
    pub containerd: ContainerdClient,
}

impl Engines {
    /// The running container `id`, one of whose processes is `pid`; `None` when no source
    /// knows it. `spec` is its OCI spec when the caller has it; otherwise its bundle is
    /// looked for.
    pub fn describe(&self, id: &str, pid: u32, spec: Option<&Value>) -> Option<ContainerInfo> {
        let mut info = match self.docker.summary(id) {
            Ok(Some(info)) => Some(info),
            Ok(None) => None,
            Err(e) => {
                tracing::debug!(error = %e, container = id, "the Docker engine does not describe a container");
                None
            }
        }
        .or_else(|| self.containerd.describe(id))
        .or_else(|| match spec {
            Some(spec) => Some(bundle::container_info(id, spec)),
            None => from_bundle(id),
        })?;
        info.pid = pid;
        info.running = true;
        Some(info)
    }
}

/// A container known only by its runtime's OCI bundle.
fn from_bundle(id: &str) -> Option<ContainerInfo> {
    let bundle = bundle::find_bundle(id)?;
    let spec = bundle::read_spec(&bundle)
        .inspect_err(|e| tracing::warn!(error = %e, bundle = %bundle.display(), "unreadable OCI bundle"))
        .ok()?;
    Some(bundle::container_info(id, &spec))
}
