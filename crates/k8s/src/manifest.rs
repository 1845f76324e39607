//! The shield's Kubernetes objects, from `deploy/kubernetes/cguard-shield.yaml`.
//!
//! The file users apply by hand (after `envsubst`) is the one the server renders: it is
//! embedded here, parsed, and its placeholders are replaced in the parsed values, never in
//! the text, so a value cannot add YAML structure, whatever it holds.

use std::fmt;

use base64::Engine as _;
use serde_json::{Map, Value};

/// The manifest, as shipped in `deploy/kubernetes/cguard-shield.yaml`.
pub const SHIELD_MANIFEST: &str = include_str!("../../../deploy/kubernetes/cguard-shield.yaml");

/// The placeholders of the manifest, each a whole string value.
pub const PLACEHOLDERS: [&str; 4] =
    ["${CGUARD_IMAGE}", "${CGUARD_SERVER}", "${CGUARD_CLUSTER}", "${CGUARD_ENROLMENT_TOKEN}"];

/// The namespace the manifest uses; [`ShieldDeployment::namespace`] replaces it.
pub const DEFAULT_NAMESPACE: &str = "cguard-system";
/// The Docker Engine socket's host path in the manifest (the `docker-socket` volume).
pub const DEFAULT_DOCKER_SOCKET: &str = "/var/run/docker.sock";
/// The DaemonSet's name.
pub const DAEMONSET_NAME: &str = "cguard-shield";
/// The ServiceAccount's name.
pub const SERVICE_ACCOUNT_NAME: &str = "cguard-shield";
/// The Secret holding the enrolment token.
pub const SECRET_NAME: &str = "cguard-shield-enrolment";
/// The key of the enrolment token in [`SECRET_NAME`].
pub const SECRET_TOKEN_KEY: &str = "enrolment-token";

/// The volume whose host path is the Docker socket.
const DOCKER_SOCKET_VOLUME: &str = "docker-socket";

/// What differs between two deployments of the shield.
#[derive(Clone, PartialEq, Eq)]
pub struct ShieldDeployment {
    /// Where the objects go (the Namespace object is this one).
    pub namespace: String,
    /// The image holding the `cguard` binary.
    pub image: String,
    /// The server URL the nodes reach (`--server`).
    pub server_url: String,
    /// The cluster's id in the server (`--cluster`).
    pub cluster_id: String,
    /// The enrolment token, stored in the Secret.
    pub enrolment_token: String,
    /// The Docker Engine socket's path on the nodes.
    pub docker_socket: String,
}

impl ShieldDeployment {
    /// A deployment in [`DEFAULT_NAMESPACE`] with the Docker socket at [`DEFAULT_DOCKER_SOCKET`].
    pub fn new(image: &str, server_url: &str, cluster_id: &str, enrolment_token: &str) -> ShieldDeployment {
        ShieldDeployment {
            namespace: DEFAULT_NAMESPACE.to_owned(),
            image: image.to_owned(),
            server_url: server_url.to_owned(),
            cluster_id: cluster_id.to_owned(),
            enrolment_token: enrolment_token.to_owned(),
            docker_socket: DEFAULT_DOCKER_SOCKET.to_owned(),
        }
    }

    fn replacement(&self, placeholder: &str) -> Option<&str> {
        Some(match placeholder {
            "${CGUARD_IMAGE}" => &self.image,
            "${CGUARD_SERVER}" => &self.server_url,
            "${CGUARD_CLUSTER}" => &self.cluster_id,
            "${CGUARD_ENROLMENT_TOKEN}" => &self.enrolment_token,
            _ => return None,
        })
    }
}

impl fmt::Debug for ShieldDeployment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShieldDeployment")
            .field("namespace", &self.namespace)
            .field("image", &self.image)
            .field("server_url", &self.server_url)
            .field("cluster_id", &self.cluster_id)
            .field("enrolment_token", &"<redacted>")
            .field("docker_socket", &self.docker_socket)
            .finish()
    }
}

/// The manifest's objects as written, placeholders included, in the file's order.
pub fn manifest_objects() -> Vec<Value> {
    parse_documents(SHIELD_MANIFEST).expect("the embedded manifest is valid YAML (checked by the tests)")
}

/// Parses a multi-document YAML text into JSON values, skipping empty documents.
fn parse_documents(text: &str) -> Result<Vec<Value>, serde_yaml::Error> {
    let mut objects = Vec::new();
    for document in serde_yaml::Deserializer::from_str(text) {
        let value: Value = serde::Deserialize::deserialize(document)?;
        if !value.is_null() {
            objects.push(value);
        }
    }
    Ok(objects)
}

/// The objects to apply for `deployment`, in order: Namespace, ServiceAccount, Secret,
/// DaemonSet. From the manifest, with:
/// - the placeholders replaced by the deployment's values (in env values, `$` is doubled:
///   Kubernetes expands `$(VAR)` there, and a value must stay literal);
/// - every `metadata.namespace`, and the Namespace's name, set to `deployment.namespace`;
/// - the `docker-socket` volume's host path set to `deployment.docker_socket`;
/// - the Secret's `stringData` moved to `data`, base64-encoded: `stringData` does not work
///   well with server-side apply (the API server stores `data`; the applied field set would
///   never match what is stored).
pub fn render(deployment: &ShieldDeployment) -> Vec<Value> {
    let mut objects = manifest_objects();
    for object in &mut objects {
        substitute(object, deployment, false);
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or_default().to_owned();
        if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            if kind == "Namespace" {
                metadata.insert("name".into(), Value::String(deployment.namespace.clone()));
            } else if metadata.contains_key("namespace") {
                metadata.insert("namespace".into(), Value::String(deployment.namespace.clone()));
            }
        }
        match kind.as_str() {
            "Secret" => move_string_data(object),
            "DaemonSet" => set_docker_socket(object, &deployment.docker_socket),
            _ => {}
        }
    }
    objects
}

/// Replaces placeholders in every string of `value`. `env_value` is true for the `value`
/// of a container's `env` entry.
fn substitute(value: &mut Value, deployment: &ShieldDeployment, env_value: bool) {
    match value {
        Value::String(text) => {
            if let Some(replacement) = deployment.replacement(text) {
                *text = if env_value { replacement.replace('$', "$$") } else { replacement.to_owned() };
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| substitute(item, deployment, false)),
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                if key == "env"
                    && let Value::Array(entries) = child
                {
                    for entry in entries.iter_mut() {
                        substitute_env_entry(entry, deployment);
                    }
                } else {
                    substitute(child, deployment, false);
                }
            }
        }
        _ => {}
    }
}

fn substitute_env_entry(entry: &mut Value, deployment: &ShieldDeployment) {
    match entry {
        Value::Object(fields) => {
            for (key, child) in fields.iter_mut() {
                substitute(child, deployment, key == "value");
            }
        }
        other => substitute(other, deployment, false),
    }
}

fn move_string_data(secret: &mut Value) {
    let Some(object) = secret.as_object_mut() else { return };
    let Some(Value::Object(strings)) = object.remove("stringData") else { return };
    let data = object.entry("data").or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(data) = data {
        for (key, value) in strings {
            let text = value.as_str().unwrap_or_default();
            data.insert(key, Value::String(base64::engine::general_purpose::STANDARD.encode(text)));
        }
    }
}

fn set_docker_socket(daemonset: &mut Value, path: &str) {
    let volumes = daemonset.pointer_mut("/spec/template/spec/volumes").and_then(Value::as_array_mut);
    for volume in volumes.into_iter().flatten() {
        if volume.get("name").and_then(Value::as_str) == Some(DOCKER_SOCKET_VOLUME)
            && let Some(host_path) = volume.pointer_mut("/hostPath").and_then(Value::as_object_mut)
        {
            host_path.insert("path".into(), Value::String(path.to_owned()));
        }
    }
}
