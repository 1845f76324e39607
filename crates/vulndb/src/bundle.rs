//! Offline bundles for air-gapped sites: `cguard db export` on a connected machine,
//! `cguard db import` on the isolated one.
//!
//! A bundle is a tar archive of exactly three regular files, in this order:
//!
//! 1. `manifest.json` — what the bundle holds: the database file name, size and SHA-256,
//!    its build time, cguard version and sources, and the id of the signing key;
//! 2. `manifest.sig` — the Ed25519 signature (hex) of [`SIGNING_CONTEXT`] followed by the
//!    exact bytes of `manifest.json`;
//! 3. `vuln.db` — the database file.
//!
//! Import checks the signature against the trusted public key before reading anything
//! else, streams the database into a temporary file beside the target while hashing it,
//! compares size and SHA-256 with the signed manifest, opens the result as a database,
//! and only then renames it over the old one. A bundle that fails any check is refused
//! and the old database is kept.
//!
//! Keys are PKCS#8 / SPKI PEM files, so they can also be made with OpenSSL
//! (`openssl genpkey -algorithm ed25519`, `openssl pkey -pubout`).

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::{Database, DbError, TempFile, now_unix};
use crate::model::SourceInfo;

/// The bundle layout version this code writes and reads.
pub const BUNDLE_FORMAT: u32 = 1;
/// Prefixed to the manifest before signing, so that a signature made for anything else
/// with the same key can never pass as a bundle signature.
pub const SIGNING_CONTEXT: &[u8] = b"cguard-db-bundle-v1\n";
/// The private key file `generate_keypair` writes.
pub const PRIVATE_KEY_FILE: &str = "cguard-db-signing.key";
/// The public key file `generate_keypair` writes (give this one to importing sites).
pub const PUBLIC_KEY_FILE: &str = "cguard-db-signing.pub";

const MANIFEST: &str = "manifest.json";
const SIGNATURE: &str = "manifest.sig";
const DATABASE: &str = "vuln.db";
const MAX_MANIFEST_BYTES: u64 = 1 << 20;
const MAX_SIGNATURE_BYTES: u64 = 1024;
const MAX_KEY_BYTES: u64 = 64 * 1024;

/// What a bundle holds; signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub bundle_format: u32,
    /// When the bundle was made, RFC 3339.
    pub created_at: String,
    pub database: DatabaseEntry,
    /// Short id of the signing key (first 16 hex digits of the SHA-256 of the public key).
    pub key_id: String,
    pub db_format_version: u32,
    /// When the database was built, RFC 3339.
    pub db_built_at: String,
    pub cguard_version: String,
    pub sources: Vec<SourceInfo>,
}

/// The database file inside a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseEntry {
    pub file: String,
    pub size: u64,
    pub sha256: String,
}

/// The two key files of a key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPaths {
    pub private: PathBuf,
    pub public: PathBuf,
}

/// Why exporting or importing a bundle failed. On import, the old database is kept.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A key file is missing, unreadable or not an Ed25519 key.
    #[error("key {path}: {reason}")]
    Key { path: PathBuf, reason: String },
    /// The bundle is not laid out as a bundle.
    #[error("{path} is not a valid database bundle: {reason}; the database was not changed")]
    Invalid { path: PathBuf, reason: String },
    /// The manifest signature does not verify with the trusted key.
    #[error(
        "{path}: the signature does not verify with the trusted key {trusted_key_id}{}; the database was not changed",
        signed_by.as_ref().map(|k| format!(" (the manifest names key {k})")).unwrap_or_default()
    )]
    BadSignature { path: PathBuf, trusted_key_id: String, signed_by: Option<String> },
    /// The database in the bundle is not the one the signed manifest describes.
    #[error("{path}: the database does not match the signed manifest ({reason}); the database was not changed")]
    Altered { path: PathBuf, reason: String },
    /// The database file (to export, or inside the bundle) is not a usable database.
    #[error("{0}")]
    Database(#[from] DbError),
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BundleError {
    let path = path.to_path_buf();
    move |source| BundleError::Io { action, path, source }
}

/// The short id of a public key.
pub fn key_id(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    hex::encode(digest.get(..8).unwrap_or(&[]))
}

/// Creates a new key pair in `dir`: [`PRIVATE_KEY_FILE`] (mode 0600) and
/// [`PUBLIC_KEY_FILE`]. Existing files are never overwritten.
pub fn generate_keypair(dir: &Path) -> Result<KeyPaths, BundleError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|e| io("gathering randomness for", dir)(std::io::Error::other(e.to_string())))?;
    let key = SigningKey::from_bytes(&seed);
    seed.fill(0);
    let private_pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| BundleError::Key { path: dir.join(PRIVATE_KEY_FILE), reason: e.to_string() })?;
    let public_pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| BundleError::Key { path: dir.join(PUBLIC_KEY_FILE), reason: e.to_string() })?;
    std::fs::create_dir_all(dir).map_err(io("creating", dir))?;
    let paths = KeyPaths { private: dir.join(PRIVATE_KEY_FILE), public: dir.join(PUBLIC_KEY_FILE) };
    for p in [&paths.private, &paths.public] {
        if p.exists() {
            return Err(io("refusing to overwrite", p)(std::io::ErrorKind::AlreadyExists.into()));
        }
    }
    write_new(&paths.private, private_pem.as_bytes(), 0o600)?;
    write_new(&paths.public, public_pem.as_bytes(), 0o644)?;
    Ok(paths)
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), BundleError> {
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = opts.open(path).map_err(io("creating", path))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(io("writing", path))
}

fn read_key_text(path: &Path) -> Result<String, BundleError> {
    let f = File::open(path).map_err(|e| BundleError::Key { path: path.to_path_buf(), reason: e.to_string() })?;
    let mut text = String::new();
    f.take(MAX_KEY_BYTES)
        .read_to_string(&mut text)
        .map_err(|e| BundleError::Key { path: path.to_path_buf(), reason: e.to_string() })?;
    Ok(text)
}

/// Reads a PKCS#8 PEM Ed25519 private key.
pub fn read_signing_key(path: &Path) -> Result<SigningKey, BundleError> {
    SigningKey::from_pkcs8_pem(&read_key_text(path)?).map_err(|e| BundleError::Key {
        path: path.to_path_buf(),
        reason: format!("not an Ed25519 private key in PKCS#8 PEM: {e}"),
    })
}

/// Reads an SPKI PEM Ed25519 public key.
pub fn read_verifying_key(path: &Path) -> Result<VerifyingKey, BundleError> {
    VerifyingKey::from_public_key_pem(&read_key_text(path)?).map_err(|e| BundleError::Key {
        path: path.to_path_buf(),
        reason: format!("not an Ed25519 public key in PEM: {e}"),
    })
}

fn signed_message(manifest: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(SIGNING_CONTEXT.len() + manifest.len());
    msg.extend_from_slice(SIGNING_CONTEXT);
    msg.extend_from_slice(manifest);
    msg
}

/// Writes a signed bundle of the database at `db_path` to `out` (atomically).
pub fn export(db_path: &Path, out: &Path, signing_key: &Path) -> Result<Manifest, BundleError> {
    let key = read_signing_key(signing_key)?;
    // Hash and copy through one handle, so that a database swapped in meanwhile by an
    // update cannot make the manifest describe another file than the one bundled.
    let mut file = File::open(db_path).map_err(io("reading", db_path))?;
    let db = Database::open(db_path)?;
    let status = db.status();
    drop(db);
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut file, &mut hasher).map_err(io("reading", db_path))?;
    let sha256 = hex::encode(hasher.finalize());
    let manifest = Manifest {
        bundle_format: BUNDLE_FORMAT,
        created_at: crate::db::rfc3339(now_unix()),
        database: DatabaseEntry { file: DATABASE.into(), size, sha256 },
        key_id: key_id(&key.verifying_key()),
        db_format_version: status.format_version,
        db_built_at: status.built_at,
        cguard_version: env!("CARGO_PKG_VERSION").into(),
        sources: status.sources,
    };
    let manifest_bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|e| io("encoding manifest for", out)(std::io::Error::other(e)))?;
    let signature = key.sign(&signed_message(&manifest_bytes));
    let sig_hex = hex::encode(signature.to_bytes());

    let tmp = TempFile::beside(out)?;
    let mut tar = tar::Builder::new(tmp);
    let mtime = u64::try_from(now_unix()).unwrap_or(0);
    let mut append = |name: &str, size: u64, data: &mut dyn Read| {
        let mut h = tar::Header::new_gnu();
        h.set_size(size);
        h.set_mode(0o644);
        h.set_mtime(mtime);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, name, data).map_err(io("writing", out))
    };
    append(MANIFEST, manifest_bytes.len() as u64, &mut manifest_bytes.as_slice())?;
    append(SIGNATURE, sig_hex.len() as u64, &mut sig_hex.as_bytes())?;
    file.seek(SeekFrom::Start(0)).map_err(io("reading", db_path))?;
    append(DATABASE, size, &mut (&mut file).take(size))?;
    let tmp = tar.into_inner().map_err(io("writing", out))?;
    tmp.commit()?;
    Ok(manifest)
}

/// Reads one whole, small, regular-file entry named `name`.
fn small_entry<R: Read>(
    entry: Option<std::io::Result<tar::Entry<'_, R>>>,
    name: &str,
    cap: u64,
    bundle: &Path,
) -> Result<Vec<u8>, BundleError> {
    let invalid = |reason: String| BundleError::Invalid { path: bundle.to_path_buf(), reason };
    let mut entry =
        entry.ok_or_else(|| invalid(format!("`{name}` is missing")))?.map_err(|e| invalid(e.to_string()))?;
    check_entry(&entry, name).map_err(invalid)?;
    if entry.size() > cap {
        return Err(invalid(format!("`{name}` is {} bytes, over the {cap}-byte limit", entry.size())));
    }
    let mut data = Vec::new();
    (&mut entry).take(cap).read_to_end(&mut data).map_err(|e| invalid(format!("reading `{name}`: {e}")))?;
    Ok(data)
}

fn check_entry<R: Read>(entry: &tar::Entry<'_, R>, name: &str) -> Result<(), String> {
    let path = entry.path().map_err(|e| e.to_string())?;
    if path != Path::new(name) {
        return Err(format!("expected `{name}`, found `{}`", path.display()));
    }
    if !entry.header().entry_type().is_file() {
        return Err(format!("`{name}` is not a regular file"));
    }
    Ok(())
}

/// Checks the bundle's signature and content and replaces the database at `db_path`
/// with the one inside (atomically). Any failure keeps the old database.
pub fn import(bundle: &Path, db_path: &Path, trusted_public_key: &Path) -> Result<Manifest, BundleError> {
    let trusted = read_verifying_key(trusted_public_key)?;
    let invalid = |reason: String| BundleError::Invalid { path: bundle.to_path_buf(), reason };
    let file = File::open(bundle).map_err(io("reading", bundle))?;
    let mut archive = tar::Archive::new(BufReader::new(file));
    let mut entries = archive.entries().map_err(|e| invalid(e.to_string()))?;

    let manifest_bytes = small_entry(entries.next(), MANIFEST, MAX_MANIFEST_BYTES, bundle)?;
    let sig_text = small_entry(entries.next(), SIGNATURE, MAX_SIGNATURE_BYTES, bundle)?;
    let sig_bytes: [u8; 64] = std::str::from_utf8(&sig_text)
        .ok()
        .and_then(|s| hex::decode(s.trim()).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| invalid("`manifest.sig` is not a hex Ed25519 signature".into()))?;
    let signature = Signature::from_bytes(&sig_bytes);
    if trusted.verify_strict(&signed_message(&manifest_bytes), &signature).is_err() {
        // The manifest is untrusted here; its key id only helps to explain the refusal.
        let signed_by = serde_json::from_slice::<Manifest>(&manifest_bytes).ok().map(|m| m.key_id);
        return Err(BundleError::BadSignature {
            path: bundle.to_path_buf(),
            trusted_key_id: key_id(&trusted),
            signed_by,
        });
    }
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes).map_err(|e| invalid(format!("manifest: {e}")))?;
    if manifest.bundle_format != BUNDLE_FORMAT {
        return Err(invalid(format!(
            "bundle format {} is not the format {BUNDLE_FORMAT} this cguard reads",
            manifest.bundle_format
        )));
    }

    let altered = |reason: String| BundleError::Altered { path: bundle.to_path_buf(), reason };
    let mut entry =
        entries.next().ok_or_else(|| invalid("the database is missing".into()))?.map_err(|e| invalid(e.to_string()))?;
    check_entry(&entry, &manifest.database.file).map_err(invalid)?;
    if entry.size() != manifest.database.size {
        return Err(altered(format!("{} bytes, the manifest says {}", entry.size(), manifest.database.size)));
    }
    let mut tmp = TempFile::beside(db_path)?;
    let mut hashing = HashingWriter { inner: &mut tmp, hasher: Sha256::new() };
    let copied = std::io::copy(&mut (&mut entry).take(manifest.database.size), &mut hashing)
        .map_err(|e| invalid(format!("reading the database: {e}")))?;
    let digest = hex::encode(hashing.hasher.finalize());
    if copied != manifest.database.size {
        return Err(altered(format!("{copied} bytes, the manifest says {}", manifest.database.size)));
    }
    if !digest.eq_ignore_ascii_case(&manifest.database.sha256) {
        return Err(altered(format!("sha256 {digest}, the manifest says {}", manifest.database.sha256)));
    }
    drop(entry);
    if let Some(extra) = entries.next() {
        let name = extra.ok().and_then(|e| e.path().ok().map(|p| p.display().to_string())).unwrap_or_default();
        return Err(invalid(format!("unexpected entry `{name}` after the database")));
    }
    tmp.finish()?;
    // The new file must open as a database of a format this cguard reads.
    Database::open(tmp.path())?;
    tmp.commit()?;
    Ok(manifest)
}

/// Hashes what passes through on its way to the temporary file.
struct HashingWriter<'a> {
    inner: &'a mut TempFile,
    hasher: Sha256,
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or(&[]));
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
