//! Comparison of decimal numbers of any length, kept as their digit strings.
//!
//! Most schemes allow numbers far larger than any machine integer, so numbers are compared by their digits
//! rather than converted: with leading zeros removed, the longer number is the larger, and numbers of equal length
//! compare like their digit strings.

use std::cmp::Ordering;

/// Removes leading ASCII zeros; an all-zero string becomes empty, which compares as zero.
pub(crate) fn trim_zeros(digits: &str) -> &str {
    digits.trim_start_matches('0')
}

/// Compares two strings of ASCII digits by numeric value.
pub(crate) fn cmp_digits(a: &str, b: &str) -> Ordering {
    let (a, b) = (trim_zeros(a), trim_zeros(b));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Whether a string of ASCII digits denotes zero (the empty string counts as zero).
pub(crate) fn is_zero(digits: &str) -> bool {
    trim_zeros(digits).is_empty()
}

/// Whether `s` is a non-empty run of ASCII digits.
pub(crate) fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_by_value() {
        assert_eq!(cmp_digits("9", "10"), Ordering::Less);
        assert_eq!(cmp_digits("007", "7"), Ordering::Equal);
        assert_eq!(cmp_digits("000", ""), Ordering::Equal);
        assert_eq!(cmp_digits("123456789012345678901234567890", "123456789012345678901234567891"), Ordering::Less);
        assert!(is_zero("0000"));
        assert!(!is_zero("0001"));
        assert!(all_digits("0123"));
        assert!(!all_digits(""));
        assert!(!all_digits("1a"));
    }
}
