//! deploy/helm/cguard-shield: `helm` is not available here, so the chart is checked for
//! what can be checked without it: Chart.yaml and values.yaml parse, every `.Values` path a
//! template uses exists, every helper it includes is defined, blocks are closed, and the
//! DaemonSet template matches the plain manifest.

use std::collections::BTreeSet;
use std::path::PathBuf;

use k8s::{DEFAULT_DOCKER_SOCKET, manifest_objects};
use serde_yaml::Value;

use crate::common::repo_root;

fn chart_dir() -> PathBuf {
    repo_root().join("deploy/helm/cguard-shield")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(chart_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn values() -> Value {
    serde_yaml::from_str(&read("values.yaml")).unwrap()
}

/// Every template file, by name.
fn templates() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(chart_dir().join("templates"))
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read_to_string(e.path()).unwrap())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn chart_yaml() {
    let chart: Value = serde_yaml::from_str(&read("Chart.yaml")).unwrap();
    assert_eq!(chart["apiVersion"].as_str(), Some("v2"));
    assert_eq!(chart["name"].as_str(), Some("cguard-shield"));
    assert_eq!(chart["type"].as_str(), Some("application"));
    let semver = regex::Regex::new(r"^\d+\.\d+\.\d+$").unwrap();
    assert!(semver.is_match(chart["version"].as_str().unwrap()));
    assert!(chart["appVersion"].as_str().is_some_and(|v| semver.is_match(v)), "appVersion is a quoted version");
    assert!(chart["description"].as_str().is_some_and(|d| !d.is_empty()));
}

#[test]
fn the_expected_templates_exist() {
    let names: Vec<String> = templates().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["NOTES.txt", "_helpers.tpl", "daemonset.yaml", "namespace.yaml", "secret.yaml", "serviceaccount.yaml"]
    );
}

#[test]
fn every_values_path_used_by_a_template_exists() {
    let values = values();
    let re = regex::Regex::new(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)").unwrap();
    let mut used = BTreeSet::new();
    for (name, text) in templates() {
        for capture in re.captures_iter(&text) {
            let path = capture[1].trim_start_matches('.').to_owned();
            let mut node = &values;
            for key in path.split('.') {
                node = node.get(key).unwrap_or_else(|| panic!("{name}: .Values.{path} is not in values.yaml"));
            }
            used.insert(path);
        }
    }
    // And every top-level value is used somewhere.
    for key in values.as_mapping().unwrap().keys() {
        let key = key.as_str().unwrap();
        assert!(used.iter().any(|p| p == key || p.starts_with(&format!("{key}."))), "values.yaml: {key} is unused");
    }
}

#[test]
fn values_defaults_match_the_manifest() {
    let values = values();
    let objects = manifest_objects();
    let ds = objects.iter().find(|o| o["kind"] == "DaemonSet").unwrap();
    let pod = &ds["spec"]["template"]["spec"];
    let to_json = |v: &Value| serde_json::to_value(v).unwrap();
    assert_eq!(to_json(&values["resources"]), pod["containers"][0]["resources"]);
    assert_eq!(to_json(&values["tolerations"]), pod["tolerations"]);
    assert_eq!(values["dockerSocket"].as_str(), Some(DEFAULT_DOCKER_SOCKET));
    assert_eq!(values["stateDir"].as_str(), Some("/var/lib/cguard-shield"));
    assert_eq!(values["namespace"]["name"].as_str(), Some(k8s::DEFAULT_NAMESPACE));
    assert_eq!(values["image"]["pullPolicy"].as_str(), Some("IfNotPresent"));
    for required in ["server.url", "cluster.id"] {
        let (a, b) = required.split_once('.').unwrap();
        assert_eq!(values[a][b].as_str(), Some(""), "{required} has no default");
    }
}

#[test]
fn the_daemonset_template_matches_the_manifest() {
    let template = read("templates/daemonset.yaml");
    let objects = manifest_objects();
    let ds = objects.iter().find(|o| o["kind"] == "DaemonSet").unwrap();
    let pod = &ds["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    for arg in container["args"].as_array().unwrap() {
        assert!(template.contains(&format!("- {}", arg.as_str().unwrap())), "argument {arg} is missing");
    }
    for env in container["env"].as_array().unwrap() {
        assert!(
            template.contains(&format!("- name: {}", env["name"].as_str().unwrap())),
            "env {} is missing",
            env["name"]
        );
    }
    for mount in container["volumeMounts"].as_array().unwrap() {
        let name = mount["name"].as_str().unwrap();
        let path = mount["mountPath"].as_str().unwrap();
        assert!(template.contains(&format!("- name: {name}\n              mountPath: {path}")), "mount {name}");
    }
    for volume in pod["volumes"].as_array().unwrap() {
        let name = volume["name"].as_str().unwrap();
        let kind = volume["hostPath"]["type"].as_str().unwrap();
        let block = template.split(&format!("        - name: {name}\n          hostPath:\n")).nth(1);
        let block = block.unwrap_or_else(|| panic!("volume {name} is missing"));
        let block: String = block.lines().take(2).collect::<Vec<_>>().join("\n");
        let kind = if kind.is_empty() { "\"\"" } else { kind };
        assert!(block.contains(&format!("type: {kind}")), "volume {name}: {block}");
    }
    for needle in [
        "hostPID: true",
        "privileged: true",
        "type: Unconfined",
        "type: RollingUpdate",
        "automountServiceAccountToken: false",
        "key: enrolment-token",
        "fieldPath: spec.nodeName",
        "command: [\"cguard\"]",
    ] {
        assert!(template.contains(needle), "{needle} is missing");
    }
}

#[test]
fn helpers_are_defined_and_blocks_closed() {
    let templates = templates();
    let helpers = &templates.iter().find(|(n, _)| n == "_helpers.tpl").unwrap().1;
    let define = regex::Regex::new(r#"\{\{-?\s*define\s+"([^"]+)""#).unwrap();
    let defined: BTreeSet<&str> = define.captures_iter(helpers).map(|c| c.get(1).unwrap().as_str()).collect();
    let include = regex::Regex::new(r#"include\s+"([^"]+)""#).unwrap();
    let action = regex::Regex::new(r"\{\{-?\s*(if|with|range|define|end)\b").unwrap();
    for (name, text) in &templates {
        for capture in include.captures_iter(text) {
            assert!(defined.contains(&capture[1]), "{name}: {} is not defined", &capture[1]);
        }
        assert_eq!(text.matches("{{").count(), text.matches("}}").count(), "{name}: unbalanced braces");
        let mut depth = 0i32;
        for capture in action.captures_iter(text) {
            depth += if &capture[1] == "end" { -1 } else { 1 };
            assert!(depth >= 0, "{name}: `end` without a block");
        }
        assert_eq!(depth, 0, "{name}: a block is not closed");
    }
}

#[test]
fn docs_list_every_value() {
    let docs = std::fs::read_to_string(repo_root().join("docs/kubernetes.md")).unwrap();
    fn leaves(prefix: &str, value: &Value, out: &mut Vec<String>) {
        match value.as_mapping() {
            Some(map) if !map.is_empty() && prefix != "resources" => {
                for (k, v) in map {
                    let key = k.as_str().unwrap();
                    let path = if prefix.is_empty() { key.to_owned() } else { format!("{prefix}.{key}") };
                    leaves(&path, v, out);
                }
            }
            _ => out.push(prefix.to_owned()),
        }
    }
    let mut paths = Vec::new();
    leaves("", &values(), &mut paths);
    for path in paths {
        assert!(docs.contains(&format!("`{path}`")), "docs/kubernetes.md does not describe `{path}`");
    }
}
