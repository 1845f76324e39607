//! Builds a database from synthetic records at real-world scale and measures it.
//!
//! `cargo run --release -p vulndb --example db_bench [-- AFFECTED VULNS]` prints the build
//! time, file size, open time (in a fresh process), the time of 1,000 package lookups (an
//! inventory), of the vulnerability lookups for the records found, and of 1,000 random
//! vulnerability lookups. Defaults: 300,000 affected and 250,000 vulnerability records,
//! the size of the full upstream feeds. `DB_BENCH_OPEN=FILE` only times opening FILE;
//! `DB_BENCH_KEEP=1` keeps the file built. `DB_BENCH_FROM=DIR` instead builds from a feed
//! directory (laid out like `cguard db build --from DIR`) and times that.
//!
//! The text is made of words drawn from a generated vocabulary with a skewed
//! distribution, so that it compresses roughly like real advisory text rather than
//! like repeated filler.

use std::time::Instant;

use vulndb::{Affected, Cvss, Database, Range, RangeKind, SourceInfo, Status, Vulnerability};

/// A small deterministic generator (xorshift64*), so that runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Skewed towards small values, like word frequencies in prose.
    fn skewed(&mut self, n: usize) -> usize {
        let a = self.below(n);
        let b = self.below(n);
        a.min(b).min(self.below(n))
    }
}

const SYLLABLES: &[&str] = &[
    "ac", "al", "an", "ba", "ce", "co", "de", "di", "en", "er", "fi", "ge", "in", "io", "la", "le", "ma", "me", "mo",
    "ne", "no", "or", "pa", "pe", "ra", "re", "ri", "sa", "se", "si", "ta", "te", "ti", "to", "un", "ve", "vi", "xe",
];

fn vocabulary(rng: &mut Rng) -> Vec<String> {
    (0..4000).map(|_| (0..1 + rng.below(4)).map(|_| SYLLABLES[rng.below(SYLLABLES.len())]).collect()).collect()
}

fn sentence(rng: &mut Rng, words: &[String], n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&words[rng.skewed(words.len())]);
    }
    s
}

const ECOSYSTEMS: &[(&str, usize)] = &[
    ("debian:11", 4000),
    ("debian:12", 4000),
    ("ubuntu:22.04", 5000),
    ("alpine:3.19", 2000),
    ("PyPI", 8000),
    ("npm", 12000),
    ("Go", 5000),
    ("Maven", 6000),
    ("crates.io", 1500),
];

fn main() {
    if let Some(path) = std::env::var_os("DB_BENCH_OPEN") {
        for run in 0..3 {
            let t = Instant::now();
            let db = Database::open(std::path::Path::new(&path)).expect("open");
            println!("open in a fresh process, run {run}: {:?} ({} bytes)", t.elapsed(), db.status().file_size);
        }
        return;
    }
    if let Some(dir) = std::env::var_os("DB_BENCH_FROM") {
        return from_feeds(std::path::Path::new(&dir));
    }
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("counts are numbers"));
    let n_affected = args.next().unwrap_or(300_000);
    let n_vulns = args.next().unwrap_or(250_000);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let words = vocabulary(&mut rng);

    let t = Instant::now();
    let vulns: Vec<Vulnerability> = (0..n_vulns)
        .map(|i| {
            let words_in_description = 30 + rng.below(60);
            Vulnerability {
                id: format!("CVE-{}-{:05}", 1999 + i % 27, i),
                aliases: if i % 3 == 0 {
                    vec![format!("GHSA-{:04x}-{:04x}-{:04x}", i, i * 7 % 65536, i * 13 % 65536)]
                } else {
                    Vec::new()
                },
                summary: (i % 2 == 0).then(|| sentence(&mut rng, &words, 8)),
                description: Some(sentence(&mut rng, &words, words_in_description)),
                published: Some(format!("20{:02}-0{}-1{}T10:15:00Z", i % 25, 1 + i % 9, i % 10)),
                modified: Some("2025-06-01T00:00:00Z".into()),
                cvss: vec![Cvss {
                    version: "3.1".into(),
                    vector: format!(
                        "CVSS:3.1/AV:N/AC:{}/PR:N/UI:{}/S:U/C:H/I:H/A:{}",
                        ["L", "H"][i % 2],
                        ["N", "R"][i % 2],
                        ["H", "N", "L"][i % 3]
                    ),
                    base_score: (i % 100) as f64 / 10.0,
                    source: "nvd@nist.gov".into(),
                }],
                severity: None,
                references: (0..1 + rng.below(8))
                    .map(|k| {
                        format!(
                            "https://{}.example.org/{}/{}",
                            words[rng.skewed(200)],
                            words[rng.skewed(words.len())],
                            i * 10 + k
                        )
                    })
                    .collect(),
                withdrawn: false,
            }
        })
        .collect();
    let affected: Vec<Affected> = (0..n_affected)
        .map(|i| {
            let (eco, pkgs) = ECOSYSTEMS[rng.skewed(ECOSYSTEMS.len())];
            let fixed = format!("{}.{}.{}-{}", rng.below(10), rng.below(30), rng.below(50), rng.below(5));
            Affected {
                vulnerability: vulns[rng.below(vulns.len())].id.clone(),
                ecosystem: eco.to_owned(),
                package: format!("pkg-{}", rng.skewed(pkgs)),
                status: if i % 10 == 0 { Status::NoDsa } else { Status::Fixed },
                ranges: vec![Range {
                    kind: RangeKind::Ecosystem,
                    introduced: Some("0".into()),
                    fixed: Some(fixed.clone()),
                    last_affected: None,
                }],
                versions: Vec::new(),
                fixed_version: Some(fixed),
                distro_urgency: (i % 4 == 0).then(|| "medium".to_owned()),
                advisories: if i % 5 == 0 { vec![format!("DSA-{}-1", 4000 + i % 2000)] } else { Vec::new() },
                note: None,
            }
        })
        .collect();
    let sources = vec![SourceInfo {
        name: "synthetic".into(),
        location: "db_bench".into(),
        updated: None,
        vulnerabilities: n_vulns as u64,
        affected: n_affected as u64,
    }];
    println!("generated {} affected, {} vulnerabilities in {:?}", affected.len(), vulns.len(), t.elapsed());

    let dir = std::env::temp_dir().join(format!("cguard-db-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("vuln.db");
    let t = Instant::now();
    let stats = Database::build(vulns, affected, sources, &path).expect("build");
    println!("build:  {:?}", t.elapsed());
    println!(
        "size:   {} bytes ({:.1} MiB), {} packages",
        stats.file_size,
        stats.file_size as f64 / 1048576.0,
        stats.packages
    );

    // Open in a fresh process, as a scan does: this process's heap is warm from building.
    let status = std::process::Command::new(std::env::current_exe().expect("own path"))
        .env("DB_BENCH_OPEN", &path)
        .status()
        .expect("run the open benchmark");
    assert!(status.success(), "open benchmark failed");
    let t = Instant::now();
    let db = Database::open(&path).expect("open");
    println!("open in this process: {:?}", t.elapsed());

    // A 1,000-package inventory: mostly packages with records, some without.
    let inventory: Vec<(&str, String)> = (0..1000)
        .map(|_| {
            let (eco, pkgs) = ECOSYSTEMS[rng.below(ECOSYSTEMS.len())];
            (eco, format!("pkg-{}", rng.below(pkgs + pkgs / 4)))
        })
        .collect();
    let t = Instant::now();
    let mut records = 0;
    let mut ids = Vec::new();
    for (eco, pkg) in &inventory {
        let found = db.affected(eco, pkg).expect("lookup");
        records += found.len();
        ids.extend(found.into_iter().map(|a| a.vulnerability));
    }
    println!("1,000 package lookups: {:?} ({records} affected records)", t.elapsed());
    let t = Instant::now();
    for id in &ids {
        db.vulnerability(id).expect("lookup").expect("present");
    }
    println!("{} vulnerability lookups for those records: {:?}", ids.len(), t.elapsed());
    // Ids that exist, in random order (no help from the block cache), and ids that do not.
    let present: Vec<String> = (0..1000)
        .map(|_| {
            let i = rng.below(n_vulns);
            format!("CVE-{}-{:05}", 1999 + i % 27, i)
        })
        .collect();
    let t = Instant::now();
    for id in &present {
        db.vulnerability(id).expect("lookup").expect("present");
    }
    println!("1,000 random vulnerability lookups (all present): {:?}", t.elapsed());
    let t = Instant::now();
    for i in 0..1000 {
        assert!(db.vulnerability(&format!("CVE-1998-{i:05}")).expect("lookup").is_none());
    }
    println!("1,000 vulnerability lookups of absent ids: {:?}", t.elapsed());
    if std::env::var_os("DB_BENCH_KEEP").is_some() {
        println!("kept {}", path.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Builds from real feed files and times loading, building and opening.
fn from_feeds(dir: &std::path::Path) {
    let t = Instant::now();
    let feeds = vulndb::load_dir(dir).expect("load feeds");
    println!(
        "load feeds: {:?} ({} vulnerabilities, {} affected, {} problems)",
        t.elapsed(),
        feeds.vulnerabilities.len(),
        feeds.affected.len(),
        feeds.problems.len()
    );
    let out = std::env::temp_dir().join(format!("cguard-db-bench-{}.db", std::process::id()));
    let t = Instant::now();
    let stats = Database::build(feeds.vulnerabilities, feeds.affected, feeds.sources, &out).expect("build");
    println!("build:  {:?}", t.elapsed());
    println!("size:   {} bytes", stats.file_size);
    let status = std::process::Command::new(std::env::current_exe().expect("own path"))
        .env("DB_BENCH_OPEN", &out)
        .status()
        .expect("run the open benchmark");
    assert!(status.success(), "open benchmark failed");
    let _ = std::fs::remove_file(&out);
}
