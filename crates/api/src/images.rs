//! Image security (SPEC 3, 5): registries, the image catalogue, scan jobs and the report
//! of an image version.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// Add or change a private registry. On a change, an absent `password` keeps the stored one.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistryWrite {
    /// 1-64 characters: letters, digits, `-`, `_`, `.`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub name: String,
    /// `https://host[:port]`, or `http://host[:port]` with `insecure`. Bare `host[:port]`
    /// means HTTPS.
    #[schema(max_length = 300)]
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 256)]
    pub username: Option<String>,
    /// Sealed at rest, never returned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 4096)]
    pub password: Option<String>,
    /// Allow plain HTTP and skip nothing else: TLS is verified whenever TLS is used.
    #[serde(default)]
    pub insecure: bool,
    /// PEM certificates of a private CA to trust for this registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 65536)]
    pub ca_pem: Option<String>,
    /// Hours between automatic syncs, 0 for on demand only (default 24).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0, maximum = 720)]
    pub sync_interval_hours: Option<u32>,
    /// `private` (default): every repository of the registry's catalog. `official`: the
    /// public images listed in `images`, watched and scanned automatically.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^(private|official)$")]
    pub kind: Option<String>,
    /// For `official`: the watched `repository:tag` references (1 to 500), e.g.
    /// `library/nginx:1.27`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Registry {
    pub id: String,
    pub name: String,
    /// `private` or `official`.
    pub kind: String,
    /// For `official`: the watched `repository:tag` references.
    pub images: Vec<String>,
    pub url: String,
    pub username: String,
    pub has_password: bool,
    pub insecure: bool,
    pub has_ca: bool,
    pub sync_interval_hours: u32,
    /// `never`, `syncing`, `ok` or `failed`.
    pub sync_state: String,
    #[schema(format = DateTime)]
    pub last_sync_at: Option<String>,
    pub last_sync_error: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// The outcome of testing a registry's connection and credentials.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegistryTest {
    pub ok: bool,
    pub message: String,
    /// Repositories the catalog lists, when it could be read.
    pub repositories: Option<u64>,
}

/// Work queued in the background.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Job {
    pub id: String,
    /// `scan-image`, `sync-registry`, `rematch`.
    pub kind: String,
    pub subject: String,
    /// `queued`, `running`, `done`, `failed` or `cancelled`.
    pub state: String,
    /// 0 manual, 1 new, 2 scheduled: lower runs first.
    pub priority: i64,
    pub attempts: i64,
    pub error: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[schema(format = DateTime)]
    pub finished_at: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobQuery {
    /// `scan-image`, `sync-registry` or `rematch`.
    pub kind: Option<String>,
    /// `queued`, `running`, `done`, `failed` or `cancelled`.
    pub state: Option<String>,
    pub subject: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImageQuery {
    /// `local`, `private` or `official`.
    pub kind: Option<String>,
    /// Part of the repository, organisation or tag, any case.
    pub q: Option<String>,
    pub registry_id: Option<String>,
    /// `not-scanned`, `scanning`, `completed` or `failed`.
    pub scan_status: Option<String>,
}

/// Findings per urgency that are not ignored.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UrgencyCounts {
    #[serde(rename = "fix-asap")]
    pub fix_asap: u64,
    #[serde(rename = "can-delay")]
    pub can_delay: u64,
    #[serde(rename = "no-need-now")]
    pub no_need_now: u64,
}

/// One version (tag) of an image in the catalogue.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImageVersion {
    /// The version's id (used by `/images/{id}/…`).
    pub id: String,
    pub image_id: String,
    /// `local`, `private` or `official`.
    pub kind: String,
    pub registry_id: String,
    /// Registry host (`registry.example.com:5000`); empty for local images.
    pub registry: String,
    pub repository: String,
    /// The namespace: the repository's path before its last component.
    pub organisation: String,
    pub tag: String,
    pub digest: String,
    pub size: u64,
    #[schema(format = DateTime)]
    pub last_update: Option<String>,
    /// `not-scanned`, `scanning`, `completed` or `failed`.
    pub scan_status: String,
    /// Why the last scan failed.
    pub scan_error: String,
    #[schema(format = DateTime)]
    pub scanned_at: Option<String>,
    pub vulnerability_count: u64,
    pub urgency_counts: UrgencyCounts,
    pub malware_count: u64,
    pub policy_count: u64,
}

/// A version's report (SPEC 5): every tab.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImageReport {
    pub basic: ReportBasic,
    pub vulnerabilities: Vec<ReportVulnerability>,
    pub policies: Vec<ReportPolicy>,
    /// Malicious files, as in `cguard scan --format json` (`malware.findings`).
    #[schema(value_type = Vec<Object>)]
    pub malware: Vec<Value>,
    pub software: Vec<ReportSoftware>,
    pub files: ReportFiles,
    /// Every baseline check with its result, as in `cguard scan --format json`.
    #[schema(value_type = Vec<Object>)]
    pub baseline: Vec<Value>,
    /// Hard-coded secrets, masked.
    #[schema(value_type = Vec<Object>)]
    pub secrets: Vec<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportBasic {
    pub image: ImageVersion,
    /// `debian 12`, or empty when not recognised.
    pub os: String,
    pub platform: String,
    /// Layer digests, base first.
    pub layers: Vec<String>,
    pub packages: u64,
    /// The vulnerability database the findings come from (its build time), empty without one.
    pub database: String,
    /// Findings per urgency (not ignored).
    pub urgency_counts: UrgencyCounts,
    /// What could not be checked.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportVulnerability {
    /// The advisory as the distribution publishes it (`DSA-5678-1`), else the CVE id.
    pub id: String,
    pub cves: Vec<String>,
    pub package: String,
    pub package_type: String,
    pub installed_version: String,
    pub fixed_version: Option<String>,
    /// `fix-asap`, `can-delay` or `no-need-now`.
    pub urgency: String,
    /// Digest of the layer that brought the package.
    pub layer: Option<String>,
    pub solution: String,
    pub cvss_score: Option<f64>,
    pub severity: Option<String>,
    #[schema(format = DateTime)]
    pub published: Option<String>,
    pub description: Option<String>,
    /// A decision to ignore it covers this version: it does not count.
    #[serde(default)]
    pub ignored: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportPolicy {
    pub id: String,
    pub name: String,
    pub mode: String,
    /// The associated name that covers this version (`repo:tag`, `repo` or `repo@digest`).
    pub matched: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportSoftware {
    pub name: String,
    /// `deb`, `rpm`, `apk`, `python`, `npm`, …
    #[serde(rename = "type")]
    pub kind: String,
    pub version: String,
    pub purl: String,
    pub layer: Option<String>,
    pub vulnerability_count: u64,
    /// Ids of its vulnerabilities.
    pub vulnerabilities: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportFiles {
    pub owned_count: u64,
    pub owned_bytes: u64,
    pub unowned_count: u64,
    pub unowned_bytes: u64,
    /// The 50 largest files no package owns.
    pub largest_unowned: Vec<ReportFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportFile {
    pub path: String,
    pub size: u64,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// Only vulnerabilities of this urgency: `fix-asap`, `can-delay` or `no-need-now`.
    pub urgency: Option<String>,
    /// Part of a vulnerability id, CVE or package name, any case.
    pub q: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SbomQuery {
    /// `cyclonedx` (CycloneDX 1.5 JSON, default) or `spdx` (SPDX 2.3 JSON).
    pub format: Option<String>,
}
