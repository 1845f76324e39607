//! Registry credentials and the pieces of the authentication flows: finding a login in
//! the open options or the Docker CLI's `config.json`, reading `WWW-Authenticate`
//! challenges and token-server answers. Secrets never appear in `Debug` output, logs or
//! error messages.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

use super::reference::DOCKER_HUB;
use crate::source::OpenOptions;
use crate::{Error, Limits};

/// A username and password for one registry, with where they came from.
#[derive(Clone)]
pub(crate) struct Credentials {
    pub username: String,
    pub password: String,
    /// Where the credentials were found, for error messages (`the open options`,
    /// `/root/.docker/config.json`).
    pub origin: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("origin", &self.origin)
            .finish()
    }
}

impl Credentials {
    /// Names the credentials without their secret, as error messages show them.
    pub fn describe(&self) -> String {
        format!("user {:?} from {}", self.username, self.origin)
    }
}

/// Describes `credentials` for an error message that says which login was tried.
pub(crate) fn describe(credentials: Option<&Credentials>) -> String {
    match credentials {
        Some(c) => c.describe(),
        None => "none (anonymous; give a username and password, or log in with `docker login`)".to_owned(),
    }
}

/// Finds the credentials for `registry`: the open options first, then the `auths` of
/// the Docker CLI configuration.
pub(crate) fn find_credentials(options: &OpenOptions, registry: &str) -> Result<Option<Credentials>, Error> {
    match (&options.username, &options.password) {
        (Some(username), Some(password)) => {
            return Ok(Some(Credentials {
                username: username.clone(),
                password: password.clone(),
                origin: "the open options".to_owned(),
            }));
        }
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::Registry {
                registry: registry.to_owned(),
                message: "a username needs a password and a password needs a username".to_owned(),
            });
        }
        (None, None) => {}
    }
    let Some(path) = docker_config_file(
        options.docker_config_dir.as_deref(),
        std::env::var_os("DOCKER_CONFIG"),
        std::env::var_os("HOME"),
    ) else {
        return Ok(None);
    };
    let text = match read_small_file(&path) {
        Ok(Some(text)) => text,
        Ok(None) => return Ok(None),
        Err(why) => {
            // A broken CLI config must not stop anonymous pulls of public images.
            tracing::warn!(path = %path.display(), "ignoring Docker CLI config: {why}");
            return Ok(None);
        }
    };
    match credentials_from_config(&text, registry, &path.display().to_string()) {
        Ok(found) => Ok(found),
        Err(why) => {
            tracing::warn!(path = %path.display(), "ignoring Docker CLI config: {why}");
            Ok(None)
        }
    }
}

/// `config.json` in the explicit directory, else in `$DOCKER_CONFIG`, else in `~/.docker`.
pub(crate) fn docker_config_file(
    explicit_dir: Option<&Path>,
    env_dir: Option<OsString>,
    home: Option<OsString>,
) -> Option<PathBuf> {
    if let Some(dir) = explicit_dir {
        return Some(dir.join("config.json"));
    }
    if let Some(dir) = env_dir.filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    home.filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(".docker").join("config.json"))
}

/// Reads a small text file; `None` when it does not exist.
fn read_small_file(path: &Path) -> Result<Option<String>, String> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let cap = Limits::default().max_document_bytes;
    let mut text = String::new();
    file.take(cap + 1).read_to_string(&mut text).map_err(|e| e.to_string())?;
    if text.len() as u64 > cap {
        return Err(format!("larger than {cap} bytes"));
    }
    Ok(Some(text))
}

#[derive(serde::Deserialize)]
struct CliConfig {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(serde::Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default, rename = "identitytoken")]
    identity_token: Option<String>,
}

/// The `auths` entry of a Docker CLI `config.json` that matches `registry`.
pub(crate) fn credentials_from_config(text: &str, registry: &str, origin: &str) -> Result<Option<Credentials>, String> {
    let config: CliConfig = serde_json::from_str(text).map_err(|e| format!("malformed JSON: {e}"))?;
    let entry = config.auths.iter().find(|(key, _)| auth_key_matches(key, registry)).map(|(_, e)| e);
    let Some(entry) = entry else {
        if let Some(store) = &config.creds_store {
            tracing::debug!(registry, store, "credential helpers are not consulted");
        }
        return Ok(None);
    };
    let (username, password) = match (&entry.auth, &entry.username, &entry.password) {
        (Some(auth), _, _) if !auth.is_empty() => {
            let decoded = STANDARD
                .decode(auth.trim())
                .or_else(|_| STANDARD_NO_PAD.decode(auth.trim()))
                .map_err(|_| format!("the `auth` entry for {registry} is not base64"))?;
            let decoded =
                String::from_utf8(decoded).map_err(|_| format!("the `auth` entry for {registry} is not UTF-8"))?;
            let (user, pass) = decoded
                .split_once(':')
                .ok_or_else(|| format!("the `auth` entry for {registry} is not user:password"))?;
            (user.to_owned(), pass.to_owned())
        }
        (_, Some(user), Some(pass)) => (user.clone(), pass.clone()),
        _ => {
            if entry.identity_token.is_some() {
                tracing::warn!(registry, "identity tokens in the Docker CLI config are not supported");
            }
            return Ok(None);
        }
    };
    Ok(Some(Credentials { username, password, origin: origin.to_owned() }))
}

/// Whether an `auths` key (`host`, `https://host`, `https://host/v1/`) names `registry`.
/// Docker Hub logins are stored under `https://index.docker.io/v1/`.
fn auth_key_matches(key: &str, registry: &str) -> bool {
    let host = key.strip_prefix("https://").or_else(|| key.strip_prefix("http://")).unwrap_or(key);
    let host = host.split('/').next().unwrap_or(host);
    if host.eq_ignore_ascii_case(registry) {
        return true;
    }
    registry == DOCKER_HUB
        && ["index.docker.io", "registry-1.docker.io", "docker.io"].iter().any(|h| host.eq_ignore_ascii_case(h))
}

/// An authentication challenge from a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Challenge {
    Basic,
    Bearer { realm: String, service: Option<String>, scope: Option<String> },
}

/// Reads the first challenge of a `WWW-Authenticate` header; `None` for schemes the
/// client cannot answer or a header it cannot read.
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(char::is_whitespace).unwrap_or((header, ""));
    let params = parse_params(rest);
    let get = |name: &str| params.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    if scheme.eq_ignore_ascii_case("basic") {
        Some(Challenge::Basic)
    } else if scheme.eq_ignore_ascii_case("bearer") {
        let realm = get("realm").filter(|r| !r.is_empty())?;
        Some(Challenge::Bearer { realm, service: get("service"), scope: get("scope") })
    } else {
        None
    }
}

/// Parses `key=value, key="quoted \" value"` auth parameters.
fn parse_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        if key.is_empty() {
            break;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() != Some(&'=') {
            // A parameter without a value (or a second challenge's scheme): stop here, as
            // only the first challenge is read.
            break;
        }
        chars.next();
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => {
                        if let Some(escaped) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    other => value.push(other),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((key, value));
    }
    out
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

/// The bearer token in a token server's answer (`token`, or the OAuth2 `access_token`).
pub(crate) fn parse_token_answer(bytes: &[u8]) -> Result<String, String> {
    let answer: TokenAnswer =
        serde_json::from_slice(bytes).map_err(|e| format!("the token server's answer is not JSON: {e}"))?;
    answer
        .token
        .filter(|t| !t.is_empty())
        .or(answer.access_token.filter(|t| !t.is_empty()))
        .ok_or_else(|| "the token server's answer holds no token".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge_with_quoted_parameters() {
        let h = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#;
        assert_eq!(
            parse_challenge(h),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/alpine:pull".into()),
            })
        );
    }

    #[test]
    fn challenge_variants() {
        assert_eq!(parse_challenge(r#"Basic realm="Registry Realm""#), Some(Challenge::Basic));
        assert_eq!(parse_challenge("basic"), Some(Challenge::Basic));
        assert_eq!(
            parse_challenge(r#"bearer  realm = "http://h/t" , error="insufficient_scope""#),
            Some(Challenge::Bearer { realm: "http://h/t".into(), service: None, scope: None })
        );
        assert_eq!(
            parse_challenge(r#"Bearer realm=http://h/t,service="a \"q\" b""#),
            Some(Challenge::Bearer { realm: "http://h/t".into(), service: Some("a \"q\" b".into()), scope: None })
        );
        assert_eq!(parse_challenge("Bearer service=x"), None, "a bearer challenge needs a realm");
        assert_eq!(parse_challenge("Negotiate abc"), None);
        for odd in ["", "Bearer", "Bearer =", "Bearer realm=\"unterminated", "Bearer ,,,", "Bearer a b c"] {
            let _ = parse_challenge(odd);
        }
    }

    #[test]
    fn token_answer_uses_token_then_access_token() {
        assert_eq!(parse_token_answer(br#"{"token":"a","access_token":"b"}"#).unwrap(), "a");
        assert_eq!(parse_token_answer(br#"{"access_token":"b","expires_in":300}"#).unwrap(), "b");
        assert_eq!(parse_token_answer(br#"{"token":"","access_token":"b"}"#).unwrap(), "b");
        assert!(parse_token_answer(br#"{"expires_in":300}"#).is_err());
        assert!(parse_token_answer(b"<html>").is_err());
    }

    #[test]
    fn config_auth_entries_by_host() {
        // "alice:s3cret" and "bob:pw:with:colons"
        let text = r#"{"auths":{
            "registry.example.com":{"auth":"YWxpY2U6czNjcmV0"},
            "https://other.example.com/v1/":{"username":"carol","password":"pw"},
            "https://index.docker.io/v1/":{"auth":"Ym9iOnB3OndpdGg6Y29sb25z"},
            "localhost:5000":{"identitytoken":"opaque"}
        }, "credsStore":"desktop"}"#;
        let c = credentials_from_config(text, "registry.example.com", "cfg").unwrap().unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("alice", "s3cret"));
        let c = credentials_from_config(text, "other.example.com", "cfg").unwrap().unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("carol", "pw"));
        let c = credentials_from_config(text, "docker.io", "cfg").unwrap().unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("bob", "pw:with:colons"));
        assert!(credentials_from_config(text, "localhost:5000", "cfg").unwrap().is_none());
        assert!(credentials_from_config(text, "example.com", "cfg").unwrap().is_none());
        assert!(credentials_from_config("{}", "docker.io", "cfg").unwrap().is_none());
    }

    #[test]
    fn malformed_config_entries_are_errors_without_secrets() {
        assert!(credentials_from_config("not json", "h", "cfg").is_err());
        let err = credentials_from_config(r#"{"auths":{"h":{"auth":"%%%"}}}"#, "h", "cfg").unwrap_err();
        assert!(err.contains("not base64"), "{err}");
        // "nocolon" in base64: decodes, but has no ':'.
        let err = credentials_from_config(r#"{"auths":{"h":{"auth":"bm9jb2xvbg=="}}}"#, "h", "cfg").unwrap_err();
        assert!(err.contains("user:password") && !err.contains("nocolon"), "{err}");
    }

    #[test]
    fn config_file_location() {
        let explicit = Path::new("/x");
        assert_eq!(
            docker_config_file(Some(explicit), Some("/env".into()), Some("/home/u".into())),
            Some(PathBuf::from("/x/config.json"))
        );
        assert_eq!(
            docker_config_file(None, Some("/env".into()), Some("/home/u".into())),
            Some(PathBuf::from("/env/config.json"))
        );
        assert_eq!(
            docker_config_file(None, Some("".into()), Some("/home/u".into())),
            Some(PathBuf::from("/home/u/.docker/config.json"))
        );
        assert_eq!(docker_config_file(None, None, None), None);
    }

    #[test]
    fn debug_output_hides_the_password() {
        let c = Credentials { username: "u".into(), password: "hunter2".into(), origin: "o".into() };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(!c.describe().contains("hunter2"));
        assert!(describe(None).contains("anonymous"));
    }
}
