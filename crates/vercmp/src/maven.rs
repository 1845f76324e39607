//! Maven versions, ordered as Maven's `ComparableVersion` (maven-artifact 3.8) orders them.
//!
//! The version is lower-cased and cut into items at `.` and `-` and wherever digits meet non-digits. A `-`, a
//! switch from digits to a word, and a word that is followed by digits or ends the version open a nested list,
//! so `1-1` is `[1, [1]]` and `1rc1` is `[1, [rc, [1]]]`. Numbers compare as numbers. Words compare as
//! qualifiers: `alpha` (or `a` right before a digit) < `beta` (`b`) < `milestone` (`m`) < `rc` = `cr` <
//! `snapshot` < the release (empty, `ga`, `final`, `release`) < `sp` < any other word, other words in
//! alphabetical order. At each position a number beats a nested list, which beats a word; a missing item
//! compares as if it were zero or the release, and a nested list against a missing item is decided by the first
//! of its items that is neither. Trailing zeros and release qualifiers are dropped, so `1.0.0` = `1` = `1-ga`.
//!
//! Maven's order is not transitive where a word and a nested list meet at the same position: `5.sp-1` <
//! `5-alpha` < `5` < `5.sp-1` is a cycle, and so is `1-ga-alpha` < `1` < `1.alphaalpha` < `1-ga-alpha`. This
//! module gives Maven's answers there too, so sorting such versions has no single right result.
//!
//! Maven compares any string, so these functions never fail. One known difference: Java also treats non-ASCII
//! decimal digits (for example Arabic-Indic ones) as digits, which this module treats as letters.
//!
//! ```
//! use std::cmp::Ordering;
//! use vercmp::maven::compare;
//!
//! assert_eq!(compare("1.0-alpha-1", "1.0-beta"), Ordering::Less);
//! assert_eq!(compare("1.0-rc1", "1.0-SNAPSHOT"), Ordering::Less);
//! assert_eq!(compare("1.0-SNAPSHOT", "1.0"), Ordering::Less);
//! assert_eq!(compare("1.0", "1.0-sp1"), Ordering::Less);
//! assert_eq!(compare("1.0.Final", "1"), Ordering::Equal);
//! assert_eq!(compare("1-1", "1.1"), Ordering::Less);
//! ```

use std::cmp::Ordering;

use crate::num::cmp_digits;

/// Qualifiers with a fixed place, in order; the empty qualifier is the release.
const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];

/// The place of the release qualifier in [`QUALIFIERS`].
const RELEASE: u8 = 5;

/// A word item, ranked as `ComparableVersion.StringItem` ranks it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Qualifier {
    /// One of [`QUALIFIERS`], by index.
    Known(u8),
    /// Any other word, kept as UTF-16 code units because Java compares strings by them.
    Other(Vec<u16>),
}

impl Qualifier {
    fn new(word: &str, followed_by_digit: bool) -> Qualifier {
        let word = match word {
            "a" if followed_by_digit => "alpha",
            "b" if followed_by_digit => "beta",
            "m" if followed_by_digit => "milestone",
            "ga" | "final" | "release" => "",
            "cr" => "rc",
            other => other,
        };
        match QUALIFIERS.iter().position(|q| *q == word) {
            Some(i) => Qualifier::Known(u8::try_from(i).unwrap_or(u8::MAX)),
            None => Qualifier::Other(word.encode_utf16().collect()),
        }
    }
}

impl Ord for Qualifier {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Qualifier::Known(a), Qualifier::Known(b)) => a.cmp(b),
            (Qualifier::Known(_), Qualifier::Other(_)) => Ordering::Less,
            (Qualifier::Other(_), Qualifier::Known(_)) => Ordering::Greater,
            (Qualifier::Other(a), Qualifier::Other(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Qualifier {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One item of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// A number. `width` is Java's storage class (0 = int, 1 = long, 2 = BigInteger), chosen by the digit count
    /// after stripping leading zeros, and numbers of a wider class always compare greater. `digits` has no
    /// leading zeros.
    Number { width: u8, digits: String },
    /// A word.
    Word(Qualifier),
}

impl Item {
    fn number(digits: &str) -> Item {
        // Java strips leading zeros but leaves an all-zero string whole, and picks the class by that length.
        let stripped = digits.trim_start_matches('0');
        let class_len = if stripped.is_empty() { digits.len() } else { stripped.len() };
        let width = match class_len {
            0..=9 => 0,
            10..=18 => 1,
            _ => 2,
        };
        Item::Number { width, digits: stripped.to_owned() }
    }

    /// Whether normalisation drops this item when it is trailing: zero and the release qualifier.
    fn is_null(&self) -> bool {
        match self {
            Item::Number { digits, .. } => digits.is_empty(),
            Item::Word(q) => *q == Qualifier::Known(RELEASE),
        }
    }

    /// This item against a missing one.
    fn cmp_missing(&self) -> Ordering {
        match self {
            Item::Number { digits, .. } if digits.is_empty() => Ordering::Equal,
            Item::Number { .. } => Ordering::Greater,
            Item::Word(q) => q.cmp(&Qualifier::Known(RELEASE)),
        }
    }

    /// This item against a nested list: numbers are greater, words smaller.
    fn cmp_list(&self) -> Ordering {
        match self {
            Item::Number { .. } => Ordering::Greater,
            Item::Word(_) => Ordering::Less,
        }
    }
}

impl Ord for Item {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Item::Number { width: wa, digits: a }, Item::Number { width: wb, digits: b }) => {
                wa.cmp(wb).then_with(|| cmp_digits(a, b))
            }
            (Item::Number { .. }, Item::Word(_)) => Ordering::Greater,
            (Item::Word(_), Item::Number { .. }) => Ordering::Less,
            (Item::Word(a), Item::Word(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A parsed Maven version.
///
/// A nested list is always the last element of its parent, so the nesting is a chain: `chain[0]` holds the
/// items of the outer list, `chain[1]` those of the list nested at its end, and so on. Keeping the chain flat
/// lets comparison walk it in a loop, with no recursion however deep the nesting.
#[derive(Debug, Clone)]
pub struct Version {
    chain: Vec<Vec<Item>>,
}

fn parse_item(is_digit: bool, buf: &str) -> Item {
    if is_digit { Item::number(buf) } else { Item::Word(Qualifier::new(buf, false)) }
}

impl Version {
    /// Parses a version; never fails.
    pub fn parse(input: &str) -> Version {
        let lower: Vec<char> = input.to_lowercase().chars().collect();
        let text = |from: usize, to: usize| -> String { lower.get(from..to).unwrap_or_default().iter().collect() };
        let mut chain: Vec<Vec<Item>> = vec![Vec::new()];
        let push = |chain: &mut Vec<Vec<Item>>, item: Item| {
            if let Some(list) = chain.last_mut() {
                list.push(item);
            }
        };
        let (mut is_digit, mut start) = (false, 0usize);
        for (i, &c) in lower.iter().enumerate() {
            if c == '.' || c == '-' {
                let item = if i == start { Item::number("0") } else { parse_item(is_digit, &text(start, i)) };
                push(&mut chain, item);
                is_digit = false;
                start = i + 1;
                if c == '-' {
                    chain.push(Vec::new());
                }
            } else if c.is_ascii_digit() {
                if !is_digit && i > start {
                    // A word before digits goes into a list of its own (opened only if the current one already
                    // holds something), and the digits into the next one.
                    if chain.last().is_some_and(|list| !list.is_empty()) {
                        chain.push(Vec::new());
                    }
                    push(&mut chain, Item::Word(Qualifier::new(&text(start, i), true)));
                    start = i;
                    chain.push(Vec::new());
                }
                is_digit = true;
            } else {
                if is_digit && i > start {
                    push(&mut chain, Item::number(&text(start, i)));
                    start = i;
                    chain.push(Vec::new());
                }
                is_digit = false;
            }
        }
        if lower.len() > start {
            // A final word also goes into a list of its own.
            if !is_digit && chain.last().is_some_and(|list| !list.is_empty()) {
                chain.push(Vec::new());
            }
            push(&mut chain, parse_item(is_digit, &text(start, lower.len())));
        }
        // Normalise from the innermost list outwards: drop an emptied nested list, then trailing null items.
        for depth in (0..chain.len()).rev() {
            if chain.len() == depth + 2 && chain.last().is_some_and(Vec::is_empty) {
                chain.truncate(depth + 1);
            }
            if let Some(list) = chain.get_mut(depth) {
                while list.last().is_some_and(Item::is_null) {
                    list.pop();
                }
            }
        }
        Version { chain }
    }
}

/// An element of a list: one of its items, or the nested list at its end.
enum Element<'a> {
    Item(&'a Item),
    Nested,
}

fn element(chain: &[Vec<Item>], pos: usize) -> Option<Element<'_>> {
    let items = chain.first()?;
    match items.get(pos) {
        Some(item) => Some(Element::Item(item)),
        None if pos == items.len() && chain.len() > 1 => Some(Element::Nested),
        None => None,
    }
}

fn element_count(chain: &[Vec<Item>]) -> usize {
    chain.first().map_or(0, Vec::len) + usize::from(chain.len() > 1)
}

/// A (nested) list against a missing item: the first of its items, nested ones included, that differs from a
/// missing item decides.
fn list_cmp_missing(chain: &[Vec<Item>]) -> Ordering {
    chain.iter().flatten().map(Item::cmp_missing).find(|o| *o != Ordering::Equal).unwrap_or(Ordering::Equal)
}

fn cmp_chains(mut a: &[Vec<Item>], mut b: &[Vec<Item>]) -> Ordering {
    'lists: loop {
        for pos in 0..element_count(a).max(element_count(b)) {
            let order = match (element(a, pos), element(b, pos)) {
                (Some(Element::Nested), Some(Element::Nested)) => {
                    // Nested lists only ever come last, so comparing them settles this level.
                    a = a.get(1..).unwrap_or_default();
                    b = b.get(1..).unwrap_or_default();
                    continue 'lists;
                }
                (Some(Element::Item(x)), Some(Element::Item(y))) => x.cmp(y),
                (Some(Element::Item(x)), Some(Element::Nested)) => x.cmp_list(),
                (Some(Element::Nested), Some(Element::Item(y))) => y.cmp_list().reverse(),
                (Some(Element::Item(x)), None) => x.cmp_missing(),
                (None, Some(Element::Item(y))) => y.cmp_missing().reverse(),
                (Some(Element::Nested), None) => list_cmp_missing(a.get(1..).unwrap_or_default()),
                (None, Some(Element::Nested)) => list_cmp_missing(b.get(1..).unwrap_or_default()).reverse(),
                (None, None) => Ordering::Equal,
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        return Ordering::Equal;
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_chains(&self.chain, &other.chain)
    }
}

crate::order_by_cmp!(Version);

/// Compares two Maven versions; never fails.
pub fn compare(a: &str, b: &str) -> Ordering {
    Version::parse(a).cmp(&Version::parse(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifier_order() {
        let sorted = [
            "1-alpha",
            "1-a1",
            "1-beta",
            "1-milestone",
            "1-rc",
            "1-snapshot",
            "1",
            "1-sp",
            "1-abc",
            "1-xyz",
            "1-1",
            "1.1",
        ];
        for w in sorted.windows(2) {
            assert_eq!(compare(w[0], w[1]), Ordering::Less, "{} < {}", w[0], w[1]);
            assert_eq!(compare(w[1], w[0]), Ordering::Greater, "{} > {}", w[1], w[0]);
        }
        for (a, b) in [("1.0.0", "1"), ("1-ga", "1"), ("1-cr1", "1-rc1"), ("1.0-final", "1"), ("1-0.0", "1")] {
            assert_eq!(compare(a, b), Ordering::Equal, "{a} = {b}");
        }
        // A nested list against nothing is decided by the first of its items that is not zero or the release.
        assert_eq!(compare("1-0.a", "1"), Ordering::Greater);
        assert_eq!(compare("16.0-ga.5", "16.0"), Ordering::Greater);
    }

    #[test]
    fn number_classes() {
        // An all-zero run keeps its length when Java picks the number's class, so twenty zeros beat one when
        // they are not dropped as a trailing zero.
        assert_eq!(compare(&format!("{}.1", "0".repeat(20)), "1"), Ordering::Greater);
        assert_eq!(compare(&"0".repeat(20), "1"), Ordering::Less);
        assert_eq!(compare("9999999999", "999999999"), Ordering::Greater);
    }

    #[test]
    fn reproduces_mavens_cycles() {
        for cycle in [["5.sp-1", "5-alpha", "5"], ["1-ga-alpha", "1", "1.alphaalpha"]] {
            for i in 0..3 {
                let (a, b) = (cycle[i], cycle[(i + 1) % 3]);
                assert_eq!(compare(a, b), Ordering::Less, "{a} < {b}");
            }
        }
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let deep = "a1".repeat(100_000);
        assert_eq!(compare(&deep, &deep), Ordering::Equal);
        assert_eq!(compare(&deep, "1"), Ordering::Less);
    }
}
