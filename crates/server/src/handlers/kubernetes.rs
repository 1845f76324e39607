//! Kubernetes clusters (SPEC 1.3): the kubeconfig, checked at registration and sealed at
//! rest (never returned by the API), and the shield's DaemonSet, applied through the
//! cluster's API when protection is turned on and deleted when it is turned off
//! (crate `k8s`; the objects are `deploy/kubernetes/cguard-shield.yaml`).

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// What is sealed: the kubeconfig as given and the context chosen.
#[derive(Serialize, Deserialize)]
struct Sealed {
    kubeconfig: String,
    context: Option<String>,
}

fn purpose(cluster_id: &str) -> String {
    format!("cluster-kubeconfig:{cluster_id}")
}

/// Checks a kubeconfig for a new cluster (it parses, names a usable context, and a
/// client can be built from it) and seals it. Returns the sealed value and the API
/// server's URL.
pub fn seal_kubeconfig(
    st: &AppState,
    cluster_id: &str,
    kubeconfig: &str,
    context: Option<&str>,
) -> ApiResult<(String, String)> {
    let invalid = |e: &dyn std::fmt::Display| ApiError::invalid("kubeconfig", e.to_string());
    let config = k8s::Kubeconfig::parse(kubeconfig).map_err(|e| invalid(&e))?;
    let target = config.target(context).map_err(|e| invalid(&e))?;
    k8s::Cluster::connect(&target).map_err(|e| invalid(&e))?;
    let sealed = Sealed { kubeconfig: kubeconfig.to_owned(), context: context.map(str::to_owned) };
    let text = serde_json::to_vec(&sealed).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((st.secrets.seal(&purpose(cluster_id), &text), target.server))
}

/// A client of the cluster's API server, from its sealed kubeconfig.
fn cluster_api(st: &AppState, c: &store::ClusterRow) -> ApiResult<k8s::Cluster> {
    let sealed = c
        .kubeconfig_sealed
        .as_deref()
        .ok_or_else(|| ApiError::Internal(format!("Kubernetes cluster {} has no kubeconfig", c.id)))?;
    let text = st.secrets.open(&purpose(&c.id), sealed).map_err(|e| ApiError::Internal(e.to_string()))?;
    let sealed: Sealed = serde_json::from_slice(&text).map_err(|e| ApiError::Internal(e.to_string()))?;
    let config = k8s::Kubeconfig::parse(&sealed.kubeconfig).map_err(|e| ApiError::Internal(e.to_string()))?;
    let target = config.target(sealed.context.as_deref()).map_err(|e| ApiError::Internal(e.to_string()))?;
    k8s::Cluster::connect(&target).map_err(upstream)
}

fn upstream(e: k8s::K8sError) -> ApiError {
    ApiError::Upstream(format!("the cluster's Kubernetes API: {e}"))
}

/// Applies the shield's objects (namespace, service account, the enrolment token's secret,
/// the DaemonSet) to the cluster.
pub async fn deploy_shield(st: &AppState, c: &store::ClusterRow, enrolment_token: &str) -> ApiResult<()> {
    let api = cluster_api(st, c)?;
    let deployment = k8s::ShieldDeployment::new(&st.config.shield_image, &st.config.public_url, &c.id, enrolment_token);
    api.apply(&k8s::render(&deployment)).await.map_err(upstream)?;
    tracing::info!(cluster = c.id, server = api.server(), "shield DaemonSet applied");
    Ok(())
}

/// Deletes the shield's DaemonSet, secret and service account from the cluster.
pub async fn remove_shield(st: &AppState, c: &store::ClusterRow) -> ApiResult<()> {
    let api = cluster_api(st, c)?;
    api.delete_shield(k8s::DEFAULT_NAMESPACE).await.map_err(upstream)?;
    tracing::info!(cluster = c.id, server = api.server(), "shield DaemonSet deleted");
    Ok(())
}
