//! PEP 440 ordering checked against Python's `packaging.version.Version`.

use crate::common;

use common::{PAIRS, Rng, make_pairs, missing, outcome, python_with, run_batch};

const SCRIPT: &str = r#"
import sys
from packaging.version import Version
def parse(s):
    try:
        return Version(s)
    except ValueError:
        return None
out = []
for line in sys.stdin.buffer.read().split(b"\n"):
    if not line:
        continue
    a, b = (parse(bytes.fromhex(h.decode()).decode("utf-8")) for h in line.split(b" "))
    if a is None or b is None:
        out.append("E")
    else:
        out.append("<" if a < b else "=" if a == b else ">")
sys.stdout.write("\n".join(out) + "\n")
"#;

fn sep(rng: &mut Rng) -> &'static str {
    rng.pick(&["", "", "", ".", "-", "_"])
}

fn maybe_number(rng: &mut Rng) -> String {
    if rng.percent(25) { String::new() } else { rng.number() }
}

fn version(rng: &mut Rng) -> String {
    let mut v = String::new();
    match rng.below(20) {
        0 => v.push_str(rng.pick(&[" ", "\t", "\n", "\u{2003}", "\u{1c}"])),
        1 => v.push_str(rng.pick(&["v", "V"])),
        _ => {}
    }
    if rng.percent(10) {
        v.push_str(&format!("{}!", rng.number()));
    }
    v.push_str(&rng.number());
    for _ in 0..rng.below(4) {
        v.push('.');
        v.push_str(&rng.number());
    }
    if rng.percent(35) {
        let s1 = sep(rng);
        let word = rng.pick(&["a", "b", "rc", "c", "alpha", "beta", "pre", "preview", "A", "RC", "Beta"]);
        let s2 = sep(rng);
        let n = maybe_number(rng);
        v.push_str(&format!("{s1}{word}{s2}{n}"));
    }
    if rng.percent(25) {
        if rng.percent(30) {
            v.push_str(&format!("-{}", rng.number()));
        } else {
            let s1 = sep(rng);
            let word = rng.pick(&["post", "rev", "r", "POST"]);
            let s2 = sep(rng);
            let n = maybe_number(rng);
            v.push_str(&format!("{s1}{word}{s2}{n}"));
        }
    }
    if rng.percent(25) {
        let s1 = sep(rng);
        let word = rng.pick(&["dev", "DEV"]);
        let s2 = sep(rng);
        let n = maybe_number(rng);
        v.push_str(&format!("{s1}{word}{s2}{n}"));
    }
    if rng.percent(20) {
        v.push('+');
        for i in 0..1 + rng.below(3) {
            if i > 0 {
                v.push_str(rng.pick(&[".", "-", "_"]));
            }
            let part = match rng.below(3) {
                0 => rng.number(),
                1 => rng.pick(&["abc", "ubuntu", "ABC", "local", "g1234"]).to_owned(),
                _ => format!("{}{}", rng.pick(&["a", "z"]), rng.number()),
            };
            v.push_str(&part);
        }
    }
    match rng.below(25) {
        0 => v.push_str(rng.pick(&[" ", "\n ", "\u{85}"])),
        1 => v.push_str(rng.pick(&[".", "-", "_", "+", "x", ".x", "..1", "+a.", "!"])),
        2 => common::insert_middle(&mut v, rng.pick(&[" ", ".", "-", "é"])),
        _ => {}
    }
    v
}

#[test]
fn pep440_agrees_with_packaging() {
    let Some(python) = python_with("packaging") else {
        missing("python3 with packaging", "pip install packaging");
    };
    let mut rng = Rng::new(0x7065_7034);
    let pool: Vec<String> = (0..5000).map(|_| version(&mut rng)).collect();
    let pairs = make_pairs(&mut rng, pool, PAIRS);
    let theirs = run_batch(python, &["-c", SCRIPT], None, common::encode(&pairs));
    common::assert_agree("pep440", &pairs, &theirs, |a, b| outcome(vercmp::pep440::compare(a, b)));
}
