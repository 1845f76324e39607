//! dpkg ordering checked against `dpkg --compare-versions`.
//!
//! `python3-apt`'s `apt_pkg.version_compare` would be faster, but apt's comparison is more lenient than dpkg's
//! parser (it accepts versions dpkg refuses), so dpkg itself is the reference: one process per question, on two
//! threads.

use crate::common;

use std::process::{Command, Stdio};

use common::{PAIRS, Rng, make_pairs, missing, outcome};

fn part(rng: &mut Rng) -> String {
    match rng.below(16) {
        0..=6 => rng.number(),
        7 => rng.pick(&["a", "b", "z", "A", "rc", "alpha", "beta", "dfsg", "git", "ubuntu", "deb"]).to_owned(),
        8 => rng.pick(&["~", "~~", "~rc", "~beta", "+", "+b", "+dfsg"]).to_owned(),
        9 => rng.pick(&[".", "..", "+.", ":", "-", "_", "é", "!", "\n"]).to_owned(),
        _ => format!("{}{}", rng.number(), rng.pick(&["", "a", "b", "rc1", "~1", "+git1"])),
    }
}

fn joined(rng: &mut Rng, max: usize) -> String {
    let mut s = part(rng);
    for _ in 0..rng.below(max) {
        if rng.percent(60) {
            s.push_str(rng.pick(&[".", ".", ".", "+", "~", ""]));
        }
        s.push_str(&part(rng));
    }
    s
}

fn version(rng: &mut Rng) -> String {
    let epoch = match rng.below(14) {
        0 => "1:".to_owned(),
        1 => format!("{}:", rng.number()),
        2 => rng.pick(&[":", "a:", "-1:", "+1:", "-0:", "1a:", "2147483648:", "2147483647:", "\n1:"]).to_owned(),
        _ => String::new(),
    };
    let revision = match rng.below(10) {
        0..=3 => format!("-{}", joined(rng, 3)),
        4 => rng.pick(&["-", "-0", "-1", "-1ubuntu0.1", "-1~bpo11+1"]).to_owned(),
        _ => String::new(),
    };
    let mut v = format!("{epoch}{}{revision}", joined(rng, 5));
    match rng.below(40) {
        0 => v = format!(" {v}"),
        1 => v.push('\t'),
        2 => common::insert_middle(&mut v, " "),
        _ => {}
    }
    v
}

/// Asks dpkg whether `a <op> b` holds: `Some(true)`, `Some(false)`, or `None` when dpkg rejects a version.
fn dpkg_holds(a: &str, op: &str, b: &str) -> Option<bool> {
    let status = Command::new("dpkg")
        .args(["--compare-versions", a, op, b])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("running dpkg");
    match status.code() {
        Some(0) => Some(true),
        Some(1) => Some(false),
        _ => None,
    }
}

fn dpkg_outcome(a: &str, b: &str) -> String {
    match dpkg_holds(a, "lt", b) {
        None => "E",
        Some(true) => "<",
        Some(false) => match dpkg_holds(a, "gt", b) {
            Some(true) => ">",
            Some(false) => "=",
            None => "E",
        },
    }
    .to_owned()
}

#[test]
fn dpkg_agrees_with_compare_versions() {
    if !common::runs("dpkg", &["--version"]) {
        missing("dpkg", "apt-get install -y dpkg");
    }
    let mut rng = Rng::new(0x6470_6b67);
    // dpkg's command line reads an empty argument as "no version" and one starting with '-' as an option,
    // so neither can be asked about.
    let pool: Vec<String> =
        (0..4000).map(|_| version(&mut rng)).filter(|v| !v.is_empty() && !v.starts_with('-')).collect();
    let pairs = make_pairs(&mut rng, pool, PAIRS);
    let half = pairs.len() / 2;
    let (first, second) = pairs.split_at(half);
    let theirs: Vec<String> = std::thread::scope(|scope| {
        let other = scope.spawn(|| second.iter().map(|(a, b)| dpkg_outcome(a, b)).collect::<Vec<_>>());
        let mut mine: Vec<String> = first.iter().map(|(a, b)| dpkg_outcome(a, b)).collect();
        mine.extend(other.join().expect("dpkg thread"));
        mine
    });
    common::assert_agree("dpkg", &pairs, &theirs, |a, b| outcome(vercmp::dpkg::compare(a, b)));
}
