//! Policies of standalone mode: a JSON array of
//! `{"name", "processWhitelist", "fileProtection", "mode", "images"}`, validated with the
//! same rules as the server's (`api::policy`), and matched to containers by image.

use std::path::Path;

use serde::Deserialize;

use crate::error::PolicyError;

/// How a policy is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Report what breaks the policy.
    Detect,
    /// Refuse what breaks the policy (through an [`crate::Enforcer`]) and report it.
    Enforce,
}

/// One policy of the file, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    pub mode: Mode,
    /// Absolute paths of the programs allowed to run; empty: no process rule.
    pub process_whitelist: Vec<String>,
    /// Absolute paths that must not be modified; a trailing `/` protects a directory tree.
    pub file_protection: Vec<String>,
    /// Associated images, normalised (see [`normalise_image`]).
    pub images: Vec<String>,
}

/// The policy file's JSON form.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PolicyDoc {
    name: String,
    #[serde(default)]
    process_whitelist: Vec<String>,
    #[serde(default)]
    file_protection: Vec<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    images: Vec<String>,
}

/// Reads and validates a policy file.
pub fn load_policy_file(path: &Path) -> Result<Vec<Policy>, PolicyError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| PolicyError::Read { path: path.display().to_string(), source })?;
    parse_policies(&text)
}

/// Parses and validates the policy file's text: the first problem is reported, naming the
/// policy (by position and name) and the field.
pub fn parse_policies(text: &str) -> Result<Vec<Policy>, PolicyError> {
    let docs: Vec<PolicyDoc> = serde_json::from_str(text).map_err(|e| PolicyError::Json(e.to_string()))?;
    let mut names = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(docs.len());
    for (index, doc) in docs.into_iter().enumerate() {
        let invalid = |field: &str, message: String| PolicyError::Invalid {
            index,
            name: doc.name.clone(),
            field: field.to_owned(),
            message,
        };
        let mode_text = doc.mode.clone().unwrap_or_else(|| "detect".to_owned());
        let write = api::policy::SecurityPolicyWrite {
            name: doc.name.clone(),
            mode: Some(mode_text.clone()),
            process_whitelist: doc.process_whitelist.clone(),
            file_protection: doc.file_protection.clone(),
        };
        write.validate().map_err(|e| invalid(e.field, e.message))?;
        if doc.images.is_empty() {
            return Err(invalid("images", "must name at least one image".into()));
        }
        for image in &doc.images {
            api::policy::validate_image(image).map_err(|e| invalid(e.field, e.message))?;
        }
        if !names.insert(doc.name.clone()) {
            return Err(invalid("name", "another policy has this name".into()));
        }
        let mode = if mode_text == "enforce" { Mode::Enforce } else { Mode::Detect };
        out.push(Policy {
            name: doc.name,
            mode,
            process_whitelist: doc.process_whitelist,
            file_protection: doc.file_protection,
            images: doc.images.iter().map(|i| normalise_image(i)).collect(),
        });
    }
    Ok(out)
}

pub use api::policy::normalise_image;

/// The policies a server sent for this node, checked with the same rules as a policy
/// file's. One that breaks them (a server of another version) is left out with a warning
/// rather than stopping the others.
pub fn from_server(policies: &[api::policy::SecurityPolicy]) -> Vec<Policy> {
    let mut out: Vec<Policy> = Vec::with_capacity(policies.len());
    for p in policies {
        let doc = serde_json::json!([{
            "name": p.name,
            "processWhitelist": p.process_whitelist,
            "fileProtection": p.file_protection,
            "mode": p.mode,
            "images": p.images,
        }]);
        match parse_policies(&doc.to_string()) {
            Ok(mut one) if !out.iter().any(|o| o.name == p.name) => out.append(&mut one),
            Ok(_) => tracing::warn!(policy = p.name, "the server sent two policies of this name; the first is used"),
            Err(e) => {
                tracing::warn!(policy = p.name, error = %e, "a policy from the server is not valid; it is left out")
            }
        }
    }
    out
}

impl Policy {
    /// Whether the policy applies to a container created from `image` (as the container
    /// was created: `repo:tag`, normalised) whose image is also known by `digests`
    /// (`repo@sha256:…`, normalised).
    pub fn applies_to(&self, image: &str, digests: &[String]) -> bool {
        self.images.iter().any(|i| i == image || digests.iter().any(|d| d == i))
    }

    /// Whether `path` is on the protection list: equal to an entry, or under a directory
    /// entry (one ending in `/`).
    pub fn protects(&self, path: &str) -> bool {
        self.file_protection.iter().any(|p| path_covered(p, path))
    }
}

/// `entry` covers `path`: equal, or `path` is below the directory `entry`.
pub fn path_covered(entry: &str, path: &str) -> bool {
    let dir = entry.trim_end_matches('/');
    if entry.ends_with('/') {
        return path == dir || path.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/'));
    }
    path == entry
}

/// The policies that apply to one container, with their lists merged.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Names of the policies, in file order.
    pub names: Vec<String>,
    /// Policies with a non-empty whitelist, each with its list: an exec is allowed when one
    /// of them lists the program.
    pub whitelists: Vec<(String, Vec<String>)>,
    /// Protection entries with the policy that holds them.
    pub protected: Vec<(String, String)>,
    /// Some applied policy is in `enforce` mode.
    pub enforce: bool,
}

impl Applied {
    /// Collects the policies that apply to a container's image.
    pub fn for_image(policies: &[Policy], image: &str, digests: &[String]) -> Applied {
        let mut applied = Applied::default();
        for p in policies.iter().filter(|p| p.applies_to(image, digests)) {
            applied.names.push(p.name.clone());
            if !p.process_whitelist.is_empty() {
                applied.whitelists.push((p.name.clone(), p.process_whitelist.clone()));
            }
            applied.protected.extend(p.file_protection.iter().map(|f| (p.name.clone(), f.clone())));
            applied.enforce |= p.mode == Mode::Enforce;
        }
        applied
    }

    /// Whether a program may run: no whitelist applies, or one of `candidates` (the path
    /// as executed and the program's real path) is on one of the whitelists.
    pub fn exec_allowed(&self, candidates: &[&str]) -> bool {
        self.whitelists.is_empty()
            || self.whitelists.iter().any(|(_, list)| list.iter().any(|w| candidates.contains(&w.as_str())))
    }

    /// The policy protecting `path`, if any.
    pub fn protecting(&self, path: &str) -> Option<&str> {
        self.protected.iter().find(|(_, entry)| path_covered(entry, path)).map(|(name, _)| name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"[{"name":"web","processWhitelist":["/usr/bin/sleep","/bin/sh"],
        "fileProtection":["/etc/passwd","/etc/app/"],"mode":"detect","images":["nginx:latest","docker.io/library/redis:7"]}]"#;

    #[test]
    fn a_valid_file_is_read_and_images_normalised() {
        let policies = parse_policies(GOOD).unwrap();
        assert_eq!(policies.len(), 1);
        assert_eq!(policies[0].images, vec!["nginx:latest".to_owned(), "redis:7".to_owned()]);
        assert_eq!(policies[0].mode, Mode::Detect);
    }

    #[test]
    fn invalid_policies_name_the_policy_and_the_field() {
        let cases = [
            (r#"[{"name":"1bad","images":["a:b"]}]"#, "name"),
            (r#"[{"name":"ok","mode":"block","images":["a:b"]}]"#, "mode"),
            (r#"[{"name":"ok","processWhitelist":["bin/sh"],"images":["a:b"]}]"#, "processWhitelist"),
            (r#"[{"name":"ok","fileProtection":["/a","/a"],"images":["a:b"]}]"#, "fileProtection"),
            (r#"[{"name":"ok","images":["repo"]}]"#, "images"),
            (r#"[{"name":"ok","images":[]}]"#, "images"),
            (r#"[{"name":"ok","images":["a:b"]},{"name":"ok","images":["a:b"]}]"#, "name"),
        ];
        for (text, field) in cases {
            match parse_policies(text) {
                Err(PolicyError::Invalid { field: f, .. }) => assert_eq!(f, field, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert!(matches!(parse_policies(r#"[{"name":"ok","images":["a:b"],"extra":1}]"#), Err(PolicyError::Json(_))));
        assert!(matches!(parse_policies("{"), Err(PolicyError::Json(_))));
        let message = parse_policies(r#"[{"name":"ok","mode":"block","images":["a:b"]}]"#).unwrap_err().to_string();
        assert!(message.contains("policy 1 (ok)") && message.contains("mode"), "{message}");
    }

    #[test]
    fn image_references_normalise() {
        assert_eq!(normalise_image("nginx"), "nginx:latest");
        assert_eq!(normalise_image("docker.io/library/nginx:1.25"), "nginx:1.25");
        assert_eq!(normalise_image("index.docker.io/library/nginx"), "nginx:latest");
        assert_eq!(normalise_image("docker.io/team/app"), "team/app:latest");
        assert_eq!(normalise_image("127.0.0.1:5000/app"), "127.0.0.1:5000/app:latest");
        assert_eq!(normalise_image("127.0.0.1:5000/app:v1"), "127.0.0.1:5000/app:v1");
        let digest = format!("app@sha256:{}", "a".repeat(64));
        assert_eq!(normalise_image(&format!("docker.io/library/{digest}")), digest);
    }

    #[test]
    fn policies_apply_by_image_and_merge() {
        let mut policies = parse_policies(GOOD).unwrap();
        policies.push(Policy {
            name: "other".into(),
            mode: Mode::Enforce,
            process_whitelist: vec!["/usr/bin/id".into()],
            file_protection: vec![],
            images: vec!["nginx:latest".into()],
        });
        let applied = Applied::for_image(&policies, "nginx:latest", &[]);
        assert_eq!(applied.names, vec!["web", "other"]);
        assert!(applied.enforce);
        assert!(applied.exec_allowed(&["/usr/bin/id"]));
        assert!(applied.exec_allowed(&["/usr/bin/x", "/usr/bin/sleep"]));
        assert!(!applied.exec_allowed(&["/usr/bin/whoami"]));
        assert_eq!(applied.protecting("/etc/passwd"), Some("web"));
        assert_eq!(applied.protecting("/etc/app/conf.d/x"), Some("web"));
        assert_eq!(applied.protecting("/etc/app"), Some("web"));
        assert_eq!(applied.protecting("/etc/apps"), None);
        assert_eq!(applied.protecting("/etc/passwd-"), None);
        let none = Applied::for_image(&policies, "busybox:latest", &[]);
        assert!(none.names.is_empty() && none.exec_allowed(&["/anything"]));
        let by_digest = Applied::for_image(&policies, "x:y", &["redis:7".into()]);
        assert_eq!(by_digest.names, vec!["web"]);
    }
}
