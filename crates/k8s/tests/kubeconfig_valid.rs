//! Kubeconfigs the server accepts, and what they resolve to.

use k8s::{Auth, Kubeconfig};

use crate::common::{CERT_PEM, KEY_PEM, b64, kubeconfig};

#[test]
fn bearer_token_with_ca() {
    let ca = format!("certificate-authority-data: {}", b64(CERT_PEM.as_bytes()));
    let text = kubeconfig(&["server: https://10.0.0.1:6443/", &ca], &["token: abc.def-ghi"]);
    let target = Kubeconfig::parse(&text).unwrap().target(None).unwrap();
    assert_eq!(target.context, "ctx");
    assert_eq!(target.cluster, "c");
    assert_eq!(target.user.as_deref(), Some("u"));
    assert_eq!(target.server, "https://10.0.0.1:6443", "the trailing slash is dropped");
    assert_eq!(target.ca_pem.as_deref(), Some(CERT_PEM.as_bytes()));
    assert!(!target.insecure_skip_tls_verify);
    assert_eq!(target.namespace.as_deref(), Some("team"));
    assert_eq!(target.auth, Auth::Bearer { token: "abc.def-ghi".into() });
}

#[test]
fn client_certificate() {
    let text = kubeconfig(
        &["server: https://k8s.example:443"],
        &[
            &format!("client-certificate-data: {}", b64(CERT_PEM.as_bytes())),
            &format!("client-key-data: {}", b64(KEY_PEM.as_bytes())),
        ],
    );
    let target = Kubeconfig::parse(&text).unwrap().target(None).unwrap();
    assert_eq!(target.ca_pem, None, "no CA: the public roots are trusted");
    assert_eq!(
        target.auth,
        Auth::ClientCertificate { certificate_pem: CERT_PEM.as_bytes().to_vec(), key_pem: KEY_PEM.as_bytes().to_vec() }
    );
}

#[test]
fn basic_credentials() {
    let text = kubeconfig(&["server: https://k8s.example"], &["username: admin", "password: \"p@ss: word\""]);
    let target = Kubeconfig::parse(&text).unwrap().target(None).unwrap();
    assert_eq!(target.auth, Auth::Basic { username: "admin".into(), password: "p@ss: word".into() });
}

#[test]
fn a_context_without_user_is_anonymous() {
    let text = "clusters: [{name: c, cluster: {server: 'https://k'}}]\ncontexts: [{name: x, context: {cluster: c}}]\n";
    let config = Kubeconfig::parse(text).unwrap();
    assert_eq!(config.current_context(), None);
    let target = config.target(Some("x")).unwrap();
    assert_eq!(target.auth, Auth::None);
    assert_eq!(target.user, None);
    assert_eq!(target.namespace, None);
}

#[test]
fn a_user_without_credentials_is_anonymous() {
    let text = kubeconfig(&["server: https://k"], &[]);
    assert_eq!(Kubeconfig::parse(&text).unwrap().target(None).unwrap().auth, Auth::None);
}

const MULTI: &str = r#"
apiVersion: v1
kind: Config
preferences: {}
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example:6443
    insecure-skip-tls-verify: true
- name: prod-cluster
  cluster:
    server: https://prod.example:6443
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {audience: x}
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user}
- name: prod
  context: {cluster: prod-cluster, user: prod-user, namespace: shop}
users:
- name: dev-user
  user: {token: dev-token}
- name: prod-user
  user: {token: prod-token}
- name: sso-user
  user:
    exec: {command: aws, args: [eks, get-token], apiVersion: client.authentication.k8s.io/v1beta1}
"#;

#[test]
fn multiple_contexts() {
    let config = Kubeconfig::parse(MULTI).unwrap();
    assert_eq!(config.context_names(), ["dev", "prod"]);
    assert_eq!(config.current_context(), Some("dev"));

    let dev = config.target(None).unwrap();
    assert_eq!(dev.server, "https://dev.example:6443");
    assert!(dev.insecure_skip_tls_verify);
    assert_eq!(dev.auth, Auth::Bearer { token: "dev-token".into() });

    let prod = config.target(Some("prod")).unwrap();
    assert_eq!((prod.context.as_str(), prod.cluster.as_str()), ("prod", "prod-cluster"));
    assert_eq!(prod.server, "https://prod.example:6443");
    assert!(!prod.insecure_skip_tls_verify);
    assert_eq!(prod.namespace.as_deref(), Some("shop"));
    assert_eq!(prod.auth, Auth::Bearer { token: "prod-token".into() });

    // An empty context name means the current one, as `kubectl --context ""` does.
    assert_eq!(config.target(Some("")).unwrap(), dev);
}

#[test]
fn json_form_resolves_like_yaml() {
    let json = r#"{
      "kind": "Config", "apiVersion": "v1", "preferences": {},
      "clusters": [{"name": "dev-cluster", "cluster": {"server": "https://dev.example:6443", "insecure-skip-tls-verify": true}},
                   {"name": "prod-cluster", "cluster": {"server": "https://prod.example:6443"}}],
      "users": [{"name": "dev-user", "user": {"token": "dev-token"}}, {"name": "prod-user", "user": {"token": "prod-token"}}],
      "contexts": [{"name": "dev", "context": {"cluster": "dev-cluster", "user": "dev-user"}},
                   {"name": "prod", "context": {"cluster": "prod-cluster", "user": "prod-user", "namespace": "shop"}}],
      "current-context": "dev"
    }"#;
    let from_json = Kubeconfig::parse(json).unwrap();
    let from_yaml = Kubeconfig::parse(MULTI).unwrap();
    for context in [None, Some("prod")] {
        assert_eq!(from_json.target(context).unwrap(), from_yaml.target(context).unwrap());
    }
}

#[test]
fn embedded_data_wins_over_a_file_named_beside_it() {
    // `kubectl` reads `*-data` first; a leftover path does not matter then.
    let text = kubeconfig(
        &[
            "server: https://k",
            "certificate-authority: /home/me/ca.crt",
            &format!("certificate-authority-data: {}", b64(CERT_PEM.as_bytes())),
        ],
        &[
            "client-certificate: /home/me/me.crt",
            "client-key: /home/me/me.key",
            &format!("client-certificate-data: {}", b64(CERT_PEM.as_bytes())),
            &format!("client-key-data: {}", b64(KEY_PEM.as_bytes())),
        ],
    );
    let target = Kubeconfig::parse(&text).unwrap().target(None).unwrap();
    assert_eq!(target.ca_pem.as_deref(), Some(CERT_PEM.as_bytes()));
    assert!(matches!(target.auth, Auth::ClientCertificate { .. }));
}

#[test]
fn base64_with_line_breaks_and_without_padding() {
    let encoded = b64(CERT_PEM.as_bytes());
    let unpadded = encoded.trim_end_matches('=');
    let folded: String =
        unpadded.as_bytes().chunks(16).map(|c| format!("{}\n        ", std::str::from_utf8(c).unwrap())).collect();
    let text = kubeconfig(&["server: https://k", &format!("certificate-authority-data: >-\n        {folded}")], &[]);
    let target = Kubeconfig::parse(&text).unwrap().target(None).unwrap();
    assert_eq!(target.ca_pem.as_deref(), Some(CERT_PEM.as_bytes()));
}

#[test]
fn a_byte_order_mark_and_surrounding_blank_lines_are_accepted() {
    let text = format!("\u{feff}\n\n{}\n\n", kubeconfig(&["server: https://k"], &["token: t"]));
    assert!(Kubeconfig::parse(&text).unwrap().target(None).is_ok());
}

#[test]
fn debug_output_shows_no_secret() {
    let text = kubeconfig(
        &["server: https://k"],
        &[
            &format!("client-certificate-data: {}", b64(CERT_PEM.as_bytes())),
            &format!("client-key-data: {}", b64(KEY_PEM.as_bytes())),
        ],
    );
    let config = Kubeconfig::parse(&text).unwrap();
    let target = config.target(None).unwrap();
    for shown in [format!("{config:?}"), format!("{target:?}")] {
        assert!(!shown.contains("PRIVATE KEY") && !shown.contains("MHcCAQEE"), "{shown}");
    }
    assert!(format!("{target:?}").contains("<redacted>"));

    let token = Kubeconfig::parse(&kubeconfig(&["server: https://k"], &["token: s3cr3t-t0ken"])).unwrap();
    let basic =
        Kubeconfig::parse(&kubeconfig(&["server: https://k"], &["username: me", "password: s3cr3t-pw"])).unwrap();
    for config in [token, basic] {
        let target = config.target(None).unwrap();
        for shown in [format!("{config:?}"), format!("{target:?}"), format!("{:?}", target.auth)] {
            assert!(!shown.contains("s3cr3t"), "{shown}");
        }
    }
}
