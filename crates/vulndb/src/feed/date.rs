//! Dates as feeds write them, turned into one RFC 3339 form.
//!
//! Feeds disagree on how they write a moment: OSV and CVE JSON 5 use RFC 3339 with or
//! without fractions, older CVE records and NVD leave out the offset (they mean UTC), and
//! some records carry only a day. The model keeps `YYYY-MM-DDTHH:MM:SSZ` so that dates from
//! different feeds compare as strings.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// The longest date text worth trying to read; anything longer is not a date.
const MAX_DATE_LEN: usize = 64;

/// Normalises `text` to `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds), or `None` when it is
/// not a date in any form the feeds use.
pub(crate) fn normalise(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_DATE_LEN {
        return None;
    }
    let utc = if let Ok(moment) = OffsetDateTime::parse(text, &Rfc3339) {
        moment.to_offset(UtcOffset::UTC)
    } else if let Some(moment) = without_offset(text) {
        moment.assume_utc()
    } else {
        let day = Date::parse(text, format_description!("[year]-[month]-[day]")).ok()?;
        day.midnight().assume_utc()
    };
    // Go's zero time (year 1) is how some OSV exporters say "not set"; no real record is
    // that old.
    if utc.year() < 1900 {
        return None;
    }
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    utc.format(format).ok()
}

/// Reads `YYYY-MM-DDTHH:MM:SS[.frac]` with an optional trailing `Z` that RFC 3339 parsing
/// refused (for instance an hour field out of its strict grammar) or that has no offset.
fn without_offset(text: &str) -> Option<PrimitiveDateTime> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    let with_fraction = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond]");
    let whole = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let spaced = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    PrimitiveDateTime::parse(text, with_fraction)
        .or_else(|_| PrimitiveDateTime::parse(text, whole))
        .or_else(|_| PrimitiveDateTime::parse(text, spaced))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn every_form_the_feeds_use_becomes_utc_seconds() {
        assert_eq!(normalise("2022-06-01T00:00:00").as_deref(), Some("2022-06-01T00:00:00Z"));
        assert_eq!(normalise("2022-06-01T00:00:00.000Z").as_deref(), Some("2022-06-01T00:00:00Z"));
        assert_eq!(normalise("2021-07-15T02:22:07.728618Z").as_deref(), Some("2021-07-15T02:22:07Z"));
        assert_eq!(normalise("2023-10-11T14:15:10.883").as_deref(), Some("2023-10-11T14:15:10Z"));
        assert_eq!(normalise("2024-01-02T01:30:00+02:00").as_deref(), Some("2024-01-01T23:30:00Z"));
        assert_eq!(normalise("2024-02-29").as_deref(), Some("2024-02-29T00:00:00Z"));
    }

    #[test]
    fn non_dates_are_refused() {
        for bad in
            ["", "yesterday", "2023-02-30", "2023-13-01T00:00:00Z", "0001-01-01T00:00:00Z", "2020-01-01T00:00:00Zjunk"]
        {
            assert_eq!(normalise(bad), None, "{bad}");
        }
        assert_eq!(normalise(&"2".repeat(100)), None);
    }
}
