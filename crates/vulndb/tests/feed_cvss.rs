//! CVSS scores computed from vectors, checked against the reference implementation of
//! Red Hat's Python `cvss` package (pip package `cvss`): every v2.0, v3.0 and v3.1 base
//! vector, 20,000 generated v4.0 vectors (with threat and environmental metrics), and every
//! vector of the real feeds in shared/vulndata.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use vulndb::feed::cvss;

const REFERENCE: &str = r#"
import sys
try:
    from cvss import CVSS2, CVSS3, CVSS4
except ImportError:
    sys.stderr.write("the Python package 'cvss' is missing: pip install cvss\n")
    sys.exit(3)
for line in sys.stdin:
    v = line.strip()
    if v.startswith("CVSS:4.0/"):
        s = CVSS4(v).base_score
    elif v.startswith("CVSS:3"):
        s = CVSS3(v).scores()[0]
    else:
        s = CVSS2(v).scores()[0]
    print(float(s))
"#;

/// Scores of `vectors` from the Python reference, in order.
fn reference_scores(vectors: &[String]) -> Vec<f64> {
    let mut child = Command::new("python3")
        .args(["-c", REFERENCE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the CVSS reference (Debian package python3, then pip install cvss)");
    let mut stdin = child.stdin.take().unwrap();
    let input = vectors.join("\n") + "\n";
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "CVSS reference failed (pip package `cvss` needed): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let scores: Vec<f64> = String::from_utf8(output.stdout).unwrap().lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(scores.len(), vectors.len());
    scores
}

/// Every combination of the given metric values, as `NAME:VALUE/...` strings.
fn combinations(metrics: &[(&str, &[&str])]) -> Vec<String> {
    let mut out = vec![String::new()];
    for (name, values) in metrics {
        out = out
            .iter()
            .flat_map(|prefix| {
                values.iter().map(move |v| format!("{prefix}{}{name}:{v}", if prefix.is_empty() { "" } else { "/" }))
            })
            .collect();
    }
    out
}

fn compare(vectors: Vec<String>) {
    let expected = reference_scores(&vectors);
    let mut wrong = Vec::new();
    for (vector, want) in vectors.iter().zip(expected) {
        let (_, got) = cvss::base_score(vector).unwrap_or_else(|e| panic!("{vector}: {e}"));
        if (got - want).abs() > 1e-9 {
            wrong.push(format!("{vector}: {got} != {want}"));
        }
    }
    assert!(wrong.is_empty(), "{} of {} differ, e.g. {:#?}", wrong.len(), vectors.len(), &wrong[..wrong.len().min(10)]);
}

#[test]
fn every_v2_and_v3_base_vector_matches_the_reference() {
    let v2 = combinations(&[
        ("AV", &["L", "A", "N"]),
        ("AC", &["H", "M", "L"]),
        ("Au", &["M", "S", "N"]),
        ("C", &["N", "P", "C"]),
        ("I", &["N", "P", "C"]),
        ("A", &["N", "P", "C"]),
    ]);
    let v3 = combinations(&[
        ("AV", &["N", "A", "L", "P"]),
        ("AC", &["L", "H"]),
        ("PR", &["N", "L", "H"]),
        ("UI", &["N", "R"]),
        ("S", &["U", "C"]),
        ("C", &["H", "L", "N"]),
        ("I", &["H", "L", "N"]),
        ("A", &["H", "L", "N"]),
    ]);
    let mut vectors = v2;
    vectors.extend(v3.iter().map(|v| format!("CVSS:3.0/{v}")));
    vectors.extend(v3.iter().map(|v| format!("CVSS:3.1/{v}")));
    assert_eq!(vectors.len(), 729 + 2 * 2592);
    compare(vectors);
}

#[test]
fn generated_v4_vectors_match_the_reference() {
    const BASE: [(&str, &[&str]); 11] = [
        ("AV", &["N", "A", "L", "P"]),
        ("AC", &["L", "H"]),
        ("AT", &["N", "P"]),
        ("PR", &["N", "L", "H"]),
        ("UI", &["N", "P", "A"]),
        ("VC", &["H", "L", "N"]),
        ("VI", &["H", "L", "N"]),
        ("VA", &["H", "L", "N"]),
        ("SC", &["H", "L", "N"]),
        ("SI", &["H", "L", "N"]),
        ("SA", &["H", "L", "N"]),
    ];
    const OPTIONAL: [(&str, &[&str]); 16] = [
        ("E", &["X", "A", "P", "U"]),
        ("CR", &["X", "H", "M", "L"]),
        ("IR", &["X", "H", "M", "L"]),
        ("AR", &["X", "H", "M", "L"]),
        ("MAV", &["X", "N", "A", "L", "P"]),
        ("MAC", &["X", "L", "H"]),
        ("MAT", &["X", "N", "P"]),
        ("MPR", &["X", "N", "L", "H"]),
        ("MUI", &["X", "N", "P", "A"]),
        ("MVC", &["X", "H", "L", "N"]),
        ("MVI", &["X", "H", "L", "N"]),
        ("MVA", &["X", "H", "L", "N"]),
        ("MSC", &["X", "H", "L", "N"]),
        ("MSI", &["X", "S", "H", "L", "N"]),
        ("MSA", &["X", "S", "H", "L", "N"]),
        ("U", &["X", "Clear", "Red"]),
    ];
    // A fixed-seed generator, so that a failure reproduces.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = |n: usize| {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((state >> 33) as usize) % n
    };
    let mut vectors = Vec::new();
    for i in 0..20_000 {
        let mut parts: Vec<String> =
            BASE.iter().map(|(m, values)| format!("{m}:{}", values[next(values.len())])).collect();
        // Half the vectors are plain base vectors (CVSS-B), half carry other metrics.
        if i % 2 == 1 {
            for (m, values) in OPTIONAL {
                if next(3) == 0 {
                    parts.push(format!("{m}:{}", values[next(values.len())]));
                }
            }
        }
        vectors.push(format!("CVSS:4.0/{}", parts.join("/")));
    }
    compare(vectors);
}

#[test]
fn every_vector_of_the_real_feeds_matches_the_reference() {
    let vulndata = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vulndata");
    let feeds =
        vulndb::feed::load_dir(&vulndata).unwrap_or_else(|e| panic!("{e} (shared/vulndata must sit beside the clone)"));
    let vectors: Vec<String> =
        feeds.vulnerabilities.iter().flat_map(|v| v.cvss.iter().map(|c| c.vector.clone())).collect();
    // 58 OSV vectors and 24 from CVE records.
    assert_eq!(vectors.len(), 82);
    assert!(vectors.iter().any(|v| v.starts_with("CVSS:4.0/")));
    compare(vectors);
}
