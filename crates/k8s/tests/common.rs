//! Helpers shared by the test modules: kubeconfig text and test certificates.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use base64::Engine as _;

pub const CERT_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUY2d1YXJk\n-----END CERTIFICATE-----\n";
pub const KEY_PEM: &str =
    "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIGNndWFyZCB0ZXN0IGtleQ==\n-----END EC PRIVATE KEY-----\n";

pub fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// A kubeconfig with one context `ctx` of cluster `c` (the given fields) and user `u` (the
/// given fields), current. Fields are YAML lines for the inner mappings, indented here.
pub fn kubeconfig(cluster_fields: &[&str], user_fields: &[&str]) -> String {
    let indent = |fields: &[&str]| fields.iter().map(|f| format!("      {f}\n")).collect::<String>();
    format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: ctx\nclusters:\n  - name: c\n    cluster:\n{}contexts:\n  - name: \
         ctx\n    context:\n      cluster: c\n      user: u\n      namespace: team\nusers:\n  - name: u\n    user:\n{}",
        indent(cluster_fields),
        indent(user_fields)
    )
}

/// Test certificates made with `openssl` in a temporary directory, once per test run:
/// a CA, a server certificate for 127.0.0.1 signed by it, another CA, and a client
/// certificate and key signed by the first CA. Generated, not stored: the repository holds
/// no private keys.
pub struct Pki {
    pub dir: PathBuf,
    _keep: tempfile::TempDir,
}

impl Pki {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }
}

pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let keep = tempfile::tempdir().unwrap();
        let dir = keep.path().to_path_buf();
        let run = |args: &[&str]| {
            let out = Command::new("openssl").args(args).current_dir(&dir).output().expect("openssl runs");
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        for ca in ["ca", "other-ca"] {
            let subject = format!("/CN=cguard test {ca}");
            let mut args = vec!["req", "-x509", "-days", "2", "-subj", &subject];
            args.extend(ec);
            let key = format!("{ca}.key");
            let cert = format!("{ca}.pem");
            args.extend(["-keyout", &key, "-out", &cert]);
            run(&args);
        }
        for (name, subject, ext) in [
            ("server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1"),
            ("client", "/CN=cguard-test-client/O=system:masters", "extendedKeyUsage=clientAuth"),
        ] {
            let key = format!("{name}.key");
            let csr = format!("{name}.csr");
            let cert = format!("{name}.pem");
            let mut args = vec!["req", "-new", "-subj", subject];
            args.extend(ec);
            args.extend(["-keyout", &key, "-out", &csr]);
            run(&args);
            write(&dir.join(format!("{name}.ext")), ext);
            let extfile = format!("{name}.ext");
            run(&[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &extfile,
                "-out",
                &cert,
            ]);
        }
        Pki { dir, _keep: keep }
    })
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// The repository's root (for deploy/ and docs/).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
