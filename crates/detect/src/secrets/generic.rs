//! Generic assignments: `password = …`, `DB_PASSWORD=…`, `"api_key": "…"`,
//! `<password>…</password>` in configuration files, `.env` files, histories, ENV values,
//! labels and build steps, with a value that is not a placeholder.
//!
//! The key decides: it must END with a credential word (`password`, `passwd`,
//! `passphrase`, `secret`, `token`, `api_key`, `access_key`, `secret_key`,
//! `private_key`, or `pass`/`pwd` after a separator), so that `password_file`,
//! `PasswordAuthentication` or `bypass` are not keys of credentials. Lines that are
//! comments are skipped: configuration files ship commented-out examples.

use std::sync::LazyLock;

use regex::bytes::{Regex, RegexBuilder};

use super::placeholder::{is_placeholder, unquote};

/// What the key of an assignment names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Password,
    Secret,
}

/// `key = value`, `key: value`, `key := value`, `key => value`, with optional quotes
/// around the key and the value. The key must contain a credential word, which lets the
/// regex engine skip ahead to those words instead of trying every `=` in a file.
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    compile(
        r#"(?m)(?:^|[\s"'{,;(:])(?:export[ \t]+)?["']?([A-Za-z0-9_.\-]{0,48}(?i:pass|pwd|secret|token|key)[A-Za-z0-9_.\-]{0,16})["']?[ \t]*(?::=|=>|=|:)[ \t]*("[^"\r\n]*"|'[^'\r\n]*'|[^\s"'#;,}<]+)"#,
    )
});

/// `<password>value</password>` and the like, in XML configuration.
static XML_ELEMENT: LazyLock<Regex> = LazyLock::new(|| {
    compile(r"<([A-Za-z0-9_.:\-]{0,48}(?i:password|passwd|secret|token))>[ \t]*([^<\s][^<\r\n]{0,200}?)[ \t]*</")
});

fn compile(pattern: &str) -> Regex {
    RegexBuilder::new(pattern)
        .unicode(false)
        .build()
        .unwrap_or_else(|e| panic!("generic secret pattern does not compile: {e}"))
}

const PASSWORD_ENDINGS: &[&str] =
    &["password", "passwd", "passphrase", "_pass", "-pass", ".pass", "_pwd", "-pwd", ".pwd", "_pw"];
const SECRET_ENDINGS: &[&str] = &[
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "accesskey",
    "access_key",
    "access-key",
    "secretkey",
    "secret_key",
    "secret-key",
    "privatekey",
    "private_key",
    "private-key",
];

/// Classifies a key by its ending; `None` when it does not name a credential.
pub fn key_kind(key: &str) -> Option<KeyKind> {
    let k = key.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()).to_ascii_lowercase();
    if k == "pass" || PASSWORD_ENDINGS.iter().any(|e| k.ends_with(e)) {
        Some(KeyKind::Password)
    } else if SECRET_ENDINGS.iter().any(|e| k.ends_with(e)) {
        Some(KeyKind::Secret)
    } else {
        None
    }
}

/// One generic assignment found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub kind: KeyKind,
    pub key: String,
    pub value: String,
    /// Byte range of the value in the scanned text.
    pub start: usize,
    pub end: usize,
    /// Byte offset of the key, for the line number.
    pub key_start: usize,
}

/// Finds the generic assignments in `text` whose value is a real credential. With
/// `skip_comments`, assignments on comment lines are ignored (files); ENV values and
/// build steps have no comments (the classic builder's `#(nop)` marker is not one).
pub fn find(text: &[u8], skip_comments: bool) -> Vec<Assignment> {
    let mut out = Vec::new();
    for re in [&*ASSIGNMENT, &*XML_ELEMENT] {
        for caps in re.captures_iter(text) {
            let (Some(key), Some(value)) = (caps.get(1), caps.get(2)) else { continue };
            if skip_comments && in_comment(text, key.start()) {
                continue;
            }
            let key_text = String::from_utf8_lossy(key.as_bytes());
            let Some(kind) = key_kind(&key_text) else { continue };
            let raw = String::from_utf8_lossy(value.as_bytes());
            let inner = unquote(raw.trim());
            if is_placeholder(inner) {
                continue;
            }
            // The value's own range, without its quotes, so that masking finds it.
            let offset = raw.find(inner).unwrap_or(0);
            let start = value.start() + offset;
            out.push(Assignment {
                kind,
                key: key_text.into_owned(),
                value: inner.to_owned(),
                start,
                end: start + inner.len(),
                key_start: key.start(),
            });
        }
    }
    out
}

/// Whether byte `at` is inside a comment: its line starts with `#`, `;`, `//`, `/*` or
/// `<!--`, or a `#` preceded by a blank comes before it on the line (an inline comment,
/// as in `secret = $x # pass:demo`).
pub fn in_comment(text: &[u8], at: usize) -> bool {
    let head = text.get(..at).unwrap_or(text);
    let line_start = head.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = head.get(line_start..).unwrap_or_default();
    let trimmed = line.trim_ascii_start();
    [&b"#"[..], b";", b"//", b"/*", b"<!--"].iter().any(|p| trimmed.starts_with(p))
        || line.windows(2).any(|w| (w[0] == b' ' || w[0] == b'\t') && w[1] == b'#')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<(String, String)> {
        find(text.as_bytes(), true).into_iter().map(|a| (a.key, a.value)).collect()
    }

    #[test]
    fn keys() {
        assert_eq!(key_kind("DB_PASSWORD"), Some(KeyKind::Password));
        assert_eq!(key_kind("password"), Some(KeyKind::Password));
        assert_eq!(key_kind("redis.pass"), Some(KeyKind::Password));
        assert_eq!(key_kind("client_secret"), Some(KeyKind::Secret));
        assert_eq!(key_kind("_authToken"), Some(KeyKind::Secret));
        assert_eq!(key_kind("PasswordAuthentication"), None);
        assert_eq!(key_kind("password_file"), None);
        assert_eq!(key_kind("bypass"), None);
        assert_eq!(key_kind("PWD"), None);
        assert_eq!(key_kind("public_key"), None);
    }

    #[test]
    fn finds_assignments_in_many_syntaxes() {
        let text = "DB_PASSWORD=Pr0d-Db-2024\nexport API_TOKEN='tok3n-v4lue-123'\n{\"client_secret\": \"s3cr3t-value\"}\n\
                    redis:\n  password: r3d1s-pw\n<password>xml-s3cret</password>\n";
        assert_eq!(
            values(text),
            [
                ("DB_PASSWORD".into(), "Pr0d-Db-2024".into()),
                ("API_TOKEN".into(), "tok3n-v4lue-123".into()),
                ("client_secret".into(), "s3cr3t-value".into()),
                ("password".into(), "r3d1s-pw".into()),
                ("password".into(), "xml-s3cret".into()),
            ]
        );
    }

    #[test]
    fn skips_comments_placeholders_and_non_credential_keys() {
        let text = "# input_password = secret\n; password = hunter22\npassword = ${DB_PASS}\n\
                    PasswordAuthentication yes\npassword_file = /run/secrets/db\ntoken: null\n\
                    password: \"\"\nPermitEmptyPasswords no\nsecret = $x::secret # pass:demo\n";
        assert_eq!(values(text), Vec::<(String, String)>::new());
    }

    #[test]
    fn value_range_points_at_the_value() {
        let text = b"x\npassword = \"hunter22\"\n";
        let a = &find(text, true)[0];
        assert_eq!(&text[a.start..a.end], b"hunter22");
    }
}
