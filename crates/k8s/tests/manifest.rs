//! deploy/kubernetes/cguard-shield.yaml, and the objects `render` makes of it.

use base64::Engine as _;
use k8s::{
    DAEMONSET_NAME, DEFAULT_DOCKER_SOCKET, DEFAULT_NAMESPACE, PLACEHOLDERS, SECRET_NAME, SECRET_TOKEN_KEY,
    SERVICE_ACCOUNT_NAME, SHIELD_MANIFEST, ShieldDeployment, manifest_objects, render,
};
use serde_json::{Value, json};

use crate::common::repo_root;

fn deployment() -> ShieldDeployment {
    ShieldDeployment::new("registry.example/cguard:1.2.3", "https://cguard.example:8443", "c-42", "cgs_e_tok3n")
}

fn daemonset(objects: &[Value]) -> &Value {
    objects.iter().find(|o| o["kind"] == "DaemonSet").expect("a DaemonSet")
}

fn container(objects: &[Value]) -> &Value {
    &daemonset(objects)["spec"]["template"]["spec"]["containers"][0]
}

fn env<'a>(objects: &'a [Value], name: &str) -> &'a Value {
    container(objects)["env"].as_array().unwrap().iter().find(|e| e["name"] == name).unwrap()
}

#[test]
fn the_embedded_manifest_is_the_shipped_file() {
    let on_disk = std::fs::read_to_string(repo_root().join("deploy/kubernetes/cguard-shield.yaml")).unwrap();
    assert_eq!(on_disk, SHIELD_MANIFEST);
}

#[test]
fn the_manifest_holds_the_four_objects_in_order() {
    let objects = manifest_objects();
    let summary: Vec<(&str, &str, &str)> = objects
        .iter()
        .map(|o| {
            (o["kind"].as_str().unwrap(), o["metadata"]["name"].as_str().unwrap(), o["apiVersion"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("Namespace", DEFAULT_NAMESPACE, "v1"),
            ("ServiceAccount", SERVICE_ACCOUNT_NAME, "v1"),
            ("Secret", SECRET_NAME, "v1"),
            ("DaemonSet", DAEMONSET_NAME, "apps/v1"),
        ]
    );
    for object in &objects[1..] {
        assert_eq!(object["metadata"]["namespace"], DEFAULT_NAMESPACE, "{}", object["kind"]);
    }
    assert_eq!(objects[0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "privileged");
    assert_eq!(objects[1]["automountServiceAccountToken"], false);
    assert_eq!(objects[2]["stringData"][SECRET_TOKEN_KEY], "${CGUARD_ENROLMENT_TOKEN}");
}

#[test]
fn every_placeholder_is_documented_at_the_top_and_used() {
    let header: String = SHIELD_MANIFEST.lines().take_while(|l| l.starts_with('#')).collect::<Vec<_>>().join("\n");
    let body: String =
        SHIELD_MANIFEST.lines().filter(|l| !l.trim_start().starts_with('#')).collect::<Vec<_>>().join("\n");
    for placeholder in PLACEHOLDERS {
        assert!(header.contains(placeholder), "{placeholder} is not documented at the top");
        assert!(body.contains(&format!("\"{placeholder}\"")), "{placeholder} is not used as a whole quoted value");
    }
    // No other `${…}` in the objects: envsubst would replace it.
    let re = regex::Regex::new(r"\$\{[^}]*\}").unwrap();
    for found in re.find_iter(&body) {
        assert!(PLACEHOLDERS.contains(&found.as_str()), "unknown placeholder {}", found.as_str());
    }
}

#[test]
fn the_daemonset_has_what_the_shield_needs() {
    let objects = manifest_objects();
    let ds = daemonset(&objects);
    let pod = &ds["spec"]["template"]["spec"];
    assert_eq!(ds["spec"]["updateStrategy"]["type"], "RollingUpdate");
    assert_eq!(ds["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"], "cguard-shield");
    assert_eq!(ds["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"], "cguard-shield");
    assert_eq!(pod["hostPID"], true);
    assert_eq!(pod["serviceAccountName"], SERVICE_ACCOUNT_NAME);
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["tolerations"], json!([{"operator": "Exists"}]));

    let c = container(&objects);
    assert_eq!(c["image"], "${CGUARD_IMAGE}");
    assert_eq!(c["command"], json!(["cguard"]));
    assert_eq!(
        c["args"],
        json!([
            "shield",
            "--server",
            "$(CGUARD_SERVER)",
            "--cluster",
            "$(CGUARD_CLUSTER)",
            "--state-dir",
            "/var/lib/cguard-shield",
            "--node-name",
            "$(NODE_NAME)"
        ])
    );
    assert_eq!(c["securityContext"]["privileged"], true);
    assert_eq!(c["securityContext"]["seccompProfile"]["type"], "Unconfined");
    assert_eq!(c["resources"], json!({"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}}));
    assert_eq!(c["livenessProbe"], Value::Null);

    assert_eq!(env(&objects, "CGUARD_SERVER")["value"], "${CGUARD_SERVER}");
    assert_eq!(env(&objects, "CGUARD_CLUSTER")["value"], "${CGUARD_CLUSTER}");
    assert_eq!(env(&objects, "NODE_NAME")["valueFrom"]["fieldRef"]["fieldPath"], "spec.nodeName");
    assert_eq!(
        env(&objects, "CGUARD_ENROLMENT_TOKEN")["valueFrom"]["secretKeyRef"],
        json!({"name": SECRET_NAME, "key": SECRET_TOKEN_KEY})
    );

    // Each volume: its host path and type, and where the container sees it.
    let volumes: Vec<(String, String, String)> = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or_default().to_owned();
            (s("/name"), s("/hostPath/path"), s("/hostPath/type"))
        })
        .collect();
    let expected = [
        ("btf", "/sys/kernel/btf", "Directory"),
        ("cgroup", "/sys/fs/cgroup", "Directory"),
        ("docker-socket", DEFAULT_DOCKER_SOCKET, ""),
        ("containerd", "/run/containerd", "DirectoryOrCreate"),
        ("cguard-runtime", "/run/cguard", "DirectoryOrCreate"),
        ("state", "/var/lib/cguard-shield", "DirectoryOrCreate"),
    ];
    let expected: Vec<(String, String, String)> =
        expected.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
    assert_eq!(volumes, expected);
    let mounts: Vec<(&str, &str, bool)> = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["mountPath"].as_str().unwrap(), m["readOnly"] == true))
        .collect();
    assert_eq!(
        mounts,
        [
            ("btf", "/sys/kernel/btf", true),
            ("cgroup", "/sys/fs/cgroup", true),
            ("docker-socket", "/var/run/docker.sock", false),
            ("containerd", "/run/containerd", false),
            ("cguard-runtime", "/run/cguard", false),
            ("state", "/var/lib/cguard-shield", false),
        ]
    );
}

#[test]
fn the_manifest_agrees_with_the_shield_command() {
    // The flags and defaults the DaemonSet relies on, read from the shield's sources.
    let root = repo_root();
    let command = std::fs::read_to_string(root.join("crates/cguard/src/shield_cmd.rs")).unwrap();
    for field in
        ["server: Option<String>", "cluster: Option<String>", "state_dir: PathBuf", "node_name: Option<String>"]
    {
        assert!(command.contains(field), "`cguard shield` has no {field}");
    }
    assert!(command.contains("std::env::var(\"CGUARD_ENROLMENT_TOKEN\")"));
    let connected = std::fs::read_to_string(root.join("crates/shield/src/connected.rs")).unwrap();
    assert!(connected.contains("pub const DEFAULT_STATE_DIR: &str = \"/var/lib/cguard-shield\";"));
    let docker = std::fs::read_to_string(root.join("crates/shield/src/docker/mod.rs")).unwrap();
    assert!(docker.contains(&format!("pub const DEFAULT_SOCKET: &str = \"{DEFAULT_DOCKER_SOCKET}\";")));
}

#[test]
fn render_fills_in_the_deployment() {
    let mut d = deployment();
    d.namespace = "security".into();
    d.docker_socket = "/run/docker.sock".into();
    let objects = render(&d);
    let kinds: Vec<&str> = objects.iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Namespace", "ServiceAccount", "Secret", "DaemonSet"]);
    assert_eq!(objects[0]["metadata"]["name"], "security");
    for object in &objects[1..] {
        assert_eq!(object["metadata"]["namespace"], "security", "{}", object["kind"]);
    }

    let secret = &objects[2];
    assert_eq!(secret["stringData"], Value::Null, "stringData is moved to data for server-side apply");
    let encoded = secret["data"][SECRET_TOKEN_KEY].as_str().unwrap();
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(encoded).unwrap(), b"cgs_e_tok3n");

    let c = container(&objects);
    assert_eq!(c["image"], "registry.example/cguard:1.2.3");
    assert_eq!(env(&objects, "CGUARD_SERVER")["value"], "https://cguard.example:8443");
    assert_eq!(env(&objects, "CGUARD_CLUSTER")["value"], "c-42");
    assert_eq!(env(&objects, "CGUARD_ENROLMENT_TOKEN")["valueFrom"]["secretKeyRef"]["name"], SECRET_NAME);
    let volumes = daemonset(&objects)["spec"]["template"]["spec"]["volumes"].as_array().unwrap();
    let socket = volumes.iter().find(|v| v["name"] == "docker-socket").unwrap();
    assert_eq!(socket["hostPath"], json!({"path": "/run/docker.sock", "type": ""}));
    // The container still sees the socket where the shield looks for it.
    assert!(c["volumeMounts"].as_array().unwrap().iter().any(|m| m["mountPath"] == DEFAULT_DOCKER_SOCKET));

    let text = serde_json::to_string(&objects).unwrap();
    assert!(!text.contains("${CGUARD_"), "a placeholder is left: {text}");
    assert!(!text.contains(DEFAULT_NAMESPACE), "the default namespace is left");
    // Every rendered object can be applied.
    for object in &objects {
        k8s::rest::apply_request(object).unwrap();
    }
}

#[test]
fn hostile_values_stay_values() {
    let hostile = "x\"\n  privileged: false\n---\nkind: Pod\n$(CGUARD_ENROLMENT_TOKEN) ${CGUARD_IMAGE} {{ .Values }}";
    let d = ShieldDeployment {
        namespace: DEFAULT_NAMESPACE.into(),
        image: hostile.into(),
        server_url: hostile.into(),
        cluster_id: "$(CGUARD_ENROLMENT_TOKEN)".into(),
        enrolment_token: hostile.into(),
        docker_socket: hostile.into(),
    };
    let rendered = render(&d);
    let template = manifest_objects();
    assert_eq!(rendered.len(), template.len(), "no object added");
    // The same shape: every object has the same keys as the template at every level, but
    // for the Secret's stringData → data.
    fn shape(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
            Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
            _ => Value::Null,
        }
    }
    for (r, t) in rendered.iter().zip(&template) {
        if r["kind"] != "Secret" {
            assert_eq!(shape(r), shape(t), "{}", r["kind"]);
        }
    }
    assert_eq!(container(&rendered)["image"], hostile);
    assert_eq!(container(&rendered)["securityContext"]["privileged"], true);
    // Kubernetes expands $(VAR) in env values: `$` is doubled so the value stays literal.
    assert_eq!(env(&rendered, "CGUARD_CLUSTER")["value"], "$$(CGUARD_ENROLMENT_TOKEN)");
    assert_eq!(env(&rendered, "CGUARD_SERVER")["value"], hostile.replace('$', "$$"));
    let encoded = rendered[2]["data"][SECRET_TOKEN_KEY].as_str().unwrap();
    assert_eq!(base64::engine::general_purpose::STANDARD.decode(encoded).unwrap(), hostile.as_bytes());
}

#[test]
fn debug_hides_the_token() {
    let shown = format!("{:?}", deployment());
    assert!(!shown.contains("cgs_e_tok3n"), "{shown}");
    assert!(shown.contains("registry.example/cguard:1.2.3"));
}
