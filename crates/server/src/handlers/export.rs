//! Lists exported whole, as CSV or JSON lines (`?format=csv|jsonl` on a list route):
//! every row the filters select, read page by page, not just one page.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::IntoParams;

use crate::error::{ApiError, ApiResult};

/// Most rows one export holds.
pub const MAX_ROWS: u64 = 200_000;

/// `?format=` of an exportable list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` or `jsonl`: every row the filters select (paging ignored), instead of a page.
    pub format: Option<String>,
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl ExportQuery {
    pub fn format(&self) -> ApiResult<Option<Format>> {
        match self.format.as_deref() {
            None => Ok(None),
            Some("csv") => Ok(Some(Format::Csv)),
            Some("jsonl") => Ok(Some(Format::JsonLines)),
            Some(_) => Err(ApiError::invalid("format", "is 'csv' or 'jsonl'")),
        }
    }
}

/// Reads every page of a list (1,000 rows at a time, at most [`MAX_ROWS`]).
pub async fn all_rows<T, F, Fut>(mut list: F) -> ApiResult<Vec<T>>
where
    F: FnMut(store::PageReq) -> Fut,
    Fut: std::future::Future<Output = ApiResult<(Vec<T>, u64)>>,
{
    let mut out = Vec::new();
    loop {
        let page = store::PageReq { limit: 1000, offset: out.len() as u64, ..Default::default() };
        let (rows, total) = list(page).await?;
        if total > MAX_ROWS {
            return Err(ApiError::invalid("format", format!("an export holds at most {MAX_ROWS} rows: filter more")));
        }
        let done = rows.is_empty() || out.len() as u64 + rows.len() as u64 >= total;
        out.extend(rows);
        if done {
            return Ok(out);
        }
    }
}

/// A CSV field: quoted when it must be, and never read as a formula by a spreadsheet.
fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() };
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(";"),
        other => other.to_string(),
    }
}

/// The rows as a file of the format, named `name.csv` or `name.jsonl`.
pub fn render<T: Serialize>(rows: &[T], format: Format, name: &str) -> ApiResult<Response> {
    let values: Vec<Value> = rows
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let (body, media, ext) = match format {
        Format::JsonLines => {
            let mut out = String::new();
            for v in &values {
                out.push_str(&v.to_string());
                out.push('\n');
            }
            (out, "application/x-ndjson", "jsonl")
        }
        Format::Csv => {
            let columns: Vec<String> = match values.first() {
                Some(Value::Object(m)) => m.keys().cloned().collect(),
                _ => Vec::new(),
            };
            let mut out = columns.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(",");
            out.push_str("\r\n");
            for v in &values {
                let line: Vec<String> = columns.iter().map(|c| csv_field(&cell(&v[c.as_str()]))).collect();
                out.push_str(&line.join(","));
                out.push_str("\r\n");
            }
            (out, "text/csv; charset=utf-8", "csv")
        }
    };
    let disposition = format!("attachment; filename=\"{name}.{ext}\"");
    Ok(([(header::CONTENT_TYPE, media.to_owned()), (header::CONTENT_DISPOSITION, disposition)], body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(cell(&serde_json::json!(["a", "b"])), "a;b");
        assert_eq!(cell(&Value::Null), "");
    }
}
