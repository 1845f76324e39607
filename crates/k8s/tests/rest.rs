//! The requests the client sends, and how answers are read, without an API server.

use k8s::K8sError;
use k8s::rest::{
    APPLY_PATCH_CONTENT_TYPE, FIELD_MANAGER, Method, apply_request, delete_shield_requests, parse_version, refusal,
    resource_path, version_request,
};
use serde_json::json;

#[test]
fn rest_paths_of_the_shield_kinds() {
    let ns = Some("cguard-system");
    assert_eq!(resource_path("v1", "Namespace", None, "cguard-system").unwrap(), "/api/v1/namespaces/cguard-system");
    assert_eq!(
        resource_path("v1", "Namespace", Some("ignored"), "cguard-system").unwrap(),
        "/api/v1/namespaces/cguard-system",
        "a cluster-scoped kind ignores the namespace"
    );
    assert_eq!(
        resource_path("v1", "ServiceAccount", ns, "cguard-shield").unwrap(),
        "/api/v1/namespaces/cguard-system/serviceaccounts/cguard-shield"
    );
    assert_eq!(
        resource_path("v1", "Secret", ns, "cguard-shield-enrolment").unwrap(),
        "/api/v1/namespaces/cguard-system/secrets/cguard-shield-enrolment"
    );
    assert_eq!(
        resource_path("apps/v1", "DaemonSet", ns, "cguard-shield").unwrap(),
        "/apis/apps/v1/namespaces/cguard-system/daemonsets/cguard-shield"
    );
    assert_eq!(
        resource_path("rbac.authorization.k8s.io/v1", "ClusterRole", None, "cguard.view").unwrap(),
        "/apis/rbac.authorization.k8s.io/v1/clusterroles/cguard.view"
    );
}

#[test]
fn rest_paths_refuse_what_would_change_their_shape() {
    let cases: &[(&str, &str, Option<&str>, &str, &str)] = &[
        ("v1", "Secret", Some("ns"), "../../namespaces/kube-system/secrets/x", "not a valid name"),
        ("v1", "Secret", Some("ns"), "a/b", "not a valid name"),
        ("v1", "Secret", Some("ns"), "a?b=c", "not a valid name"),
        ("v1", "Secret", Some("ns"), "Upper", "not a valid name"),
        ("v1", "Secret", Some("ns"), "", "not a valid name"),
        ("v1", "Secret", Some("ns"), "-a", "not a valid name"),
        ("v1", "Secret", Some("ns"), "a..b", "not a valid name"),
        ("v1", "Secret", Some("ns"), &"a".repeat(254), "not a valid name"),
        ("v1", "Secret", Some("a.b"), "x", "DNS label"),
        ("v1", "Secret", Some(&"n".repeat(64)), "x", "DNS label"),
        ("v1", "Secret", None, "x", "has no metadata.namespace"),
        ("v1", "Namespace", None, "a.b", "DNS label"),
        ("v1", "Pod", Some("ns"), "x", "is not one this client applies"),
        ("apps/v1beta2", "DaemonSet", Some("ns"), "x", "is not one this client applies"),
    ];
    for (api_version, kind, namespace, name, expected) in cases {
        let e = resource_path(api_version, kind, *namespace, name).unwrap_err();
        assert!(matches!(e, K8sError::InvalidObject { .. }), "{kind} {name}: {e:?}");
        assert!(e.to_string().contains(expected), "{kind} {name:.40}: {e}");
    }
    assert!(resource_path("v1", "Secret", Some("ns"), &"a".repeat(253)).is_ok());
    assert!(resource_path("v1", "Secret", Some(&"n".repeat(63)), "a.b-c").is_ok());
}

#[test]
fn apply_is_a_forced_server_side_apply() {
    let object = json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "cguard-shield", "namespace": "sec"},
        "spec": {"template": {"spec": {"hostPID": true}}}
    });
    let request = apply_request(&object).unwrap();
    assert_eq!(request.method, Method::Patch);
    assert_eq!(request.path, "/apis/apps/v1/namespaces/sec/daemonsets/cguard-shield");
    assert_eq!(
        request.path_and_query(),
        "/apis/apps/v1/namespaces/sec/daemonsets/cguard-shield?fieldManager=cguard&force=true"
    );
    assert_eq!(FIELD_MANAGER, "cguard");
    assert_eq!(request.content_type, Some(APPLY_PATCH_CONTENT_TYPE));
    assert_eq!(APPLY_PATCH_CONTENT_TYPE, "application/apply-patch+yaml");
    let body: serde_json::Value = serde_json::from_slice(request.body.as_deref().unwrap()).unwrap();
    assert_eq!(body, object);
    assert!(!request.not_found_ok);
    assert_eq!(request.describe(), "PATCH /apis/apps/v1/namespaces/sec/daemonsets/cguard-shield");
}

#[test]
fn apply_refuses_incomplete_objects() {
    for (object, expected) in [
        (json!({"kind": "Secret", "metadata": {"name": "x", "namespace": "n"}}), "no apiVersion"),
        (json!({"apiVersion": "v1", "metadata": {"name": "x"}}), "no kind"),
        (json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"namespace": "n"}}), "Secret has no metadata.name"),
        (json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}}), "no metadata.namespace"),
        (json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": 7, "namespace": "n"}}), "no metadata.name"),
        (json!("not an object"), "no apiVersion"),
    ] {
        let e = apply_request(&object).unwrap_err();
        assert!(e.to_string().contains(expected), "{object}: {e}");
    }
}

#[test]
fn a_request_debug_hides_its_body() {
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "n"},
                        "data": {"enrolment-token": "c2VjcmV0LXRva2Vu"}});
    let shown = format!("{:?}", apply_request(&secret).unwrap());
    assert!(!shown.contains("c2VjcmV0LXRva2Vu"), "{shown}");
    assert!(shown.contains("bytes>"), "{shown}");
}

#[test]
fn deleting_the_shield() {
    let requests = delete_shield_requests("sec").unwrap();
    let described: Vec<String> = requests.iter().map(|r| r.path_and_query()).collect();
    assert_eq!(
        described,
        [
            "/apis/apps/v1/namespaces/sec/daemonsets/cguard-shield?propagationPolicy=Background",
            "/api/v1/namespaces/sec/secrets/cguard-shield-enrolment?propagationPolicy=Background",
            "/api/v1/namespaces/sec/serviceaccounts/cguard-shield?propagationPolicy=Background",
        ]
    );
    for request in &requests {
        assert_eq!(request.method, Method::Delete);
        assert!(request.not_found_ok && request.body.is_none() && request.content_type.is_none());
    }
    assert!(delete_shield_requests("../kube-system").is_err());
}

#[test]
fn version_request_and_answer() {
    let request = version_request();
    assert_eq!((request.method, request.path_and_query().as_str()), (Method::Get, "/version"));
    let body = br#"{"major":"1","minor":"30","gitVersion":"v1.30.2","gitCommit":"x","platform":"linux/amd64"}"#;
    let version = parse_version(body).unwrap();
    assert_eq!((version.major.as_str(), version.minor.as_str()), ("1", "30"));
    assert_eq!((version.git_version.as_str(), version.platform.as_str()), ("v1.30.2", "linux/amd64"));
    let e = parse_version(b"<html>Welcome to nginx</html>").unwrap_err();
    assert!(matches!(e, K8sError::UnexpectedAnswer { .. }), "{e:?}");
    assert!(e.to_string().contains("not a Kubernetes version object") && !e.to_string().contains("nginx"), "{e}");
}

#[test]
fn refusals_carry_the_status_reason_and_code_only() {
    let forbidden = br#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
        "message":"daemonsets.apps \"cguard-shield\" is forbidden: User \"viewer\" cannot patch resource \"daemonsets\"",
        "reason":"Forbidden","details":{"name":"cguard-shield","group":"apps","kind":"daemonsets"},"code":403}"#;
    let e = refusal("PATCH /apis/apps/v1/namespaces/x/daemonsets/cguard-shield", 403, forbidden);
    match &e {
        K8sError::Refused { request, status, reason, code } => {
            assert_eq!(request, "PATCH /apis/apps/v1/namespaces/x/daemonsets/cguard-shield");
            assert_eq!((*status, reason.as_deref(), *code), (403, Some("Forbidden"), Some(403)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.to_string(),
        "the Kubernetes API server refused PATCH /apis/apps/v1/namespaces/x/daemonsets/cguard-shield: HTTP 403 \
         Forbidden (reason Forbidden, code 403)"
    );

    let e = refusal("GET /version", 502, format!("<html>\n<body>{}</body></html>", "x".repeat(1000)).as_bytes());
    assert_eq!(e.to_string(), "the Kubernetes API server refused GET /version: HTTP 502 Bad Gateway");
    let e = refusal("GET /version", 401, b"");
    assert_eq!(e.to_string(), "the Kubernetes API server refused GET /version: HTTP 401 Unauthorized");
    let e = refusal("GET /version", 422, br#"{"kind":"Status","reason":"","message":""}"#);
    assert_eq!(e.to_string(), "the Kubernetes API server refused GET /version: HTTP 422 Unprocessable Entity");
}

/// What a remote server sends never reaches an error: not its message, not its body, not a
/// `reason` that is more than a word.
#[test]
fn a_refusal_never_quotes_the_remote_body() {
    const MARKER: &str = "remote-marker-7f3a";
    let bodies = [
        format!(r#"{{"kind":"Status","status":"Failure","message":"{MARKER}","reason":"Forbidden","code":403}}"#),
        format!(r#"{{"kind":"Status","message":"x","reason":"{MARKER}","code":403}}"#),
        format!(r#"{{"kind":"Status","reason":"Bad Reason {MARKER}"}}"#),
        format!("<html><body>{MARKER}</body></html>"),
        format!("{MARKER}\nX-Injected: 1"),
        format!(r#"{{"kind":"NotStatus","message":"{MARKER}"}}"#),
    ];
    for body in bodies {
        let e = refusal("PATCH /api/v1/namespaces/cguard-system", 403, body.as_bytes());
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(MARKER) && !shown.contains("remote-marker"), "{body}: {shown}");
        assert!(e.to_string().contains("HTTP 403 Forbidden"), "{e}");
    }
    let e = parse_version(format!(r#"{{"major": 1, "minor": "{MARKER}"}}"#).as_bytes()).unwrap_err();
    assert!(!format!("{e} {e:?}").contains(MARKER), "{e}");
    let e = parse_version(MARKER.as_bytes()).unwrap_err();
    assert!(!format!("{e} {e:?}").contains(MARKER), "{e}");
}
