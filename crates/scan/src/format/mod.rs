//! Report formats: a table for people, JSON for scripts, CycloneDX and SPDX for SBOM tools.

mod cyclonedx;
mod json;
mod sarif;
mod spdx;
mod table;

use std::str::FromStr;

use crate::Report;

/// Output formats of `cguard scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    CycloneDx,
    Spdx,
    Sarif,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "table" => Format::Table,
            "json" => Format::Json,
            "cyclonedx" | "cyclonedx-json" => Format::CycloneDx,
            "spdx" | "spdx-json" => Format::Spdx,
            "sarif" => Format::Sarif,
            other => return Err(format!("unknown format {other:?} (expected table, json, cyclonedx, spdx or sarif)")),
        })
    }
}

/// Renders a report. `now` is the document time (RFC 3339, UTC, whole seconds) so that
/// callers and tests control it.
pub fn render(report: &Report, format: Format, now: &str) -> String {
    match format {
        Format::Table => table::render(report),
        Format::Json => json::render(report),
        Format::CycloneDx => cyclonedx::render(report, now),
        Format::Spdx => spdx::render(report, now),
        Format::Sarif => sarif::render(report),
    }
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn now_utc() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    now.format(&fmt).unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// The name serde gives a unit enum variant (`deb`, `docker-archive`, `will-not-fix`):
/// one spelling for the same value in every format.
pub(crate) fn serde_name<T: serde::Serialize>(value: T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

/// A stable, unique name for each package in documents that need element ids.
pub(crate) fn package_refs(report: &Report) -> Vec<String> {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    report
        .inventory
        .packages
        .iter()
        .map(|p| {
            let n = seen.entry(p.purl.clone()).or_insert(0);
            *n += 1;
            if *n == 1 { p.purl.clone() } else { format!("{}#{}", p.purl, n) }
        })
        .collect()
}
