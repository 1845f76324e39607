//! Lenient access to parsed JSON.
//!
//! Feeds are read into `serde_json::Value` rather than typed structs so that one field of an
//! unexpected type costs only that field (or record), not the whole file.

use serde_json::{Map, Value};

/// The string at `key`, when the value is an object holding a string there.
pub(crate) fn str_at<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// The non-empty, trimmed string at `key`.
pub(crate) fn text_at<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    str_at(value, key).map(str::trim).filter(|s| !s.is_empty())
}

/// The array at `key`, or an empty slice when it is missing or not an array.
pub(crate) fn array_at<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// The object at `key`, when there is one.
pub(crate) fn object_at<'a>(value: &'a Value, key: &str) -> Option<&'a Map<String, Value>> {
    value.get(key).and_then(Value::as_object)
}

/// The number at `key`, also accepting a number written as a string.
pub(crate) fn number_at(value: &Value, key: &str) -> Option<f64> {
    match value.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Every non-empty string of the array at `key`.
pub(crate) fn strings_at<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a str> {
    array_at(value, key).iter().filter_map(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// A short name of a JSON value's type, for problem messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The English text of a `[{lang, value}]` list (CVE JSON 5 and NVD descriptions): the
/// first entry whose language is English, else the first entry with any text.
pub(crate) fn english(list: &[Value]) -> Option<String> {
    let text = |v: &Value| text_at(v, "value").map(str::to_string);
    let is_english =
        |v: &Value| str_at(v, "lang").is_some_and(|l| l.eq_ignore_ascii_case("en") || l.starts_with("en-"));
    list.iter().filter(|v| is_english(v)).find_map(text).or_else(|| list.iter().find_map(text))
}
