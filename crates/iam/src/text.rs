//! Text functions for error messages: they echo user input, so they bound its length.

/// The longest piece of user input an error message repeats, in characters.
const MAX_ECHO_CHARS: usize = 80;

/// `text` cut to [`MAX_ECHO_CHARS`] characters, with `…` when something was cut, so that an error about a huge
/// value stays readable.
pub(crate) fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_ECHO_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// The Levenshtein distance between two ASCII-case-folded strings, counted in bytes. Used to suggest the action a
/// typo meant; the inputs are short (the caller only compares valid action patterns with action names).
pub(crate) fn edit_distance_ignore_case(a: &str, b: &str) -> usize {
    let a = a.as_bytes();
    let b = b.as_bytes();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, &x) in a.iter().enumerate() {
        current[0] = i + 1;
        for (j, &y) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(!x.eq_ignore_ascii_case(&y));
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_cuts_on_character_boundaries() {
        assert_eq!(shorten("cgs:cluster:list"), "cgs:cluster:list");
        let long = "é".repeat(100);
        let short = shorten(&long);
        assert_eq!(short.chars().count(), MAX_ECHO_CHARS + 1);
        assert!(short.ends_with('…'));
    }

    #[test]
    fn edit_distance_counts_insertions_deletions_and_substitutions() {
        assert_eq!(edit_distance_ignore_case("cgs:cluster:lst", "cgs:cluster:list"), 1);
        assert_eq!(edit_distance_ignore_case("CGS:CLUSTER:LIST", "cgs:cluster:list"), 0);
        assert_eq!(edit_distance_ignore_case("cgs:image:list", "cgs:images:list"), 1);
        assert_eq!(edit_distance_ignore_case("", "abc"), 3);
        assert_eq!(edit_distance_ignore_case("kitten", "sitting"), 3);
    }
}
