//! Shared helpers of the language analyzer tests: a hand-built image fed through the real
//! [`Collector`], a compact rendering of packages for comparison, and the no-panic
//! checks run over every parser.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use image::{FileEntry, FileKind, FileTree, LayerVisitor};
use inventory::{Analyzer, Collector, OsInfo, Package, Problem};

/// The directory of this crate's language fixtures.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lang")
}

/// A fixture's bytes; fails with the path when it is missing.
pub fn data(rel: &str) -> Vec<u8> {
    let path = data_dir().join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading fixture {}: {e}", path.display()))
}

/// An image built file by file: each `add` is one tar member of a layer.
#[derive(Default)]
pub struct TestImage {
    tree: FileTree,
    members: Vec<(String, FileEntry, Vec<u8>)>,
    ordinal: u64,
}

impl TestImage {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a regular file (mode 0644) in `layer`.
    pub fn add(&mut self, layer: u32, path: &str, content: &[u8]) -> &mut Self {
        self.add_mode(layer, path, content, 0o644)
    }

    /// Adds a regular file with the given permission bits.
    pub fn add_mode(&mut self, layer: u32, path: &str, content: &[u8], mode: u32) -> &mut Self {
        let entry = FileEntry {
            kind: FileKind::Regular,
            size: content.len() as u64,
            mode,
            uid: 0,
            gid: 0,
            mtime: 0,
            link: None,
            layer,
            ordinal: self.ordinal,
        };
        self.ordinal += 1;
        self.tree.insert(path.to_owned(), entry.clone());
        self.members.push((path.to_owned(), entry, content.to_vec()));
        self
    }

    /// Deletes `path` (and what is below it), as a whiteout in a later layer does.
    pub fn whiteout(&mut self, path: &str) -> &mut Self {
        self.tree.whiteout(path);
        self
    }

    /// Runs one analyzer over every copy, in layer order, through the real collector.
    pub fn run(&self, analyzer: Box<dyn Analyzer>) -> (Vec<Package>, Vec<Problem>) {
        self.run_all(vec![analyzer])
    }

    /// Runs several analyzers together, as an inventory does.
    pub fn run_all(&self, analyzers: Vec<Box<dyn Analyzer>>) -> (Vec<Package>, Vec<Problem>) {
        let mut collector = Collector::new(analyzers, 512 << 20);
        for (path, entry, content) in &self.members {
            if collector.wants(path, entry) {
                collector.visit(path, entry, &mut content.as_slice()).expect("visiting from memory cannot fail");
            }
        }
        let mut problems = std::mem::take(&mut collector.problems);
        let (packages, more) = collector.finish(&self.tree, &OsInfo::unknown());
        problems.extend(more);
        (packages, problems)
    }
}

/// One line per package: `name version purl layer location [licences] (n files)`, sorted.
pub fn render(packages: &[Package]) -> String {
    let mut lines: Vec<String> = packages
        .iter()
        .map(|p| {
            let mut line = format!(
                "{} {} {} L{} {}",
                p.name,
                p.version,
                p.purl,
                p.layer.map_or("-".to_owned(), |l| l.to_string()),
                p.location
            );
            if !p.licenses.is_empty() {
                line.push_str(&format!(" [{}]", p.licenses.join(", ")));
            }
            if !p.files.is_empty() {
                line.push_str(&format!(" ({} files)", p.files.len()));
            }
            line
        })
        .collect();
    lines.sort();
    lines.join("\n")
}

/// Compares rendered packages with the expected lines (leading white space and blank
/// lines of `expected` are ignored), and that there were no problems.
pub fn check(image: &TestImage, analyzer: Box<dyn Analyzer>, expected: &str) -> Vec<Package> {
    let (packages, problems) = image.run(analyzer);
    assert!(problems.is_empty(), "unexpected problems: {problems:#?}");
    let mut want: Vec<&str> = expected.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    want.sort();
    assert_eq!(render(&packages), want.join("\n"));
    packages
}

/// A small deterministic generator for byte flips (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Feeds `parse` every prefix of `sample` (every `step`-th one for large samples) and
/// `flips` copies with random bytes changed in `region` (the whole sample when `None`).
/// Any panic fails the test; results are ignored because garbage may parse to anything.
pub fn no_panic(
    sample: &[u8],
    step: usize,
    flips: usize,
    region: Option<std::ops::Range<usize>>,
    parse: impl Fn(&[u8]),
) {
    for end in (0..=sample.len()).step_by(step.max(1)) {
        parse(&sample[..end]);
    }
    let region = region.unwrap_or(0..sample.len());
    assert!(!region.is_empty() && region.end <= sample.len(), "bad flip region");
    let mut rng = Rng::new(0x5eed ^ sample.len() as u64);
    let mut copy = sample.to_vec();
    for _ in 0..flips {
        copy.copy_from_slice(sample);
        for _ in 0..1 + rng.below(8) {
            let at = region.start + rng.below(region.len());
            copy[at] = rng.next() as u8;
        }
        parse(&copy);
    }
}
