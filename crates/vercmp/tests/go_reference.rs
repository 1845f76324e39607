//! Go module ordering checked against node's `semver` for what Go shares with SemVer 2.0, plus the validity and
//! ordering table of `golang.org/x/mod/semver`'s own tests and hand-written pseudo-version cases.
//!
//! Go's grammar is SemVer 2.0 with a required `v` (which node accepts as optional) and the shorthands `v1` and
//! `v1.2`, so for versions that start with `v` node must agree exactly once a valid shorthand is written out in
//! full. Versions without the `v` are invalid in Go whatever node thinks, and numbers stay below 2^53, where node's
//! numbers end.

use crate::common;

use std::cmp::Ordering;

use common::{PAIRS, Rng, make_pairs, outcome, run_batch};
use vercmp::go::{Version, compare, compare_lenient};

fn number(rng: &mut Rng) -> String {
    match rng.below(60) {
        0 => "01".to_owned(),
        1 => "00".to_owned(),
        // Up to 15 digits: large, but below 2^53, where node's numbers end.
        2 => rng.digits(14).trim_start_matches('0').to_owned() + "1",
        3..=30 => rng.below(3).to_string(),
        _ => rng.below(25).to_string(),
    }
}

fn stamp(rng: &mut Rng) -> String {
    format!(
        "20{:02}{:02}{:02}{:02}{:02}{:02}",
        rng.below(30),
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        rng.below(60)
    )
}

fn hash(rng: &mut Rng) -> String {
    (0..12).map(|_| char::from(b"0123456789abcdef"[rng.below(16)])).collect()
}

fn prerelease(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => format!("{}-{}", stamp(rng), hash(rng)),
        1 => format!("0.{}-{}", stamp(rng), hash(rng)),
        2 => format!("{}.0.{}-{}", rng.pick(&["pre", "rc.1", "beta"]), stamp(rng), hash(rng)),
        _ => {
            let mut ids = vec![];
            for _ in 0..1 + rng.below(3) {
                ids.push(match rng.below(30) {
                    0 => "01".to_owned(),
                    1 => String::new(),
                    2..=15 => rng.below(12).to_string(),
                    _ => rng.pick(&["alpha", "beta", "rc", "pre", "a-b", "-", "0a", "X"]).to_owned(),
                });
            }
            ids.join(".")
        }
    }
}

fn version(rng: &mut Rng) -> String {
    let mut v = if rng.percent(95) { "v".to_owned() } else { rng.pick(&["", "V", "vv"]).to_owned() };
    v.push_str(&number(rng));
    let parts = match rng.below(20) {
        0 => 1,
        1 => 2,
        2 => 4,
        _ => 3,
    };
    for _ in 1..parts {
        v.push('.');
        v.push_str(&number(rng));
    }
    if rng.percent(parts.min(3) * 15) {
        v.push('-');
        v.push_str(&prerelease(rng));
    }
    if rng.percent(parts.min(3) * 5) {
        v.push('+');
        v.push_str(rng.pick(&["incompatible", "meta", "001", "a.b", "", "x..y"]));
    }
    // Node trims whitespace, Go does not; unit tests cover that difference, so no whitespace here.
    if rng.percent(2) {
        v.push_str(rng.pick(&[".", "-", "+"]));
    }
    v
}

/// What node must be asked: a valid shorthand written out in full, anything else as it is.
fn for_node(v: &str) -> String {
    if let Ok(parsed) = Version::parse(v) {
        let dots = v.bytes().filter(|&b| b == b'.').count();
        if parsed.pre().is_empty() && !v.contains('+') && dots < 2 {
            return format!("{v}{}", ".0".repeat(2 - dots));
        }
    }
    v.to_owned()
}

#[test]
fn go_agrees_with_node_semver() {
    let dir = common::node_reference("vercmp-node-go");
    let mut rng = Rng::new(0x676f_0000);
    let pool: Vec<String> = (0..5000).map(|_| version(&mut rng)).collect();
    let pairs = make_pairs(&mut rng, pool, PAIRS);
    let node_pairs: Vec<(String, String)> = pairs.iter().map(|(a, b)| (for_node(a), for_node(b))).collect();
    let node = run_batch("node", &["compare.js"], Some(&dir), common::encode(&node_pairs));
    // Go requires the `v`; node does not.
    let theirs: Vec<String> = pairs
        .iter()
        .zip(node)
        .map(|((a, b), node)| if a.starts_with('v') && b.starts_with('v') { node } else { "E".to_owned() })
        .collect();
    common::assert_agree("go", &pairs, &theirs, |a, b| outcome(compare(a, b)));
}

/// The validity and ordering table of x/mod's `semver_test.go` (Copyright 2018 The Go Authors; BSD-style licence,
/// see golang.org/x/mod's LICENSE): invalid versions first, the rest ascending, each with its canonical form
/// (empty when invalid). Versions with the same canonical form are equal.
const XMOD_TESTS: &[(&str, &str)] = &[
    ("bad", ""),
    ("v1-alpha.beta.gamma", ""),
    ("v1-pre", ""),
    ("v1+meta", ""),
    ("v1-pre+meta", ""),
    ("v1.2-pre", ""),
    ("v1.2+meta", ""),
    ("v1.2-pre+meta", ""),
    ("v1.0.0-alpha", "v1.0.0-alpha"),
    ("v1.0.0-alpha.1", "v1.0.0-alpha.1"),
    ("v1.0.0-alpha.beta", "v1.0.0-alpha.beta"),
    ("v1.0.0-beta", "v1.0.0-beta"),
    ("v1.0.0-beta.2", "v1.0.0-beta.2"),
    ("v1.0.0-beta.11", "v1.0.0-beta.11"),
    ("v1.0.0-rc.1", "v1.0.0-rc.1"),
    ("v1", "v1.0.0"),
    ("v1.0", "v1.0.0"),
    ("v1.0.0", "v1.0.0"),
    ("v1.2", "v1.2.0"),
    ("v1.2.0", "v1.2.0"),
    ("v1.2.3-456", "v1.2.3-456"),
    ("v1.2.3-456.789", "v1.2.3-456.789"),
    ("v1.2.3-456-789", "v1.2.3-456-789"),
    ("v1.2.3-456a", "v1.2.3-456a"),
    ("v1.2.3-pre", "v1.2.3-pre"),
    ("v1.2.3-pre+meta", "v1.2.3-pre"),
    ("v1.2.3-pre.1", "v1.2.3-pre.1"),
    ("v1.2.3-zzz", "v1.2.3-zzz"),
    ("v1.2.3", "v1.2.3"),
    ("v1.2.3+meta", "v1.2.3"),
    ("v1.2.3+meta-pre", "v1.2.3"),
    ("v1.2.3+meta-pre.sha.256a", "v1.2.3"),
];

#[test]
fn xmod_table() {
    for (i, (a, canon_a)) in XMOD_TESTS.iter().enumerate() {
        assert_eq!(Version::parse(a).is_ok(), !canon_a.is_empty(), "validity of {a}");
        for (j, (b, canon_b)) in XMOD_TESTS.iter().enumerate() {
            let want = if canon_a == canon_b { Ordering::Equal } else { i.cmp(&j) };
            assert_eq!(compare_lenient(a, b), want, "Compare({a}, {b})");
        }
    }
    assert_eq!(compare_lenient("v1", "v1"), Ordering::Equal);
    assert_eq!(compare_lenient("v2", "v1"), Ordering::Greater);
    assert_eq!(compare_lenient("v1", "v2"), Ordering::Less);
}

#[test]
fn pseudo_versions_sort_by_time_before_their_base() {
    // A pseudo-version for a commit after v1.2.3 and before any v1.2.4 tag, then later ones, then the tag.
    let sorted = [
        "v1.2.3",
        "v1.2.3+incompatible",
        "v1.2.4-0.20190101000000-abcdefabcdef",
        "v1.2.4-0.20200101000000-000000000000",
        "v1.2.4-0.20200101000001-000000000000",
        "v1.2.4-rc.1",
        "v1.2.4-rc.1.0.20200101000000-000000000000",
        "v1.2.4",
        "v2.0.0+incompatible",
    ];
    for (i, a) in sorted.iter().enumerate() {
        for (j, b) in sorted.iter().enumerate() {
            let got = compare(a, b).unwrap();
            let want = if a.trim_end_matches("+incompatible") == b.trim_end_matches("+incompatible") {
                Ordering::Equal
            } else {
                i.cmp(&j)
            };
            assert_eq!(got, want, "{a} vs {b}");
        }
    }
    // A module without tags starts at v0.0.0.
    assert_eq!(
        compare("v0.0.0-20190101000000-abcdefabcdef", "v0.0.0-20181231235959-ffffffffffff").unwrap(),
        Ordering::Greater
    );
    assert_eq!(compare("v0.0.0-20190101000000-abcdefabcdef", "v0.0.0").unwrap(), Ordering::Less);
    assert!(Version::parse("v0.0.0-20190101000000-abcdefabcdef").unwrap().is_pseudo());
}
