//! Vulnerabilities across images (SPEC 3.1–3.3): per view (local, private or official
//! images), the findings per urgency, the most affected image versions, and the list by
//! vulnerability.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::images::UrgencyCounts;

/// Which images a view covers.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ViewQuery {
    /// `local`, `private` or `official`.
    pub view: String,
}

/// An image version with its findings per urgency.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TopImage {
    /// The version's id (as in `/api/v1/images/{id}`).
    pub image_id: String,
    pub repository: String,
    pub tag: String,
    pub total: u64,
    pub counts: UrgencyCounts,
}

/// Shares per urgency, in percent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct UrgencyShares {
    #[serde(rename = "fix-asap")]
    pub fix_asap: f64,
    #[serde(rename = "can-delay")]
    pub can_delay: f64,
    #[serde(rename = "no-need-now")]
    pub no_need_now: f64,
}

/// A view's findings per urgency (each version counts its findings) and its five most
/// affected versions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VulnSummary {
    pub view: String,
    pub total: u64,
    pub counts: UrgencyCounts,
    /// Each urgency's share of the total, in percent (0 when there is none).
    pub shares: UrgencyShares,
    pub top5: Vec<TopImage>,
}

/// The list of a view's vulnerabilities (paged with `limit`, `offset` and `sort`:
/// `affected_images`, the default, most first; `id`; `urgency`).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VulnListQuery {
    /// `local`, `private` or `official`.
    pub view: String,
    /// `fix-asap`, `can-delay` or `no-need-now`.
    pub urgency: Option<String>,
    /// Part of a vulnerability id, a CVE id or a software name.
    pub q: Option<String>,
}

/// One vulnerability across a view's images.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VulnItem {
    /// The advisory as the distribution publishes it (`DSA-5678-1`), else the CVE id.
    pub id: String,
    pub cves: Vec<String>,
    /// Its most urgent finding's urgency.
    pub urgency: String,
    /// Image versions affected now.
    pub affected_images: u64,
    /// Image versions that have it but ignore it.
    pub ignored_images: u64,
    /// Image versions that ever had it, in a scan or match kept in history.
    pub ever_affected_images: u64,
    /// The software it was found in.
    pub packages: Vec<String>,
    /// What to do about it.
    pub solution: String,
    /// Where the advisory is published, when known.
    pub link: Option<String>,
    /// Every affected version ignores it: it no longer counts.
    pub ignored: bool,
}

/// Ignore a vulnerability: for all images (no `image_id`), for one image version, or for
/// every version of that version's repository (`"scope": "repository"`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IgnoreRequest {
    /// The image version (as in `/api/v1/images/{id}`); omitted: all images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    /// With `image_id`: `version` (the default) or `repository`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^(version|repository)$")]
    pub scope: Option<String>,
    /// `accepted-risk` (the default), `not-affected` (needs a `justification`) or
    /// `false-positive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^(accepted-risk|not-affected|false-positive)$")]
    pub kind: Option<String>,
    /// For `not-affected`, the VEX justification: `component_not_present`,
    /// `vulnerable_code_not_present`, `vulnerable_code_not_in_execute_path`,
    /// `vulnerable_code_cannot_be_controlled_by_adversary` or `inline_mitigations_already_exist`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// Why, in at most 1,000 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
    /// When the decision lapses (RFC 3339, in the future); omitted: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// The decision lapses for a finding once a fixed version is known.
    #[serde(default)]
    pub until_fixed: bool,
}

/// Take back a decision: the same `image_id` and `scope` it was made with.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnignoreRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^(version|repository)$")]
    pub scope: Option<String>,
}

/// A decision to ignore a vulnerability.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IgnoreDecision {
    pub id: String,
    pub vulnerability: String,
    /// `all`, `repository` or `version`.
    pub scope: String,
    /// For `version`: the version's id; for `repository`: the catalogue image's id.
    pub subject: String,
    pub kind: String,
    pub justification: String,
    pub reason: String,
    pub author: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    pub until_fixed: bool,
    /// False once `expires_at` passed.
    pub active: bool,
}

/// A CVE as the vulnerability database describes it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CveDetail {
    pub id: String,
    pub cvss_score: Option<f64>,
    pub cvss_vector: Option<String>,
    pub severity: Option<String>,
    /// When it was disclosed (RFC 3339 date).
    pub published: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub references: Vec<String>,
}

/// The software of one version a vulnerability is found in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AffectedSoftware {
    pub package: String,
    pub installed_version: String,
    /// Empty when no fix is known.
    pub fixed_version: String,
    pub urgency: String,
}

/// One affected version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AffectedVersion {
    /// The version's id (as in `/api/v1/images/{id}`).
    pub image_id: String,
    pub tag: String,
    pub size: u64,
    pub software: Vec<AffectedSoftware>,
    /// A decision ignores it for this version.
    pub ignored: bool,
}

/// One affected image (repository) with its affected versions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AffectedImage {
    pub repository: String,
    pub organisation: String,
    pub affected_versions: u64,
    pub versions: Vec<AffectedVersion>,
}

/// A vulnerability's page: what it is and where it is in a view.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VulnDetail {
    pub id: String,
    pub view: String,
    pub cves: Vec<CveDetail>,
    /// Its most urgent current finding's urgency in the view.
    pub urgency: Option<String>,
    /// What to do, with a link when the data has one.
    pub solution: String,
    pub link: Option<String>,
    pub images: Vec<AffectedImage>,
    pub decisions: Vec<IgnoreDecision>,
}

/// What a VEX import did.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct VexImport {
    /// Decisions recorded (new or replaced).
    pub imported: u64,
    /// Statements not recorded, each with why.
    pub skipped: Vec<String>,
}

/// `?format=` of a VEX export.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct VexQuery {
    /// `openvex` (the default) or `cyclonedx`.
    pub format: Option<String>,
}
