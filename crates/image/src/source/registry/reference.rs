//! Parsing image references (`alpine`, `localhost:5000/team/app:1.0`, `app@sha256:…`)
//! the way the distribution reference grammar and the Docker CLI read them.

use std::net::IpAddr;

use crate::Error;

/// The registry that references without a registry host name.
pub(crate) const DOCKER_HUB: &str = "docker.io";
/// The host that serves the Docker Hub registry API.
const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// Tag used when a reference names neither tag nor digest.
const DEFAULT_TAG: &str = "latest";
/// Longest repository name the grammar allows (registry host included).
const MAX_NAME_LEN: usize = 255;
/// Longest tag the grammar allows.
const MAX_TAG_LEN: usize = 128;

/// A parsed, normalized image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reference {
    /// Registry as named in the reference (`docker.io`, `localhost:5000`, `[::1]:5000`).
    pub registry: String,
    /// Repository path inside the registry (`library/alpine`, `team/app`).
    pub repository: String,
    pub tag: Option<String>,
    /// `algorithm:hex`, when the reference pins a manifest.
    pub digest: Option<String>,
}

impl Reference {
    /// Parses `reference`; a missing registry means Docker Hub, a missing tag and digest
    /// means `latest`.
    pub fn parse(reference: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::Reference(reference.to_owned(), why.to_owned());
        if reference.is_empty() {
            return Err(bad("empty reference"));
        }
        let (named, digest) = match reference.split_once('@') {
            Some((n, d)) => {
                check_digest(d).map_err(|why| bad(&why))?;
                (n, Some(d.to_owned()))
            }
            None => (reference, None),
        };
        // A tag follows the last ':' that comes after the last '/', so that the port in
        // `localhost:5000/app` is not taken for one.
        let last_slash = named.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match named.get(last_slash..).and_then(|tail| tail.rfind(':')) {
            Some(colon) => {
                let at = last_slash + colon;
                (named.get(..at).unwrap_or(""), named.get(at + 1..))
            }
            None => (named, None),
        };
        if let Some(t) = tag {
            check_tag(t).map_err(|why| bad(&why))?;
        }
        let (registry, repository) = split_registry(name);
        check_registry(&registry).map_err(|why| bad(&why))?;
        check_repository(&repository).map_err(|why| bad(&why))?;
        if registry.len() + 1 + repository.len() > MAX_NAME_LEN {
            return Err(bad("repository name is longer than 255 characters"));
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_owned()),
            (None, Some(_)) => None,
            (None, None) => Some(DEFAULT_TAG.to_owned()),
        };
        Ok(Reference { registry, repository, tag, digest })
    }

    /// The host (and port) that serves the registry API.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB { DOCKER_HUB_API } else { &self.registry }
    }

    /// The tag or digest to ask the manifests endpoint for; the digest wins when both are
    /// given, as it pins the content.
    pub fn manifest_ref(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or(DEFAULT_TAG)
    }

    /// The name as the Docker CLI shows it: Docker Hub and `library/` left out.
    pub fn familiar_name(&self) -> String {
        if self.registry == DOCKER_HUB {
            match self.repository.strip_prefix("library/") {
                Some(short) if !short.contains('/') => short.to_owned(),
                _ => self.repository.clone(),
            }
        } else {
            format!("{}/{}", self.registry, self.repository)
        }
    }

    /// Whether the registry host is a loopback address (`localhost`, `127.0.0.0/8`, `[::1]`).
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.registry)
    }
}

/// Whether `registry` (`host[:port]`) names this machine through a loopback address.
pub(crate) fn is_loopback_host(registry: &str) -> bool {
    let host = host_without_port(registry);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `host` of `host[:port]`, keeping the brackets of an IPv6 literal.
fn host_without_port(registry: &str) -> &str {
    if registry.starts_with('[') {
        return match registry.find(']') {
            Some(end) => registry.get(..=end).unwrap_or(registry),
            None => registry,
        };
    }
    registry.split_once(':').map_or(registry, |(h, _)| h)
}

/// Splits `name` into registry and repository. The first component names a registry
/// only when it looks like a host: it has a `.` or a `:`, is `localhost`, or has upper
/// case letters (which repository paths may not).
fn split_registry(name: &str) -> (String, String) {
    let (registry, rest) = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':']) || first == "localhost" || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (first.to_owned(), rest.to_owned())
        }
        _ => (DOCKER_HUB.to_owned(), name.to_owned()),
    };
    let registry = if registry == "index.docker.io" { DOCKER_HUB.to_owned() } else { registry };
    let repository = if registry == DOCKER_HUB && !rest.is_empty() && !rest.contains('/') {
        format!("library/{rest}")
    } else {
        rest
    };
    (registry, repository)
}

fn check_registry(registry: &str) -> Result<(), String> {
    if registry.is_empty() {
        return Err("empty registry host".into());
    }
    let (host, port) = if registry.starts_with('[') {
        let end = registry.find(']').ok_or("unterminated IPv6 address in registry host")?;
        let literal = registry.get(1..end).unwrap_or("");
        if literal.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("invalid IPv6 address {literal:?} in registry host"));
        }
        match registry.get(end + 1..).unwrap_or("") {
            "" => (None, None),
            rest => (None, Some(rest.strip_prefix(':').ok_or("junk after IPv6 address in registry host")?)),
        }
    } else {
        match registry.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(registry), None),
        }
    };
    if let Some(host) = host {
        let labels_ok = !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !labels_ok {
            return Err(format!("invalid registry host {host:?}"));
        }
    }
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(format!("invalid registry port {port:?}"));
    }
    Ok(())
}

/// Repository paths are `/`-separated components of lower-case letters and digits,
/// joined inside a component by `.`, `_`, `__` or runs of `-`.
fn check_repository(repository: &str) -> Result<(), String> {
    if repository.is_empty() {
        return Err("empty repository name".into());
    }
    for component in repository.split('/') {
        if component.is_empty() {
            return Err("empty path component in repository name".into());
        }
        if component.chars().any(|c| c.is_ascii_uppercase()) {
            return Err("repository name must be lowercase".into());
        }
        if !component_ok(component.as_bytes()) {
            return Err(format!("invalid path component {component:?} in repository name"));
        }
    }
    Ok(())
}

fn component_ok(bytes: &[u8]) -> bool {
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !bytes.first().is_some_and(alnum) || !bytes.last().is_some_and(alnum) {
        return false;
    }
    // Walk the separators between runs of letters and digits.
    let mut i = 0;
    while i < bytes.len() {
        let Some(&b) = bytes.get(i) else { break };
        if alnum(&b) {
            i += 1;
            continue;
        }
        let start = i;
        while bytes.get(i).is_some_and(|b| !alnum(b)) {
            i += 1;
        }
        let sep = bytes.get(start..i).unwrap_or(&[]);
        let valid = matches!(sep, b"." | b"_" | b"__") || sep.iter().all(|&c| c == b'-');
        if !valid {
            return false;
        }
    }
    true
}

fn check_tag(tag: &str) -> Result<(), String> {
    let mut chars = tag.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !first_ok || !rest_ok || tag.len() > MAX_TAG_LEN {
        return Err(format!("invalid tag {tag:?}"));
    }
    Ok(())
}

/// Checks `algorithm:hex`. Only sha256 is accepted, since that is what blobs and manifests
/// are verified with; the check also keeps digests from smuggling path parts into URLs.
pub(crate) fn check_digest(digest: &str) -> Result<(), String> {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(format!("invalid digest {digest:?}: expected algorithm:hex"));
    };
    if algorithm != "sha256" {
        return Err(format!("unsupported digest algorithm {algorithm:?} (only sha256 is supported)"));
    }
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)) {
        return Err(format!("invalid sha256 digest {digest:?}: expected 64 lower-case hex digits"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn parse(s: &str) -> Reference {
        Reference::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn bare_name_is_docker_hub_library_latest() {
        let r = parse("alpine");
        assert_eq!(r.registry, "docker.io");
        assert_eq!(r.repository, "library/alpine");
        assert_eq!(r.tag.as_deref(), Some("latest"));
        assert_eq!(r.digest, None);
        assert_eq!(r.api_host(), "registry-1.docker.io");
        assert_eq!(r.familiar_name(), "alpine");
    }

    #[test]
    fn docker_hub_user_repository_keeps_its_namespace() {
        let r = parse("bitnami/redis:7.2");
        assert_eq!((r.registry.as_str(), r.repository.as_str()), ("docker.io", "bitnami/redis"));
        assert_eq!(r.tag.as_deref(), Some("7.2"));
        assert_eq!(r.familiar_name(), "bitnami/redis");
        let r = parse("docker.io/library/alpine:3.19");
        assert_eq!(r.repository, "library/alpine");
        assert_eq!(r.familiar_name(), "alpine");
        let r = parse("index.docker.io/alpine");
        assert_eq!((r.registry.as_str(), r.repository.as_str()), ("docker.io", "library/alpine"));
    }

    #[test]
    fn registry_host_detection() {
        let r = parse("localhost:5000/team/app:1.0");
        assert_eq!((r.registry.as_str(), r.repository.as_str()), ("localhost:5000", "team/app"));
        assert_eq!(r.tag.as_deref(), Some("1.0"));
        assert_eq!(r.api_host(), "localhost:5000");
        assert_eq!(r.familiar_name(), "localhost:5000/team/app");
        assert_eq!(parse("localhost/app").registry, "localhost");
        assert_eq!(parse("ghcr.io/o/p").registry, "ghcr.io");
        assert_eq!(parse("myhost:5000/app").registry, "myhost:5000");
        assert_eq!(parse("[::1]:5000/app").registry, "[::1]:5000");
        // Without '.', ':' or "localhost" the first component is a Docker Hub namespace.
        let r = parse("team/app");
        assert_eq!((r.registry.as_str(), r.repository.as_str()), ("docker.io", "team/app"));
    }

    #[test]
    fn port_is_not_a_tag() {
        let r = parse("localhost:5000/app");
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "app");
        assert_eq!(r.tag.as_deref(), Some("latest"));
    }

    #[test]
    fn digest_and_tag_with_digest() {
        let r = parse(&format!("app@{D}"));
        assert_eq!(r.repository, "library/app");
        assert_eq!(r.tag, None);
        assert_eq!(r.digest.as_deref(), Some(D));
        assert_eq!(r.manifest_ref(), D);
        let r = parse(&format!("127.0.0.1:5000/a/b:v1@{D}"));
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(r.manifest_ref(), D, "the digest pins the manifest");
    }

    #[test]
    fn separators_in_path_components() {
        for ok in ["a.b", "a_b", "a__b", "a-b", "a---b", "a.b-c_d"] {
            parse(ok);
        }
        for bad in ["a..b", "a___b", "-a", "a-", "a._b", ".a", "a/", "/a", "a//b"] {
            assert!(Reference::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn refuses_malformed_references() {
        let cases = [
            "",
            "Alpine",
            "localhost:5000/App",
            "app:",
            "app:-x",
            "app:has space",
            "app@sha256:abc",
            "app@md5:0123456789abcdef0123456789abcdef",
            &format!("app@{}", D.to_uppercase()),
            "app@",
            "host:port/app",
            "host:99999999/app",
            "[::1/app",
            "[zz]:5000/app",
            "bad_host.com/app",
            "-bad.com/app",
        ];
        for bad in cases {
            assert!(Reference::parse(bad).is_err(), "{bad:?} should be refused");
        }
        let long_tag = format!("app:{}", "t".repeat(129));
        assert!(Reference::parse(&long_tag).is_err());
        let long_name = format!("{}/app", "a".repeat(260));
        assert!(Reference::parse(&long_name).is_err());
    }

    #[test]
    fn uppercase_first_component_is_a_registry() {
        // Repository paths cannot hold upper case, so the Docker CLI reads it as a host.
        let r = parse("MyRegistry/app");
        assert_eq!((r.registry.as_str(), r.repository.as_str()), ("MyRegistry", "app"));
    }

    #[test]
    fn loopback_detection() {
        for host in
            ["localhost", "localhost:5000", "LOCALHOST:1", "127.0.0.1:5000", "127.8.9.10", "[::1]:5000", "[::1]"]
        {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["docker.io", "10.0.0.1:5000", "localhost.example.com", "[::2]:5000", "128.0.0.1"] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in ["@", ":", "/", "a@b@c", "[", "]:", "a:b:c/d:e@f", "é/ü:ß", "a/b:c/d", "[::1]:/x"] {
            let _ = Reference::parse(s);
        }
    }
}
