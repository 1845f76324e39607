//! Kubeconfigs the server refuses, and what the refusals say.

use k8s::{Kubeconfig, KubeconfigError, MAX_KUBECONFIG_BYTES, MAX_YAML_FLOW_BRACKETS};

use crate::common::{CERT_PEM, KEY_PEM, b64, kubeconfig};

/// Parses and resolves the current context; returns the error.
fn refusal(text: &str) -> KubeconfigError {
    match Kubeconfig::parse(text) {
        Err(e) => e,
        Ok(config) => config.target(None).expect_err("the kubeconfig must be refused"),
    }
}

fn user_refusal(user_fields: &[&str]) -> KubeconfigError {
    refusal(&kubeconfig(&["server: https://k"], user_fields))
}

const FLATTEN: &str = "kubectl config view --raw --flatten";

#[test]
fn file_references_are_refused_with_the_way_to_embed_them() {
    let ca = refusal(&kubeconfig(&["server: https://k", "certificate-authority: /etc/kubernetes/pki/ca.crt"], &[]));
    assert!(matches!(&ca, KubeconfigError::FileReference { field: "certificate-authority", .. }), "{ca:?}");
    let message = ca.to_string();
    assert!(message.contains("cluster \"c\"") && message.contains("/etc/kubernetes/pki/ca.crt"), "{message}");
    assert!(message.contains(FLATTEN), "{message}");

    let key = format!("client-key-data: {}", b64(KEY_PEM.as_bytes()));
    let cert = user_refusal(&["client-certificate: /home/me/.minikube/client.crt", &key]);
    assert!(matches!(&cert, KubeconfigError::FileReference { field: "client-certificate", .. }), "{cert:?}");
    assert!(cert.to_string().contains(FLATTEN));

    let cert_data = format!("client-certificate-data: {}", b64(CERT_PEM.as_bytes()));
    let key = user_refusal(&[&cert_data, "client-key: /home/me/.minikube/client.key"]);
    assert!(matches!(&key, KubeconfigError::FileReference { field: "client-key", .. }), "{key:?}");
    assert!(key.to_string().contains("user \"u\""));
}

#[test]
fn a_token_file_is_refused() {
    let e = user_refusal(&["tokenFile: /var/run/secrets/token"]);
    assert!(matches!(e, KubeconfigError::TokenFile { .. }), "{e:?}");
    let message = e.to_string();
    assert!(message.contains("/var/run/secrets/token") && message.contains("`token`"), "{message}");
    // Even beside a token: `kubectl` would read the file, not the token.
    assert!(matches!(user_refusal(&["token: t", "tokenFile: /t"]), KubeconfigError::TokenFile { .. }));
}

#[test]
fn exec_plugins_are_refused_by_name() {
    let e = user_refusal(&[
        "exec:",
        "  apiVersion: client.authentication.k8s.io/v1beta1",
        "  command: aws",
        "  args: [eks, get-token, --cluster-name, prod]",
    ]);
    assert_eq!(e, KubeconfigError::ExecPlugin { user: "u".into(), command: "aws".into() });
    let message = e.to_string();
    assert!(message.contains("exec plugin `aws`") && message.contains("ServiceAccount token"), "{message}");
    assert!(!message.contains("prod"), "the plugin's arguments are not repeated: {message}");

    let e = user_refusal(&["exec: {apiVersion: client.authentication.k8s.io/v1}"]);
    assert_eq!(e, KubeconfigError::ExecPlugin { user: "u".into(), command: "(no command)".into() });
}

#[test]
fn auth_providers_are_refused_by_name() {
    let e = user_refusal(&["auth-provider:", "  name: oidc", "  config: {client-secret: hush, id-token: abc}"]);
    assert_eq!(e, KubeconfigError::AuthProvider { user: "u".into(), provider: "oidc".into() });
    let message = e.to_string();
    assert!(message.contains("auth-provider `oidc`"), "{message}");
    assert!(!message.contains("hush"), "{message}");
}

#[test]
fn missing_context_cluster_and_user() {
    let config = Kubeconfig::parse(&kubeconfig(&["server: https://k"], &["token: t"])).unwrap();
    let e = config.target(Some("prod")).unwrap_err();
    assert_eq!(e, KubeconfigError::MissingContext { name: "prod".into(), available: vec!["ctx".into()] });
    assert_eq!(e.to_string(), "the kubeconfig has no context named \"prod\"; its contexts: \"ctx\"");

    let no_current = "clusters: []\ncontexts: [{name: a, context: {cluster: c}}]\nusers: []\n";
    let e = refusal(no_current);
    assert_eq!(e, KubeconfigError::NoCurrentContext { available: vec!["a".into()] });
    assert!(e.to_string().contains("\"a\""));

    let current_missing = "current-context: gone\ncontexts: []\n";
    assert!(matches!(refusal(current_missing), KubeconfigError::MissingContext { .. }));

    let no_cluster =
        "current-context: x\ncontexts: [{name: x, context: {cluster: nowhere, user: u}}]\nusers: [{name: u, user: {}}]";
    let e = refusal(no_cluster);
    assert_eq!(e, KubeconfigError::MissingCluster { context: "x".into(), name: "nowhere".into() });

    let no_user = "current-context: x\ncontexts: [{name: x, context: {cluster: c, user: nobody}}]\nclusters: [{name: c, cluster: {server: 'https://k'}}]";
    let e = refusal(no_user);
    assert_eq!(e, KubeconfigError::MissingUser { context: "x".into(), name: "nobody".into() });
    assert!(e.to_string().contains("user \"nobody\""));

    let cluster_unset = "current-context: x\ncontexts: [{name: x, context: {user: u}}]";
    assert!(refusal(cluster_unset).to_string().contains("`cluster` must be set"));

    assert_eq!(
        refusal(&kubeconfig(&["insecure-skip-tls-verify: true"], &[])),
        KubeconfigError::MissingServer { cluster: "c".into() }
    );
}

#[test]
fn server_urls_that_are_refused() {
    for (server, expected) in [
        ("http://10.0.0.1:6443", "must use https"),
        ("http://k8s.example", "must use https"),
        // Not even to this machine: `http://` is refused whatever the host.
        ("http://127.0.0.1:8080", "must use https: `http://` is refused"),
        ("http://localhost:8001", "must use https"),
        ("http://[::1]:8080", "must use https"),
        ("ftp://k8s.example", "scheme `ftp`"),
        ("k8s.example:6443", "scheme"),
        ("https://admin:pw@k8s.example", "user name or password"),
        ("https://k8s.example/?x=1", "query"),
        ("not a url", "not a URL"),
    ] {
        let e = refusal(&kubeconfig(&[&format!("server: \"{server}\"")], &[]));
        assert!(matches!(e, KubeconfigError::InvalidServer { .. }), "{server}: {e:?}");
        assert!(e.to_string().contains(expected), "{server}: {e}");
    }
}

#[test]
fn garbage_is_refused() {
    assert_eq!(Kubeconfig::parse(""), Err(KubeconfigError::Empty));
    assert_eq!(Kubeconfig::parse(" \n\t\n"), Err(KubeconfigError::Empty));
    for text in ["clusters: [", "a: b: c", "{\"clusters\": [}", "key: \"unterminated", "\t- x\n  y: [", "{]"] {
        let e = Kubeconfig::parse(text).unwrap_err();
        assert!(matches!(e, KubeconfigError::Syntax { .. }), "{text:?}: {e:?}");
    }
    let e = Kubeconfig::parse("{\"clusters\": [}").unwrap_err();
    assert!(e.to_string().starts_with("the kubeconfig is not valid JSON"), "{e}");
    for text in ["- a\n- b\n", "just some words", "42", "null", "[1, 2]", "~"] {
        assert_eq!(Kubeconfig::parse(text), Err(KubeconfigError::NotAMapping), "{text:?}");
    }
    let e = Kubeconfig::parse("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n").unwrap_err();
    assert_eq!(e, KubeconfigError::NotAKubeconfig { kind: "Pod".into() });
    let e = Kubeconfig::parse("---\nkind: Config\n---\nkind: Config\n").unwrap_err();
    assert!(matches!(e, KubeconfigError::Syntax { .. }), "two documents: {e:?}");
}

#[test]
fn huge_input_is_refused_before_parsing() {
    let huge = format!("clusters:\n{}", "  - name: x\n    cluster: {server: 'https://k'}\n".repeat(30_000));
    assert!(huge.len() > MAX_KUBECONFIG_BYTES);
    assert_eq!(
        Kubeconfig::parse(&huge),
        Err(KubeconfigError::TooLarge { bytes: huge.len(), max: MAX_KUBECONFIG_BYTES })
    );

    // Deep nesting and alias bombs just below the size limit end in errors, quickly.
    let started = std::time::Instant::now();
    let deep = format!("a: {}{}", "[".repeat(400_000), "]".repeat(400_000));
    let e = Kubeconfig::parse(&deep).unwrap_err();
    assert!(e.to_string().contains(&format!("at most {MAX_YAML_FLOW_BRACKETS} are parsed")), "{e}");
    let limit = MAX_YAML_FLOW_BRACKETS;
    let deep = format!("a: {}{}", "[".repeat(limit), "]".repeat(limit));
    assert!(Kubeconfig::parse(&deep).is_err(), "too deep for the deserializer");
    let deep_json = format!("{{\"a\": {}{}}}", "[".repeat(400_000), "]".repeat(400_000));
    assert!(Kubeconfig::parse(&deep_json).is_err());
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
    for i in 0..20 {
        let prev = if i == 0 { "a".to_owned() } else { format!("b{}", i - 1) };
        bomb.push_str(&format!(
            "b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    assert!(Kubeconfig::parse(&bomb).is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "{:?}", started.elapsed());
}

#[test]
fn structure_errors_name_the_field() {
    let e = refusal("clusters: {name: c}");
    assert_eq!(e.to_string(), "the kubeconfig: `clusters` must be a list");
    let e = refusal("users: [{user: {token: t}}]");
    assert_eq!(e.to_string(), "users[0]: `name` must be a non-empty string");
    let e = refusal("contexts: [{name: x, context: [a]}]");
    assert_eq!(e.to_string(), "contexts[0]: `context` must be a mapping");
    let e = refusal("users: [17]");
    assert_eq!(e.to_string(), "users[0]: `user` must be a mapping");
    let e = refusal(&kubeconfig(&["server: https://k", "insecure-skip-tls-verify: \"yes\""], &[]));
    assert_eq!(e.to_string(), "cluster \"c\": `insecure-skip-tls-verify` must be true or false");
    let e = refusal(&kubeconfig(&["server: [https://k]"], &[]));
    assert_eq!(e.to_string(), "cluster \"c\": `server` must be a string");
    let e = refusal("current-context: {a: b}");
    assert_eq!(e.to_string(), "the kubeconfig: `current-context` must be a string");
}

#[test]
fn wrong_types_never_quote_the_value() {
    let e = user_refusal(&["token: [s3cr3t-value]"]);
    assert_eq!(e.to_string(), "user \"u\": `token` must be a string");
    let e = user_refusal(&["password: {p: s3cr3t-value}", "username: me"]);
    assert!(!e.to_string().contains("s3cr3t"), "{e}");
}

#[test]
fn duplicate_names_are_refused() {
    let text = "clusters:\n- {name: c, cluster: {server: 'https://a'}}\n- {name: c, cluster: {server: 'https://b'}}\n";
    assert_eq!(refusal(text), KubeconfigError::Duplicate { what: "clusters", name: "c".into() });
}

#[test]
fn embedded_data_must_be_base64_of_pem() {
    let e = refusal(&kubeconfig(&["server: https://k", "certificate-authority-data: '%%% not base64'"], &[]));
    assert!(matches!(e, KubeconfigError::InvalidBase64 { field: "certificate-authority-data", .. }), "{e:?}");
    let e =
        refusal(&kubeconfig(&["server: https://k", &format!("certificate-authority-data: {}", b64(b"hello"))], &[]));
    assert_eq!(e.to_string(), "cluster \"c\": `certificate-authority-data` does not hold a PEM CERTIFICATE");
    // A key where the certificate belongs, and the reverse.
    let e = user_refusal(&[
        &format!("client-certificate-data: {}", b64(KEY_PEM.as_bytes())),
        &format!("client-key-data: {}", b64(KEY_PEM.as_bytes())),
    ]);
    assert!(matches!(e, KubeconfigError::NotPem { field: "client-certificate-data", .. }), "{e:?}");
    let e = user_refusal(&[
        &format!("client-certificate-data: {}", b64(CERT_PEM.as_bytes())),
        &format!("client-key-data: {}", b64(CERT_PEM.as_bytes())),
    ]);
    assert!(matches!(e, KubeconfigError::NotPem { field: "client-key-data", expected: "PRIVATE KEY", .. }), "{e:?}");
}

#[test]
fn incomplete_and_mixed_credentials() {
    let cert = format!("client-certificate-data: {}", b64(CERT_PEM.as_bytes()));
    let key = format!("client-key-data: {}", b64(KEY_PEM.as_bytes()));
    let e = user_refusal(&[&cert]);
    assert_eq!(e.to_string(), "user \"u\" has `client-certificate-data` without `client-key-data`");
    let e = user_refusal(&[&key]);
    assert_eq!(e.to_string(), "user \"u\" has `client-key-data` without `client-certificate-data`");
    assert_eq!(user_refusal(&["username: me"]).to_string(), "user \"u\" has `username` without `password`");
    assert_eq!(user_refusal(&["password: pw"]).to_string(), "user \"u\" has `password` without `username`");
    let e = user_refusal(&[&cert, &key, "token: t"]);
    assert_eq!(
        e,
        KubeconfigError::MultipleCredentials { user: "u".into(), kinds: vec!["client certificate", "token"] }
    );
    let e = user_refusal(&["token: t", "username: me", "password: pw"]);
    assert_eq!(
        e.to_string(),
        "user \"u\" has more than one kind of credential (token, username and password); keep one"
    );
}

#[test]
fn settings_the_server_cannot_honour() {
    let ca = format!("certificate-authority-data: {}", b64(CERT_PEM.as_bytes()));
    let e = refusal(&kubeconfig(&["server: https://k", &ca, "insecure-skip-tls-verify: true"], &[]));
    assert_eq!(e, KubeconfigError::InsecureWithCa { cluster: "c".into() });
    for field in ["proxy-url: http://proxy:3128", "tls-server-name: kubernetes.default"] {
        let e = refusal(&kubeconfig(&["server: https://k", field], &[]));
        assert!(matches!(e, KubeconfigError::Unsupported { .. }), "{field}: {e:?}");
        assert!(e.to_string().contains(field.split(':').next().unwrap()), "{e}");
    }
    for field in ["as: admin", "as-groups: [system:masters]", "as-uid: \"1\""] {
        let e = user_refusal(&["token: t", field]);
        assert!(matches!(e, KubeconfigError::Unsupported { .. }), "{field}: {e:?}");
    }
}

#[test]
fn long_and_odd_names_are_shortened_in_messages() {
    let text = format!("current-context: \"\\a{}\"\ncontexts: []\n", "n".repeat(10_000));
    let message = refusal(&text).to_string();
    assert!(message.len() < 300, "{} bytes", message.len());
    assert!(!message.contains('\u{7}'));
}
