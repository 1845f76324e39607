//! Cargo ordering checked against the `semver` crate that Cargo itself uses (`Version::parse` and `Ord`).

use crate::common;

use common::{PAIRS, Rng, make_pairs, outcome};

fn number(rng: &mut Rng) -> String {
    match rng.below(80) {
        0 => "01".to_owned(),
        1 => "18446744073709551615".to_owned(),
        2 => "18446744073709551616".to_owned(),
        3 => rng.digits(19).trim_start_matches('0').to_owned() + "1",
        4..=40 => rng.below(3).to_string(),
        _ => rng.below(30).to_string(),
    }
}

fn identifier(rng: &mut Rng, build: bool) -> String {
    match rng.below(60) {
        0 if !build => "01".to_owned(),
        1 => String::new(),
        2..=4 => {
            let len = 20 + rng.below(10);
            rng.digits(len).trim_start_matches('0').to_owned() + "7"
        }
        5..=14 => rng.below(12).to_string(),
        15..=20 if build => format!("0{}", rng.below(12)),
        21..=26 => format!("{}{}", rng.below(3), rng.pick(&["a", "-", "x1"])),
        _ => rng.pick(&["alpha", "beta", "rc", "a", "b", "ALPHA", "Beta", "-", "a-b", "pre", "x", "build"]).to_owned(),
    }
}

fn version(rng: &mut Rng) -> String {
    let mut v = String::new();
    if rng.percent(3) {
        v.push_str(rng.pick(&["v", " ", "="]));
    }
    v.push_str(&number(rng));
    v.push('.');
    v.push_str(&number(rng));
    if rng.percent(98) {
        v.push('.');
        v.push_str(&number(rng));
    }
    for (sign, build, chance) in [('-', false, 45), ('+', true, 30)] {
        if rng.percent(chance) {
            v.push(sign);
            v.push_str(&identifier(rng, build));
            for _ in 0..rng.below(3) {
                v.push('.');
                v.push_str(&identifier(rng, build));
            }
        }
    }
    if rng.percent(2) {
        v.push_str(rng.pick(&[" ", ".", "é", "+"]));
    }
    v
}

#[test]
fn cargo_agrees_with_semver_crate() {
    let mut rng = Rng::new(0x6361_7267);
    let pool: Vec<String> = (0..5000).map(|_| version(&mut rng)).collect();
    let pairs = make_pairs(&mut rng, pool, PAIRS);
    let theirs: Vec<String> = pairs
        .iter()
        .map(|(a, b)| match (semver::Version::parse(a), semver::Version::parse(b)) {
            (Ok(a), Ok(b)) => outcome::<()>(Ok(a.cmp(&b))),
            _ => "E".to_owned(),
        })
        .collect();
    common::assert_agree("cargo", &pairs, &theirs, |a, b| outcome(vercmp::cargo::compare(a, b)));
}
