//! Permission policies (SPEC 9): the three system policies and custom ones in the seed's
//! JSON syntax, attached to users and groups.

use api::iam::{Attachment, IamPolicy, IamPolicyWrite};
use api::{Page, PageQuery};
use axum::extract::State;
use axum::http::StatusCode;

use super::{Json, Path, Query, new_id, not_found, page, page_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::timefmt::{now_ms, rfc3339};

fn to_api(p: &store::IamPolicyRow) -> IamPolicy {
    IamPolicy {
        id: p.id.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        kind: if p.system { "system" } else { "custom" }.into(),
        document: serde_json::from_str(&p.document).unwrap_or(serde_json::Value::Null),
        created_at: rfc3339(p.created_at),
        updated_at: rfc3339(p.updated_at),
    }
}

fn check(body: &IamPolicyWrite) -> ApiResult<String> {
    let n = body.name.chars().count();
    if !(1..=64).contains(&n) || body.name.chars().any(char::is_control) {
        return Err(ApiError::invalid("name", "1-64 characters, no control characters"));
    }
    if body.description.len() > 1024 {
        return Err(ApiError::invalid("description", "at most 1024 bytes"));
    }
    let doc = iam::PolicyDocument::parse(&body.document.to_string())
        .map_err(|e| ApiError::invalid("document", e.to_string()))?;
    Ok(doc.to_json())
}

/// List permission policies, system ones included.
#[utoipa::path(get, path = "/api/v1/iam/policies", tag = "identity", params(PageQuery), responses((status = 200, body = Page<IamPolicy>)))]
pub async fn list(State(st): State<AppState>, Query(q): Query<PageQuery>) -> ApiResult<Json<Page<IamPolicy>>> {
    let p = page(&q, &["name", "created_at", "updated_at"])?;
    let (rows, total) = st.store.list_iam_policies(&p).await?;
    Ok(Json(page_of(rows.iter().map(to_api).collect(), total, &p)))
}

/// Create a custom policy: `{"Version":"1.1","Statement":[{"Effect":"Allow"|"Deny","Action":[…]}]}`.
#[utoipa::path(post, path = "/api/v1/iam/policies", tag = "identity", request_body = IamPolicyWrite, responses((status = 201, body = IamPolicy)))]
pub async fn create(
    State(st): State<AppState>,
    Json(body): Json<IamPolicyWrite>,
) -> ApiResult<(StatusCode, Json<IamPolicy>)> {
    let document = check(&body)?;
    let now = now_ms();
    let row = store::IamPolicyRow {
        id: new_id(),
        name: body.name,
        description: body.description,
        system: false,
        document,
        created_at: now,
        updated_at: now,
    };
    st.store.create_iam_policy(&row).await?;
    Ok((StatusCode::CREATED, Json(to_api(&row))))
}

/// Get a permission policy.
#[utoipa::path(get, path = "/api/v1/iam/policies/{id}", tag = "identity", params(("id" = String, Path)), responses((status = 200, body = IamPolicy)))]
pub async fn get_one(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<IamPolicy>> {
    let row = st.store.iam_policy(&id).await?.ok_or_else(|| not_found("policy", &id))?;
    Ok(Json(to_api(&row)))
}

async fn custom(st: &AppState, id: &str) -> ApiResult<store::IamPolicyRow> {
    let row = st.store.iam_policy(id).await?.ok_or_else(|| not_found("policy", id))?;
    if row.system {
        return Err(ApiError::Conflict(format!("{} is a system policy and cannot be changed", row.name)));
    }
    Ok(row)
}

/// Replace a custom policy.
#[utoipa::path(put, path = "/api/v1/iam/policies/{id}", tag = "identity", params(("id" = String, Path)),
    request_body = IamPolicyWrite, responses((status = 200, body = IamPolicy)))]
pub async fn update(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<IamPolicyWrite>,
) -> ApiResult<Json<IamPolicy>> {
    let mut row = custom(&st, &id).await?;
    row.document = check(&body)?;
    row.name = body.name;
    row.description = body.description;
    row.updated_at = now_ms();
    st.store.update_iam_policy(&row).await?;
    Ok(Json(to_api(&row)))
}

/// Delete a custom policy; it is detached from everyone.
#[utoipa::path(delete, path = "/api/v1/iam/policies/{id}", tag = "identity", params(("id" = String, Path)), responses((status = 204, description = "deleted")))]
pub async fn remove(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    custom(&st, &id).await?;
    st.store.delete_iam_policy(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn attachment(st: &AppState, id: &str, body: &Attachment, attached: bool) -> ApiResult<IamPolicy> {
    let row = st.store.iam_policy(id).await?.ok_or_else(|| not_found("policy", id))?;
    let principal = match body.principal_type.as_str() {
        "user" => {
            st.store.user(&body.principal_id).await?.ok_or_else(|| not_found("user", &body.principal_id))?;
            store::Principal::User(body.principal_id.clone())
        }
        "group" => {
            st.store.group(&body.principal_id).await?.ok_or_else(|| not_found("group", &body.principal_id))?;
            store::Principal::Group(body.principal_id.clone())
        }
        _ => return Err(ApiError::invalid("principal_type", "is 'user' or 'group'")),
    };
    st.store.set_attachment(id, &principal, attached).await?;
    Ok(to_api(&row))
}

/// Attach a policy to a user or a group.
#[utoipa::path(post, path = "/api/v1/iam/policies/{id}/attach", tag = "identity", params(("id" = String, Path)),
    request_body = Attachment, responses((status = 200, body = IamPolicy)))]
pub async fn attach(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<Attachment>,
) -> ApiResult<Json<IamPolicy>> {
    Ok(Json(attachment(&st, &id, &body, true).await?))
}

/// Detach a policy from a user or a group.
#[utoipa::path(post, path = "/api/v1/iam/policies/{id}/detach", tag = "identity", params(("id" = String, Path)),
    request_body = Attachment, responses((status = 200, body = IamPolicy)))]
pub async fn detach(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Json(body): Json<Attachment>,
) -> ApiResult<Json<IamPolicy>> {
    Ok(Json(attachment(&st, &id, &body, false).await?))
}
