//! Querying and exporting the audit log (SPEC 8).

use api::audit::{AuditQuery, AuditRecord};
use api::{Page, PageQuery};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::{Json, Query, page, page_of};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::timefmt::{DAY_MS, HOUR_MS, now_ms, parse_rfc3339, rfc3339};

pub fn to_api(r: &store::AuditRow) -> AuditRecord {
    let a = &r.record;
    AuditRecord {
        seq: r.seq,
        id: a.id.clone(),
        time: rfc3339(a.time),
        event_name: a.event_name.clone(),
        event_type: a.event_type.clone(),
        source: a.source.clone(),
        resource_type: a.resource_type.clone(),
        resource_id: a.resource_id.clone(),
        resource_name: a.resource_name.clone(),
        operator: a.operator.clone(),
        level: a.level.clone(),
        outcome: a.outcome.clone(),
        request: serde_json::from_str(&a.request).unwrap_or_default(),
        result: serde_json::from_str(&a.result).unwrap_or_default(),
        prev_hash: r.prev_hash.clone(),
        hash: r.hash.clone(),
    }
}

fn filter(q: &AuditQuery) -> ApiResult<store::AuditFilter> {
    if let Some(level) = &q.level
        && !["normal", "warning", "incident"].contains(&level.as_str())
    {
        return Err(ApiError::invalid("level", "is normal, warning or incident"));
    }
    let mut from = q
        .from
        .as_deref()
        .map(|s| parse_rfc3339(s).ok_or_else(|| ApiError::invalid("from", "is not RFC 3339")))
        .transpose()?;
    let to =
        q.to.as_deref()
            .map(|s| parse_rfc3339(s).ok_or_else(|| ApiError::invalid("to", "is not RFC 3339")))
            .transpose()?;
    if let Some(last) = &q.last {
        let span = match last.as_str() {
            "hour" => HOUR_MS,
            "day" => DAY_MS,
            "week" => 7 * DAY_MS,
            _ => return Err(ApiError::invalid("last", "is hour, day or week")),
        };
        from = Some(now_ms() - span);
    }
    Ok(store::AuditFilter {
        event_type: q.event_type.clone(),
        source: q.source.clone(),
        resource_type: q.resource_type.clone(),
        event_name: q.event_name.clone(),
        resource_id: q.resource_id.clone(),
        resource_name: q.resource_name.clone(),
        operator: q.operator.clone(),
        level: q.level.clone(),
        from,
        to,
        after_seq: None,
    })
}

/// Query audit records, newest first unless sorted otherwise.
#[utoipa::path(get, path = "/api/v1/audit/records", tag = "audit", params(AuditQuery, PageQuery),
    responses((status = 200, body = Page<AuditRecord>)))]
pub async fn list(
    State(st): State<AppState>,
    Query(q): Query<AuditQuery>,
    Query(pq): Query<PageQuery>,
) -> ApiResult<Json<Page<AuditRecord>>> {
    let f = filter(&q)?;
    let mut p = page(&pq, &["seq", "time", "event_name", "operator", "level", "resource_type"])?;
    if pq.sort.is_none() {
        p.sort = Some("seq".into());
        p.descending = true;
    }
    let (rows, total) = st.store.query_audit(&f, &p).await?;
    Ok(Json(page_of(rows.iter().map(to_api).collect(), total, &p)))
}

/// Records per page of an export.
const EXPORT_PAGE: u32 = 1000;

/// Export the matching audit records as JSON lines, oldest first. The answer is streamed,
/// a page of records at a time, so that its size does not grow the server's memory.
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit", params(AuditQuery),
    responses((status = 200, description = "one audit record per line", content_type = "application/x-ndjson", body = String)))]
pub async fn export(State(st): State<AppState>, Query(q): Query<AuditQuery>) -> ApiResult<Response> {
    let f = filter(&q)?;
    // Pages follow the chain (`seq` after the last one sent), not offsets.
    let pages = futures_util::stream::unfold(Some((st, f)), |next| async move {
        let (st, mut f) = next?;
        let p = store::PageReq { limit: EXPORT_PAGE, offset: 0, sort: Some("seq".into()), descending: false };
        let rows = match st.store.query_audit(&f, &p).await {
            Ok((rows, _)) => rows,
            Err(e) => {
                // The status is sent already: cutting the answer short is all that is left.
                tracing::error!(error = %e, "the audit export failed");
                return Some((Err(std::io::Error::other(e.to_string())), None));
            }
        };
        let last = rows.last()?.seq;
        let mut chunk = String::new();
        for r in &rows {
            chunk.push_str(&serde_json::to_string(&to_api(r)).unwrap_or_default());
            chunk.push('\n');
        }
        let more = rows.len() == EXPORT_PAGE as usize;
        f.after_seq = Some(last);
        Some((Ok(Bytes::from(chunk)), more.then_some((st, f))))
    });
    let mut resp = Body::from_stream(pages).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
    Ok(resp)
}
