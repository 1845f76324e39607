//! Every secret rule against planted FAKE secrets (tests/data/secrets/planted, laid out as
//! an image root filesystem): each expected finding is present with its rule id, path and
//! line, its secret is masked, and nothing else is found (placeholders included).

use std::path::{Path, PathBuf};

use detect::secrets::{Scanner, SecretFinding, Severity};
use image::{Expected, FileTree, Limits, apply_layer};

fn planted_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/secrets/planted")
}

/// Files below `dir`, as (image path, content), sorted.
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
                out.push((format!("/{rel}"), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// A layer tar holding `files` (image path, content).
fn layer(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o600);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path.trim_start_matches('/'), content.as_slice()).unwrap();
    }
    builder.into_inner().unwrap()
}

fn scan(files: &[(String, Vec<u8>)]) -> Vec<SecretFinding> {
    let mut tree = FileTree::new();
    let mut scanner = Scanner::default();
    let tar = layer(files);
    apply_layer(&mut tree, 0, &mut tar.as_slice(), &Expected::default(), &Limits::default(), &mut scanner).unwrap();
    scanner.finish(&tree)
}

/// (rule id, path, line, the planted secret that must not appear in the finding).
const EXPECTED: &[(&str, &str, u32, &str)] = &[
    ("url-credentials", "/app/.env", 2, "Vq7mN2-db-Pw"),
    ("hardcoded-password", "/app/.env", 3, "Pr0d-Db-2024!x"),
    (
        "azure-storage-key",
        "/app/.env",
        4,
        "tYKsb6vs8fKBq2VlYjSnaWZfezCGGeM7S/DHhD3JjFv3ALf+IWkvJOKSoeqDaatBg6aHaHFvKUKLzuo/ON/B5S==",
    ),
    ("stripe-live-key", "/app/.env", 5, "sk_live_UVeYwL4IQ9FMVWMk0OzWDKQJ"),
    ("github-token", "/app/config/settings.yaml", 2, "ghp_EQBKuzK8UXgrsqlvYQqGL9TMknwnJNH6nysb"),
    (
        "github-token",
        "/app/config/settings.yaml",
        3,
        "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",
    ),
    ("gitlab-token", "/app/config/settings.yaml", 4, "glpat-Nc4SKjGmTY8unPk9ybaM"),
    ("slack-token", "/app/config/settings.yaml", 6, "xoxb-807288613727-4838246743859-kMp4t3skn2H7sCB2jZ5uK8pR"),
    ("slack-webhook", "/app/config/settings.yaml", 7, "A2pocvvDvkzkdfPBScRTaQES"),
    ("google-api-key", "/app/config/settings.yaml", 8, "AIza04T9foyyM5jmqeLb7PwBH2N1zLePZlSfnK_"),
    (
        "jwt",
        "/app/config/settings.yaml",
        9,
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzdmMtcmVwb3J0aW5nIiwiaWF0IjoxNzY0MTE1MjAwfQ.S8J1gDXeKSEgQlECLcNyccFbij43r6SC2oPU4yRMEZ6",
    ),
    ("hardcoded-secret", "/app/config/settings.yaml", 10, "Qm9-r8sT-ap1-s3cret"),
    ("gcp-service-account-key", "/app/service-account.json", 5, "MIIEvg"),
    ("hardcoded-password", "/etc/app/app.conf", 4, "changeme"),
    ("pgpass-password", "/home/app/.pgpass", 1, "Pg-Pw-77aQ19"),
    ("private-key", "/home/app/.ssh/id_ed25519", 1, "b3BlbnNzaC1rZXktdjEAAAAA"),
    ("private-key", "/home/app/.ssh/id_rsa", 1, "MIIE"),
    ("url-credentials", "/home/app/.zsh_history", 1, "Zs-Pg-Pw-31"),
    ("aws-access-key-id", "/root/.aws/credentials", 2, "AKIA64CFSUOSG2WPIZZX"),
    ("aws-secret-access-key", "/root/.aws/credentials", 3, "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"),
    ("cli-password", "/root/.bash_history", 2, "MyS3cr3t-Root"),
    ("cli-password", "/root/.bash_history", 3, "Tr0ub4dor-3"),
    ("cli-password", "/root/.bash_history", 4, "Adm1n-Pw-551"),
    ("cli-password", "/root/.bash_history", 5, "Dk-Reg-Pw-9921"),
    ("cli-password", "/root/.bash_history", 6, "Ch4ngeMe-Now"),
    ("cli-password", "/root/.bash_history", 7, "R3dis-Pw-0042"),
    ("hardcoded-secret", "/root/.bash_history", 8, "Tk-9921-abcd-77ef"),
    ("docker-config-auth", "/root/.docker/config.json", 4, "Y2ktYm90OmY0azMt"),
    ("url-credentials", "/root/.git-credentials", 1, "Gk8rT-Pw-2291zq"),
    ("private-key", "/root/.gnupg/private-key.asc", 1, "lQOYBG"),
    ("netrc-password", "/root/.netrc", 1, "N3trc-Pw-8812"),
    ("npm-token", "/root/.npmrc", 1, "npm_E2xNh4yblVdHnOm27ZrE2ke02Ne6gfEHUZIG"),
    (
        "pypi-token",
        "/root/.pypirc",
        5,
        "pypi-AgEIcHlwaS5vcmchUJQQ_u-R3r4dv1ohf-crVQ3S8UH5Nmkn_SOFFfI-D_-3l6BadJ7lMTi7yrNz63Rb_RI5m",
    ),
    ("private-key", "/srv/tls/server.pem", 1, "MHcC"),
];

#[test]
fn every_planted_secret_is_found_masked_and_nothing_else() {
    let files = files_under(&planted_root());
    let found = scan(&files);
    let got: Vec<(&str, &str, u32)> = found.iter().map(|f| (f.rule_id.as_str(), f.path.as_str(), f.line)).collect();
    let want: Vec<(&str, &str, u32)> = EXPECTED.iter().map(|(r, p, l, _)| (*r, *p, *l)).collect();
    assert_eq!(got, want, "findings differ from the planted list:\n{found:#?}");

    for ((_, path, line, secret), f) in EXPECTED.iter().zip(&found) {
        // The planted value is really at that line (a key block's body starts one or two
        // lines after its armour line), so the test checks the line numbers.
        let (_, content) = files.iter().find(|(p, _)| p == path).unwrap();
        let text = String::from_utf8_lossy(content);
        let block: Vec<&str> = text.lines().skip(*line as usize - 1).take(3).collect();
        let holds = if f.rule_id == "private-key" {
            block[0].starts_with("-----BEGIN") && block[1..].iter().any(|l| l.contains(secret))
        } else {
            block[0].contains(secret)
        };
        assert!(holds, "{path}:{line} does not hold {secret}");
        assert!(f.masked.contains("****"), "{path}:{line}: no mask in {:?}", f.masked);
        // Secrets long enough to keep their ends must not be shown whole; prefixes of
        // key bodies (MIIE, MHcC) are format markers and may stay.
        if secret.len() > 8 {
            assert!(!f.masked.contains(secret), "{path}:{line}: secret shown in {:?}", f.masked);
        }
        assert_eq!(f.layer, Some(0));
        assert!(!f.removed);
    }
}

#[test]
fn severities_follow_the_rule() {
    let found = scan(&files_under(&planted_root()));
    let severity = |rule: &str| found.iter().find(|f| f.rule_id == rule).map(|f| f.severity);
    assert_eq!(severity("aws-secret-access-key"), Some(Severity::Critical));
    assert_eq!(severity("gcp-service-account-key"), Some(Severity::Critical));
    assert_eq!(severity("private-key"), Some(Severity::High));
    assert_eq!(severity("github-token"), Some(Severity::High));
    assert_eq!(severity("hardcoded-password"), Some(Severity::Medium));
    assert_eq!(severity("aws-access-key-id"), Some(Severity::Medium));
}

#[test]
fn masks_show_the_ends_of_long_tokens_only() {
    let found = scan(&files_under(&planted_root()));
    let aws = found.iter().find(|f| f.rule_id == "aws-access-key-id").unwrap();
    assert_eq!(aws.masked, "AKIA****IZZX");
    let password = found.iter().find(|f| f.path == "/etc/app/app.conf").unwrap();
    assert_eq!(password.masked, "password=****");
    let url = found.iter().find(|f| f.path == "/root/.git-credentials").unwrap();
    assert_eq!(url.masked, "https://deploy-bot:Gk****@git.internal.invalid");
}

#[test]
fn every_rule_is_documented() {
    let doc = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/secrets.md"))
        .expect("docs/secrets.md");
    let catalogue = detect::secrets::rule_catalog();
    assert!(catalogue.len() >= 20);
    for (id, _, _) in catalogue {
        assert!(doc.contains(&format!("| `{id}` |")), "docs/secrets.md has no table row for {id}");
    }
}
