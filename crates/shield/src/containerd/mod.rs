//! containerd's API, for the containers the Docker engine does not know: Kubernetes pods
//! run by containerd's CRI plugin, `nerdctl` and `ctr` containers. A container is looked up
//! by id in each namespace of each containerd socket here; its image, labels (Kubernetes
//! pod and namespace, container name) and OCI spec (mounts, capabilities, seccomp) describe
//! it. The Docker engine's own containers (namespace `moby`) carry no name, image or label
//! in containerd, so they are left to the engine's API.
//!
//! The calls are plain gRPC over the unix socket ([`grpc`]) with messages declared by hand
//! ([`proto`]), made rarely (a container seen for the first time), each on a connection and
//! a small runtime of its own, with a time limit.

pub mod grpc;
pub mod proto;

use std::path::PathBuf;
use std::time::Duration;

use crate::docker::ContainerInfo;
use crate::runtime::bundle;
use proto::{GetContainerRequest, GetContainerResponse, ListNamespacesRequest, ListNamespacesResponse};

/// Where containerd listens: its own default, and the Docker engine's private instance.
pub const DEFAULT_SOCKETS: &[&str] = &["/run/containerd/containerd.sock", "/var/run/docker/containerd/containerd.sock"];
/// The longest one call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// The Docker engine's namespace.
const DOCKER_NAMESPACE: &str = "moby";
/// The type of a container's spec.
const SPEC_TYPE: &str = "types.containerd.io/opencontainers/runtime-spec/1/Spec";

/// A client of the containerd instances of this node.
#[derive(Debug, Clone, Default)]
pub struct ContainerdClient {
    sockets: Vec<PathBuf>,
}

impl ContainerdClient {
    pub fn new(sockets: Vec<PathBuf>) -> ContainerdClient {
        ContainerdClient { sockets }
    }

    /// The sockets that exist on this node.
    pub fn present(&self) -> Vec<&PathBuf> {
        self.sockets.iter().filter(|s| s.exists()).collect()
    }

    /// The references of the images of every containerd here (outside Docker's namespace),
    /// sorted: the images a container of this node can be created from.
    pub fn image_references(&self) -> Vec<String> {
        let present = self.present();
        let Some(runtime) = (!present.is_empty()).then(client_runtime).flatten() else { return Vec::new() };
        let mut out = runtime.block_on(async {
            let mut out = Vec::new();
            for socket in present {
                match images(socket).await {
                    Ok(references) => out.extend(references),
                    Err(e) => tracing::warn!(error = %e, socket = %socket.display(), "cannot list containerd's images"),
                }
            }
            out
        });
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The container `id`, if a containerd here has it (outside Docker's namespace).
    pub fn describe(&self, id: &str) -> Option<ContainerInfo> {
        self.lookup(id).unwrap_or_else(|e| {
            tracing::warn!(error = e, "containerd did not answer");
            None
        })
    }

    /// The container `id`: `Ok(None)` when every containerd here answered that it has no
    /// such container, `Err` when one could not be asked.
    pub fn lookup(&self, id: &str) -> Result<Option<ContainerInfo>, String> {
        let present = self.present();
        if present.is_empty() || !crate::runtime::is_valid_id(id) {
            return Ok(None);
        }
        let runtime = client_runtime().ok_or("cannot start the containerd client")?;
        runtime.block_on(async {
            let mut failed = None;
            for socket in present {
                match find(socket, id).await {
                    Ok(Some(container)) => return Ok(Some(container_info(&container))),
                    Ok(None) => {}
                    Err(e) => failed = Some(format!("{}: {e}", socket.display())),
                }
            }
            failed.map_or(Ok(None), Err)
        })
    }
}

async fn find(socket: &std::path::Path, id: &str) -> Result<Option<proto::Container>, grpc::GrpcError> {
    for namespace in namespaces(socket).await? {
        let request = GetContainerRequest { id: id.to_owned() };
        let answer =
            grpc::unary::<_, GetContainerResponse>(socket, proto::GET_CONTAINER, &namespace, &request, CALL_TIMEOUT)
                .await;
        match answer {
            Ok(answer) => return Ok(answer.container),
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

/// The references of containerd's images: each image's name and `repository@digest`.
pub fn references(images: &[proto::Image]) -> Vec<String> {
    let mut out = Vec::new();
    for image in images {
        // Names of images pulled by digest only are `repo@sha256:…` already.
        if image.name.is_empty() || image.name.len() > 512 || image.name.starts_with("sha256:") {
            continue;
        }
        out.push(image.name.clone());
        if let Some(digest) = image.target.as_ref().map(|t| &t.digest).filter(|d| d.starts_with("sha256:"))
            && !image.name.contains('@')
        {
            let repository = match image.name.rsplit_once(':') {
                Some((repository, tag)) if !tag.contains('/') => repository,
                _ => image.name.as_str(),
            };
            out.push(format!("{repository}@{digest}"));
        }
    }
    out
}

/// A small runtime for one batch of calls.
fn client_runtime() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .inspect_err(|e| tracing::warn!(error = %e, "cannot start the containerd client"))
        .ok()
}

/// The namespaces of a containerd, but the Docker engine's.
async fn namespaces(socket: &std::path::Path) -> Result<Vec<String>, grpc::GrpcError> {
    let request = ListNamespacesRequest { filter: String::new() };
    let answer: ListNamespacesResponse =
        grpc::unary(socket, proto::LIST_NAMESPACES, "", &request, CALL_TIMEOUT).await?;
    Ok(answer.namespaces.into_iter().map(|n| n.name).filter(|n| n != DOCKER_NAMESPACE).collect())
}

async fn images(socket: &std::path::Path) -> Result<Vec<String>, grpc::GrpcError> {
    let mut out = Vec::new();
    for namespace in namespaces(socket).await? {
        let request = proto::ListImagesRequest::default();
        let answer: proto::ListImagesResponse =
            grpc::unary(socket, proto::LIST_IMAGES, &namespace, &request, CALL_TIMEOUT).await?;
        out.extend(references(&answer.images));
    }
    Ok(out)
}

fn label<'a>(container: &'a proto::Container, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| container.labels.get(*n)).map(String::as_str).filter(|v| !v.is_empty() && v.len() <= 253)
}

/// What a containerd container says of itself: its spec (mounts, capabilities, seccomp,
/// CRI annotations), then its image and labels, which take precedence. Not running
/// according to the result (`pid` 0): the caller knows its pid.
pub fn container_info(container: &proto::Container) -> ContainerInfo {
    let spec = container
        .spec
        .as_ref()
        .filter(|any| any.type_url == SPEC_TYPE)
        .and_then(|any| serde_json::from_slice::<serde_json::Value>(&any.value).ok())
        .unwrap_or_default();
    let mut info = bundle::container_info(&container.id, &spec);
    info.source = crate::docker::Source::Containerd;
    if let Some(name) = label(container, &["io.kubernetes.container.name", "nerdctl/name"]) {
        info.name = name.to_owned();
    }
    if !container.image.is_empty() {
        info.image = container.image.clone();
    }
    if let Some(pod) = label(container, &["io.kubernetes.pod.name"]) {
        info.pod = Some(pod.to_owned());
    }
    if let Some(namespace) = label(container, &["io.kubernetes.pod.namespace"]) {
        info.namespace = Some(namespace.to_owned());
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_image_describe_a_container_and_its_spec_the_rest() {
        let spec = serde_json::json!({
            "process": {"noNewPrivileges": true, "capabilities": {"bounding": ["CAP_CHOWN"]}},
            "mounts": [{"destination": "/host", "type": "bind", "source": "/", "options": ["rbind", "ro"]}],
            "linux": {"namespaces": [{"type": "pid"}], "seccomp": {"defaultAction": "SCMP_ACT_ERRNO"}}
        });
        let container = proto::Container {
            id: "e".repeat(64),
            labels: [
                ("io.kubernetes.container.name", "app"),
                ("io.kubernetes.pod.name", "web-0"),
                ("io.kubernetes.pod.namespace", "shop"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            image: "docker.io/library/nginx:1.25".into(),
            runtime: None,
            spec: Some(proto::Any { type_url: SPEC_TYPE.into(), value: serde_json::to_vec(&spec).unwrap() }),
        };
        let info = container_info(&container);
        assert_eq!((info.name.as_str(), info.image.as_str()), ("app", "docker.io/library/nginx:1.25"));
        assert_eq!((info.pod.as_deref(), info.namespace.as_deref()), (Some("web-0"), Some("shop")));
        assert_eq!((info.mounts.len(), info.mounts[0].source.as_str()), (1, "/"));
        assert_eq!(info.security_opt, vec!["no-new-privileges"]);
        assert_eq!(info.pid, 0);
        // A spec of another type, or not JSON, is not read.
        let odd = proto::Container {
            spec: Some(proto::Any { type_url: "x".into(), value: b"{}".to_vec() }),
            labels: Default::default(),
            ..container
        };
        let info = container_info(&odd);
        assert_eq!((info.name.as_str(), info.mounts.len()), ("eeeeeeeeeeee", 0));
    }

    #[test]
    fn image_names_and_digests_are_references() {
        let image = |name: &str, digest: &str| proto::Image {
            name: name.into(),
            labels: Default::default(),
            target: Some(proto::Descriptor { media_type: String::new(), digest: digest.into(), size: 0 }),
        };
        let digest = format!("sha256:{}", "d".repeat(64));
        let images = [
            image("docker.io/library/nginx:1.25", &digest),
            image("registry.local:5000/shop/web", &digest),
            image(&format!("docker.io/library/redis@{digest}"), &digest),
            image("sha256:abc", &digest),
            image("", &digest),
            image("quay.io/x/y:2", "md5:nope"),
        ];
        assert_eq!(
            references(&images),
            vec![
                "docker.io/library/nginx:1.25".to_owned(),
                format!("docker.io/library/nginx@{digest}"),
                "registry.local:5000/shop/web".to_owned(),
                format!("registry.local:5000/shop/web@{digest}"),
                format!("docker.io/library/redis@{digest}"),
                "quay.io/x/y:2".to_owned(),
            ]
        );
    }

    #[test]
    fn no_socket_describes_nothing() {
        let client = ContainerdClient::new(vec![PathBuf::from("/nonexistent/containerd.sock")]);
        assert!(client.present().is_empty());
        assert_eq!(client.describe(&"a".repeat(64)), None);
    }
}
