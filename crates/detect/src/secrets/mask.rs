//! Masking: a finding shows enough of a secret to recognise it, never the whole of it.

/// The mask that replaces the hidden part of a secret. Always the same four characters,
/// so that the mask does not reveal the secret's length.
pub const MASK: &str = "****";

/// Masks one secret value.
///
/// Long values (tokens, keys: 20 characters or more) keep their first and last four
/// characters, which is what people compare against a key list (`AKIA****WXYZ`); the
/// known prefix of a token format is not secret. Values of 12 to 19 characters keep their
/// first two; shorter values (typical passwords) keep nothing, since even two characters
/// of an eight-character password narrow a search.
pub fn mask(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let n = chars.len();
    if n >= 20 {
        let head: String = chars.iter().take(4).collect();
        let tail: String = chars.iter().skip(n - 4).collect();
        format!("{head}{MASK}{tail}")
    } else if n >= 12 {
        let head: String = chars.iter().take(2).collect();
        format!("{head}{MASK}")
    } else {
        MASK.to_owned()
    }
}

/// Masks `secret` inside `context` (the matched text around it): the context stays as it
/// is, every occurrence of the secret becomes its mask. Long contexts are cut so that a
/// finding stays one short line.
pub fn mask_in(context: &str, secret: &str) -> String {
    let masked = if secret.is_empty() { context.to_owned() } else { context.replace(secret, &mask(secret)) };
    shorten(&masked, 120)
}

/// Cuts `text` to at most `max` characters, marking the cut with `…`, and replaces
/// control characters so that a finding never spans several lines.
pub fn shorten(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max + 3));
    for (i, c) in text.chars().enumerate() {
        if i >= max {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_keep_both_ends() {
        assert_eq!(mask("AKIAZ7Q3LFAKEK3YWXYZ"), "AKIA****WXYZ");
    }

    #[test]
    fn short_values_reveal_little_or_nothing() {
        assert_eq!(mask("S3cretPassw0"), "S3****");
        assert_eq!(mask("changeme"), "****");
        assert_eq!(mask(""), "****");
    }

    #[test]
    fn masking_in_context_never_leaves_the_secret() {
        let secret = "hunter2hunter2hunter2";
        let shown = mask_in("DB_PASSWORD=hunter2hunter2hunter2", secret);
        assert!(!shown.contains(secret));
        assert_eq!(shown, "DB_PASSWORD=hunt****ter2");
    }

    #[test]
    fn multibyte_values_are_cut_on_character_boundaries() {
        assert_eq!(mask("äöüäöüäöüäöüäöüäöüäöüä"), "äöüä****äöüä");
        assert_eq!(shorten("a\nb", 10), "a b");
        assert_eq!(shorten("éééé", 2), "éé…");
    }
}
