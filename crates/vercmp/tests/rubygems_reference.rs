//! RubyGems ordering checked against `Gem::Version` in one `ruby` process.

use crate::common;

use common::{PAIRS, Rng, make_pairs, missing, outcome, run_batch};

const SCRIPT: &str = r#"
def parse(s)
  Gem::Version.new(s)
rescue ArgumentError
  nil
end
out = []
$stdin.binmode.read.split("\n").each do |line|
  next if line.empty?
  a, b = line.split(" ", -1).map { |h| parse([h].pack("H*").force_encoding("UTF-8")) }
  if a.nil? || b.nil?
    out << "E"
  else
    r = a <=> b
    out << (r < 0 ? "<" : r == 0 ? "=" : ">")
  end
end
$stdout.write(out.join("\n") + "\n")
"#;

fn segment(rng: &mut Rng) -> String {
    match rng.below(12) {
        0..=5 => rng.number(),
        6 => rng.pick(&["a", "b", "rc", "pre", "beta", "RC", "A", "alpha", "z"]).to_owned(),
        7 => format!("{}{}", rng.pick(&["rc", "b", "pre"]), rng.number()),
        8 => format!("{}{}", rng.number(), rng.pick(&["a", "b", "rc1", "B"])),
        _ => rng.below(3).to_string(),
    }
}

fn version(rng: &mut Rng) -> String {
    let mut v = String::new();
    if rng.percent(5) {
        v.push_str(rng.pick(&[" ", "\t", "\n", "\u{0b}"]));
    }
    v.push_str(&rng.number());
    for _ in 0..rng.below(5) {
        v.push('.');
        v.push_str(&segment(rng));
    }
    if rng.percent(15) {
        v.push('-');
        v.push_str(&segment(rng).to_lowercase());
        for _ in 0..rng.below(3) {
            v.push_str(rng.pick(&[".", "-"]));
            v.push_str(&segment(rng));
        }
    }
    match rng.below(30) {
        0 => v.push_str(rng.pick(&[" ", "\r\n"])),
        1 => v.push_str(rng.pick(&[".", "-", "_", " a", "\u{a0}", "..1"])),
        2 => v = rng.pick(&["", " ", "a", "v1.0", "1a", ".1", "1.0-a."]).to_owned(),
        3 => common::insert_middle(&mut v, rng.pick(&[" ", "_", "é"])),
        _ => {}
    }
    v
}

#[test]
fn rubygems_agrees_with_gem_version() {
    if !common::runs("ruby", &["-e", "Gem::Version"]) {
        missing("ruby", "apt-get install -y ruby");
    }
    let mut rng = Rng::new(0x7275_6279);
    let pool: Vec<String> = (0..5000).map(|_| version(&mut rng)).collect();
    let pairs = make_pairs(&mut rng, pool, PAIRS);
    let theirs = run_batch("ruby", &["-e", SCRIPT], None, common::encode(&pairs));
    common::assert_agree("rubygems", &pairs, &theirs, |a, b| outcome(vercmp::rubygems::compare(a, b)));
}
