//! A real distribution registry (Debian's `docker-registry`) run by a test on a free
//! loopback port, with its own config and storage in a temporary directory. It is killed
//! when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = "/usr/bin/docker-registry";

/// How the registry authenticates clients.
pub enum Auth<'a> {
    None,
    /// Basic authentication against an htpasswd file.
    Htpasswd {
        file: &'a Path,
    },
    /// Bearer tokens from a token server.
    Token {
        realm: &'a str,
        service: &'a str,
        issuer: &'a str,
        root_cert: &'a Path,
    },
}

/// Certificate and key the registry serves HTTPS with.
pub struct Tls<'a> {
    pub cert: &'a Path,
    pub key: &'a Path,
}

pub struct Registry {
    child: Child,
    dir: tempfile::TempDir,
    /// `127.0.0.1:PORT`.
    pub host: String,
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Registry {
    pub fn start(auth: Auth<'_>, tls: Option<Tls<'_>>) -> Registry {
        assert!(
            Path::new(BINARY).exists(),
            "{BINARY} is missing: the registry tests need the Debian package `docker-registry`"
        );
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let storage = dir.path().join("storage");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    \
             rootdirectory: {}\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: {host}\n  \
             secret: cguard-test-secret\n",
            storage.display()
        );
        if let Some(tls) = &tls {
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                tls.cert.display(),
                tls.key.display()
            ));
        }
        match auth {
            Auth::None => {}
            Auth::Htpasswd { file } => {
                config.push_str(&format!("auth:\n  htpasswd:\n    realm: cguard-test\n    path: {}\n", file.display()));
            }
            Auth::Token { realm, service, issuer, root_cert } => config.push_str(&format!(
                "auth:\n  token:\n    realm: {realm}\n    service: {service}\n    issuer: {issuer}\n    \
                 rootcertbundle: {}\n",
                root_cert.display()
            )),
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new(BINARY)
            .arg("serve")
            .arg(&config_path)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {BINARY}: {e}"));
        let mut registry = Registry { child, dir, host };
        registry.wait_ready(port);
        registry
    }

    fn wait_ready(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("docker-registry exited with {status}:\n{}", self.log());
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("docker-registry did not listen on port {port} within 20 s:\n{}", self.log());
    }

    /// What the registry logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// The file in the registry's storage that holds the blob `digest`.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.dir.path().join("storage/docker/registry/v2/blobs/sha256").join(&hex[..2]).join(hex).join("data")
    }

    /// Stops the registry now, as a crash or an outage would.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}
