//! The image configuration (OCI image config / Docker image JSON): what the image runs
//! as, its environment, labels, health check and build history.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The parts of an image config cguard uses. Unknown fields are ignored; every field is
/// optional because hand-made and old images omit most of them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: Option<String>,
    #[serde(default)]
    pub os: Option<String>,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub config: Option<RunConfig>,
    #[serde(default)]
    pub rootfs: Option<RootFs>,
    #[serde(default)]
    pub history: Vec<History>,
}

/// `config` of the image config: how containers from the image start.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RunConfig {
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    #[serde(default)]
    pub working_dir: Option<String>,
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    pub healthcheck: Option<HealthCheck>,
    #[serde(default)]
    pub stop_signal: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthCheck {
    #[serde(default)]
    pub test: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub diff_ids: Vec<String>,
}

/// One build step. Steps with `empty_layer` made no layer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub empty_layer: Option<bool>,
}

impl ImageConfig {
    /// Parses a config blob; a malformed one is an error, unknown fields are not.
    pub fn parse(bytes: &[u8]) -> Result<Self, crate::Error> {
        serde_json::from_slice(bytes).map_err(|e| crate::Error::Format(format!("image config: {e}")))
    }

    /// `rootfs.diff_ids`, empty when the config names none.
    pub fn diff_ids(&self) -> &[String] {
        self.rootfs.as_ref().map(|r| r.diff_ids.as_slice()).unwrap_or(&[])
    }

    /// The build step that made each layer, in layer order (history entries with
    /// `empty_layer` are skipped). Shorter than the layer list when history is incomplete.
    pub fn layer_history(&self) -> Vec<&History> {
        self.history.iter().filter(|h| !h.empty_layer.unwrap_or(false)).collect()
    }

    /// The platform as `os/arch[/variant]`.
    pub fn platform(&self) -> String {
        let mut p = format!(
            "{}/{}",
            self.os.as_deref().unwrap_or("unknown"),
            self.architecture.as_deref().unwrap_or("unknown")
        );
        if let Some(v) = &self.variant {
            p.push('/');
            p.push_str(v);
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_config_with_history() {
        let json = br#"{"architecture":"amd64","os":"linux","config":{"User":"app","Env":["PATH=/bin"],
            "Healthcheck":{"Test":["CMD","true"]},"Labels":{"a":"b"}},
            "rootfs":{"type":"layers","diff_ids":["sha256:aa","sha256:bb"]},
            "history":[{"created_by":"ADD x /"},{"created_by":"ENV a=b","empty_layer":true},{"created_by":"RUN y"}],
            "unknown":1}"#;
        let c = ImageConfig::parse(json).unwrap();
        assert_eq!(c.platform(), "linux/amd64");
        assert_eq!(c.diff_ids().len(), 2);
        let steps: Vec<_> = c.layer_history().iter().map(|h| h.created_by.clone().unwrap()).collect();
        assert_eq!(steps, ["ADD x /", "RUN y"]);
        assert_eq!(c.config.unwrap().user.as_deref(), Some("app"));
    }

    #[test]
    fn malformed_config_is_an_error() {
        assert!(ImageConfig::parse(b"{\"history\": 3}").is_err());
        assert!(ImageConfig::parse(b"not json").is_err());
    }
}
