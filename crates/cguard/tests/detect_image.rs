//! End to end: an image with planted malware, secrets and account problems, scanned with
//! `--scanners malware,secret,baseline --format sarif`: the interface scripts rely on.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;

/// The EICAR test string, assembled at run time so that this source file is not itself
/// flagged by scanners.
fn eicar() -> Vec<u8> {
    let parts = ["X5O!P%@AP[4\\PZX54(P^)7CC)7}$", "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"];
    parts.concat().into_bytes()
}

fn crafted(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../detect/tests/data/baseline/crafted").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn planted_findings_come_out_as_sarif_results() {
    let clam = Path::new("/usr/share/clamav-testfiles/clam.exe");
    let clam =
        std::fs::read(clam).expect("clamav-testfiles is needed: apt-get install clamav-testfiles (make test does)");
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("planted.tar");
    let files: Vec<LayerFile> = vec![
        ("etc/passwd".into(), crafted("passwd"), 0o644),
        ("etc/shadow".into(), crafted("shadow"), 0o640),
        ("etc/group".into(), crafted("group"), 0o644),
        ("srv/downloads/eicar.com".into(), eicar(), 0o644),
        ("srv/downloads/clam.exe".into(), clam, 0o644),
        // A made-up key in the documented shape of AWS access key ids.
        ("app/.env".into(), b"DEBUG=false\nAWS_ACCESS_KEY_ID=AKIAQ7ZXCVBNMASDFGHJ\n".to_vec(), 0o600),
    ];
    write_docker_archive(&archive, &files);
    let sigs = dir.path().join("sigs");
    std::fs::create_dir(&sigs).unwrap();
    std::fs::write(sigs.join("test.hdb"), "aa15bcf478d165efd2065190eb473bcb:544:ClamAV-Test-File\n").unwrap();
    let out = dir.path().join("results.sarif");
    cguard(&[
        "scan",
        &format!("docker-archive:{}", archive.display()),
        "--scanners",
        "malware,secret,baseline",
        "--malware-signatures",
        sigs.to_str().unwrap(),
        "--format",
        "sarif",
        "--output",
        out.to_str().unwrap(),
    ]);
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let results = doc["runs"][0]["results"].as_array().expect("results");
    let by_rule: BTreeMap<&str, &serde_json::Value> =
        results.iter().map(|r| (r["ruleId"].as_str().unwrap(), r)).collect();
    let uri = |r: &serde_json::Value| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].clone();

    let eicar = by_rule.get("EICAR_Test_File").expect("EICAR found");
    assert_eq!(eicar["properties"]["category"], "Virus");
    assert_eq!(uri(eicar), "/srv/downloads/eicar.com");
    let clam = by_rule.get("ClamAV-Test-File").expect("ClamAV test signature matched");
    assert_eq!(uri(clam), "/srv/downloads/clam.exe");
    assert!(clam["properties"]["category"].is_string());

    let secret = by_rule.get("aws-access-key-id").expect("AWS key found");
    assert_eq!(uri(secret), "/app/.env");
    assert_eq!(secret["locations"][0]["physicalLocation"]["region"]["startLine"], 2);
    assert!(!secret.to_string().contains("AKIAQ7ZXCVBNMASDFGHJ"), "the key is masked");

    // The crafted accounts: duplicate UID, a second UID 0, an empty password, an MD5
    // hash, two accounts sharing a hash; and the hard-coded credential above.
    for (id, level) in [
        ("CG-ACCOUNT-002", "Medium"),
        ("CG-ACCOUNT-003", "High"),
        ("CG-PASSWORD-001", "High"),
        ("CG-PASSWORD-002", "High"),
        ("CG-PASSWORD-003", "High"),
        ("CG-PASSWORD-004", "High"),
    ] {
        let r = by_rule.get(id).unwrap_or_else(|| panic!("{id} missing from {:?}", by_rule.keys()));
        assert_eq!(r["properties"]["level"], level, "{id}");
        assert_eq!(r["properties"]["result"], "failed", "{id}");
    }
    // Passed checks are not results.
    assert!(!by_rule.contains_key("CG-ACCOUNT-001"), "account names are unique in the crafted passwd");
    let account = by_rule["CG-ACCOUNT-003"];
    assert_eq!(uri(account), "/etc/passwd");
    // Nothing else: the rest is what the test image really lacks (no USER, no HEALTHCHECK).
    let all: Vec<&str> = by_rule.keys().copied().collect();
    assert_eq!(
        all,
        [
            "CG-ACCOUNT-002",
            "CG-ACCOUNT-003",
            "CG-PASSWORD-001",
            "CG-PASSWORD-002",
            "CG-PASSWORD-003",
            "CG-PASSWORD-004",
            "CIS-DI-4.1",
            "CIS-DI-4.6",
            "ClamAV-Test-File",
            "EICAR_Test_File",
            "aws-access-key-id",
        ]
    );
    assert_eq!(results.len(), all.len(), "one result per finding");
}
