//! Runs the image detections over one image, the way `cguard scan --scanners
//! malware,secret,baseline` does: one read of the layers, every detector fed through one
//! visitor.
//! Used by `bench/detect.sh`.
//!
//! Usage: `detect_bench IMAGE [--malware-only | --tree-only] [--threads N]`, IMAGE being any reference
//! the image crate opens (`docker-archive:PATH`, `oci:PATH`, `dir:PATH`, ...). Prints
//! counts and timings. `--tree-only` reads the image without any detector: the floor that
//! reading and verifying the layers costs.

use std::io::{self, Read};
use std::time::Instant;

use detect::{baseline, malware, secrets};
use image::{FileEntry, Image, LayerVisitor, Limits};

/// Feeds each file to every visitor that wants it, reading the content once.
struct Fanout<'a> {
    visitors: Vec<&'a mut dyn LayerVisitor>,
    wanted: Vec<bool>,
    buf: Vec<u8>,
}

impl LayerVisitor for Fanout<'_> {
    fn wants(&mut self, path: &str, entry: &FileEntry) -> bool {
        self.wanted.clear();
        for v in self.visitors.iter_mut() {
            self.wanted.push(v.wants(path, entry));
        }
        self.wanted.iter().any(|w| *w)
    }

    fn visit(&mut self, path: &str, entry: &FileEntry, content: &mut dyn Read) -> io::Result<()> {
        let takers = self.wanted.iter().filter(|w| **w).count();
        if takers == 1 {
            // One taker reads straight from the layer, without a copy.
            let i = self.wanted.iter().position(|w| *w).unwrap_or(0);
            if let Some(v) = self.visitors.get_mut(i) {
                return v.visit(path, entry, content);
            }
            return Ok(());
        }
        self.buf.clear();
        content.read_to_end(&mut self.buf)?;
        for (v, wanted) in self.visitors.iter_mut().zip(&self.wanted) {
            if *wanted {
                v.visit(path, entry, &mut self.buf.as_slice())?;
            }
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(reference) = args.first() else {
        eprintln!("usage: detect_bench IMAGE [--malware-only | --tree-only] [--threads N]");
        std::process::exit(2);
    };
    let malware_only = args.iter().any(|a| a == "--malware-only");
    let started = Instant::now();
    if args.iter().any(|a| a == "--tree-only") {
        let image = Image::open(reference, &Default::default())?;
        let outcome = image.read(&Limits::default(), &mut image::NoContent)?;
        println!("tree: {} entries; total: {} ms", outcome.tree.len(), started.elapsed().as_millis());
        return Ok(());
    }
    // `--threads N` sets the malware scanner's worker threads.
    let threads = args.iter().position(|a| a == "--threads").and_then(|i| args.get(i + 1)).and_then(|n| n.parse().ok());
    let mut config = malware::Config::default();
    if let Some(n) = threads {
        config.threads = n;
    }
    let engine = malware::Engine::new(config)?;
    let engine_ms = started.elapsed().as_millis();
    let image = Image::open(reference, &Default::default())?;
    let mut malware_scanner = engine.scanner();
    let mut secret_scanner = secrets::Scanner::new(secrets::Options::default());
    let mut checker = baseline::Checker::without_secret_scan();
    let outcome = {
        let mut visitors: Vec<&mut dyn LayerVisitor> = vec![&mut malware_scanner];
        if !malware_only {
            visitors.push(&mut secret_scanner);
            visitors.push(&mut checker);
        }
        let mut fan = Fanout { visitors, wanted: Vec::new(), buf: Vec::new() };
        image.read(&Limits::default(), &mut fan)?
    };
    let (found, problems, stats) = malware_scanner.finish_with_stats(&outcome.tree);
    let secret_stats = secret_scanner.stats();
    let mut secret_findings = secret_scanner.finish(&outcome.tree);
    let mut checks = Vec::new();
    if !malware_only {
        secret_findings.extend(secrets::scan_config(&image.config));
        checks = checker.finish_with_secrets(&outcome.tree, &image.config, reference, &secret_findings);
    }
    println!("engine: {} rules, {} signatures, ready in {engine_ms} ms", engine.rule_count(), engine.signature_count());
    println!(
        "malware: {} findings, {} problems; {} files, {} MiB, {} archive members read",
        found.len(),
        problems.len(),
        stats.files,
        stats.bytes >> 20,
        stats.members
    );
    for p in problems.iter().take(20) {
        println!("  problem: {p}");
    }
    for f in &found {
        println!("  {} {} [{}] visible={}", f.path, f.rule, f.category, f.visible);
    }
    if !malware_only {
        println!("secrets: {} findings; {} files read", secret_findings.len(), secret_stats.files_read);
        println!("baseline: {} checks", checks.len());
    }
    println!("total: {} ms", started.elapsed().as_millis());
    Ok(())
}
