//! Certificates and signatures for the test registries, made with the `openssl` command
//! line tool: a CA and a server certificate for 127.0.0.1, and a self-signed key that
//! signs bearer tokens (RS256).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl ({e}); install the Debian package `openssl`"));
    assert!(out.status.success(), "openssl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
}

/// A CA certificate and a server certificate it signed for IP 127.0.0.1.
pub struct ServerTls {
    pub ca_cert: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

pub fn server_tls(dir: &Path) -> ServerTls {
    let subj_ca = "/CN=cguard test CA";
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
            "-days",
            "2",
            "-subj",
            subj_ca,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
        dir,
    );
    openssl(
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
        dir,
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
         extendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
        dir,
    );
    ServerTls { ca_cert: dir.join("ca.crt"), cert: dir.join("server.crt"), key: dir.join("server.key") }
}

/// The key that signs bearer tokens, and its self-signed certificate (the registry's
/// `rootcertbundle`; tokens carry it in their `x5c` header).
pub struct SigningKey {
    pub key: PathBuf,
    pub cert_pem: PathBuf,
    pub cert_der: Vec<u8>,
}

pub fn signing_key(dir: &Path) -> SigningKey {
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "token.key",
            "-out",
            "token.crt",
            "-days",
            "2",
            "-subj",
            "/CN=cguard test token issuer",
        ],
        dir,
    );
    openssl(&["x509", "-in", "token.crt", "-outform", "DER", "-out", "token.der"], dir);
    SigningKey {
        key: dir.join("token.key"),
        cert_pem: dir.join("token.crt"),
        cert_der: std::fs::read(dir.join("token.der")).unwrap(),
    }
}

/// RSASSA-PKCS1-v1_5 with SHA-256 over `data`: the JWS `RS256` signature.
pub fn sign_rs256(key: &Path, data: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run openssl ({e}); install the Debian package `openssl`"));
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl dgst failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}
