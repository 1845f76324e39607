//! The inventory's data model: operating system, packages, file statistics.

use serde::{Deserialize, Serialize};

/// The kind of package, which decides its purl type and which vulnerability data applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageType {
    Deb,
    Apk,
    Rpm,
    Python,
    Npm,
    GoModule,
    Cargo,
    Maven,
    Gem,
    Composer,
}

impl PackageType {
    /// Whether packages of this type come from the OS package manager.
    pub fn is_os(self) -> bool {
        matches!(self, PackageType::Deb | PackageType::Apk | PackageType::Rpm)
    }

    /// The purl type (`pkg:TYPE/...`).
    pub fn purl_type(self) -> &'static str {
        match self {
            PackageType::Deb => "deb",
            PackageType::Apk => "apk",
            PackageType::Rpm => "rpm",
            PackageType::Python => "pypi",
            PackageType::Npm => "npm",
            PackageType::GoModule => "golang",
            PackageType::Cargo => "cargo",
            PackageType::Maven => "maven",
            PackageType::Gem => "gem",
            PackageType::Composer => "composer",
        }
    }

    /// The OSV ecosystem name for language packages.
    pub fn ecosystem(self) -> Option<&'static str> {
        Some(match self {
            PackageType::Python => "PyPI",
            PackageType::Npm => "npm",
            PackageType::GoModule => "Go",
            PackageType::Cargo => "crates.io",
            PackageType::Maven => "Maven",
            PackageType::Gem => "RubyGems",
            PackageType::Composer => "Packagist",
            _ => return None,
        })
    }
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub name: String,
    /// The full version as the package manager writes it: dpkg `[epoch:]upstream[-revision]`,
    /// rpm `[epoch:]version-release`, apk `version-rREL`, language versions as declared.
    pub version: String,
    #[serde(rename = "type")]
    pub kind: PackageType,
    pub purl: String,
    /// Source package (dpkg `Source:`, apk origin, rpm source RPM name), when different or
    /// recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Licences as recorded (SPDX expressions where the package gives them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// Index of the layer that introduced this package (0 = base).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<u32>,
    /// Where the package was found: the database or manifest file.
    pub location: String,
    /// Files the package owns, as absolute image paths.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

/// The operating system family, by `ID` of os-release or distro files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsInfo {
    /// `ID` (`debian`, `ubuntu`, `alpine`, `rhel`, `rocky`, ...), or `unknown`.
    pub id: String,
    /// `VERSION_ID` (`12`, `3.19.1`, `9.3`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// `VERSION_CODENAME` (`bookworm`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
    /// `ID_LIKE`, split on spaces.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_like: Vec<String>,
    /// The file the answer came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_file: Option<String>,
}

impl OsInfo {
    pub fn unknown() -> Self {
        OsInfo {
            id: "unknown".into(),
            version_id: None,
            codename: None,
            pretty_name: None,
            id_like: vec![],
            source_file: None,
        }
    }

    pub fn is_known(&self) -> bool {
        self.id != "unknown"
    }
}

/// Sizes of package-owned and unowned files (SPEC 5, "file info").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStats {
    pub owned_count: u64,
    pub owned_bytes: u64,
    pub unowned_count: u64,
    pub unowned_bytes: u64,
    /// The largest regular files no package owns, largest first (at most 50).
    pub largest_unowned: Vec<SizedFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizedFile {
    pub path: String,
    pub size: u64,
}

/// Something an analyzer could not read; the inventory goes on without it and the report
/// says it is partial.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub analyzer: String,
    pub path: String,
    pub message: String,
}
