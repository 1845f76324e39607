//! One scan of one image, end to end: open the image, stream its layers once through the
//! analyzers, and assemble the report.
//!
//! Architecture invariant: knows nothing of the server's storage.

pub mod format;
pub mod packed;
pub mod progress;
pub mod vulns;

use serde::{Deserialize, Serialize};

pub use format::{Format, now_utc, render};

pub use inventory::Inventory;

/// What identifies the scanned image in a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSummary {
    pub reference: String,
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repo_digests: Vec<String>,
    pub platform: String,
    /// Layer digests (diff ids where known), base first.
    pub layers: Vec<String>,
    /// Sum of the stored layer sizes.
    pub size: u64,
}

/// The result of one scan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema_version: u32,
    pub image: ImageSummary,
    pub inventory: Inventory,
    /// Present when the scan looked for vulnerabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerabilities: Option<vulns::VulnReport>,
    /// Present when the scan looked for hard-coded secrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets: Option<Vec<detect::secrets::SecretFinding>>,
    /// Present when the scan looked for malicious files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malware: Option<MalwareReport>,
    /// Present when the scan ran the baseline checks: every check, passed or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Vec<detect::baseline::CheckResult>>,
}

/// Malicious files found, with the digest of the layer that holds each.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MalwareReport {
    pub findings: Vec<MalwareHit>,
    /// Files that could not be examined (unsupported archive methods, limits reached).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// One malicious file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MalwareHit {
    #[serde(flatten)]
    pub finding: detect::malware::MalwareFinding,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_digest: Option<String>,
}

/// Errors that end a scan.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Image(#[from] image::Error),
}

/// Options for one scan.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub open: image::source::OpenOptions,
    pub limits: image::Limits,
    pub inventory: inventory::Options,
    /// Updated while the scan runs, for a progress display.
    pub progress: Option<std::sync::Arc<progress::Counters>>,
    /// Look for vulnerabilities with this data (none: inventory only).
    pub vulns: Option<vulns::VulnOptions>,
    /// Look for malicious files with this engine.
    pub malware: Option<detect::malware::Engine>,
    /// Look for hard-coded secrets.
    pub secrets: bool,
    /// Run the baseline checks.
    pub baseline: bool,
}

/// Scans the image named by `reference`.
pub fn scan(reference: &str, options: &Options) -> Result<Report, Error> {
    let img = image::Image::open(reference, &options.open)?;
    scan_image(&img, options)
}

/// Scans an image that is already open.
pub fn scan_image(img: &image::Image, options: &Options) -> Result<Report, Error> {
    let mut inventorist = inventory::Inventorist::new(&options.inventory);
    // The baseline's credential checks use the secret scan's findings, so either needs it.
    let mut secret_scanner =
        (options.secrets || options.baseline).then(|| detect::secrets::Scanner::new(Default::default()));
    let mut checker = options.baseline.then(detect::baseline::Checker::without_secret_scan);
    let mut malware_scanner = options.malware.as_ref().map(detect::malware::Engine::scanner);
    // Layer digests may still be being checked while the inventory is finished and
    // matched; nothing is returned before they are.
    let (outcome, verification) = {
        let mut visitors: Vec<&mut dyn image::LayerVisitor> = vec![&mut inventorist];
        if let Some(s) = secret_scanner.as_mut() {
            visitors.push(s);
        }
        if let Some(c) = checker.as_mut() {
            visitors.push(c);
        }
        if let Some(m) = malware_scanner.as_mut() {
            visitors.push(m);
        }
        let mut fanout = image::Fanout::new(visitors);
        match &options.progress {
            Some(counters) => {
                counters.layers.store(img.layers.len() as u64, std::sync::atomic::Ordering::Relaxed);
                img.read_deferred(&options.limits, &mut Counting { inner: &mut fanout, counters })?
            }
            None => img.read_deferred(&options.limits, &mut fanout)?,
        }
    };
    let inventory = inventorist.finish(&outcome.tree);
    let secret_findings = secret_scanner.map(|s| {
        let mut found = s.finish(&outcome.tree);
        found.extend(detect::secrets::scan_config(&img.config));
        found
    });
    let baseline = checker.map(|c| {
        c.finish_with_secrets(&outcome.tree, &img.config, &img.reference, secret_findings.as_deref().unwrap_or(&[]))
    });
    let secrets = if options.secrets { secret_findings } else { None };
    let layer_ids: Vec<String> = img.layers.iter().map(|l| l.id().unwrap_or_default().to_owned()).collect();
    let malware = malware_scanner.map(|m| {
        let (found, problems) = m.finish(&outcome.tree);
        let findings = found
            .into_iter()
            .map(|finding| MalwareHit { layer_digest: layer_ids.get(finding.layer as usize).cloned(), finding })
            .collect();
        MalwareReport { findings, problems }
    });
    let image = ImageSummary {
        reference: img.reference.clone(),
        source: format::serde_name(img.source),
        id: img.id.clone(),
        manifest_digest: img.manifest_digest.clone(),
        repo_tags: img.repo_tags.clone(),
        repo_digests: img.repo_digests.clone(),
        platform: img.config.platform(),
        layers: layer_ids,
        size: outcome.layers.iter().map(|s| s.stored_bytes).sum(),
    };
    let vulnerabilities = options.vulns.as_ref().map(|v| vulns::check(&inventory, &img.reference, &image.layers, v));
    verification.wait()?;
    Ok(Report { schema_version: 1, image, inventory, vulnerabilities, secrets, malware, baseline })
}

/// Passes everything through to `inner` and counts files for the progress display.
struct Counting<'a> {
    inner: &'a mut dyn image::LayerVisitor,
    counters: &'a progress::Counters,
}

impl image::LayerVisitor for Counting<'_> {
    fn wants(&mut self, path: &str, entry: &image::FileEntry) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        self.counters.layer.store(u64::from(entry.layer), Relaxed);
        self.counters.files.fetch_add(1, Relaxed);
        self.inner.wants(path, entry)
    }

    fn visit(&mut self, path: &str, entry: &image::FileEntry, content: &mut dyn std::io::Read) -> std::io::Result<()> {
        self.inner.visit(path, entry, content)
    }
}
