//! The `json` format: the report as cguard holds it (schema in docs/report-json.md).

use crate::Report;

pub(super) fn render(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}
