//! apk ordering checked against the version vectors that apk-tools publishes with its own tests
//! (tests/data/apk_version.data; see its header for origin and licence). No apk-tools build is available as a
//! package here, so the vectors are the reference.

use std::cmp::Ordering;

use vercmp::apk::{compare, compare_fuzzy, is_valid};

const DATA: &str = include_str!("data/apk_version.data");

#[test]
fn apk_agrees_with_published_vectors() {
    let (mut compared, mut fuzzy, mut validity) = (0, 0, 0);
    let mut failures = Vec::new();
    for (number, raw) in DATA.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let ok = match fields.as_slice() {
            [a, op @ ("<" | "=" | ">"), b] => {
                compared += 1;
                let want = match *op {
                    "<" => Ordering::Less,
                    "=" => Ordering::Equal,
                    _ => Ordering::Greater,
                };
                compare(a, b) == want && compare(b, a) == want.reverse()
            }
            [a, op, b] => {
                fuzzy += 1;
                let got = compare_fuzzy(a, b);
                match *op {
                    "~" => got == Ordering::Equal,
                    "<~" => got != Ordering::Greater,
                    ">~" => got != Ordering::Less,
                    "!~" => got != Ordering::Equal,
                    other => panic!("line {}: unknown operator {other:?}", number + 1),
                }
            }
            [version] => {
                validity += 1;
                match version.strip_prefix('!') {
                    Some(invalid) => !is_valid(invalid),
                    None => is_valid(version),
                }
            }
            _ => panic!("line {}: cannot read {raw:?}", number + 1),
        };
        if !ok {
            failures.push(format!("line {}: {line}", number + 1));
        }
    }
    println!("apk: {compared} comparisons, {fuzzy} fuzzy matches, {validity} validity checks");
    assert!(failures.is_empty(), "{} vectors fail:\n{}", failures.len(), failures.join("\n"));
    assert!(compared > 700 && fuzzy >= 16 && validity >= 30, "the vector file was not read completely");
}

#[test]
fn every_valid_vector_version_is_valid() {
    // All versions in the comparison rows are valid apk versions except the ones the data marks as string sorts.
    for line in DATA.lines().filter(|l| !l.starts_with('#') && !l.contains("invalid")) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let [a, "<" | "=" | ">", b] = fields.as_slice() {
            for v in [a, b] {
                assert!(is_valid(v) || v.contains("_foo"), "{v} should be valid");
            }
        }
    }
}
