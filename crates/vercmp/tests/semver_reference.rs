//! npm ordering checked against node's `semver` package (`semver.compare`, default options).

use crate::common;

use common::{PAIRS, Rng, make_pairs, outcome, run_batch};

fn main_number(rng: &mut Rng) -> String {
    match rng.below(80) {
        0 => "01".to_owned(),
        1 | 2 => "9007199254740991".to_owned(),
        3 => "9007199254740992".to_owned(),
        4 => rng.digits(17),
        5..=40 => rng.below(3).to_string(),
        _ => rng.below(30).to_string(),
    }
}

fn identifier(rng: &mut Rng) -> String {
    match rng.below(60) {
        0 => "01".to_owned(),
        1 => String::new(),
        2..=4 => {
            rng.pick(&["9007199254740991", "9007199254740992", "9007199254740993", "12345678901234567890"]).to_owned()
        }
        5..=24 => rng.below(12).to_string(),
        25..=30 => format!("{}{}", rng.below(3), rng.pick(&["a", "-", "x1"])),
        _ => rng.pick(&["alpha", "beta", "rc", "a", "b", "ALPHA", "Beta", "-", "a-b", "pre", "x"]).to_owned(),
    }
}

fn version(rng: &mut Rng) -> String {
    let mut v = String::new();
    match rng.below(40) {
        0..=3 => v.push('v'),
        4 => v.push('='),
        5 => v.push_str(rng.pick(&[" ", "\t", "\u{feff}", "\u{a0}", "\u{85}"])),
        6 => v.push_str(rng.pick(&["V", "vv", "v "])),
        _ => {}
    }
    v.push_str(&main_number(rng));
    v.push('.');
    v.push_str(&main_number(rng));
    if rng.percent(97) {
        v.push('.');
        v.push_str(&main_number(rng));
    }
    if rng.percent(50) {
        v.push('-');
        v.push_str(&identifier(rng));
        for _ in 0..rng.below(4) {
            v.push('.');
            v.push_str(&identifier(rng));
        }
    }
    if rng.percent(20) {
        v.push('+');
        v.push_str(rng.pick(&["build", "001", "1", "sha.abc", "", "x-y.2", "a..b"]));
    }
    match rng.below(40) {
        0 => v.push_str(rng.pick(&[" ", "\n", "\u{feff}", "\u{2028}"])),
        1 => v.push_str(rng.pick(&[".", "+", "-", ".0", "é"])),
        2 => v.push_str(&format!("-{}", "a".repeat(240 + rng.below(20)))),
        _ => {}
    }
    v
}

#[test]
fn semver_agrees_with_node_semver() {
    let dir = common::node_reference("vercmp-node-semver");
    let mut rng = Rng::new(0x6e70_6d00);
    let pool: Vec<String> = (0..5000).map(|_| version(&mut rng)).collect();
    let pairs = make_pairs(&mut rng, pool, PAIRS);
    let theirs = run_batch("node", &["compare.js"], Some(&dir), common::encode(&pairs));
    common::assert_agree("semver", &pairs, &theirs, |a, b| outcome(vercmp::semver::compare(a, b)));
}
