//! `docker:` source: an image in the local Docker engine, through its API.
//!
//! The engine is asked for the image's identity (`/images/{name}/json`), then for its
//! `docker save` archive (`/images/{name}/get`), which is streamed into a private
//! temporary directory and read like a `docker-archive:` source.

pub mod http;

use std::fs::File;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use serde::Deserialize;

use crate::source::{OpenOptions, SourceKind, archive};
use crate::{Error, Image, Limits};

use http::HttpError;

/// How long a read may wait: saving a large image can pause while the engine packs layers.
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);

const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
/// Newest API version we ask for; older engines are spoken to in their own version.
const MAX_API: (u32, u32) = (1, 45);
/// Longest image name accepted (Docker's own limit on references is 255 per component).
const MAX_NAME: usize = 1024;

#[derive(Deserialize)]
struct Inspect {
    #[serde(rename = "Id")]
    id: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "RepoDigests", default)]
    repo_digests: Option<Vec<String>>,
}

/// Opens `name` (`alpine`, `alpine:3.19`, `sha256:ID`, ...) from the local engine.
pub(crate) fn open(reference: &str, name: &str, options: &OpenOptions) -> Result<Image, Error> {
    check_name(reference, name)?;
    let engine = Engine::new(options)?;
    let prefix = engine.api_prefix()?;
    let cap = Limits::default().max_document_bytes;

    let response = engine.get(&format!("{prefix}/images/{name}/json"))?;
    let inspect: Inspect = match response.status {
        200 => {
            let bytes = response.read_capped(cap).map_err(|e| engine.broken(e))?;
            serde_json::from_slice(&bytes).map_err(|e| Error::Docker(format!("image inspect of {name}: {e}")))?
        }
        404 => return Err(Error::NotFound(format!("{reference}: the Docker engine has no image {name}"))),
        status => return Err(engine.refused(status, response, &format!("inspecting image {name}"))),
    };

    // The saved image may hold secrets: only we may read it.
    let scratch = tempfile::Builder::new()
        .prefix("cguard-docker-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .map_err(|e| Error::io("creating a private temporary directory", e))?;
    let archive_path = scratch.path().join("image.tar");
    let mut response = engine.get(&format!("{prefix}/images/{name}/get"))?;
    if response.status != 200 {
        return Err(engine.refused(response.status, response, &format!("saving image {name}")));
    }
    let mut file =
        File::create(&archive_path).map_err(|e| Error::io(format!("creating {}", archive_path.display()), e))?;
    io::copy(&mut response.body, &mut file).map_err(|e| engine.broken(e))?;
    drop(file);

    let mut image = archive::open_docker_archive_at(reference, &archive_path, None, Some(scratch))?;
    if image.id.as_deref() != Some(inspect.id.as_str()) {
        // Engines with the containerd image store report the manifest digest as the id.
        tracing::debug!(engine_id = %inspect.id, archive_id = ?image.id, "engine id differs from the config digest");
    }
    image.source = SourceKind::Docker;
    image.repo_tags = inspect.repo_tags.unwrap_or_default().into_iter().filter(|t| t != "<none>:<none>").collect();
    image.repo_digests =
        inspect.repo_digests.unwrap_or_default().into_iter().filter(|d| !d.starts_with("<none>@")).collect();
    Ok(image)
}

/// Refuses names that could change the meaning of the request path; Docker references use
/// only these characters.
fn check_name(reference: &str, name: &str) -> Result<(), Error> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._-/:@".contains(c);
    if name.is_empty() || name.len() > MAX_NAME || !name.chars().all(allowed) {
        return Err(Error::Reference(reference.to_owned(), "not a valid Docker image name".to_owned()));
    }
    if name.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
        return Err(Error::Reference(reference.to_owned(), "empty, `.` or `..` path component".to_owned()));
    }
    Ok(())
}

/// The engine's socket.
struct Engine {
    socket: PathBuf,
}

impl Engine {
    fn new(options: &OpenOptions) -> Result<Engine, Error> {
        let host = options.docker_host.clone().or_else(|| std::env::var("DOCKER_HOST").ok()).filter(|h| !h.is_empty());
        let socket = match host.as_deref() {
            None => PathBuf::from(DEFAULT_SOCKET),
            Some(h) if h.starts_with('/') => PathBuf::from(h),
            Some(h) => match h.strip_prefix("unix://") {
                Some(path) if !path.is_empty() => PathBuf::from(path),
                _ => {
                    return Err(Error::Docker(format!(
                        "unsupported Docker host {h:?}: only unix:// sockets are supported"
                    )));
                }
            },
        };
        Ok(Engine { socket })
    }

    fn get(&self, target: &str) -> Result<http::Response, Error> {
        http::get(&self.socket, target, Some(READ_TIMEOUT)).map(|(response, _)| response).map_err(|e| match e {
            HttpError::Connect(e) => Error::Docker(format!(
                "cannot connect to the Docker engine at {}: is dockerd running? ({e})",
                self.socket.display()
            )),
            HttpError::Exchange(e) => self.broken(e),
        })
    }

    fn broken(&self, e: io::Error) -> Error {
        Error::Docker(format!("talking to the Docker engine at {}: {e}", self.socket.display()))
    }

    /// An error naming what the engine refused, with its own message when it sent one.
    fn refused(&self, status: u16, response: http::Response, what: &str) -> Error {
        let message = response
            .read_capped(64 * 1024)
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
            .unwrap_or_else(|| "no message".to_owned());
        Error::Docker(format!("{what}: the engine answered {status}: {message}"))
    }

    /// `/vX.Y` for the engine's API version capped at [`MAX_API`], or nothing (the
    /// engine's default) when it does not say.
    fn api_prefix(&self) -> Result<String, Error> {
        let response = self.get("/version")?;
        if response.status != 200 {
            return Ok(String::new());
        }
        let bytes = response.read_capped(1 << 20).map_err(|e| self.broken(e))?;
        let version = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("ApiVersion").and_then(|a| a.as_str()).and_then(parse_api_version));
        Ok(match version {
            Some(v) => {
                let (major, minor) = v.min(MAX_API);
                format!("/v{major}.{minor}")
            }
            None => String::new(),
        })
    }
}

fn parse_api_version(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The socket path an `OpenOptions` leads to.
#[cfg(test)]
fn socket_of(options: &OpenOptions) -> Result<PathBuf, Error> {
    Engine::new(options).map(|e| e.socket)
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::os::unix::net::UnixListener;
    use std::path::Path;

    use super::*;

    /// Serves canned responses, one per connection, on a socket in a temporary directory.
    fn fake_engine(responses: Vec<String>) -> (tempfile::TempDir, PathBuf, std::thread::JoinHandle<Vec<String>>) {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("docker.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        let handle = std::thread::spawn(move || {
            let mut requests = Vec::new();
            for response in responses {
                let (mut stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                requests.push(line.trim_end().to_owned());
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    if header.trim_end().is_empty() {
                        break;
                    }
                }
                stream.write_all(response.as_bytes()).unwrap();
            }
            requests
        });
        (dir, socket, handle)
    }

    fn options(socket: &Path) -> OpenOptions {
        OpenOptions { docker_host: Some(format!("unix://{}", socket.display())), ..OpenOptions::default() }
    }

    #[test]
    fn missing_engine_says_dockerd_must_run() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("absent.sock");
        let err = open("docker:alpine", "alpine", &options(&socket)).unwrap_err();
        assert!(matches!(err, Error::Docker(_)), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("cannot connect to the Docker engine at") && text.contains("is dockerd running?"),
            "{text}"
        );
    }

    #[test]
    fn missing_image_is_not_found_and_api_version_is_capped() {
        let version = r#"{"ApiVersion":"1.51"}"#;
        let message = r#"{"message":"No such image: nothere:latest"}"#;
        let (_dir, socket, server) = fake_engine(vec![
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{version}",
                version.len()
            ),
            format!(
                "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{message}\r\n0\r\n\r\n",
                message.len()
            ),
        ]);
        let err = open("docker:nothere", "nothere", &options(&socket)).unwrap_err();
        assert!(matches!(err, Error::NotFound(_)), "{err:?}");
        assert!(err.to_string().contains("no image nothere"), "{err}");
        let requests = server.join().unwrap();
        assert_eq!(requests, ["GET /version HTTP/1.1", "GET /v1.45/images/nothere/json HTTP/1.1"]);
    }

    #[test]
    fn engine_errors_carry_its_message() {
        let message = r#"{"message":"boom"}"#;
        let (_dir, socket, server) = fake_engine(vec![
            "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".to_owned(),
            format!("HTTP/1.1 500 Internal Server Error\r\nContent-Length: {}\r\n\r\n{message}", message.len()),
        ]);
        let err = open("docker:x", "x", &options(&socket)).unwrap_err();
        assert!(matches!(err, Error::Docker(_)), "{err:?}");
        assert!(err.to_string().contains("answered 500: boom"), "{err}");
        assert_eq!(server.join().unwrap()[1], "GET /images/x/json HTTP/1.1");
    }

    #[test]
    fn names_and_hosts_are_checked() {
        for bad in ["", "a b", "../containers/json", "a/../b", "x?y", "a//b"] {
            assert!(matches!(check_name("docker:", bad), Err(Error::Reference(..))), "{bad:?}");
        }
        for good in ["alpine", "alpine:3.19", "localhost:5000/a/b@sha256:00", "sha256:abc"] {
            assert!(check_name("docker:", good).is_ok(), "{good:?}");
        }
        let tcp = OpenOptions { docker_host: Some("tcp://127.0.0.1:2375".into()), ..OpenOptions::default() };
        assert!(socket_of(&tcp).unwrap_err().to_string().contains("only unix://"));
        let plain = OpenOptions { docker_host: Some("/run/d.sock".into()), ..OpenOptions::default() };
        assert_eq!(socket_of(&plain).unwrap(), PathBuf::from("/run/d.sock"));
        assert_eq!(parse_api_version("1.41"), Some((1, 41)));
        assert_eq!(parse_api_version("x"), None);
    }
}
