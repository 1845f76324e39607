//! CVSS v2.0 base scores (the v2 guide, section 3.2.1).

use super::{CvssError, bad, metrics, required};

/// Metrics a v2 vector may carry beyond the base ones.
const NON_BASE: [&str; 8] = ["E", "RL", "RC", "CDP", "TD", "CR", "IR", "AR"];

/// The base score of a v2 vector (`AV:N/AC:L/Au:N/C:P/I:P/A:P`, optionally in parentheses
/// or with a `CVSS:2.0/` prefix).
pub fn base_score(vector: &str) -> Result<f64, CvssError> {
    let body = vector.trim().trim_start_matches('(').trim_end_matches(')');
    let body = body.strip_prefix("CVSS:2.0/").unwrap_or(body);
    let metrics = metrics(body)?;
    for (name, value) in &metrics {
        let base = ["AV", "AC", "Au", "C", "I", "A"].contains(name);
        if !base && !NON_BASE.contains(name) {
            return Err(bad(name, value));
        }
    }
    let av = match required(&metrics, "AV")? {
        "L" => 0.395,
        "A" => 0.646,
        "N" => 1.0,
        v => return Err(bad("AV", v)),
    };
    let ac = match required(&metrics, "AC")? {
        "H" => 0.35,
        "M" => 0.61,
        "L" => 0.71,
        v => return Err(bad("AC", v)),
    };
    let au = match required(&metrics, "Au")? {
        "M" => 0.45,
        "S" => 0.56,
        "N" => 0.704,
        v => return Err(bad("Au", v)),
    };
    let cia = |name: &'static str| -> Result<f64, CvssError> {
        match required(&metrics, name)? {
            "N" => Ok(0.0),
            "P" => Ok(0.275),
            "C" => Ok(0.660),
            v => Err(bad(name, v)),
        }
    };
    let (c, i, a) = (cia("C")?, cia("I")?, cia("A")?);
    let impact = 10.41 * (1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a));
    let exploitability = 20.0 * av * ac * au;
    let f_impact = if impact == 0.0 { 0.0 } else { 1.176 };
    let raw = ((0.6 * impact) + (0.4 * exploitability) - 1.5) * f_impact;
    Ok(round_one_decimal(raw))
}

/// Rounds half up to one decimal. The small bias absorbs binary noise such as
/// 6.449999999 standing for 6.45, which the guide's decimal arithmetic rounds to 6.5.
fn round_one_decimal(x: f64) -> f64 {
    ((x * 10.0) + 0.5 + 1e-9).floor() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guide_examples() {
        // The three worked examples of the v2 guide (section 3.3) and NVD's usual 7.5.
        assert_eq!(base_score("AV:N/AC:L/Au:N/C:N/I:N/A:C").unwrap(), 7.8);
        assert_eq!(base_score("AV:N/AC:L/Au:N/C:C/I:C/A:C").unwrap(), 10.0);
        assert_eq!(base_score("AV:L/AC:H/Au:N/C:C/I:C/A:C").unwrap(), 6.2);
        assert_eq!(base_score("(AV:N/AC:L/Au:N/C:P/I:P/A:P)").unwrap(), 7.5);
        assert_eq!(base_score("AV:N/AC:L/Au:N/C:N/I:N/A:N").unwrap(), 0.0);
    }
}
