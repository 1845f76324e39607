//! The shields' side of the API: enrolment with a cluster's token, heartbeats, policy
//! fetch, and batched event ingest that is idempotent by event id.

use api::shield::{
    EnrolRequest, EnrolResponse, EventBatch, Heartbeat, HeartbeatResponse, IngestResult, LocalImage, LocalScan,
    LocalScanResult, NodePolicies,
};
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use super::{Json, new_id};
use crate::auth::{self, Caller};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::timefmt::{now_ms, parse_rfc3339};

/// The most events one batch may carry.
pub const MAX_BATCH: usize = 1000;

fn node_of(caller: &Caller) -> ApiResult<&store::NodeRow> {
    match caller {
        Caller::Node(n) => Ok(n),
        _ => Err(ApiError::Unauthenticated("a node credential is required".into())),
    }
}

fn facts_text(facts: &serde_json::Value) -> ApiResult<String> {
    let text = if facts.is_null() { "{}".to_string() } else { facts.to_string() };
    if !facts.is_null() && !facts.is_object() {
        return Err(ApiError::invalid("facts", "is a JSON object"));
    }
    if text.len() > 64 * 1024 {
        return Err(ApiError::invalid("facts", "at most 64 KiB"));
    }
    Ok(text)
}

/// Enrol a node with its cluster's enrolment token. The answer's credential (shown once)
/// authenticates the node from then on. A name already enrolled in the cluster is refused
/// (409 `node_already_enrolled`) unless the request carries that node's current credential
/// as `Authorization: Bearer …` (the node renews its credential) or an operator allowed the
/// node's re-enrolment (`POST /api/v1/nodes/{id}/reenrol`); either way the old credential
/// stops working.
#[utoipa::path(post, path = "/api/v1/shield/enrol", tag = "shield", request_body = EnrolRequest,
    responses((status = 201, body = EnrolResponse)), security(()))]
pub async fn enrol(
    State(st): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<EnrolRequest>,
) -> ApiResult<(StatusCode, Json<EnrolResponse>)> {
    let refused = || ApiError::Unauthenticated("the enrolment token is invalid, expired, revoked or used up".into());
    if !body.token.starts_with(auth::ENROLMENT_PREFIX) {
        return Err(refused());
    }
    let token = st.store.enrolment().enrolment_token(&auth::secret_hash(&body.token)).await?.ok_or_else(refused)?;
    let now = now_ms();
    if token.revoked_at.is_some() || token.expires_at <= now {
        return Err(refused());
    }
    let cluster = st.store.cluster(&token.cluster_id).await?.ok_or_else(refused)?;
    if !cluster.protection {
        return Err(ApiError::Conflict(format!("protection of cluster {} is off", cluster.name)));
    }
    let n = body.node_name.chars().count();
    if !(1..=253).contains(&n) || body.node_name.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(ApiError::invalid("node_name", "1-253 characters, no spaces"));
    }
    if body.shield_version.len() > 64 {
        return Err(ApiError::invalid("shield_version", "at most 64 characters"));
    }
    // The node's current credential, if the request carries one, proves it is that node.
    let proof = auth::bearer(&headers).filter(|t| t.starts_with(auth::NODE_PREFIX)).map(auth::secret_hash);
    let credential = auth::new_secret(auth::NODE_PREFIX);
    let row = store::NodeRow {
        id: new_id(),
        cluster_id: cluster.id.clone(),
        name: body.node_name,
        credential_hash: auth::secret_hash(&credential),
        shield_version: body.shield_version,
        facts: facts_text(&body.facts)?,
        enrolled_at: now,
        last_heartbeat: Some(now),
        enrolment_token_id: Some(token.id.clone()),
    };
    let node = match st.store.enrolment().enrol(&row, proof.as_deref(), now).await? {
        store::Enrolment::Enrolled(node) => node,
        store::Enrolment::TokenUsedUp => return Err(refused()),
        store::Enrolment::NameTaken => {
            return Err(ApiError::NodeEnrolled(format!(
                "a node named {:?} is already enrolled in cluster {}: enrol again with that node's credential \
                 (Authorization: Bearer), or have an operator allow its re-enrolment (POST /api/v1/nodes/{{id}}/reenrol)",
                row.name, cluster.name
            )));
        }
    };
    Ok((StatusCode::CREATED, Json(EnrolResponse { node_id: node.id, cluster_id: cluster.id, credential })))
}

/// A node's heartbeat: shield version and node facts. The answer carries the current
/// policy revision, so a shield fetches policies only when they changed.
#[utoipa::path(post, path = "/api/v1/shield/heartbeat", tag = "shield", request_body = Heartbeat,
    responses((status = 200, body = HeartbeatResponse)))]
pub async fn heartbeat(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<Heartbeat>,
) -> ApiResult<Json<HeartbeatResponse>> {
    let node = node_of(&caller)?;
    if body.shield_version.len() > 64 {
        return Err(ApiError::invalid("shield_version", "at most 64 characters"));
    }
    facts_text(&body.facts)?;
    domain::imagesec::local::validate(&body.local_images)?;
    let previous = reported_images(node);
    // The node's images are kept with its facts: its scans are checked against them.
    let mut facts = if body.facts.is_object() { body.facts.clone() } else { serde_json::json!({}) };
    facts["local_images"] = serde_json::to_value(&body.local_images).unwrap_or_default();
    st.store.heartbeat(&node.id, &body.shield_version, &facts.to_string(), now_ms()).await?;
    let scan_images = if body.local_images.is_empty() {
        Vec::new()
    } else {
        st.images.node_images(previous.as_deref(), &body.local_images).await?
    };
    Ok(Json(HeartbeatResponse {
        policy_revision: st.store.policy_revision().await?,
        interval_seconds: (st.config.heartbeat_timeout_seconds / 6).max(1),
        scan_images,
    }))
}

/// The images a node reported in its last heartbeat.
fn reported_images(node: &store::NodeRow) -> Option<Vec<LocalImage>> {
    let facts: serde_json::Value = serde_json::from_str(&node.facts).ok()?;
    serde_json::from_value(facts.get("local_images")?.clone()).ok()
}

/// Upload the scan of a local image the server asked for (the report without
/// vulnerabilities, which the server matches). Uploading the same scan again replaces it.
#[utoipa::path(post, path = "/api/v1/shield/scans", tag = "shield", request_body = LocalScan,
    responses((status = 200, body = LocalScanResult)))]
pub async fn upload_scan(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<LocalScan>,
) -> ApiResult<Json<LocalScanResult>> {
    let node = node_of(&caller)?;
    let reported = reported_images(node).unwrap_or_default();
    let digest = st.images.local_scan(&reported, &body).await?;
    Ok(Json(LocalScanResult { digest }))
}

/// The policies this node's containers need: those associated with an image the node
/// reported in its facts (`images`, compared in canonical form: `nginx` is
/// `docker.io/library/nginx:latest`). A policy associated with no image applies to no
/// container, so no node gets it; a node that reported no images gets none.
#[utoipa::path(get, path = "/api/v1/shield/policies", tag = "shield", responses((status = 200, body = NodePolicies)))]
pub async fn policies(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<NodePolicies>> {
    let node = node_of(&caller)?;
    let facts: serde_json::Value = serde_json::from_str(&node.facts).unwrap_or_default();
    // References compare in their canonical form: `nginx` is `docker.io/library/nginx:latest`.
    let images: std::collections::HashSet<String> = facts["images"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).map(api::policy::normalise_image).collect())
        .unwrap_or_default();
    let revision = st.store.policy_revision().await?;
    let store = st.store.as_ref();
    let all = super::every(None, |p| async move { store.list_security_policies(&p).await }).await?;
    let out = all
        .iter()
        .filter(|row| row.images.iter().any(|i| images.contains(&api::policy::normalise_image(i))))
        .map(super::policies::to_api)
        .collect();
    Ok(Json(NodePolicies { revision, policies: out }))
}

/// Ingest a batch of events. Every event is on disk when the answer comes; a retried
/// batch stores nothing twice (events are identified by their id).
#[utoipa::path(post, path = "/api/v1/shield/events", tag = "shield", request_body = EventBatch,
    responses((status = 200, body = IngestResult)))]
pub async fn ingest(
    State(st): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<EventBatch>,
) -> ApiResult<Json<IngestResult>> {
    let node = node_of(&caller)?;
    if body.events.len() > MAX_BATCH {
        return Err(ApiError::invalid("events", format!("at most {MAX_BATCH} events a batch")));
    }
    let received_at = now_ms();
    let mut rows = Vec::with_capacity(body.events.len());
    for mut e in body.events {
        e.validate().map_err(|m| ApiError::invalid("events", m))?;
        let time = parse_rfc3339(&e.time)
            .ok_or_else(|| ApiError::invalid("events", format!("event {}: time is not RFC 3339", e.id)))?;
        e.node = Some(node.id.clone());
        e.cluster = Some(node.cluster_id.clone());
        rows.push(store::EventRow {
            id: e.id.clone(),
            node_id: node.id.clone(),
            cluster_id: node.cluster_id.clone(),
            time,
            received_at,
            category: e.category.clone(),
            kind: e.kind.clone(),
            container_id: e.container.id.clone(),
            container_name: e.container.name.clone(),
            image: e.image.clone(),
            blocked: e.blocked,
            body: serde_json::to_string(&e).map_err(|err| ApiError::Internal(err.to_string()))?,
        });
    }
    let (accepted, duplicates) = st.store.ingest_events(&rows).await?;
    Ok(Json(IngestResult { accepted, duplicates }))
}
