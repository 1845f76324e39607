//! CVSS v3.0 and v3.1 base scores (specification section 7.1 and, for 3.1, appendix A's
//! `Roundup`).

use super::{CvssError, bad, metrics, required};

/// Which v3 minor version: they share weights but round differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Minor {
    Zero,
    One,
}

/// Metrics a v3 vector may carry beyond the base ones; they do not change the base score.
const NON_BASE: [&str; 14] = ["E", "RL", "RC", "CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA"];

/// The base score of a `CVSS:3.x/...` vector.
pub fn base_score(vector: &str, minor: Minor) -> Result<f64, CvssError> {
    let body = vector.split_once('/').map(|(_, body)| body).ok_or(CvssError::UnknownVersion)?;
    let metrics = metrics(body)?;
    for (name, value) in &metrics {
        let base = ["AV", "AC", "PR", "UI", "S", "C", "I", "A"].contains(name);
        if !base && !NON_BASE.contains(name) {
            return Err(bad(name, value));
        }
    }
    let av = match required(&metrics, "AV")? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        v => return Err(bad("AV", v)),
    };
    let ac = match required(&metrics, "AC")? {
        "L" => 0.77,
        "H" => 0.44,
        v => return Err(bad("AC", v)),
    };
    let changed = match required(&metrics, "S")? {
        "U" => false,
        "C" => true,
        v => return Err(bad("S", v)),
    };
    // Privileges Required weighs more when the scope changes (specification table 16).
    let pr = match (required(&metrics, "PR")?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        (v, _) => return Err(bad("PR", v)),
    };
    let ui = match required(&metrics, "UI")? {
        "N" => 0.85,
        "R" => 0.62,
        v => return Err(bad("UI", v)),
    };
    let cia = |name: &'static str| -> Result<f64, CvssError> {
        match required(&metrics, name)? {
            "H" => Ok(0.56),
            "L" => Ok(0.22),
            "N" => Ok(0.0),
            v => Err(bad(name, v)),
        }
    };
    let (c, i, a) = (cia("C")?, cia("I")?, cia("A")?);

    let iss = 1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a);
    let impact = if changed { 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15) } else { 6.42 * iss };
    let exploitability = 8.22 * av * ac * pr * ui;
    if impact <= 0.0 {
        return Ok(0.0);
    }
    let raw = if changed { (1.08 * (impact + exploitability)).min(10.0) } else { (impact + exploitability).min(10.0) };
    Ok(match minor {
        Minor::Zero => roundup_30(raw),
        Minor::One => roundup_31(raw),
    })
}

/// CVSS 3.0 rounding: the smallest one-decimal number not below `x`.
fn roundup_30(x: f64) -> f64 {
    (x * 10.0).ceil() / 10.0
}

/// CVSS 3.1 `Roundup` (appendix A): works on an integer of 100,000ths so that floating
/// point noise such as 4.000000000000001 does not round up to 4.1.
fn roundup_31(x: f64) -> f64 {
    // Scores are below 11, so the product fits an i64 exactly enough.
    let int_input = (x * 100_000.0).round() as i64;
    if int_input % 10_000 == 0 { int_input as f64 / 100_000.0 } else { ((int_input / 10_000) + 1) as f64 / 10.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specification_examples() {
        // Examples from the CVSS v3.1 examples document and NVD entries.
        let cases = [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H/E:U/RL:O", 7.5),
        ];
        for (vector, score) in cases {
            assert_eq!(base_score(vector, Minor::One).unwrap(), score, "{vector}");
        }
    }

    #[test]
    fn roundup_avoids_float_noise() {
        assert_eq!(roundup_31(4.000_000_000_000_001), 4.0);
        assert_eq!(roundup_31(4.02), 4.1);
        assert_eq!(roundup_30(4.02), 4.1);
    }
}
