//! User groups (SPEC 9): policies attached to a group apply to its members.

use api::iam::{Group, GroupCreate};
use api::{Page, PageQuery};
use axum::extract::State;
use axum::http::StatusCode;

use super::{Json, Path, Query, new_id, not_found, page, page_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::timefmt::{now_ms, rfc3339};

fn to_api(g: &store::GroupRow) -> Group {
    Group {
        id: g.id.clone(),
        name: g.name.clone(),
        description: g.description.clone(),
        members: g.members.clone(),
        created_at: rfc3339(g.created_at),
    }
}

/// List groups.
#[utoipa::path(get, path = "/api/v1/groups", tag = "identity", params(PageQuery), responses((status = 200, body = Page<Group>)))]
pub async fn list(State(st): State<AppState>, Query(q): Query<PageQuery>) -> ApiResult<Json<Page<Group>>> {
    let p = page(&q, &["name", "created_at"])?;
    let (rows, total) = st.store.list_groups(&p).await?;
    Ok(Json(page_of(rows.iter().map(to_api).collect(), total, &p)))
}

/// Create a group.
#[utoipa::path(post, path = "/api/v1/groups", tag = "identity", request_body = GroupCreate, responses((status = 201, body = Group)))]
pub async fn create(State(st): State<AppState>, Json(body): Json<GroupCreate>) -> ApiResult<(StatusCode, Json<Group>)> {
    super::users::check_name(&body.name)?;
    if body.description.len() > 1024 {
        return Err(ApiError::invalid("description", "at most 1024 bytes"));
    }
    let row = store::GroupRow {
        id: new_id(),
        name: body.name,
        description: body.description,
        created_at: now_ms(),
        members: vec![],
    };
    st.store.create_group(&row).await?;
    Ok((StatusCode::CREATED, Json(to_api(&row))))
}

/// Get a group and its members.
#[utoipa::path(get, path = "/api/v1/groups/{id}", tag = "identity", params(("id" = String, Path)), responses((status = 200, body = Group)))]
pub async fn get_one(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Group>> {
    let row = st.store.group(&id).await?.ok_or_else(|| not_found("group", &id))?;
    Ok(Json(to_api(&row)))
}

/// Delete a group; its members stay.
#[utoipa::path(delete, path = "/api/v1/groups/{id}", tag = "identity", params(("id" = String, Path)), responses((status = 204, description = "deleted")))]
pub async fn remove(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    if st.store.delete_group(&id).await? { Ok(StatusCode::NO_CONTENT) } else { Err(not_found("group", &id)) }
}

async fn membership(st: &AppState, id: &str, user_id: &str, member: bool) -> ApiResult<Group> {
    st.store.group(id).await?.ok_or_else(|| not_found("group", id))?;
    st.store.user(user_id).await?.ok_or_else(|| not_found("user", user_id))?;
    st.store.set_membership(id, user_id, member).await?;
    let row = st.store.group(id).await?.ok_or_else(|| not_found("group", id))?;
    Ok(to_api(&row))
}

/// Add a user to a group.
#[utoipa::path(put, path = "/api/v1/groups/{id}/members/{user_id}", tag = "identity",
    params(("id" = String, Path), ("user_id" = String, Path)), responses((status = 200, body = Group)))]
pub async fn add_member(
    State(st): State<AppState>,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<Json<Group>> {
    Ok(Json(membership(&st, &id, &user_id, true).await?))
}

/// Remove a user from a group.
#[utoipa::path(delete, path = "/api/v1/groups/{id}/members/{user_id}", tag = "identity",
    params(("id" = String, Path), ("user_id" = String, Path)), responses((status = 200, body = Group)))]
pub async fn remove_member(
    State(st): State<AppState>,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<Json<Group>> {
    Ok(Json(membership(&st, &id, &user_id, false).await?))
}
