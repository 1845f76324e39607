//! CVSS vectors: reading them and computing their base score.
//!
//! Feeds publish CVSS as a vector string, sometimes with a score and sometimes without (OSV
//! carries only the vector). The score is computed here from the vector with each
//! version's specification: [`v2`] (CVSS v2.0 guide, section 3.2.1), [`v3`] (CVSS v3.0 and
//! v3.1 specifications, section 7 and appendix A) and [`v4`] (CVSS v4.0 specification,
//! section 8: macro vectors, their score table and the interpolation within them).

pub mod v2;
pub mod v3;
pub mod v4;
mod v4_table;

use crate::model::Cvss;

/// The longest vector string read; real ones are under 200 characters.
const MAX_VECTOR_LEN: usize = 512;

/// Why a vector could not be scored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CvssError {
    #[error("not a CVSS vector (no known version prefix and no v2 metrics)")]
    UnknownVersion,
    #[error("vector longer than {MAX_VECTOR_LEN} characters")]
    TooLong,
    #[error("malformed metric \"{0}\"")]
    Malformed(String),
    #[error("unknown metric or value \"{0}\"")]
    UnknownMetric(String),
    #[error("metric {0} given twice")]
    Duplicate(String),
    #[error("base metric {0} missing")]
    Missing(&'static str),
}

/// The CVSS version a vector is written in, as the model spells it (`2.0`, `3.0`, `3.1`,
/// `4.0`), judged from its prefix; bare vectors without prefix are v2.
pub fn version_of(vector: &str) -> Result<&'static str, CvssError> {
    let vector = vector.trim();
    if vector.starts_with("CVSS:3.1/") {
        Ok("3.1")
    } else if vector.starts_with("CVSS:3.0/") {
        Ok("3.0")
    } else if vector.starts_with("CVSS:4.0/") {
        Ok("4.0")
    } else if vector.starts_with("AV:") || vector.starts_with("(AV:") {
        Ok("2.0")
    } else {
        Err(CvssError::UnknownVersion)
    }
}

/// The base score of `vector`, with its version.
///
/// ```
/// let (version, score) = vulndb::feed::cvss::base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap();
/// assert_eq!((version, score), ("3.1", 9.8));
/// ```
pub fn base_score(vector: &str) -> Result<(&'static str, f64), CvssError> {
    let vector = vector.trim();
    if vector.len() > MAX_VECTOR_LEN {
        return Err(CvssError::TooLong);
    }
    let version = version_of(vector)?;
    let score = match version {
        "3.1" => v3::base_score(vector, v3::Minor::One)?,
        "3.0" => v3::base_score(vector, v3::Minor::Zero)?,
        "4.0" => v4::base_score(vector)?,
        _ => v2::base_score(vector)?,
    };
    Ok((version, score))
}

/// Builds the model's [`Cvss`] for `vector` as published by `source`.
///
/// The score is computed from the vector. When the feed also published a score, that
/// published score is kept (the vector and score stay as the publisher wrote them) and a
/// disagreement of more than 0.05 is returned as a message for the caller's problems.
/// A vector that cannot be scored is kept with the published score; without one it is an
/// error.
pub(crate) fn assess(vector: &str, published: Option<f64>, source: &str) -> Result<(Cvss, Option<String>), String> {
    let vector = vector.trim();
    let published = published.filter(|s| s.is_finite() && (0.0..=10.0).contains(s));
    let make = |version: &str, base_score: f64| Cvss {
        version: version.to_string(),
        vector: vector.to_string(),
        base_score,
        source: source.to_string(),
    };
    match (base_score(vector), published) {
        (Ok((version, computed)), None) => Ok((make(version, computed), None)),
        (Ok((version, computed)), Some(given)) => {
            let note = ((computed - given).abs() > 0.05).then(|| {
                format!("CVSS vector {vector} scores {computed:.1}, but the feed says {given:.1}; kept {given:.1}")
            });
            Ok((make(version, given), note))
        }
        (Err(e), Some(given)) => {
            let version = version_of(vector).unwrap_or("unknown");
            Ok((make(version, given), Some(format!("CVSS vector {vector}: {e}; kept the published score {given}"))))
        }
        (Err(e), None) => Err(format!("CVSS vector {vector}: {e}")),
    }
}

/// Splits the metrics of a vector (after its prefix) into (name, value) pairs, refusing
/// malformed or repeated metrics.
pub(crate) fn metrics(body: &str) -> Result<Vec<(&str, &str)>, CvssError> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for part in body.split('/') {
        let (name, value) = part.split_once(':').ok_or_else(|| CvssError::Malformed(part.to_string()))?;
        if name.is_empty() || value.is_empty() {
            return Err(CvssError::Malformed(part.to_string()));
        }
        if out.iter().any(|(n, _)| *n == name) {
            return Err(CvssError::Duplicate(name.to_string()));
        }
        out.push((name, value));
    }
    Ok(out)
}

/// The value of metric `name`, or [`CvssError::Missing`].
pub(crate) fn required<'a>(metrics: &[(&str, &'a str)], name: &'static str) -> Result<&'a str, CvssError> {
    metrics.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).ok_or(CvssError::Missing(name))
}

/// The error for metric `name` having value `value` that the specification does not allow.
pub(crate) fn bad(name: &str, value: &str) -> CvssError {
    CvssError::UnknownMetric(format!("{name}:{value}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_scores_are_kept_and_disagreements_reported() {
        let vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
        let (cvss, note) = assess(vector, Some(9.8), "nvd@nist.gov").unwrap();
        assert_eq!((cvss.version.as_str(), cvss.base_score, note), ("3.1", 9.8, None));
        let (cvss, note) = assess(vector, Some(7.5), "x").unwrap();
        assert_eq!(cvss.base_score, 7.5);
        assert!(note.unwrap().contains("scores 9.8"));
        assert!(assess("CVSS:3.1/AV:N", None, "x").is_err());
        let (cvss, note) = assess("CVSS:3.1/AV:N", Some(5.0), "x").unwrap();
        assert_eq!((cvss.base_score, note.is_some()), (5.0, true));
    }

    #[test]
    fn malformed_vectors_are_errors() {
        for bad in [
            "",
            "CVSS:3.1/",
            "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
            "CVSS:9.9/AV:N",
            "AV:N/AC:L/Au:N/C:P/I:P",
        ] {
            assert!(base_score(bad).is_err(), "{bad}");
        }
        assert_eq!(base_score(&"CVSS:3.1/".repeat(100)), Err(CvssError::TooLong));
    }
}
