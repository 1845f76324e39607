//! Secrets at rest (a Kubernetes cluster's kubeconfig): sealed with XChaCha20-Poly1305
//! under the server's 256-bit key, with the purpose and the owning record as associated
//! data, so that a sealed value copied to another record does not open there.
//!
//! The key lives in a file (`--secret-key-file`, default `DATA_DIR/secret.key`, created 0600
//! with 32 random bytes at first start) and never in the database. Replicas share the file.
//! The database keeps a check value sealed with the key; a server started with another key
//! refuses to start instead of failing later on every secret.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

const VERSION: &str = "v1:";
const NONCE: usize = 24;
const CHECK_SETTING: &str = "secret_key_check";
const CHECK_PURPOSE: &str = "secret-key-check";
const CHECK_TEXT: &[u8] = b"cguard secret key check";

/// Why a secret could not be sealed or opened, or the key not used.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret key file {path}: {message}")]
    KeyFile { path: String, message: String },
    #[error("a sealed secret cannot be opened: it was sealed with another key, or altered")]
    Open,
    #[error(
        "the database's secrets were sealed with another key than {0}: give this server the key file \
         the other replicas (or the previous start) used"
    )]
    WrongKey(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
}

/// The server's key. Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct SecretKey {
    key: [u8; 32],
    /// Where it came from, for messages.
    origin: String,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey").field("origin", &self.origin).finish_non_exhaustive()
    }
}

impl SecretKey {
    /// Reads the key file, or creates it (0600, 32 random bytes) when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<SecretKey, SecretError> {
        let shown = path.display().to_string();
        let fail = |message: String| SecretError::KeyFile { path: shown.clone(), message };
        match std::fs::read(path) {
            Ok(bytes) => {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?.permissions().mode();
                if mode & 0o077 != 0 {
                    return Err(fail(format!("is readable by others (mode {:o}); make it 0600", mode & 0o777)));
                }
                let key: [u8; 32] =
                    bytes.try_into().map_err(|b: Vec<u8>| fail(format!("holds {} bytes, not 32", b.len())))?;
                Ok(SecretKey { key, origin: shown.clone() })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut key);
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|e| fail(e.to_string()))?;
                file.write_all(&key).and_then(|()| file.sync_all()).map_err(|e| fail(e.to_string()))?;
                tracing::info!(file = %shown, "created the secret key file");
                Ok(SecretKey { key, origin: shown.clone() })
            }
            Err(e) => Err(fail(e.to_string())),
        }
    }

    /// Reads the key file; unlike [`Self::load_or_create`], a missing file is an error (for
    /// commands that check what a server wrote, such as `cguard audit verify`).
    pub fn load(path: &Path) -> Result<SecretKey, SecretError> {
        if !path.exists() {
            return Err(SecretError::KeyFile {
                path: path.display().to_string(),
                message: "does not exist; give the server's key file (--secret-key-file)".into(),
            });
        }
        SecretKey::load_or_create(path)
    }

    /// The key of the audit chain, derived from this key (HMAC-SHA256 with a fixed label),
    /// so that replicas sharing the key file extend one keyed chain.
    pub fn audit_key(&self) -> store::AuditKey {
        store::AuditKey::derive(&self.key)
    }

    /// A key that lives only in this process (tests, or a server given no key file).
    pub fn ephemeral() -> SecretKey {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        SecretKey { key, origin: "a key of this process only".into() }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.key).into())
    }

    /// Seals `plain` for `purpose` (e.g. `cluster-kubeconfig:<id>`): `v1:` and base64 of the
    /// random nonce and the ciphertext.
    pub fn seal(&self, purpose: &str, plain: &[u8]) -> String {
        let mut nonce = [0u8; NONCE];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad: purpose.as_bytes() })
            .expect("XChaCha20-Poly1305 seals any message that fits in memory");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{VERSION}{}", base64::engine::general_purpose::STANDARD.encode(out))
    }

    /// Opens a value sealed for the same `purpose`.
    pub fn open(&self, purpose: &str, sealed: &str) -> Result<Vec<u8>, SecretError> {
        let data = sealed
            .strip_prefix(VERSION)
            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
            .filter(|d| d.len() > NONCE)
            .ok_or(SecretError::Open)?;
        let (nonce, ciphertext) = data.split_at(NONCE);
        self.cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: purpose.as_bytes() })
            .map_err(|_| SecretError::Open)
    }

    /// Records this key's check value in the store at first start, and later checks that
    /// the key is the one the store's secrets were sealed with.
    pub async fn check(&self, store: &dyn store::Store) -> Result<(), SecretError> {
        let mine = self.seal(CHECK_PURPOSE, CHECK_TEXT);
        if store.put_setting_if_absent(CHECK_SETTING, &mine).await? {
            return Ok(());
        }
        let recorded = store.setting(CHECK_SETTING).await?.unwrap_or_default();
        match self.open(CHECK_PURPOSE, &recorded) {
            Ok(text) if text == CHECK_TEXT => Ok(()),
            _ => Err(SecretError::WrongKey(self.origin.clone())),
        }
    }
}

impl domain::seal::Sealer for SecretKey {
    fn seal(&self, purpose: &str, plain: &[u8]) -> String {
        SecretKey::seal(self, purpose, plain)
    }

    fn open(&self, purpose: &str, sealed: &str) -> Result<Vec<u8>, String> {
        SecretKey::open(self, purpose, sealed).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_key_and_purpose_they_were_sealed_for() {
        let key = SecretKey::ephemeral();
        let sealed = key.seal("cluster-kubeconfig:a", b"token: s3cret");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("s3cret"));
        assert_eq!(key.open("cluster-kubeconfig:a", &sealed).unwrap(), b"token: s3cret");
        assert_ne!(sealed, key.seal("cluster-kubeconfig:a", b"token: s3cret"), "a fresh nonce each time");
        assert!(matches!(key.open("cluster-kubeconfig:b", &sealed), Err(SecretError::Open)), "moved to another row");
        assert!(matches!(SecretKey::ephemeral().open("cluster-kubeconfig:a", &sealed), Err(SecretError::Open)));
        let mut altered = sealed.clone().into_bytes();
        let last = altered.len() - 2;
        altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
        assert!(key.open("cluster-kubeconfig:a", &String::from_utf8(altered).unwrap()).is_err());
        for junk in ["", "v1:", "v1:!!!", "v2:AAAA", "v1:AAAA"] {
            assert!(key.open("x", junk).is_err(), "{junk:?}");
        }
    }

    #[test]
    fn the_key_file_is_created_private_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret.key");
        let a = SecretKey::load_or_create(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let b = SecretKey::load_or_create(&path).unwrap();
        let sealed = a.seal("p", b"x");
        assert_eq!(b.open("p", &sealed).unwrap(), b"x");
        assert!(!format!("{a:?}").contains(&format!("{:?}", a.key)));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(SecretKey::load_or_create(&path).unwrap_err().to_string().contains("readable by others"));
        std::fs::write(dir.path().join("short.key"), b"abc").unwrap();
        std::fs::set_permissions(dir.path().join("short.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(SecretKey::load_or_create(&dir.path().join("short.key")).unwrap_err().to_string().contains("3 bytes"));
    }
}
