//! Shared pieces of the reference tests: a seeded generator, the batch protocol spoken with the reference
//! programs, and the agreement check.
//!
//! Every reference program reads one pair per line, each version hex-encoded as UTF-8 (so that versions may
//! hold whitespace, tabs or newlines), separated by a space, and writes one outcome per line: `<`, `=`, `>`, or
//! `E` when it rejects either version.

#![allow(dead_code)]

use std::cmp::Ordering;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// How many pairs each reference test checks at least.
pub const PAIRS: usize = 10_000;

/// SplitMix64: small, fast and good enough to drive test generators; the seed makes every run identical.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with the given chance in percent.
    pub fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// A run of `len` random digits.
    pub fn digits(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }

    /// A number as text: mostly small, sometimes with leading zeros or very long.
    pub fn number(&mut self) -> String {
        match self.below(20) {
            0 => {
                let len = 1 + self.below(2);
                format!("0{}", self.digits(len))
            }
            1 => {
                let len = 10 + self.below(20);
                self.digits(len)
            }
            2 => "0".to_owned(),
            3..=5 => self.below(3).to_string(),
            6..=9 => self.below(1000).to_string(),
            _ => self.below(20).to_string(),
        }
    }
}

/// Inserts `s` in the middle of `v`, on a character boundary.
pub fn insert_middle(v: &mut String, s: &str) {
    let mut at = v.len() / 2;
    while !v.is_char_boundary(at) {
        at -= 1;
    }
    v.insert_str(at, s);
}

/// Pairs drawn from `pool`: neighbours in sorted order (which share long prefixes), random pairs, identical
/// pairs and each pair's mirror image, `count` in all.
pub fn make_pairs(rng: &mut Rng, mut pool: Vec<String>, count: usize) -> Vec<(String, String)> {
    pool.sort();
    pool.dedup();
    assert!(pool.len() > 10, "generator produced too few distinct versions");
    let mut pairs = Vec::with_capacity(count);
    while pairs.len() < count {
        let i = rng.below(pool.len());
        let j = match rng.below(10) {
            0..=3 => (i + 1 + rng.below(3)).min(pool.len() - 1),
            4 => i,
            _ => rng.below(pool.len()),
        };
        let (a, b) = (pool[i].clone(), pool[j].clone());
        if rng.percent(50) { pairs.push((a, b)) } else { pairs.push((b, a)) }
    }
    pairs
}

pub fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// The protocol line for each pair.
pub fn encode(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(a, b)| format!("{} {}\n", hex(a), hex(b))).collect()
}

pub fn outcome<E>(result: Result<Ordering, E>) -> String {
    match result {
        Ok(Ordering::Less) => "<",
        Ok(Ordering::Equal) => "=",
        Ok(Ordering::Greater) => ">",
        Err(_) => "E",
    }
    .to_owned()
}

/// Fails the test because a tool is missing, naming what installs it.
pub fn missing(tool: &str, install: &str) -> ! {
    panic!("reference tool {tool} is not available; install it with: {install}")
}

/// Whether `program args...` runs and exits successfully.
pub fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// The first Python interpreter that can import `module`, if any.
pub fn python_with(module: &str) -> Option<&'static str> {
    ["python3", "/usr/bin/python3"].into_iter().find(|p| runs(p, &["-c", &format!("import {module}")]))
}

/// Runs a reference program once, feeding it `input` and returning its output lines.
pub fn run_batch(program: &str, args: &[&str], dir: Option<&Path>, input: String) -> Vec<String> {
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    // Write from another thread so that a program that answers while it reads cannot deadlock us.
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    writer.join().unwrap().unwrap_or_else(|e| panic!("writing to {program}: {e}"));
    assert!(status.success(), "{program} failed ({status}): {stderr}");
    stdout.lines().map(str::to_owned).collect()
}

/// Asserts that our outcome agrees with the reference's for every pair, printing the first 20 disagreements.
pub fn assert_agree(what: &str, pairs: &[(String, String)], theirs: &[String], ours: impl Fn(&str, &str) -> String) {
    assert_eq!(theirs.len(), pairs.len(), "{what}: the reference answered {} of {} pairs", theirs.len(), pairs.len());
    let mut bad = Vec::new();
    let mut tally = [0usize; 4];
    for ((a, b), reference) in pairs.iter().zip(theirs) {
        let mine = ours(a, b);
        tally[match reference.as_str() {
            "<" => 0,
            "=" => 1,
            ">" => 2,
            _ => 3,
        }] += 1;
        if &mine != reference {
            bad.push(format!("  {a:?} vs {b:?}: reference {reference}, vercmp {mine}"));
        }
    }
    println!(
        "{what}: {} pairs checked ({} <, {} =, {} >, {} rejected), {} disagreements",
        pairs.len(),
        tally[0],
        tally[1],
        tally[2],
        tally[3],
        bad.len()
    );
    assert!(
        bad.is_empty(),
        "{what}: {} of {} pairs disagree with the reference; the first ones:\n{}",
        bad.len(),
        pairs.len(),
        bad.iter().take(20).cloned().collect::<Vec<_>>().join("\n")
    );
    // A generator that only produces errors or only one outcome would check little.
    assert!(tally[0] > pairs.len() / 10 && tally[2] > pairs.len() / 10, "{what}: too few ordered pairs: {tally:?}");
    assert!(tally[1] > 0, "{what}: no equal pairs: {tally:?}");
}

/// Prepares node's `semver` package (pinned by tests/node/package-lock.json) in a directory of its own under
/// the target directory, and returns that directory; `compare.js` there is the reference program.
pub fn node_reference(name: &str) -> std::path::PathBuf {
    if !runs("node", &["--version"]) {
        missing("node", "apt-get install -y nodejs");
    }
    if !runs("npm", &["--version"]) {
        missing("npm", "apt-get install -y npm (or a nodejs package that bundles it)");
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let mut changed = false;
    for file in ["package.json", "package-lock.json", "compare.js"] {
        let content = std::fs::read(source.join(file)).unwrap();
        if std::fs::read(dir.join(file)).ok().as_ref() != Some(&content) {
            std::fs::write(dir.join(file), content).unwrap();
            changed = true;
        }
    }
    if changed || !dir.join("node_modules/semver/package.json").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .status()
            .expect("running npm ci");
        assert!(status.success(), "npm ci failed in {}; the npm registry must be reachable", dir.display());
    }
    dir
}
