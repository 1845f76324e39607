//! The OpenAPI 3.1 document, generated from the handlers' annotations and completed from
//! the route table: each operation's guard (`x-cguard-guard`), its security requirement
//! and its error responses (`application/problem+json`).

use std::sync::LazyLock;

use serde_json::{Value, json};
use utoipa::OpenApi;

use crate::handlers::*;
use crate::routes::{self, Guard};

#[derive(OpenApi)]
#[openapi(
    info(title = "cguard", description = "Container Guard Service: control plane API."),
    paths(
        meta::openapi,
        meta::health,
        session::login,
        session::logout,
        session::me,
        session::list_tokens,
        session::create_token,
        session::revoke_token,
        users::list,
        users::create,
        users::get_one,
        users::update,
        users::remove,
        groups::list,
        groups::create,
        groups::get_one,
        groups::remove,
        groups::add_member,
        groups::remove_member,
        iam_policies::list,
        iam_policies::create,
        iam_policies::get_one,
        iam_policies::update,
        iam_policies::remove,
        iam_policies::attach,
        iam_policies::detach,
        authorization::get_one,
        authorization::grant,
        authorization::revoke,
        audit_log::list,
        audit_log::export,
        policies::list,
        policies::create,
        policies::get_one,
        policies::update,
        policies::remove,
        policies::apply_images,
        policies::cancel_images,
        clusters::list,
        clusters::create,
        clusters::get_one,
        clusters::remove,
        clusters::open_protection,
        clusters::close_protection,
        clusters::nodes,
        clusters::all_nodes,
        clusters::allow_reenrol,
        enrolment::create,
        enrolment::list,
        enrolment::revoke,
        vulnerabilities::summary,
        vulnerabilities::list,
        vulnerabilities::ignore,
        vulnerabilities::unignore,
        vulnerabilities::decisions,
        vulnerabilities::get_one,
        vulnerabilities::vex_export,
        vulnerabilities::vex_import,
        detections::malware,
        detections::baseline,
        detections::baseline_check,
        quotas::summary,
        quotas::list,
        quotas::purchase,
        quotas::get_one,
        quotas::renew,
        quotas::unsubscribe,
        registries::list,
        registries::create,
        registries::get_one,
        registries::update,
        registries::remove,
        registries::test,
        registries::sync,
        images::list,
        images::get_one,
        images::scan,
        images::report,
        images::sbom,
        jobs::list,
        jobs::get_one,
        jobs::cancel,
        events::list,
        events::get_one,
        shield::enrol,
        shield::heartbeat,
        shield::policies,
        shield::ingest,
        shield::upload_scan,
    ),
    components(schemas(api::Problem))
)]
struct ApiDoc;

static DOCUMENT: LazyLock<Value> = LazyLock::new(build);

/// The served document.
pub fn document() -> Value {
    DOCUMENT.clone()
}

fn build() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    doc["components"]["securitySchemes"] = json!({
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "A login's token (POST /api/v1/auth/login), an API token, or a node's credential."
        }
    });
    let problem = json!({
        "description": "An error: see `code`.",
        "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } }
    });
    let routes = routes::all();
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for (method, op) in item.iter_mut() {
                let Ok(m) = method.to_ascii_uppercase().parse::<axum::http::Method>() else { continue };
                let Some(route) = routes::find(&routes, &m, path) else { continue };
                op["x-cguard-guard"] = json!(route.guard.label());
                if let Some(a) = route.audit {
                    op["x-cguard-audit-event"] = json!(a.event);
                }
                op["security"] = match route.guard {
                    Guard::Public => json!([]),
                    _ => json!([{ "bearer": [] }]),
                };
                op["responses"]["default"] = problem.clone();
            }
        }
    }
    doc
}
