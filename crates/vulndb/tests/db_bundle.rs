//! Offline bundles: signed export and import, and refusal of anything not signed by the
//! trusted key or altered after signing, always keeping the old database.

use std::path::{Path, PathBuf};
use std::process::Command;

use ed25519_dalek::Signer;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use sha2::{Digest, Sha256};
use vulndb::bundle::{self, BundleError, Manifest};
use vulndb::{Affected, Database, SourceInfo, Status, Vulnerability};

fn vuln(id: &str) -> Vulnerability {
    Vulnerability {
        id: id.into(),
        aliases: Vec::new(),
        summary: None,
        description: Some(format!("text of {id}")),
        published: None,
        modified: None,
        cvss: Vec::new(),
        severity: None,
        references: Vec::new(),
        withdrawn: false,
    }
}

fn affected(id: &str, pkg: &str) -> Affected {
    Affected {
        vulnerability: id.into(),
        ecosystem: "debian:12".into(),
        package: pkg.into(),
        status: Status::Affected,
        ranges: Vec::new(),
        versions: Vec::new(),
        fixed_version: None,
        distro_urgency: None,
        advisories: Vec::new(),
        note: None,
    }
}

fn source(name: &str) -> SourceInfo {
    SourceInfo { name: name.into(), location: "here".into(), updated: None, vulnerabilities: 1, affected: 1 }
}

/// A database holding one vulnerability `id` of package `pkg`.
fn build_db(path: &Path, id: &str, pkg: &str) {
    Database::build(vec![vuln(id)], vec![affected(id, pkg)], vec![source(id)], path).unwrap();
}

struct Site {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Site {
    fn new() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        Site { _dir: dir, root }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
}

/// The old database of the importing site must be byte-for-byte unchanged and usable.
fn assert_old_db_kept(db: &Path, before: &[u8]) {
    assert_eq!(std::fs::read(db).unwrap(), before, "the old database file changed");
    let opened = Database::open(db).unwrap();
    assert_eq!(opened.affected("debian:12", "oldpkg").unwrap().len(), 1);
    let leftovers: Vec<_> = std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// Export site: a new database and a key pair. Import site: an old database.
fn setup() -> (Site, bundle::KeyPaths, PathBuf, PathBuf, Vec<u8>) {
    let site = Site::new();
    let keys = bundle::generate_keypair(&site.path("keys")).unwrap();
    let new_db = site.path("export/vuln.db");
    std::fs::create_dir_all(new_db.parent().unwrap()).unwrap();
    build_db(&new_db, "CVE-NEW", "newpkg");
    let old_db = site.path("import/vuln.db");
    std::fs::create_dir_all(old_db.parent().unwrap()).unwrap();
    build_db(&old_db, "CVE-OLD", "oldpkg");
    let before = std::fs::read(&old_db).unwrap();
    (site, keys, new_db, old_db, before)
}

/// The entries of a bundle, in order.
fn entries(bundle: &Path) -> Vec<(String, Vec<u8>)> {
    let mut ar = tar::Archive::new(std::fs::File::open(bundle).unwrap());
    ar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().display().to_string();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut data).unwrap();
            (name, data)
        })
        .collect()
}

fn write_bundle(path: &Path, entries: &[(String, Vec<u8>)]) {
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data.as_slice()).unwrap();
    }
    b.finish().unwrap();
}

#[test]
fn export_then_import_replaces_the_database() {
    let (site, keys, new_db, old_db, _) = setup();
    let out = site.path("bundle.tar");
    let manifest = bundle::export(&new_db, &out, &keys.private).unwrap();
    let db_bytes = std::fs::read(&new_db).unwrap();
    assert_eq!(manifest.database.size, db_bytes.len() as u64);
    assert_eq!(manifest.database.sha256, hex::encode(Sha256::digest(&db_bytes)));
    assert_eq!(manifest.sources, vec![source("CVE-NEW")]);
    let names: Vec<String> = entries(&out).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["manifest.json", "manifest.sig", "vuln.db"]);

    let imported = bundle::import(&out, &old_db, &keys.public).unwrap();
    assert_eq!(imported, manifest);
    assert_eq!(std::fs::read(&old_db).unwrap(), db_bytes);
    let db = Database::open(&old_db).unwrap();
    assert_eq!(db.affected("debian:12", "newpkg").unwrap().len(), 1);
    assert!(db.affected("debian:12", "oldpkg").unwrap().is_empty());
}

#[test]
fn import_creates_the_database_where_there_was_none() {
    let (site, keys, new_db, _, _) = setup();
    let out = site.path("bundle.tar");
    bundle::export(&new_db, &out, &keys.private).unwrap();
    let fresh = site.path("import/fresh.db");
    bundle::import(&out, &fresh, &keys.public).unwrap();
    assert!(Database::open(&fresh).unwrap().vulnerability("CVE-NEW").unwrap().is_some());
}

#[test]
fn a_bundle_signed_by_another_key_is_refused() {
    let (site, keys, new_db, old_db, before) = setup();
    let other = bundle::generate_keypair(&site.path("other-keys")).unwrap();
    let out = site.path("bundle.tar");
    bundle::export(&new_db, &out, &other.private).unwrap();
    let err = bundle::import(&out, &old_db, &keys.public).unwrap_err();
    assert!(matches!(err, BundleError::BadSignature { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("signature does not verify") && msg.contains("not changed"), "{msg}");
    assert_old_db_kept(&old_db, &before);
}

#[test]
fn an_altered_database_is_refused() {
    let (site, keys, new_db, old_db, before) = setup();
    let out = site.path("bundle.tar");
    bundle::export(&new_db, &out, &keys.private).unwrap();
    let mut e = entries(&out);
    // Same size, one byte changed: only the hash can tell.
    let last = e[2].1.len() - 1;
    e[2].1[last] ^= 1;
    let altered = site.path("altered.tar");
    write_bundle(&altered, &e);
    let err = bundle::import(&altered, &old_db, &keys.public).unwrap_err();
    assert!(matches!(err, BundleError::Altered { .. }), "{err:?}");
    assert!(err.to_string().contains("sha256"), "{err}");
    assert_old_db_kept(&old_db, &before);

    // A different database of another size.
    let other_db = site.path("export/other.db");
    build_db(&other_db, "CVE-EVIL-LONGER-ID", "evil");
    e[2].1 = std::fs::read(&other_db).unwrap();
    write_bundle(&altered, &e);
    let err = bundle::import(&altered, &old_db, &keys.public).unwrap_err();
    assert!(matches!(err, BundleError::Altered { .. }), "{err:?}");
    assert_old_db_kept(&old_db, &before);
}

#[test]
fn an_altered_manifest_is_refused() {
    let (site, keys, new_db, old_db, before) = setup();
    let out = site.path("bundle.tar");
    bundle::export(&new_db, &out, &keys.private).unwrap();
    let mut e = entries(&out);
    // Point the manifest at a substituted database: the signature no longer matches.
    let evil_db = site.path("export/evil.db");
    build_db(&evil_db, "CVE-EVIL", "evil");
    let evil = std::fs::read(&evil_db).unwrap();
    let mut m: Manifest = serde_json::from_slice(&e[0].1).unwrap();
    m.database.size = evil.len() as u64;
    m.database.sha256 = hex::encode(Sha256::digest(&evil));
    e[0].1 = serde_json::to_vec_pretty(&m).unwrap();
    e[2].1 = evil;
    let altered = site.path("altered.tar");
    write_bundle(&altered, &e);
    let err = bundle::import(&altered, &old_db, &keys.public).unwrap_err();
    assert!(matches!(err, BundleError::BadSignature { .. }), "{err:?}");
    assert_old_db_kept(&old_db, &before);
}

#[test]
fn truncated_reordered_or_padded_bundles_are_refused() {
    let (site, keys, new_db, old_db, before) = setup();
    let out = site.path("bundle.tar");
    bundle::export(&new_db, &out, &keys.private).unwrap();
    let bytes = std::fs::read(&out).unwrap();
    let bad = site.path("bad.tar");
    for keep in [0, 100, 512, 1500, bytes.len() / 2, bytes.len() - 1100] {
        std::fs::write(&bad, &bytes[..keep]).unwrap();
        let err = bundle::import(&bad, &old_db, &keys.public).unwrap_err();
        assert!(matches!(err, BundleError::Invalid { .. } | BundleError::Altered { .. }), "kept {keep}: {err:?}");
        assert_old_db_kept(&old_db, &before);
    }
    let e = entries(&out);
    let reordered = vec![e[1].clone(), e[0].clone(), e[2].clone()];
    write_bundle(&bad, &reordered);
    assert!(matches!(bundle::import(&bad, &old_db, &keys.public), Err(BundleError::Invalid { .. })));
    let mut padded = e.clone();
    padded.push(("extra.sh".into(), b"#!/bin/sh\n".to_vec()));
    write_bundle(&bad, &padded);
    let err = bundle::import(&bad, &old_db, &keys.public).unwrap_err();
    assert!(err.to_string().contains("extra.sh"), "{err}");
    assert_old_db_kept(&old_db, &before);
}

#[test]
fn a_signed_bundle_whose_database_does_not_open_is_refused() {
    let (site, keys, _, old_db, before) = setup();
    // Signed correctly with the trusted key, but the "database" is not one.
    let garbage = b"CGVULNDB but not really a database".to_vec();
    let key = ed25519_dalek::SigningKey::from_pkcs8_pem(&std::fs::read_to_string(&keys.private).unwrap()).unwrap();
    let manifest = serde_json::json!({
        "bundle_format": 1,
        "created_at": "2026-01-01T00:00:00Z",
        "database": {"file": "vuln.db", "size": garbage.len(), "sha256": hex::encode(Sha256::digest(&garbage))},
        "key_id": bundle::key_id(&key.verifying_key()),
        "db_format_version": 1,
        "db_built_at": "2026-01-01T00:00:00Z",
        "cguard_version": "0.1.0",
        "sources": []
    });
    let manifest = serde_json::to_vec(&manifest).unwrap();
    let mut msg = bundle::SIGNING_CONTEXT.to_vec();
    msg.extend_from_slice(&manifest);
    let sig = hex::encode(key.sign(&msg).to_bytes());
    let path = site.path("signed-garbage.tar");
    write_bundle(
        &path,
        &[("manifest.json".into(), manifest), ("manifest.sig".into(), sig.into_bytes()), ("vuln.db".into(), garbage)],
    );
    let err = bundle::import(&path, &old_db, &keys.public).unwrap_err();
    assert!(matches!(err, BundleError::Database(_)), "{err:?}");
    assert_old_db_kept(&old_db, &before);
}

#[test]
fn key_generation_protects_the_private_key_and_never_overwrites() {
    use std::os::unix::fs::PermissionsExt;
    let site = Site::new();
    let keys = bundle::generate_keypair(&site.root).unwrap();
    let mode = std::fs::metadata(&keys.private).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let private_before = std::fs::read(&keys.private).unwrap();
    let err = bundle::generate_keypair(&site.root).unwrap_err();
    assert!(err.to_string().contains("refusing to overwrite"), "{err}");
    assert_eq!(std::fs::read(&keys.private).unwrap(), private_before);
    // Two generations give two different keys.
    let other = bundle::generate_keypair(&site.path("second")).unwrap();
    assert_ne!(std::fs::read(&other.public).unwrap(), std::fs::read(&keys.public).unwrap());
    // The public key is the one of the private key.
    let sk = bundle::read_signing_key(&keys.private).unwrap();
    assert_eq!(bundle::read_verifying_key(&keys.public).unwrap(), sk.verifying_key());
}

#[test]
fn keys_made_with_openssl_work() {
    let (site, _, new_db, old_db, _) = setup();
    let key = site.path("ossl.key");
    let public = site.path("ossl.pub");
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("the `openssl` command is needed for this test: apt-get install openssl");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    run(&["genpkey", "-algorithm", "ed25519", "-out", key.to_str().unwrap()]);
    run(&["pkey", "-in", key.to_str().unwrap(), "-pubout", "-out", public.to_str().unwrap()]);
    let out = site.path("bundle.tar");
    bundle::export(&new_db, &out, &key).unwrap();
    bundle::import(&out, &old_db, &public).unwrap();
    assert!(Database::open(&old_db).unwrap().vulnerability("CVE-NEW").unwrap().is_some());
}

#[test]
fn unusable_key_files_are_reported() {
    let (site, keys, new_db, _, _) = setup();
    let out = site.path("bundle.tar");
    // A public key where a private key is expected.
    let err = bundle::export(&new_db, &out, &keys.public).unwrap_err();
    assert!(matches!(err, BundleError::Key { .. }), "{err:?}");
    let err = bundle::export(&new_db, &out, &site.path("missing.key")).unwrap_err();
    assert!(err.to_string().contains("missing.key"), "{err}");
    assert!(!out.exists());
}
