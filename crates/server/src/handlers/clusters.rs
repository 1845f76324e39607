//! Clusters and their nodes (SPEC 1.3, 6). A cluster of plain hosts is protected by
//! enrolling each host's shield with the cluster's enrolment token.

use api::protection::{Cluster, ClusterCreate, Node, ProtectionOpen, ProtectionResult};
use api::{Page, PageQuery};
use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;

use super::{Json, Path, Query, new_id, not_found, page, page_of, user_of};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::timefmt::{DAY_MS, now_ms, rfc3339};

/// Everything about the nodes that the lists show, computed from heartbeats and quotas.
pub struct NodeView {
    pub online_after: i64,
    /// The last node (in enrolment order) that a normal quota covers.
    pub last_covered: Option<(i64, String)>,
}

impl NodeView {
    pub async fn new(st: &AppState) -> ApiResult<NodeView> {
        let online_after = now_ms() - i64::from(st.config.heartbeat_timeout_seconds) * 1000;
        let normal_quotas = super::quotas::count_state(st, "normal").await?;
        let last_covered = match normal_quotas {
            0 => None,
            n => st.store.node_at(n - 1).await?,
        };
        let last_covered = last_covered.or_else(|| (normal_quotas > 0).then(|| (i64::MAX, String::new())));
        Ok(NodeView { online_after, last_covered })
    }

    fn online(&self, n: &store::NodeRow) -> bool {
        n.last_heartbeat.is_some_and(|t| t >= self.online_after)
    }

    /// Nodes are covered by normal quotas in enrolment order; the rest are on demand.
    pub fn to_api(&self, n: &store::NodeRow) -> Node {
        let online = self.online(n);
        Node {
            id: n.id.clone(),
            cluster_id: n.cluster_id.clone(),
            name: n.name.clone(),
            state: if online { "running" } else { "unavailable" }.into(),
            shield_state: match n.last_heartbeat {
                None => "unregistered",
                Some(_) if online => "online",
                Some(_) => "offline",
            }
            .into(),
            shield_version: Some(n.shield_version.clone()).filter(|v| !v.is_empty()),
            billing: match &self.last_covered {
                Some((at, id)) if (n.enrolled_at, &n.id) <= (*at, id) => "normal",
                _ => "on-demand",
            }
            .into(),
            last_heartbeat: n.last_heartbeat.map(rfc3339),
            facts: serde_json::from_str(&n.facts).unwrap_or_default(),
            enrolment_token_id: n.enrolment_token_id.clone(),
        }
    }
}

async fn all_nodes_of(st: &AppState, cluster_id: Option<&str>) -> ApiResult<Vec<store::NodeRow>> {
    super::every(Some("enrolled_at"), |p| async move { st.store.list_nodes(cluster_id, &p).await }).await
}

async fn to_api(st: &AppState, c: &store::ClusterRow, view: &NodeView) -> ApiResult<Cluster> {
    let (total, online) = st.store.node_counts(&c.id, view.online_after).await?;
    Ok(Cluster {
        id: c.id.clone(),
        name: c.name.clone(),
        kind: c.kind.clone(),
        protection: if c.protection { "on" } else { "off" }.into(),
        node_total: total,
        nodes_available: online,
        shields_online: online,
        disclaimer_accepted_by: c.disclaimer_by.clone(),
        disclaimer_accepted_at: c.disclaimer_at.map(rfc3339),
        created_at: rfc3339(c.created_at),
        api_server: c.api_server.clone(),
    })
}

async fn cluster(st: &AppState, id: &str) -> ApiResult<store::ClusterRow> {
    st.store.cluster(id).await?.ok_or_else(|| not_found("cluster", id))
}

/// List clusters with node counts and protection state.
#[utoipa::path(get, path = "/api/v1/clusters", tag = "protection", params(PageQuery), responses((status = 200, body = Page<Cluster>)))]
pub async fn list(State(st): State<AppState>, Query(q): Query<PageQuery>) -> ApiResult<Json<Page<Cluster>>> {
    let p = page(&q, &["name", "created_at"])?;
    let (rows, total) = st.store.list_clusters(&p).await?;
    let view = NodeView::new(&st).await?;
    let mut items = Vec::with_capacity(rows.len());
    for c in &rows {
        items.push(to_api(&st, c, &view).await?);
    }
    Ok(Json(page_of(items, total, &p)))
}

/// Add a cluster. `kind` is `hosts`: plain Docker or containerd hosts whose shields
/// enrol with the cluster's token.
#[utoipa::path(post, path = "/api/v1/clusters", tag = "protection", request_body = ClusterCreate, responses((status = 201, body = Cluster)))]
pub async fn create(
    State(st): State<AppState>,
    Json(body): Json<ClusterCreate>,
) -> ApiResult<(StatusCode, Json<Cluster>)> {
    let n = body.name.chars().count();
    if !(1..=64).contains(&n) || !body.name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
        return Err(ApiError::invalid("name", "1-64 characters: letters, digits, '-', '_', '.'"));
    }
    let id = new_id();
    let (kubeconfig_sealed, api_server) = match (body.kind.as_str(), &body.kubeconfig) {
        ("hosts", None) if body.context.is_none() => (None, None),
        ("hosts", _) => return Err(ApiError::invalid("kubeconfig", "only a 'kubernetes' cluster has a kubeconfig")),
        ("kubernetes", Some(k)) => {
            let (sealed, server) = super::kubernetes::seal_kubeconfig(&st, &id, k, body.context.as_deref())?;
            (Some(sealed), Some(server))
        }
        ("kubernetes", None) => return Err(ApiError::invalid("kubeconfig", "a 'kubernetes' cluster needs one")),
        _ => return Err(ApiError::invalid("kind", "is 'hosts' or 'kubernetes'")),
    };
    let row = store::ClusterRow {
        id,
        name: body.name,
        kind: body.kind,
        protection: false,
        disclaimer_by: None,
        disclaimer_at: None,
        created_at: now_ms(),
        kubeconfig_sealed,
        api_server,
    };
    st.store.create_cluster(&row).await?;
    let view = NodeView::new(&st).await?;
    Ok((StatusCode::CREATED, Json(to_api(&st, &row, &view).await?)))
}

/// Get a cluster.
#[utoipa::path(get, path = "/api/v1/clusters/{id}", tag = "protection", params(("id" = String, Path)), responses((status = 200, body = Cluster)))]
pub async fn get_one(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Cluster>> {
    let c = cluster(&st, &id).await?;
    let view = NodeView::new(&st).await?;
    Ok(Json(to_api(&st, &c, &view).await?))
}

/// Delete a cluster; its protection must be off.
#[utoipa::path(delete, path = "/api/v1/clusters/{id}", tag = "protection", params(("id" = String, Path)), responses((status = 204, description = "deleted")))]
pub async fn remove(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let c = cluster(&st, &id).await?;
    if c.protection {
        return Err(ApiError::Conflict("turn the cluster's protection off before deleting it".into()));
    }
    st.store.delete_cluster(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Turn protection on (needs the service authorization and the accepted disclaimer).
/// The answer holds a new enrolment token, shown once, and the command that installs
/// and enrols the shield on a host.
#[utoipa::path(post, path = "/api/v1/clusters/{id}/protection/open", tag = "protection", params(("id" = String, Path)),
    request_body = ProtectionOpen, responses((status = 200, body = ProtectionResult)))]
pub async fn open_protection(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    Json(body): Json<ProtectionOpen>,
) -> ApiResult<Json<ProtectionResult>> {
    let mut c = cluster(&st, &id).await?;
    super::authorization::require(&st).await?;
    if !body.accept_disclaimer {
        return Err(ApiError::invalid(
            "accept_disclaimer",
            "protection is turned on only once the disclaimer is accepted",
        ));
    }
    let now = now_ms();
    c.protection = true;
    c.disclaimer_by = Some(user_of(&caller)?.user.name.clone());
    c.disclaimer_at = Some(now);
    st.store.enrolment().revoke_enrolment_tokens(&id, now).await?;
    let (_, token) = super::enrolment::issue(&st, &id, body.max_nodes, super::enrolment::DEFAULT_LIFETIME_MS).await?;
    // A Kubernetes cluster gets the DaemonSet (which holds the token) before protection is
    // recorded as on; if the cluster's API fails, nothing changes and the token is revoked.
    if c.kind == "kubernetes"
        && let Err(e) = super::kubernetes::deploy_shield(&st, &c, &token).await
    {
        st.store.enrolment().revoke_enrolment_tokens(&id, now_ms()).await?;
        return Err(e);
    }
    st.store.update_cluster(&c).await?;
    let view = NodeView::new(&st).await?;
    let cluster = to_api(&st, &c, &view).await?;
    if c.kind == "kubernetes" {
        return Ok(Json(ProtectionResult { cluster, enrolment_token: None, install_command: None }));
    }
    let install_command = super::enrolment::install_command(&st, &id, &token);
    Ok(Json(ProtectionResult { cluster, enrolment_token: Some(token), install_command: Some(install_command) }))
}

/// Turn protection off: enrolment tokens are revoked and the nodes released (their
/// credentials stop working).
#[utoipa::path(post, path = "/api/v1/clusters/{id}/protection/close", tag = "protection", params(("id" = String, Path)),
    responses((status = 200, body = ProtectionResult)))]
pub async fn close_protection(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<ProtectionResult>> {
    let mut c = cluster(&st, &id).await?;
    // The DaemonSet goes first: if the cluster's API fails, protection stays on.
    if c.kind == "kubernetes" && c.protection {
        super::kubernetes::remove_shield(&st, &c).await?;
    }
    c.protection = false;
    st.store.update_cluster(&c).await?;
    st.store.enrolment().revoke_enrolment_tokens(&id, now_ms()).await?;
    st.store.delete_nodes(&id).await?;
    let view = NodeView::new(&st).await?;
    Ok(Json(ProtectionResult { cluster: to_api(&st, &c, &view).await?, enrolment_token: None, install_command: None }))
}

async fn node_page(st: &AppState, cluster_id: Option<&str>, q: &PageQuery) -> ApiResult<Page<Node>> {
    let p = page(q, &["name", "enrolled_at", "last_heartbeat"])?;
    let view = NodeView::new(st).await?;
    let (rows, total) = st.store.list_nodes(cluster_id, &p).await?;
    let items = rows.iter().map(|n| view.to_api(n)).collect();
    Ok(page_of(items, total, &p))
}

/// A cluster's nodes with node and shield state.
#[utoipa::path(get, path = "/api/v1/clusters/{id}/nodes", tag = "protection", params(("id" = String, Path), PageQuery),
    responses((status = 200, body = Page<Node>)))]
pub async fn nodes(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Page<Node>>> {
    cluster(&st, &id).await?;
    Ok(Json(node_page(&st, Some(&id), &q).await?))
}

/// Every node of every cluster.
#[utoipa::path(get, path = "/api/v1/nodes", tag = "protection", params(PageQuery), responses((status = 200, body = Page<Node>)))]
pub async fn all_nodes(State(st): State<AppState>, Query(q): Query<PageQuery>) -> ApiResult<Json<Page<Node>>> {
    Ok(Json(node_page(&st, None, &q).await?))
}

pub async fn every_node(st: &AppState) -> ApiResult<Vec<store::NodeRow>> {
    all_nodes_of(st, None).await
}

/// How long an operator's permission to re-enrol a node lasts.
pub const REENROL_WINDOW_MS: i64 = DAY_MS;

/// Allow the next enrolment under this node's name, within 24 hours, to replace the node:
/// for a node that lost its credential (a reinstalled host). The node's current credential
/// works until that enrolment replaces it.
#[utoipa::path(post, path = "/api/v1/nodes/{id}/reenrol", tag = "protection", params(("id" = String, Path)),
    responses((status = 200, body = Node)))]
pub async fn allow_reenrol(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Node>> {
    let row = st.store.allow_reenrol(&id, now_ms() + REENROL_WINDOW_MS).await?.ok_or_else(|| not_found("node", &id))?;
    let view = NodeView::new(&st).await?;
    Ok(Json(view.to_api(&row)))
}
