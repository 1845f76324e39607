//! Malicious files and baseline checks across images (SPEC 3.4, 3.5), per view (local,
//! private or official images).

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The list of a view's malicious files (paged; `sort`: `file_name`, the default, `path`,
/// `type` or `repository`).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MalwareQuery {
    /// `local`, `private` or `official`.
    pub view: String,
    /// Part of a file name.
    pub q: Option<String>,
}

/// A malicious file in one image version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MalwareItem {
    pub file_name: String,
    /// Absolute path in the image; archive members are written `outer.jar!/inner`.
    pub path: String,
    pub description: String,
    /// Trojan, Worm, Virus, Adware, Miner, Backdoor, Webshell, HackTool or Rootkit.
    #[serde(rename = "type")]
    pub kind: String,
    pub severity: String,
    pub sha256: String,
    pub size: u64,
    /// The rule or signature that matched.
    pub rule: String,
    /// `local`, `private` or `official`.
    pub image_kind: String,
    pub organisation: String,
    pub repository: String,
    /// The version's id (its report is `/api/v1/images/{id}/report`).
    pub image_id: String,
    pub tag: String,
    pub advice: String,
}

/// The list of a view's failed baseline checks (paged; `sort`: `affected_images`, the
/// default, `id` or `level`).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BaselineQuery {
    /// `local`, `private` or `official`.
    pub view: String,
    /// `High`, `Medium` or `Low`.
    pub level: Option<String>,
}

/// A baseline check that failed in some versions of a view.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BaselineItem {
    pub id: String,
    pub title: String,
    /// `High`, `Medium` or `Low`.
    pub level: String,
    /// How the check is decided.
    pub method: String,
    /// Versions where it failed.
    pub affected_images: u64,
}

/// Where one check failed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BaselineResultItem {
    pub organisation: String,
    pub repository: String,
    /// The version's id.
    pub image_id: String,
    pub tag: String,
    #[schema(format = DateTime)]
    pub checked_at: String,
    pub problem: String,
    pub advice: String,
}
