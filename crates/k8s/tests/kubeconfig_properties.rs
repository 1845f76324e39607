//! Whatever the input, parsing and resolving end in a value or an error, never a panic,
//! and no secret of a valid kubeconfig leaks into an error or `Debug` output.

use k8s::Kubeconfig;
use proptest::prelude::*;

use crate::common::{CERT_PEM, KEY_PEM, b64};

const TOKEN: &str = "Zq7tokenSECRETvalue9x";
const PASSWORD: &str = "Pw4passwordSECRET8y";

/// A valid kubeconfig with every kind of field, in YAML, whose secrets are [`TOKEN`],
/// [`PASSWORD`] and the key of [`KEY_PEM`].
fn seed_yaml() -> String {
    format!(
        r#"apiVersion: v1
kind: Config
current-context: a
clusters:
- name: c1
  cluster:
    server: https://10.1.2.3:6443
    certificate-authority-data: {ca}
- name: c2
  cluster: {{server: "https://127.0.0.1:8080", insecure-skip-tls-verify: true}}
contexts:
- name: a
  context: {{cluster: c1, user: tok, namespace: ns}}
- name: b
  context: {{cluster: c2, user: cert}}
- name: c
  context: {{cluster: c2, user: basic}}
users:
- name: tok
  user: {{token: {TOKEN}}}
- name: cert
  user:
    client-certificate-data: {ca}
    client-key-data: {key}
- name: basic
  user: {{username: admin, password: {PASSWORD}}}
"#,
        ca = b64(CERT_PEM.as_bytes()),
        key = b64(KEY_PEM.as_bytes()),
    )
}

fn seed_json() -> String {
    let value: serde_json::Value = serde_yaml::from_str(&seed_yaml()).unwrap();
    serde_json::to_string_pretty(&value).unwrap()
}

/// Parses and resolves every context (and a missing one); returns the texts a caller could
/// show: error messages and `Debug` output.
fn exercise(text: &str) -> Vec<String> {
    let mut shown = Vec::new();
    match Kubeconfig::parse(text) {
        Err(e) => shown.push(e.to_string()),
        Ok(config) => {
            shown.push(format!("{config:?}"));
            let names: Vec<String> = config.context_names().iter().map(|s| s.to_string()).collect();
            for context in names.iter().map(|n| Some(n.as_str())).chain([None, Some("missing")]) {
                match config.target(context) {
                    Ok(target) => shown.push(format!("{target:?}")),
                    Err(e) => shown.push(e.to_string()),
                }
            }
        }
    }
    shown
}

fn assert_no_secret(shown: &[String]) {
    let key_body = KEY_PEM.lines().nth(1).unwrap();
    for text in shown {
        for secret in [TOKEN, PASSWORD, key_body] {
            assert!(!text.contains(secret), "a secret is shown: {text}");
        }
    }
}

#[test]
fn the_seeds_are_valid_and_resolve_every_context() {
    for seed in [seed_yaml(), seed_json()] {
        let config = Kubeconfig::parse(&seed).unwrap();
        for name in ["a", "b", "c"] {
            config.target(Some(name)).unwrap();
        }
        assert_no_secret(&exercise(&seed));
    }
}

/// One edit of a text: delete, insert or replace characters, or drop, duplicate or
/// re-indent a line.
#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, text: String },
    Replace { at: usize, ch: char },
    DropLine(usize),
    DuplicateLine(usize),
    Indent { line: usize, by: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    let fragment = prop_oneof![
        Just(":".to_owned()),
        Just("- ".to_owned()),
        Just("{".to_owned()),
        Just("]".to_owned()),
        Just("\"".to_owned()),
        Just("&a ".to_owned()),
        Just("*a".to_owned()),
        Just("!!binary ".to_owned()),
        Just("\n".to_owned()),
        Just("null".to_owned()),
        Just("exec: {command: x}".to_owned()),
        Just("tokenFile: /x".to_owned()),
        Just("\u{0}".to_owned()),
        Just("é€😀".to_owned()),
        "[ -~]{0,12}",
    ];
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), fragment).prop_map(|(at, text)| Edit::Insert { at, text }),
        (any::<usize>(), any::<char>()).prop_map(|(at, ch)| Edit::Replace { at, ch }),
        any::<usize>().prop_map(Edit::DropLine),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), 1usize..5).prop_map(|(line, by)| Edit::Indent { line, by }),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let pos = |at: usize, len: usize| if len == 0 { 0 } else { at % len };
    match edit {
        Edit::Delete { at, len } => {
            let start = pos(*at, chars.len());
            let end = (start + len).min(chars.len());
            chars[..start].iter().chain(&chars[end..]).collect()
        }
        Edit::Insert { at, text: fragment } => {
            let at = pos(*at, chars.len() + 1);
            chars[..at].iter().collect::<String>() + fragment + &chars[at..].iter().collect::<String>()
        }
        Edit::Replace { at, ch } => {
            let mut chars = chars;
            if !chars.is_empty() {
                let at = pos(*at, chars.len());
                chars[at] = *ch;
            }
            chars.into_iter().collect()
        }
        Edit::DropLine(line) => {
            if !lines.is_empty() {
                lines.remove(pos(*line, lines.len()));
            }
            lines.join("\n")
        }
        Edit::DuplicateLine(line) => {
            if !lines.is_empty() {
                let at = pos(*line, lines.len());
                lines.insert(at, lines[at].clone());
            }
            lines.join("\n")
        }
        Edit::Indent { line, by } => {
            if !lines.is_empty() {
                let at = pos(*line, lines.len());
                lines[at] = " ".repeat(*by) + &lines[at];
            }
            lines.join("\n")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        exercise(&text);
    }

    #[test]
    fn arbitrary_yaml_like_text_never_panics(text in "[a-z:\\-\\[\\]{}\"' \n&*!#|>,]{0,200}") {
        exercise(&text);
    }

    #[test]
    fn mutated_kubeconfigs_never_panic_nor_leak(json in any::<bool>(), edits in prop::collection::vec(edit(), 1..6)) {
        let mut text = if json { seed_json() } else { seed_yaml() };
        for e in &edits {
            text = apply(&text, e);
        }
        assert_no_secret(&exercise(&text));
    }

    #[test]
    fn arbitrary_json_structures_never_panic(value in json_value()) {
        let mut top = serde_json::Map::new();
        top.insert("current-context".into(), "x".into());
        for list in ["clusters", "contexts", "users"] {
            top.insert(list.into(), value.clone());
        }
        exercise(&serde_json::Value::Object(top).to_string());
        exercise(&value.to_string());
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop_oneof![Just("x".to_owned()), Just("https://k".to_owned()), Just("LS0t".to_owned()), "[a-z]{0,6}"]
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        let keys = prop_oneof![
            Just("name".to_owned()),
            Just("cluster".to_owned()),
            Just("context".to_owned()),
            Just("user".to_owned()),
            Just("server".to_owned()),
            Just("token".to_owned()),
            Just("exec".to_owned()),
            Just("certificate-authority-data".to_owned()),
            Just("client-key-data".to_owned()),
            "[a-z]{1,4}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(keys, inner, 0..5).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
