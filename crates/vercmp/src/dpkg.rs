//! Debian package versions: `[epoch:]upstream[-revision]`, ordered as `dpkg --compare-versions` orders them
//! (Debian policy 5.6.12).
//!
//! The epoch compares as a number. Upstream version and revision compare part by part: a run of non-digits
//! compares character by character, where `~` sorts before everything (even the end of the string), then the end
//! of the string, then letters, then every other character; a run of digits compares as a number.
//!
//! Parsing follows dpkg: blanks around the version are ignored; an empty version, blanks inside it, a malformed,
//! negative or too large epoch, nothing after the epoch's colon, an empty upstream version or an empty revision
//! are errors. Like dpkg, odd characters and an upstream version that does not start with a digit are accepted
//! (dpkg only warns about them) and compared with the rules above; a NUL character ends the version, as it does
//! for dpkg.
//!
//! ```
//! use std::cmp::Ordering;
//! use vercmp::dpkg::{Version, compare};
//!
//! assert_eq!(compare("1:1.0", "2.0").unwrap(), Ordering::Greater);
//! assert_eq!(compare("1.0~beta1", "1.0").unwrap(), Ordering::Less);
//! assert_eq!(compare("1.0a", "1.0+dfsg").unwrap(), Ordering::Less);
//! assert_eq!(compare("1.0-1", "1.00-01").unwrap(), Ordering::Equal);
//! let v = Version::parse("2:4.2.1-3ubuntu1").unwrap();
//! assert_eq!((v.epoch(), v.upstream(), v.revision()), (2, "4.2.1", "3ubuntu1"));
//! assert!(Version::parse("1.0-").is_err());
//! ```

use std::cmp::Ordering;

use crate::{ParseError, Scheme};

/// A parsed Debian version.
#[derive(Debug, Clone)]
pub struct Version {
    epoch: u32,
    upstream: String,
    revision: String,
}

/// The largest epoch dpkg accepts (`INT_MAX`).
const MAX_EPOCH: u32 = i32::MAX as u32;

fn err(version: &str, reason: &'static str) -> ParseError {
    ParseError::new(Scheme::Dpkg, version, reason)
}

/// dpkg trims and splits on "blanks": space and tab only.
fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// The C library's `isspace` in the C locale, which `strtol` skips before the epoch.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The text before the first NUL, which is all a C program sees of a string.
fn c_str(s: &str) -> &str {
    match s.find('\0') {
        Some(nul) => s.get(..nul).unwrap_or(""),
        None => s,
    }
}

/// Parses the epoch in front of the colon the way dpkg's `strtol` call does.
fn parse_epoch(whole: &str, field: &[u8]) -> Result<u32, ParseError> {
    let mut i = 0;
    while field.get(i).is_some_and(|&b| is_c_space(b)) {
        i += 1;
    }
    let negative = match field.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let digits = field.get(i..).unwrap_or_default();
    if digits.is_empty() {
        return Err(err(whole, "epoch in version is empty"));
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return Err(err(whole, "epoch in version is not number"));
    }
    // Saturate instead of overflowing: any value past INT_MAX is an error either way.
    let value = digits.iter().fold(0u64, |acc, &d| acc.saturating_mul(10).saturating_add(u64::from(d - b'0')));
    if negative && value != 0 {
        return Err(err(whole, "epoch in version is negative"));
    }
    if value > u64::from(MAX_EPOCH) {
        return Err(err(whole, "epoch in version is too big"));
    }
    u32::try_from(value).map_err(|_| err(whole, "epoch in version is too big"))
}

impl Version {
    /// Parses a Debian version, rejecting what dpkg rejects with an error (not what it merely warns about).
    pub fn parse(input: &str) -> Result<Version, ParseError> {
        let s = c_str(input);
        let bytes = s.as_bytes();
        let start = bytes.iter().position(|&b| !is_blank(b)).unwrap_or(bytes.len());
        let rest = bytes.get(start..).unwrap_or_default();
        if rest.is_empty() {
            return Err(err(input, "version string is empty"));
        }
        let len = rest.iter().position(|&b| is_blank(b)).unwrap_or(rest.len());
        if rest.get(len..).unwrap_or_default().iter().any(|&b| !is_blank(b)) {
            return Err(err(input, "version string has embedded spaces"));
        }
        // Blanks are ASCII, so these byte offsets fall on character boundaries.
        let text = s.get(start..start + len).unwrap_or_default();

        let (epoch, rest) = match text.find(':') {
            Some(colon) => {
                let epoch = parse_epoch(input, text.as_bytes().get(..colon).unwrap_or_default())?;
                let after = text.get(colon + 1..).unwrap_or_default();
                if after.is_empty() {
                    return Err(err(input, "nothing after colon in version number"));
                }
                (epoch, after)
            }
            None => (0, text),
        };
        let (upstream, revision) = match rest.rfind('-') {
            Some(hyphen) => {
                let revision = rest.get(hyphen + 1..).unwrap_or_default();
                if revision.is_empty() {
                    return Err(err(input, "revision number is empty"));
                }
                (rest.get(..hyphen).unwrap_or_default(), revision)
            }
            None => (rest, ""),
        };
        if upstream.is_empty() {
            return Err(err(input, "version number is empty"));
        }
        Ok(Version { epoch, upstream: upstream.to_owned(), revision: revision.to_owned() })
    }

    /// The epoch (0 when absent).
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// The upstream version: everything between the epoch and the last hyphen.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// The Debian revision after the last hyphen (empty when absent).
    pub fn revision(&self) -> &str {
        &self.revision
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| verrevcmp(self.upstream.as_bytes(), other.upstream.as_bytes()))
            .then_with(|| verrevcmp(self.revision.as_bytes(), other.revision.as_bytes()))
    }
}

crate::order_by_cmp!(Version);

/// Compares two Debian versions; an error names the first version dpkg would refuse.
pub fn compare(a: &str, b: &str) -> Result<Ordering, ParseError> {
    Ok(Version::parse(a)?.cmp(&Version::parse(b)?))
}

/// The weight of a non-digit character. dpkg computes it from a signed `char`, so bytes of 0x80 and above weigh
/// their unsigned value: above letters, below other ASCII characters.
fn weight(c: u8) -> i32 {
    if c.is_ascii_digit() || c == 0 {
        0
    } else if c.is_ascii_alphabetic() {
        i32::from(c)
    } else if c == b'~' {
        -1
    } else if c >= 0x80 {
        i32::from(c)
    } else {
        i32::from(c) + 256
    }
}

/// Compares an upstream version or a revision; the end of the string reads as NUL.
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let at = |s: &[u8], i: usize| s.get(i).copied().unwrap_or(0);
    let (mut i, mut j) = (0usize, 0usize);
    while at(a, i) != 0 || at(b, j) != 0 {
        while (at(a, i) != 0 && !at(a, i).is_ascii_digit()) || (at(b, j) != 0 && !at(b, j).is_ascii_digit()) {
            let (wa, wb) = (weight(at(a, i)), weight(at(b, j)));
            if wa != wb {
                return wa.cmp(&wb);
            }
            i += 1;
            j += 1;
        }
        while at(a, i) == b'0' {
            i += 1;
        }
        while at(b, j) == b'0' {
            j += 1;
        }
        let mut first_diff = Ordering::Equal;
        while at(a, i).is_ascii_digit() && at(b, j).is_ascii_digit() {
            if first_diff == Ordering::Equal {
                first_diff = at(a, i).cmp(&at(b, j));
            }
            i += 1;
            j += 1;
        }
        if at(a, i).is_ascii_digit() {
            return Ordering::Greater;
        }
        if at(b, j).is_ascii_digit() {
            return Ordering::Less;
        }
        if first_diff != Ordering::Equal {
            return first_diff;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(a: &str, b: &str) -> Ordering {
        compare(a, b).unwrap()
    }

    #[test]
    fn policy_examples() {
        // The sort order given by Debian policy 5.6.12: ~~, ~~a, ~, the empty part, a.
        let sorted = ["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a"];
        for w in sorted.windows(2) {
            assert_eq!(cmp(w[0], w[1]), Ordering::Less, "{} < {}", w[0], w[1]);
            assert_eq!(cmp(w[1], w[0]), Ordering::Greater, "{} > {}", w[1], w[0]);
        }
        assert_eq!(cmp("1:0.1", "0:9.9"), Ordering::Greater);
        assert_eq!(cmp("1.2-3", "1.2-10"), Ordering::Less);
        assert_eq!(cmp("1.0+b1", "1.0a"), Ordering::Greater);
        assert_eq!(cmp("0:1.0", "1.0"), Ordering::Equal);
        assert_eq!(cmp("  1.0\t", "1.0"), Ordering::Equal);
    }

    #[test]
    fn errors_and_warnings() {
        for bad in
            ["", "  ", "1.0 2", ":1.0", "a:1.0", "1a:1.0", "-1:1.0", "1:", "1.0-", "-1", "3000000000:1", "1.0-a:b"]
        {
            assert!(Version::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        // dpkg only warns about these, and compares them all the same.
        for odd in ["a1.0", "1.0_1", "1:1.0-a:b", "+1:1.0", "\n2:1", "1.0\u{e9}"] {
            assert!(Version::parse(odd).is_ok(), "{odd:?} should be accepted");
        }
        assert_eq!(Version::parse("+1:1.0").unwrap().epoch(), 1);
        assert_eq!(Version::parse("2147483647:1").unwrap().epoch(), MAX_EPOCH);
    }

    #[test]
    fn high_bytes_sort_between_letters_and_punctuation() {
        assert_eq!(cmp("1.0z", "1.0\u{e9}"), Ordering::Less);
        assert_eq!(cmp("1.0\u{e9}", "1.0+"), Ordering::Less);
    }

    #[test]
    fn nul_ends_the_version() {
        assert_eq!(cmp("1.0\0junk", "1.0"), Ordering::Equal);
    }
}
