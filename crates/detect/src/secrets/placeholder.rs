//! Values that stand in for a credential without being one: template variables, empty
//! or null values, documentation placeholders and references to where the real secret
//! lives. Generic rules (`password = …`, credentials in URLs, passwords on command lines)
//! only report values that pass [`is_placeholder`] as `false`.
//!
//! Deliberately NOT placeholders: weak but real passwords such as `changeme`, `admin`,
//! `root`, `toor` or `123456`. An image that ships them has a hard-coded password.

/// Values shorter than this are flags, numbers or single words, not credentials.
pub const MIN_LEN: usize = 4;

/// Whole values (compared without case) that are not credentials.
const WORDS: &[&str] = &[
    "none",
    "null",
    "nil",
    "undefined",
    "true",
    "false",
    "yes",
    "no",
    "on",
    "off",
    "empty",
    "string",
    "str",
    "text",
    "required",
    "optional",
    "hidden",
    "redacted",
    "masked",
    "unset",
    "default",
    "password",
    "passwd",
    "pass",
    "secret",
    "token",
    "prompt",
    "ask",
    "env",
    "file",
    "disabled",
    "enabled",
    "example",
    "sample",
    "placeholder",
    "dummy",
    "todo",
    "fixme",
    "tbd",
    "notset",
    "not_set",
    "your_password",
    "yourpassword",
    "mypassword",
];

/// Pieces that mark a value as a template, placeholder or reference wherever they occur.
const MARKERS: &[&str] = &[
    "${",
    "$(",
    "{{",
    "}}",
    "%(",
    "<%",
    "xxx",
    "***",
    "...",
    "example",
    "sample",
    "placeholder",
    "your_",
    "your-",
    "<your",
    "replace_me",
    "replace-me",
    "getenv",
    "environ",
    "process.env",
    "env(",
    "env[",
    "secretkeyref",
    "valuefrom",
    "vault:",
    "secrets.",
    "secret_from",
];

/// Whether `value` (already stripped of surrounding quotes) is not a real credential.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    if v.chars().count() < MIN_LEN {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    if WORDS.contains(&lower.as_str()) || MARKERS.iter().any(|m| lower.contains(m)) {
        return true;
    }
    // Substitutions, interpolations, templates, YAML tags and block markers, autoconf
    // `@VAR@`, file paths and masks: the secret is elsewhere, or not there at all.
    if v.starts_with(['$', '%', '{', '<', '[', '!', '|', '>', '@', '/', '*', '&', '(']) || v.starts_with("~/") {
        return true;
    }
    if v.starts_with("./") || v.starts_with("file:") || v.ends_with("()") {
        return true;
    }
    // One character repeated (`--------`, `00000000`) fills a field, it does not guard one.
    let mut chars = v.chars();
    let first = chars.next();
    chars.all(|c| Some(c) == first)
}

/// Strips one pair of matching surrounding quotes.
pub fn unquote(value: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_recognised() {
        for v in [
            "",
            "  ",
            "abc",
            "${DB_PASSWORD}",
            "$DB_PASSWORD",
            "$(cat /run/secrets/db)",
            "{{ vault_db }}",
            "<password>",
            "<your-password>",
            "xxxxxxxx",
            "XXX-XXX",
            "********",
            "None",
            "null",
            "true",
            "example",
            "my-example-pass",
            "%(pass)s",
            "/run/secrets/db",
            "~/.secret",
            "os.getenv('X')",
            "!vault",
            "|",
            "@DB_PASS@",
            "password",
            "........",
        ] {
            assert!(is_placeholder(v), "{v:?} should be a placeholder");
        }
    }

    #[test]
    fn weak_real_passwords_are_not_placeholders() {
        for v in ["changeme", "admin123", "toor", "123456", "S3cr3t!Pass", "hunter22"] {
            assert!(!is_placeholder(v), "{v:?} should be reported");
        }
    }

    #[test]
    fn quotes() {
        assert_eq!(unquote("\"a b\""), "a b");
        assert_eq!(unquote("'x'"), "x");
        assert_eq!(unquote("\"x'"), "\"x'");
        assert_eq!(unquote("\""), "\"");
    }
}
