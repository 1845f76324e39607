//! CVSS v4.0 scores (specification section 8).
//!
//! v4.0 has no closed formula. A vector falls into one of 270 macro vectors (six
//! "equivalence" classes EQ1–EQ6); the specification gives each macro vector a score, and
//! the vector's score is that score lowered by how far the vector sits below the most severe
//! vectors of its macro vector, in proportion to the score gap to the next lower macro
//! vectors. Threat (`E`) and environmental metrics (`CR`, `IR`, `AR`, `M…`) take part when
//! present, so a vector that carries them gets its CVSS-BT / CVSS-BTE score; supplemental
//! metrics never change the score.

use super::v4_table::MACRO_SCORES;
use super::{CvssError, bad, metrics};

/// Every metric a v4.0 vector may hold, with its allowed values.
const ALLOWED: [(&str, &[&str]); 32] = [
    ("AV", &["N", "A", "L", "P"]),
    ("AC", &["L", "H"]),
    ("AT", &["N", "P"]),
    ("PR", &["N", "L", "H"]),
    ("UI", &["N", "P", "A"]),
    ("VC", &["H", "L", "N"]),
    ("VI", &["H", "L", "N"]),
    ("VA", &["H", "L", "N"]),
    ("SC", &["H", "L", "N"]),
    ("SI", &["H", "L", "N"]),
    ("SA", &["H", "L", "N"]),
    ("E", &["X", "A", "P", "U"]),
    ("CR", &["X", "H", "M", "L"]),
    ("IR", &["X", "H", "M", "L"]),
    ("AR", &["X", "H", "M", "L"]),
    ("MAV", &["X", "N", "A", "L", "P"]),
    ("MAC", &["X", "L", "H"]),
    ("MAT", &["X", "N", "P"]),
    ("MPR", &["X", "N", "L", "H"]),
    ("MUI", &["X", "N", "P", "A"]),
    ("MVC", &["X", "H", "L", "N"]),
    ("MVI", &["X", "H", "L", "N"]),
    ("MVA", &["X", "H", "L", "N"]),
    ("MSC", &["X", "H", "L", "N"]),
    ("MSI", &["X", "S", "H", "L", "N"]),
    ("MSA", &["X", "S", "H", "L", "N"]),
    ("S", &["X", "N", "P"]),
    ("AU", &["X", "N", "Y"]),
    ("R", &["X", "A", "U", "I"]),
    ("V", &["X", "D", "C"]),
    ("RE", &["X", "L", "M", "H"]),
    ("U", &["X", "Clear", "Green", "Amber", "Red"]),
];

/// The base metrics every vector must hold.
const MANDATORY: [&str; 11] = ["AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"];

/// A parsed vector: the value of each metric, `X` where absent.
struct Vector<'a> {
    metrics: Vec<(&'a str, &'a str)>,
}

impl<'a> Vector<'a> {
    fn raw(&self, name: &str) -> &'a str {
        self.metrics.iter().find(|(n, _)| *n == name).map(|(_, v)| *v).unwrap_or("X")
    }

    /// The value that counts for scoring: a modified (`M…`) metric overrides its base
    /// metric, an absent `E` counts as `A` (attacked) and absent requirements as `H`, the
    /// worst cases the specification assumes.
    fn effective(&self, name: &str) -> &'a str {
        let selected = self.raw(name);
        match (name, selected) {
            ("E", "X") => return "A",
            ("CR" | "IR" | "AR", "X") => return "H",
            _ => {}
        }
        let modified = match name {
            "AV" => "MAV",
            "AC" => "MAC",
            "AT" => "MAT",
            "PR" => "MPR",
            "UI" => "MUI",
            "VC" => "MVC",
            "VI" => "MVI",
            "VA" => "MVA",
            "SC" => "MSC",
            "SI" => "MSI",
            "SA" => "MSA",
            _ => return selected,
        };
        match self.raw(modified) {
            "X" => selected,
            m => m,
        }
    }

    fn is(&self, name: &str, value: &str) -> bool {
        self.effective(name) == value
    }
}

/// The score of a `CVSS:4.0/...` vector.
pub fn base_score(vector: &str) -> Result<f64, CvssError> {
    let body = vector.strip_prefix("CVSS:4.0/").ok_or(CvssError::UnknownVersion)?;
    let metrics = metrics(body)?;
    for (name, value) in &metrics {
        let allowed = ALLOWED.iter().find(|(n, _)| n == name).map(|(_, values)| *values);
        if !allowed.is_some_and(|values| values.contains(value)) {
            return Err(bad(name, value));
        }
    }
    for name in MANDATORY {
        if !metrics.iter().any(|(n, _)| *n == name) {
            return Err(CvssError::Missing(name));
        }
    }
    Ok(score(&Vector { metrics }))
}

/// The macro vector (EQ1..EQ6) of a vector, section 8.2.
fn macro_vector(v: &Vector) -> [u8; 6] {
    let eq1 = if v.is("AV", "N") && v.is("PR", "N") && v.is("UI", "N") {
        0
    } else if (v.is("AV", "N") || v.is("PR", "N") || v.is("UI", "N")) && !v.is("AV", "P") {
        1
    } else {
        2
    };
    let eq2 = if v.is("AC", "L") && v.is("AT", "N") { 0 } else { 1 };
    let eq3 = if v.is("VC", "H") && v.is("VI", "H") {
        0
    } else if v.is("VC", "H") || v.is("VI", "H") || v.is("VA", "H") {
        1
    } else {
        2
    };
    let eq4 = if v.is("SI", "S") || v.is("SA", "S") {
        0
    } else if v.is("SC", "H") || v.is("SI", "H") || v.is("SA", "H") {
        1
    } else {
        2
    };
    let eq5 = match v.effective("E") {
        "A" => 0,
        "P" => 1,
        _ => 2,
    };
    let eq6 = if (v.is("CR", "H") && v.is("VC", "H"))
        || (v.is("IR", "H") && v.is("VI", "H"))
        || (v.is("AR", "H") && v.is("VA", "H"))
    {
        0
    } else {
        1
    };
    [eq1, eq2, eq3, eq4, eq5, eq6]
}

/// The specification's score of a macro vector, `None` for combinations that do not exist.
fn macro_score(eqs: [u8; 6]) -> Option<f64> {
    let mut key = [0u8; 6];
    for (k, e) in key.iter_mut().zip(eqs) {
        *k = b'0'.checked_add(e)?;
    }
    let key = std::str::from_utf8(&key).ok()?;
    MACRO_SCORES.binary_search_by(|(k, _)| (*k).cmp(key)).ok().and_then(|i| MACRO_SCORES.get(i)).map(|(_, s)| *s)
}

/// The most severe vectors of each equivalence class value (the specification's "highest
/// severity vectors"), as metric lists. EQ3 and EQ6 are taken together.
fn max_vectors(eqs: [u8; 6]) -> Vec<Vec<(&'static str, &'static str)>> {
    let [eq1, eq2, eq3, eq4, eq5, eq6] = eqs;
    let eq1_max: &[&str] = match eq1 {
        0 => &["AV:N/PR:N/UI:N"],
        1 => &["AV:A/PR:N/UI:N", "AV:N/PR:L/UI:N", "AV:N/PR:N/UI:P"],
        _ => &["AV:P/PR:N/UI:N", "AV:A/PR:L/UI:P"],
    };
    let eq2_max: &[&str] = match eq2 {
        0 => &["AC:L/AT:N"],
        _ => &["AC:H/AT:N", "AC:L/AT:P"],
    };
    let eq36_max: &[&str] = match (eq3, eq6) {
        (0, 0) => &["VC:H/VI:H/VA:H/CR:H/IR:H/AR:H"],
        (0, _) => &["VC:H/VI:H/VA:L/CR:M/IR:M/AR:H", "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M"],
        (1, 0) => &["VC:L/VI:H/VA:H/CR:H/IR:H/AR:H", "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H"],
        (1, _) => &[
            "VC:L/VI:H/VA:L/CR:H/IR:M/AR:H",
            "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M",
            "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M",
            "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H",
            "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M",
        ],
        _ => &["VC:L/VI:L/VA:L/CR:H/IR:H/AR:H"],
    };
    let eq4_max = match eq4 {
        0 => "SC:H/SI:S/SA:S",
        1 => "SC:H/SI:H/SA:H",
        _ => "SC:L/SI:L/SA:L",
    };
    let eq5_max = match eq5 {
        0 => "E:A",
        1 => "E:P",
        _ => "E:U",
    };
    let split = |s: &'static str| s.split('/').filter_map(|m| m.split_once(':')).collect::<Vec<_>>();
    let mut out = Vec::new();
    for a in eq1_max {
        for b in eq2_max {
            for c in eq36_max {
                let mut all = split(a);
                all.extend(split(b));
                all.extend(split(c));
                all.extend(split(eq4_max));
                all.extend(split(eq5_max));
                out.push(all);
            }
        }
    }
    out
}

/// How many tenths of severity a value sits below the most severe value of its metric.
fn level(metric: &str, value: &str) -> f64 {
    let tenths = match (metric, value) {
        ("AV", "N") | ("PR", "N") | ("UI", "N") | ("AC", "L") | ("AT", "N") => 0,
        ("AV", "A") | ("PR", "L") | ("UI", "P") | ("AC", "H") | ("AT", "P") => 1,
        ("AV", "L") | ("PR", "H") | ("UI", "A") => 2,
        ("AV", "P") => 3,
        ("VC" | "VI" | "VA", "H") => 0,
        ("VC" | "VI" | "VA", "L") => 1,
        ("VC" | "VI" | "VA", "N") => 2,
        ("SI" | "SA", "S") => 0,
        ("SC" | "SI" | "SA", "H") => 1,
        ("SC" | "SI" | "SA", "L") => 2,
        ("SC" | "SI" | "SA", "N") => 3,
        ("CR" | "IR" | "AR", "H") => 0,
        ("CR" | "IR" | "AR", "M") => 1,
        ("CR" | "IR" | "AR", "L") => 2,
        _ => 0,
    };
    f64::from(tenths) / 10.0
}

/// Section 8.3: the macro vector's score, lowered by the vector's mean proportional
/// distance from the most severe vectors of its macro vector.
fn score(v: &Vector) -> f64 {
    if ["VC", "VI", "VA", "SC", "SI", "SA"].iter().all(|m| v.is(m, "N")) {
        return 0.0;
    }
    let eqs = macro_vector(v);
    let Some(value) = macro_score(eqs) else { return 0.0 };
    let [eq1, eq2, eq3, eq4, eq5, eq6] = eqs;
    let lower = |i: usize| {
        let mut next = eqs;
        next[i] += 1;
        macro_score(next)
    };
    // EQ3 and EQ6 move together: from (0,0) both neighbours exist and the higher counts.
    let lower_eq36 = match (eq3, eq6) {
        (1, 1) | (0, 1) => macro_score([eq1, eq2, eq3 + 1, eq4, eq5, eq6]),
        (1, 0) => macro_score([eq1, eq2, eq3, eq4, eq5, eq6 + 1]),
        (0, 0) => {
            let left = macro_score([eq1, eq2, eq3, eq4, eq5, eq6 + 1]);
            let right = macro_score([eq1, eq2, eq3 + 1, eq4, eq5, eq6]);
            match (left, right) {
                (Some(l), Some(r)) => Some(l.max(r)),
                (l, r) => l.or(r),
            }
        }
        _ => None,
    };

    // The first most-severe vector that the vector does not exceed in any metric.
    const COMPARED: [&str; 14] = ["AV", "PR", "UI", "AC", "AT", "VC", "VI", "VA", "SC", "SI", "SA", "CR", "IR", "AR"];
    let mut distances = [0.0f64; 14];
    for max in max_vectors(eqs) {
        for (d, metric) in distances.iter_mut().zip(COMPARED) {
            let max_value = max.iter().find(|(n, _)| *n == metric).map(|(_, v)| *v).unwrap_or("X");
            *d = level(metric, v.effective(metric)) - level(metric, max_value);
        }
        if distances.iter().all(|d| *d >= 0.0) {
            break;
        }
    }
    let [av, pr, ui, ac, at, vc, vi, va, sc, si, sa, cr, ir, ar] = distances;
    let step = 0.1;
    let max_severity_eq36 = match (eq3, eq6) {
        (0, 0) => 7.0,
        (0, _) => 6.0,
        (1, _) => 8.0,
        _ => 10.0,
    };
    let parts = [
        (lower(0), av + pr + ui, [1.0, 4.0, 5.0].get(usize::from(eq1)).copied().unwrap_or(5.0)),
        (lower(1), ac + at, if eq2 == 0 { 1.0 } else { 2.0 }),
        (lower_eq36, vc + vi + va + cr + ir + ar, max_severity_eq36),
        (lower(3), sc + si + sa, [6.0, 5.0, 4.0].get(usize::from(eq4)).copied().unwrap_or(4.0)),
        // EQ5 has a single value per class: a vector is never below its maximum there.
        (lower(4), 0.0, 1.0),
    ];
    let mut existing = 0u32;
    let mut total = 0.0;
    for (lower_score, distance, max_severity) in parts {
        let Some(lower_score) = lower_score else { continue };
        let available = value - lower_score;
        if available >= 0.0 {
            existing += 1;
            total += available * (distance / (max_severity * step));
        }
    }
    let mean = if existing == 0 { 0.0 } else { total / f64::from(existing) };
    round_one_decimal((value - mean).clamp(0.0, 10.0))
}

/// Rounds half up to one decimal, with a tiny bias against binary noise (8.45 stored as
/// 8.4499999 must give 8.5, as the specification's decimal arithmetic does).
fn round_one_decimal(x: f64) -> f64 {
    ((x + 1e-6) * 10.0 + 0.5).floor() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specification_examples() {
        let cases = [
            ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", 10.0),
            ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3),
            ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", 0.0),
            // CVE-2025-6965 as its CNA scored it.
            ("CVSS:4.0/AV:N/AC:H/AT:P/PR:L/UI:N/VC:L/VI:H/VA:L/SC:L/SI:H/SA:L/S:N/AU:N/R:U/V:D/RE:L/U:Green", 7.2),
        ];
        for (vector, expected) in cases {
            assert_eq!(base_score(vector).unwrap(), expected, "{vector}");
        }
    }

    #[test]
    fn invalid_vectors_are_refused() {
        assert!(base_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H").is_err());
        assert!(base_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:S/SA:H").is_err());
        assert!(base_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/ZZ:1").is_err());
    }

    #[test]
    fn the_table_is_sorted_and_complete() {
        assert_eq!(MACRO_SCORES.len(), 270);
        assert!(MACRO_SCORES.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
