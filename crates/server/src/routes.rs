//! Every route of the API, each declared once with its guard and its audit event, and
//! the middleware that enforces both. A route missing here does not exist.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, patch, post, put};

use crate::audit::{self, AuditSpec, Level};
use crate::auth::{self, Caller};
use crate::error::ApiError;
use crate::handlers::*;
use crate::state::AppState;
use iam::Action as A;

/// Largest request body the API reads.
pub const MAX_BODY: usize = 4 << 20;

/// What protects a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Anyone: the OpenAPI document, health, login, and shield enrolment (which proves
    /// itself with the enrolment token in its body).
    Public,
    /// Any signed-in user, about itself only: its identity, logout, the list of its API
    /// tokens. An API token may use these routes (logout revokes the token itself).
    SignedIn,
    /// A signed-in user's login session, not an API token: making and revoking API tokens.
    /// A token's scope covers none of the 18 actions this could be measured by, so no API
    /// token may mint a wider one or revoke its user's others.
    Session,
    /// An enrolled node's credential.
    Node,
    /// A user holding this action.
    Action(A),
}

impl Guard {
    /// The text shown in the OpenAPI document (`x-cguard-guard`) and docs/permissions.md.
    pub fn label(self) -> String {
        match self {
            Guard::Public => "public".into(),
            Guard::SignedIn => "signed-in".into(),
            Guard::Session => "session".into(),
            Guard::Node => "node".into(),
            Guard::Action(a) => a.as_str().into(),
        }
    }
}

/// One route.
#[derive(Debug, Clone)]
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub guard: Guard,
    /// Audit event for operations that change state; `None` for reads.
    pub audit: Option<AuditSpec>,
    handler: fn() -> MethodRouter<AppState>,
}

fn r(method: Method, path: &'static str, guard: Guard, handler: fn() -> MethodRouter<AppState>) -> Route {
    Route { method, path, guard, audit: None, handler }
}

fn w(
    method: Method,
    path: &'static str,
    guard: Guard,
    event: &'static str,
    resource_type: &'static str,
    handler: fn() -> MethodRouter<AppState>,
) -> Route {
    let audit = AuditSpec { event, resource_type, level: Level::Normal, image_event: None };
    Route { method, path, guard, audit: Some(audit), handler }
}

/// Like [`w`], with another audit event when the body names an `image_id`.
fn w_image(
    method: Method,
    path: &'static str,
    guard: Guard,
    events: (&'static str, &'static str),
    handler: fn() -> MethodRouter<AppState>,
) -> Route {
    let mut route = w(method, path, guard, events.0, "vulnerability", handler);
    if let Some(a) = &mut route.audit {
        a.image_event = Some(events.1);
    }
    route
}

/// Like [`w`], for operations whose audit records are `warning` level.
fn warn(mut route: Route) -> Route {
    if let Some(a) = &mut route.audit {
        a.level = Level::Warning;
    }
    route
}

static ROUTES: std::sync::LazyLock<Vec<Route>> = std::sync::LazyLock::new(all);

/// Every route, in the order of the OpenAPI document.
pub fn all() -> Vec<Route> {
    use Guard::{Action, Node, Public, Session, SignedIn};
    use Method as M;
    vec![
        r(M::GET, "/api/v1/openapi.json", Public, || get(meta::openapi)),
        r(M::GET, "/api/v1/health", Public, || get(meta::health)),
        w(M::POST, "/api/v1/auth/login", Public, "login", "user", || post(session::login)),
        w(M::POST, "/api/v1/auth/logout", SignedIn, "logout", "user", || post(session::logout)),
        r(M::GET, "/api/v1/auth/me", SignedIn, || get(session::me)),
        r(M::GET, "/api/v1/auth/tokens", SignedIn, || get(session::list_tokens)),
        w(M::POST, "/api/v1/auth/tokens", Session, "createApiToken", "token", || post(session::create_token)),
        w(M::DELETE, "/api/v1/auth/tokens/{id}", Session, "revokeApiToken", "token", || delete(session::revoke_token)),
        r(M::GET, "/api/v1/users", Action(A::PrivilegeGet), || get(users::list)),
        w(M::POST, "/api/v1/users", Action(A::PrivilegeOperate), "addUser", "user", || post(users::create)),
        r(M::GET, "/api/v1/users/{id}", Action(A::PrivilegeGet), || get(users::get_one)),
        w(M::PATCH, "/api/v1/users/{id}", Action(A::PrivilegeOperate), "modifyUser", "user", || patch(users::update)),
        warn(w(M::DELETE, "/api/v1/users/{id}", Action(A::PrivilegeOperate), "deleteUser", "user", || {
            delete(users::remove)
        })),
        r(M::GET, "/api/v1/groups", Action(A::PrivilegeGet), || get(groups::list)),
        w(M::POST, "/api/v1/groups", Action(A::PrivilegeOperate), "addGroup", "group", || post(groups::create)),
        r(M::GET, "/api/v1/groups/{id}", Action(A::PrivilegeGet), || get(groups::get_one)),
        w(M::DELETE, "/api/v1/groups/{id}", Action(A::PrivilegeOperate), "deleteGroup", "group", || {
            delete(groups::remove)
        }),
        w(
            M::PUT,
            "/api/v1/groups/{id}/members/{user_id}",
            Action(A::PrivilegeOperate),
            "addGroupMember",
            "group",
            || put(groups::add_member),
        ),
        w(
            M::DELETE,
            "/api/v1/groups/{id}/members/{user_id}",
            Action(A::PrivilegeOperate),
            "removeGroupMember",
            "group",
            || delete(groups::remove_member),
        ),
        r(M::GET, "/api/v1/iam/policies", Action(A::PrivilegeGet), || get(iam_policies::list)),
        w(
            M::POST,
            "/api/v1/iam/policies",
            Action(A::PrivilegeOperate),
            "addPermissionPolicy",
            "permissionPolicy",
            || post(iam_policies::create),
        ),
        r(M::GET, "/api/v1/iam/policies/{id}", Action(A::PrivilegeGet), || get(iam_policies::get_one)),
        w(
            M::PUT,
            "/api/v1/iam/policies/{id}",
            Action(A::PrivilegeOperate),
            "modifyPermissionPolicy",
            "permissionPolicy",
            || put(iam_policies::update),
        ),
        warn(w(
            M::DELETE,
            "/api/v1/iam/policies/{id}",
            Action(A::PrivilegeOperate),
            "deletePermissionPolicy",
            "permissionPolicy",
            || delete(iam_policies::remove),
        )),
        w(
            M::POST,
            "/api/v1/iam/policies/{id}/attach",
            Action(A::PrivilegeOperate),
            "attachPermissionPolicy",
            "permissionPolicy",
            || post(iam_policies::attach),
        ),
        w(
            M::POST,
            "/api/v1/iam/policies/{id}/detach",
            Action(A::PrivilegeOperate),
            "detachPermissionPolicy",
            "permissionPolicy",
            || post(iam_policies::detach),
        ),
        r(M::GET, "/api/v1/authorization", Action(A::PrivilegeGet), || get(authorization::get_one)),
        w(M::PUT, "/api/v1/authorization", Action(A::PrivilegeOperate), "registerCgsAgency", "authorization", || {
            put(authorization::grant)
        }),
        warn(w(
            M::DELETE,
            "/api/v1/authorization",
            Action(A::PrivilegeOperate),
            "cancelCgsAgency",
            "authorization",
            || delete(authorization::revoke),
        )),
        r(M::GET, "/api/v1/audit/records", Action(A::PrivilegeGet), || get(audit_log::list)),
        r(M::GET, "/api/v1/audit/export", Action(A::PrivilegeGet), || get(audit_log::export)),
        r(M::GET, "/api/v1/policies", Action(A::ConfigurationList), || get(policies::list)),
        w(M::POST, "/api/v1/policies", Action(A::ConfigurationOperate), "addPolicy", "policy", || {
            post(policies::create)
        }),
        r(M::GET, "/api/v1/policies/{id}", Action(A::ConfigurationList), || get(policies::get_one)),
        w(M::PUT, "/api/v1/policies/{id}", Action(A::ConfigurationOperate), "modifyPolicy", "policy", || {
            put(policies::update)
        }),
        warn(w(M::DELETE, "/api/v1/policies/{id}", Action(A::ConfigurationOperate), "deletePolicy", "policy", || {
            delete(policies::remove)
        })),
        w(
            M::POST,
            "/api/v1/policies/{id}/images/apply",
            Action(A::ConfigurationOperate),
            "imageApplyPolicy",
            "policy",
            || post(policies::apply_images),
        ),
        w(
            M::POST,
            "/api/v1/policies/{id}/images/cancel",
            Action(A::ConfigurationOperate),
            "imageCancelPolicy",
            "policy",
            || post(policies::cancel_images),
        ),
        r(M::GET, "/api/v1/clusters", Action(A::ClusterList), || get(clusters::list)),
        w(M::POST, "/api/v1/clusters", Action(A::ClusterOperate), "addCluster", "cluster", || post(clusters::create)),
        r(M::GET, "/api/v1/clusters/{id}", Action(A::ClusterList), || get(clusters::get_one)),
        warn(w(M::DELETE, "/api/v1/clusters/{id}", Action(A::ClusterOperate), "deleteCluster", "cluster", || {
            delete(clusters::remove)
        })),
        w(
            M::POST,
            "/api/v1/clusters/{id}/protection/open",
            Action(A::ClusterOperate),
            "openClusterProtect",
            "cluster",
            || post(clusters::open_protection),
        ),
        warn(w(
            M::POST,
            "/api/v1/clusters/{id}/protection/close",
            Action(A::ClusterOperate),
            "closeClusterProtect",
            "cluster",
            || post(clusters::close_protection),
        )),
        r(M::GET, "/api/v1/clusters/{id}/nodes", Action(A::ClusterList), || get(clusters::nodes)),
        r(M::GET, "/api/v1/clusters/{id}/enrolment-tokens", Action(A::ClusterList), || get(enrolment::list)),
        w(
            M::POST,
            "/api/v1/clusters/{id}/enrolment-tokens",
            Action(A::ClusterOperate),
            "createEnrolmentToken",
            "cluster",
            || post(enrolment::create),
        ),
        warn(w(
            M::DELETE,
            "/api/v1/clusters/{id}/enrolment-tokens/{token_id}",
            Action(A::ClusterOperate),
            "revokeEnrolmentToken",
            "cluster",
            || delete(enrolment::revoke),
        )),
        r(M::GET, "/api/v1/nodes", Action(A::ClusterList), || get(clusters::all_nodes)),
        warn(w(M::POST, "/api/v1/nodes/{id}/reenrol", Action(A::ClusterOperate), "allowNodeReenrol", "node", || {
            post(clusters::allow_reenrol)
        })),
        r(M::GET, "/api/v1/protection/summary", Action(A::QuotaGet), || get(quotas::summary)),
        r(M::GET, "/api/v1/quotas", Action(A::QuotaList), || get(quotas::list)),
        w(M::POST, "/api/v1/quotas", Action(A::QuotaOperate), "purchaseQuota", "quota", || post(quotas::purchase)),
        r(M::GET, "/api/v1/quotas/{id}", Action(A::QuotaGet), || get(quotas::get_one)),
        w(M::POST, "/api/v1/quotas/{id}/renew", Action(A::QuotaOperate), "renewQuota", "quota", || post(quotas::renew)),
        warn(w(M::DELETE, "/api/v1/quotas/{id}", Action(A::QuotaOperate), "unsubscribeQuota", "quota", || {
            delete(quotas::unsubscribe)
        })),
        r(M::GET, "/api/v1/vulnerabilities", Action(A::ImageSecureList), || get(vulnerabilities::list)),
        r(M::GET, "/api/v1/vulnerabilities/summary", Action(A::ImageSecureList), || get(vulnerabilities::summary)),
        r(M::GET, "/api/v1/vulnerabilities/vex", Action(A::ImageSecureList), || get(vulnerabilities::vex_export)),
        w(
            M::POST,
            "/api/v1/vulnerabilities/vex",
            Action(A::ImageSecureOperate),
            "importVulIgnores",
            "vulnerability",
            || post(vulnerabilities::vex_import),
        ),
        r(M::GET, "/api/v1/vulnerabilities/{id}/ignores", Action(A::ImageSecureGet), || {
            get(vulnerabilities::decisions)
        }),
        r(M::GET, "/api/v1/vulnerabilities/{id}", Action(A::ImageSecureGet), || get(vulnerabilities::get_one)),
        r(M::GET, "/api/v1/malware", Action(A::ImageSecureList), || get(detections::malware)),
        r(M::GET, "/api/v1/baseline", Action(A::ImageSecureList), || get(detections::baseline)),
        r(M::GET, "/api/v1/baseline/{id}", Action(A::ImageSecureGet), || get(detections::baseline_check)),
        w_image(
            M::POST,
            "/api/v1/vulnerabilities/{id}/ignore",
            Action(A::ImageSecureOperate),
            ("ignoreVul", "ignoreImageVul"),
            || post(vulnerabilities::ignore),
        ),
        w_image(
            M::POST,
            "/api/v1/vulnerabilities/{id}/unignore",
            Action(A::ImageSecureOperate),
            ("cancelIgnoreVul", "cancelIgnoreImageVul"),
            || post(vulnerabilities::unignore),
        ),
        r(M::GET, "/api/v1/registries", Action(A::ImagesList), || get(registries::list)),
        w(M::POST, "/api/v1/registries", Action(A::ImagesOperate), "addRegistry", "registry", || {
            post(registries::create)
        }),
        r(M::GET, "/api/v1/registries/{id}", Action(A::ImagesGet), || get(registries::get_one)),
        w(M::PUT, "/api/v1/registries/{id}", Action(A::ImagesOperate), "modifyRegistry", "registry", || {
            put(registries::update)
        }),
        warn(w(M::DELETE, "/api/v1/registries/{id}", Action(A::ImagesOperate), "deleteRegistry", "registry", || {
            delete(registries::remove)
        })),
        w(M::POST, "/api/v1/registries/{id}/test", Action(A::ImagesOperate), "testRegistry", "registry", || {
            post(registries::test)
        }),
        w(M::POST, "/api/v1/registries/{id}/sync", Action(A::ImagesOperate), "syncSwrPrivateImage", "registry", || {
            post(registries::sync)
        }),
        r(M::GET, "/api/v1/images", Action(A::ImagesList), || get(images::list)),
        r(M::GET, "/api/v1/images/{id}", Action(A::ImagesGet), || get(images::get_one)),
        w(M::POST, "/api/v1/images/{id}/scan", Action(A::ImagesOperate), "scanPrivateImage", "image", || {
            post(images::scan)
        }),
        r(M::GET, "/api/v1/images/{id}/report", Action(A::ImagesGet), || get(images::report)),
        r(M::GET, "/api/v1/images/{id}/sbom", Action(A::ImagesGet), || get(images::sbom)),
        r(M::GET, "/api/v1/jobs", Action(A::ImagesList), || get(jobs::list)),
        r(M::GET, "/api/v1/jobs/{id}", Action(A::ImagesGet), || get(jobs::get_one)),
        w(M::POST, "/api/v1/jobs/{id}/cancel", Action(A::ImagesOperate), "cancelJob", "job", || post(jobs::cancel)),
        r(M::GET, "/api/v1/runtime/events", Action(A::RuntimeSecureList), || get(events::list)),
        r(M::GET, "/api/v1/runtime/events/{id}", Action(A::RuntimeSecureGet), || get(events::get_one)),
        w(M::POST, "/api/v1/shield/enrol", Public, "registerShield", "node", || post(shield::enrol)),
        r(M::POST, "/api/v1/shield/heartbeat", Node, || post(shield::heartbeat)),
        r(M::GET, "/api/v1/shield/policies", Node, || get(shield::policies)),
        r(M::POST, "/api/v1/shield/events", Node, || post(shield::ingest)),
        r(M::POST, "/api/v1/shield/scans", Node, || post(shield::upload_scan)),
    ]
}

/// The route-to-permission table of `docs/permissions.md` (a test keeps them equal).
pub fn permissions_table() -> String {
    let mut out = String::from("| Method | Path | Guard | Audit event |\n|---|---|---|---|\n");
    for r in all() {
        let event = r.audit.map_or("-".to_string(), |a| match a.image_event {
            Some(e) => format!("`{}`, with `image_id` `{e}`", a.event),
            None => format!("`{}`", a.event),
        });
        out.push_str(&format!("| {} | `{}` | `{}` | {} |\n", r.method, r.path, r.guard.label(), event));
    }
    out
}

/// The route a request matched.
pub fn find<'a>(routes: &'a [Route], method: &Method, path: &str) -> Option<&'a Route> {
    routes.iter().find(|r| r.method == *method && r.path == path)
}

/// The application: every route behind the guard middleware.
pub fn router(state: AppState) -> Router {
    let mut router: Router<AppState> = Router::new();
    for route in all() {
        router = router.route(route.path, (route.handler)());
    }
    router
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .fallback(|| async { ApiError::NotFound("no such API route".into()) })
        .method_not_allowed_fallback(|| async {
            crate::error::problem_response(&api::Problem {
                kind: "about:blank".into(),
                title: "Method Not Allowed".into(),
                status: 405,
                code: "method_not_allowed".into(),
                detail: Some("the route does not take this method".into()),
                field: None,
                action: None,
            })
        })
        .with_state(state)
}

/// Authenticates and authorises the caller for the matched route, then, for routes that
/// change state, writes the audit record of the attempt whatever its outcome.
async fn guard(State(state): State<AppState>, matched: MatchedPath, req: Request, next: Next) -> Response {
    let Some(route) = find(&ROUTES, req.method(), matched.as_str()).cloned() else {
        return ApiError::NotFound("no such API route".into()).into_response();
    };
    let path = req.uri().path().to_string();
    let caller = authenticate(&state, route.guard, req.headers()).await;
    let checked = match &caller {
        Ok(c) => permit(c, route.guard, req.method(), req.headers()),
        Err(_) => Ok(()),
    };
    let client = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let Some(spec) = route.audit else {
        return match (caller, checked) {
            (Ok(caller), Ok(())) => {
                let mut req = req;
                req.extensions_mut().insert(caller);
                req.extensions_mut().insert(crate::throttle::ClientAddr(client));
                next.run(req).await
            }
            (Err(e), _) | (_, Err(e)) => e.into_response(),
        };
    };
    let caller = match caller {
        Ok(caller) => caller,
        Err(e) => {
            // No valid credential: a compact record (the body is not even read), and at
            // most so many a minute per route.
            let refused =
                audit::Refused { spec, method: route.method.as_str(), route_path: route.path, path: &path, client };
            audit::refused_unauthenticated(&state, refused, &e).await;
            return e.into_response();
        }
    };
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return ApiError::TooLarge(format!("request bodies are limited to {MAX_BODY} bytes")).into_response(),
    };
    let attempt = audit::Attempt { spec, route_path: route.path, path: &path, caller: &caller, client };
    if let Err(e) = checked {
        return audit::finish(&state, attempt, &bytes, e.into_response(), None).await;
    }
    // Fail closed: the attempt is on record before the handler can change anything, and
    // the handler does not run when it cannot be recorded.
    let attempt_id = match audit::record_attempt(&state, &attempt, &bytes).await {
        Ok(id) => id,
        Err(e) => return e.into_response(),
    };
    let mut req = Request::from_parts(parts, Body::from(bytes.clone()));
    req.extensions_mut().insert(caller.clone());
    req.extensions_mut().insert(crate::throttle::ClientAddr(client));
    let resp = next.run(req).await;
    audit::finish(&state, attempt, &bytes, resp, Some(&attempt_id)).await
}

/// Whether an authenticated caller may use a route with this guard. A change made with
/// the console's cookie must carry the session's CSRF token.
fn permit(caller: &Caller, guard: Guard, method: &Method, headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if let Caller::User(user) = caller
        && user.via_cookie
        && !safe
        && !auth::csrf_ok(headers, user)
    {
        return Err(ApiError::Csrf);
    }
    match (guard, caller) {
        (Guard::Action(action), Caller::User(user)) if !user.allows(action) => Err(ApiError::Forbidden(
            format!("this operation needs the permission {action}"),
            Some(action.as_str().into()),
        )),
        (Guard::Session, Caller::User(user)) if user.kind != store::TokenKind::Session => {
            Err(ApiError::Forbidden("an API token cannot make or revoke API tokens: sign in".into(), None))
        }
        _ => Ok(()),
    }
}

/// Who is calling, as far as the guard needs to know. A user is identified by a bearer
/// token or, for the console, by the session cookie.
async fn authenticate(state: &AppState, guard: Guard, headers: &axum::http::HeaderMap) -> Result<Caller, ApiError> {
    let bearer = auth::bearer(headers);
    match guard {
        Guard::Public => Ok(Caller::Anonymous),
        Guard::Node => {
            let token = bearer.ok_or_else(|| ApiError::Unauthenticated("a node credential is required".into()))?;
            Ok(Caller::Node(Box::new(auth::node_from_token(state.store.as_ref(), token).await?)))
        }
        Guard::SignedIn | Guard::Session | Guard::Action(_) => {
            let cookie = if bearer.is_none() { auth::session_cookie(headers) } else { None };
            let token = bearer.or(cookie).ok_or_else(|| {
                ApiError::Unauthenticated("sign in: POST /api/v1/auth/login, then send Authorization: Bearer …".into())
            })?;
            let mut user = auth::user_from_token(state.store.as_ref(), token).await?;
            user.via_cookie = cookie.is_some();
            Ok(Caller::User(Box::new(user)))
        }
    }
}
