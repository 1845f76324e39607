//! Security policies (SPEC 2): a process whitelist and a file protection list, associated
//! with images. Validation is here because the server and the shield's standalone mode
//! must agree on it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The most entries a list of a policy may hold.
pub const MAX_LIST: usize = 50;
/// The longest policy name.
pub const MAX_NAME: usize = 24;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityPolicy {
    pub id: String,
    pub name: String,
    /// `detect` or `enforce`.
    pub mode: String,
    pub process_whitelist: Vec<String>,
    pub file_protection: Vec<String>,
    /// Associated images, as `repository:tag` or `repository@sha256:…`.
    pub images: Vec<String>,
    /// Increases with every change; shields poll by it.
    pub revision: i64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityPolicyWrite {
    /// A letter first, then letters, digits and `-`; at most 24 characters.
    #[schema(pattern = "^[A-Za-z][A-Za-z0-9-]{0,23}$")]
    pub name: String,
    /// `detect` (default) or `enforce`.
    #[serde(default)]
    #[schema(pattern = "^(detect|enforce)$")]
    pub mode: Option<String>,
    /// Absolute paths of the executables allowed to run; at most 50, no duplicates.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub process_whitelist: Vec<String>,
    /// Absolute paths that must stay read-only; at most 50, no duplicates.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub file_protection: Vec<String>,
}

/// Associate images with a policy, or cancel the association.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageAssociation {
    /// 1 to 100 references, `repository:tag` or `repository@sha256:…`.
    #[schema(min_items = 1, max_items = 100)]
    pub images: Vec<String>,
}

/// What is wrong with a policy, naming the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// The seed's name rule: starts with a letter; letters, digits and `-`; at most 24.
pub fn validate_name(name: &str) -> Result<(), Invalid> {
    let bad = |message: &str| Err(Invalid { field: "name", message: message.to_string() });
    if name.is_empty() {
        return bad("must not be empty");
    }
    if name.chars().count() > MAX_NAME {
        return bad("must be at most 24 characters");
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return bad("must start with a letter");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return bad("may hold only letters, digits and '-'");
    }
    Ok(())
}

/// The seed's list rule: absolute paths, no duplicates, at most 50, one per line (so no
/// line breaks inside an entry).
pub fn validate_paths(field: &'static str, paths: &[String]) -> Result<(), Invalid> {
    let bad = |message: String| Err(Invalid { field, message });
    if paths.len() > MAX_LIST {
        return bad(format!("at most {MAX_LIST} entries, got {}", paths.len()));
    }
    let mut seen = std::collections::HashSet::new();
    for p in paths {
        if !p.starts_with('/') {
            return bad(format!("{p:?} is not an absolute path"));
        }
        if p.len() > 4096 || p.contains(['\n', '\r', '\0']) {
            return bad(format!("{p:?} is not a single path"));
        }
        if p.split('/').any(|c| c == ".." || c == ".") {
            return bad(format!("{p:?} must not contain '.' or '..' components"));
        }
        if !seen.insert(p.as_str()) {
            return bad(format!("{p:?} appears twice"));
        }
    }
    Ok(())
}

/// `detect` or `enforce`.
pub fn validate_mode(mode: &str) -> Result<(), Invalid> {
    match mode {
        "detect" | "enforce" => Ok(()),
        _ => Err(Invalid { field: "mode", message: format!("{mode:?} is not 'detect' or 'enforce'") }),
    }
}

/// An image reference: `repository:tag` or `repository@sha256:<64 hex>`.
pub fn validate_image(image: &str) -> Result<(), Invalid> {
    let bad =
        || Err(Invalid { field: "images", message: format!("{image:?} is not repository:tag or repository@digest") });
    if image.is_empty() || image.len() > 512 || image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad();
    }
    if let Some((repo, digest)) = image.split_once('@') {
        let hex = digest.strip_prefix("sha256:").unwrap_or("");
        if repo.is_empty() || hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return bad();
        }
        return Ok(());
    }
    match image.rsplit_once(':') {
        Some((repo, tag)) if !repo.is_empty() && !tag.is_empty() && !tag.contains('/') => Ok(()),
        _ => bad(),
    }
}

impl SecurityPolicyWrite {
    /// All of the seed's rules, the first failure reported.
    pub fn validate(&self) -> Result<(), Invalid> {
        validate_name(&self.name)?;
        validate_mode(self.mode.as_deref().unwrap_or("detect"))?;
        validate_paths("processWhitelist", &self.process_whitelist)?;
        validate_paths("fileProtection", &self.file_protection)
    }
}

/// The canonical form of an image reference, so that `nginx`, `nginx:latest`,
/// `docker.io/library/nginx:latest` and `index.docker.io/library/nginx` compare equal:
/// the Docker Hub host and its `library/` namespace are removed, `:latest` is added when
/// neither a tag nor a digest is given.
pub fn normalise_image(reference: &str) -> String {
    let mut r = reference.trim();
    for prefix in ["docker.io/", "index.docker.io/", "registry-1.docker.io/"] {
        if let Some(rest) = r.strip_prefix(prefix) {
            r = rest;
            break;
        }
    }
    let r = r.strip_prefix("library/").unwrap_or(r);
    if r.contains('@') {
        return r.to_owned();
    }
    // A tag follows the last ':' only when no '/' comes after it (a registry port does).
    let has_tag = r.rsplit_once(':').is_some_and(|(_, tag)| !tag.contains('/'));
    if has_tag { r.to_owned() } else { format!("{r}:latest") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_seed() {
        assert!(validate_name("web-policy-1").is_ok());
        assert!(validate_name(&"a".repeat(24)).is_ok());
        assert_eq!(validate_name(&"a".repeat(25)).unwrap_err().message, "must be at most 24 characters");
        assert!(validate_name("1abc").is_err());
        assert!(validate_name("-abc").is_err());
        assert!(validate_name("ab_c").is_err());
        assert!(validate_name("").is_err());
        assert!(validate_name("abç").is_err());
    }

    #[test]
    fn paths_are_absolute_unique_and_bounded() {
        let ok: Vec<String> = (0..50).map(|i| format!("/usr/bin/p{i}")).collect();
        assert!(validate_paths("processWhitelist", &ok).is_ok());
        let mut over = ok.clone();
        over.push("/x".into());
        assert!(validate_paths("processWhitelist", &over).is_err());
        let dup = vec!["/bin/sh".to_string(), "/bin/sh".to_string()];
        assert!(validate_paths("processWhitelist", &dup).unwrap_err().message.contains("twice"));
        assert!(validate_paths("fileProtection", &["etc/passwd".to_string()]).is_err());
        assert!(validate_paths("fileProtection", &["/etc/../passwd".to_string()]).is_err());
        assert!(validate_paths("fileProtection", &["/etc/a\n/etc/b".to_string()]).is_err());
    }

    #[test]
    fn images_are_references() {
        assert!(validate_image("nginx:1.25").is_ok());
        assert!(validate_image("127.0.0.1:5000/team/app:v2").is_ok());
        assert!(validate_image(&format!("app@sha256:{}", "a".repeat(64))).is_ok());
        assert!(validate_image("127.0.0.1:5000/team/app").is_err());
        assert!(validate_image("app@sha256:abc").is_err());
        assert!(validate_image("a b:c").is_err());
    }
}
