//! The secret rules: public token formats as regular expressions, each with the capture
//! group that holds the secret and, where the format allows it, a check that confirms a
//! match (a decodable Docker `auth`, a JWT header naming a signing algorithm). Every rule
//! is described with an example in docs/secrets.md.
//!
//! Rules run in table order; a later match whose secret overlaps an earlier one is
//! dropped, so the specific formats listed first win over the generic ones at the end
//! (the service-account JSON rule precedes the PEM rule that its escaped key also matches).

use std::sync::LazyLock;

use base64::Engine as _;
use regex::bytes::{Captures, Regex, RegexBuilder};

use super::Severity;
use super::placeholder::{is_placeholder, unquote};

/// Where a rule applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every scanned text: files of every kind, ENV values, labels, build steps.
    Everywhere,
    /// Configuration and credential files, histories, ENV values, labels and build
    /// steps: where `key = value` means a setting.
    Assignments,
    /// Shell histories and build steps: where text is a command line.
    Commands,
    /// Only files with one of these names.
    Named(&'static [&'static str]),
}

/// One rule as written in the table.
pub struct RuleDef {
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub scope: Scope,
    pub pattern: &'static str,
    /// Capture group holding the secret (it is masked in findings).
    pub group: usize,
    /// Confirms a match; `None` accepts every match.
    pub confirm: Option<fn(&Captures<'_>) -> bool>,
}

/// A rule ready to run.
pub struct Rule {
    pub def: &'static RuleDef,
    pub regex: Regex,
}

/// A value in quotes or a run of characters that ends a shell word.
macro_rules! shell_word {
    () => {
        r#"("[^"\r\n]+"|'[^'\r\n]+'|[^\s;|&'"`]+)"#
    };
}

/// The rule table. Patterns are compiled as byte regexes without Unicode: `\s`, `\b`
/// and classes are ASCII, and non-UTF-8 files are scanned as they are.
pub static DEFS: &[RuleDef] = &[
    RuleDef {
        id: "gcp-service-account-key",
        title: "Google Cloud service-account key",
        severity: Severity::Critical,
        scope: Scope::Everywhere,
        pattern: r#""private_key"\s*:\s*"-----BEGIN PRIVATE KEY-----\\n([A-Za-z0-9+/=]{40,})"#,
        group: 1,
        confirm: None,
    },
    RuleDef {
        id: "private-key",
        title: "Private key",
        severity: Severity::High,
        scope: Scope::Everywhere,
        // The armour line, optional RFC 1421/4880 header lines, then base64: a PEM header
        // alone (in a parser's source code, say) is not a key.
        pattern: r"-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?)-----(?:\r?\n|\\n)(?:[A-Za-z-]+: [^\r\n\\]*(?:\r?\n|\\n))*(?:\r?\n|\\n)?([A-Za-z0-9+/=]{40,})",
        group: 2,
        confirm: None,
    },
    RuleDef {
        id: "aws-access-key-id",
        title: "AWS access key ID",
        severity: Severity::Medium,
        scope: Scope::Everywhere,
        pattern: r"\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",
        group: 1,
        confirm: Some(not_documentation_example),
    },
    RuleDef {
        id: "aws-secret-access-key",
        title: "AWS secret access key",
        severity: Severity::Critical,
        scope: Scope::Everywhere,
        pattern: r#"(?i:aws_?secret_?(?:access_?)?key)["']?\s*(?::|=>|=)\s*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        group: 1,
        confirm: Some(random_looking),
    },
    RuleDef {
        id: "azure-storage-key",
        title: "Azure storage account key in a connection string",
        severity: Severity::Critical,
        scope: Scope::Everywhere,
        pattern: r"AccountName=[a-z0-9]{3,24};AccountKey=([A-Za-z0-9+/]{86}==)",
        group: 1,
        confirm: None,
    },
    RuleDef {
        id: "github-token",
        title: "GitHub token",
        severity: Severity::High,
        scope: Scope::Everywhere,
        pattern: r"\b(gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
        group: 1,
        confirm: None,
    },
    RuleDef {
        id: "gitlab-token",
        title: "GitLab personal access token",
        severity: Severity::High,
        scope: Scope::Everywhere,
        pattern: r"\b(glpat-[A-Za-z0-9_\-]{20,64})(?:[^A-Za-z0-9_\-]|$)",
        group: 1,
        confirm: None,
    },
    RuleDef {
        id: "slack-token",
        title: "Slack token",
        severity: Severity::High,
        scope: Scope::Everywhere,
        pattern: r"\b(xox[baprs]-[0-9]{6,15}-[0-9A-Za-z]{6,}(?:-[0-9A-Za-z]{6,}){0,3})\b",
        group: 1,
        confirm: None,
    },
    RuleDef {
        id: "slack-webhook",
        title: "Slack incoming-webhook URL",
        severity: Severity::Medium,
        scope: Scope::Everywhere,
        pattern: r"https://hooks\.slack\.com/services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/([A-Za-z0-9]{20,32})\b",
        group: 1,
        confirm: None,
    },
    RuleDef {
        id: "stripe-live-key",
        title: "Stripe live secret or restricted key",
        severity: Severity::Critical,
        scope: Scope::Everywhere,
        pattern: r"\b([rs]k_live_[0-9A-Za-z]{24,99})\b",
        group: 1,
        confirm: None,
    },
    RuleDef {
        id: "google-api-key",
        title: "Google API key",
        severity: Severity::Medium,
        scope: Scope::Everywhere,
        pattern: r"\b(AIza[0-9A-Za-z_\-]{35})(?:[^0-9A-Za-z_\-]|$)",
        group: 1,
        confirm: None,
    },
    RuleDef {
        id: "npm-token",
        title: "npm access token",
        severity: Severity::High,
        scope: Scope::Everywhere,
        pattern: r"\b(npm_[A-Za-z0-9]{36})\b",
        group: 1,
        confirm: None,
    },
    RuleDef {
        id: "pypi-token",
        title: "PyPI API token",
        severity: Severity::High,
        scope: Scope::Everywhere,
        pattern: r"\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,})",
        group: 1,
        confirm: None,
    },
    RuleDef {
        id: "docker-config-auth",
        title: "Registry credentials in a Docker config `auth` value",
        severity: Severity::High,
        scope: Scope::Everywhere,
        pattern: r#""auth"\s*:\s*"([A-Za-z0-9+/]{6,}={0,2})""#,
        group: 1,
        confirm: Some(docker_auth_decodes),
    },
    RuleDef {
        id: "jwt",
        title: "Signed JSON Web Token",
        severity: Severity::Medium,
        scope: Scope::Everywhere,
        pattern: r"\b(eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{16,})",
        group: 1,
        confirm: Some(jwt_is_signed),
    },
    RuleDef {
        id: "netrc-password",
        title: "Password in a .netrc file",
        severity: Severity::High,
        scope: Scope::Named(&[".netrc", "_netrc"]),
        pattern: r"\bpassword[ \t]+(\S+)",
        group: 1,
        confirm: Some(group_not_placeholder),
    },
    RuleDef {
        id: "pgpass-password",
        title: "Password in a .pgpass file",
        severity: Severity::High,
        scope: Scope::Named(&[".pgpass"]),
        pattern: r"(?m)^[^:#\r\n]*:[^:\r\n]*:[^:\r\n]*:[^:\r\n]*:([^\r\n]+)$",
        group: 1,
        confirm: Some(group_not_placeholder),
    },
    RuleDef {
        id: "cli-password",
        title: "Password on a database client command line",
        severity: Severity::Medium,
        scope: Scope::Commands,
        // mysql and mariadb take the password glued to `-p`; `-p VALUE` would prompt.
        pattern: concat!(
            r"\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mariadb|mariadb-dump)\b[^\r\n;|&]*?[ \t](?:-p|--password=)",
            shell_word!()
        ),
        group: 1,
        confirm: Some(group_not_placeholder),
    },
    RuleDef {
        id: "cli-password",
        title: "Password on an sshpass command line",
        severity: Severity::Medium,
        scope: Scope::Commands,
        pattern: concat!(r"\bsshpass[ \t]+-p[ \t]*", shell_word!()),
        group: 1,
        confirm: Some(group_not_placeholder),
    },
    RuleDef {
        id: "cli-password",
        title: "Credentials on a curl command line",
        severity: Severity::Medium,
        scope: Scope::Commands,
        pattern: r#"\bcurl\b[^\r\n;|&]*?[ \t](?:-u|--user)[ \t=]*["']?[^\s:"';|&]+:([^\s"';|&@]+)"#,
        group: 1,
        confirm: Some(group_not_placeholder),
    },
    RuleDef {
        id: "cli-password",
        title: "Password on a registry login command line",
        severity: Severity::Medium,
        scope: Scope::Commands,
        pattern: concat!(
            r"\b(?:docker|podman|buildah|skopeo|helm|nerdctl)\b[^\r\n;|&]*?\blogin\b[^\r\n;|&]*?[ \t](?:-p|--password)(?:[ \t]+|=)",
            shell_word!()
        ),
        group: 1,
        confirm: Some(group_not_placeholder),
    },
    RuleDef {
        id: "cli-password",
        title: "Password set with chpasswd",
        severity: Severity::Medium,
        scope: Scope::Commands,
        pattern: r#"\becho[ \t]+(?:-e[ \t]+)?["']?[A-Za-z0-9_.\-]+:([^\s"':]+)["']?[ \t]*\|[ \t]*(?:sudo[ \t]+)?chpasswd\b"#,
        group: 1,
        confirm: Some(group_not_placeholder),
    },
    RuleDef {
        id: "cli-password",
        title: "Password on an htpasswd, redis-cli or openssl command line",
        severity: Severity::Medium,
        scope: Scope::Commands,
        pattern: concat!(
            r"(?:\bhtpasswd[ \t]+-[A-Za-z]*b[A-Za-z]*[ \t]+(?:-[A-Za-z]+[ \t]+)*[^\s;|&]+[ \t]+[^\s;|&]+[ \t]+",
            r"|\bredis-cli\b[^\r\n;|&]*?[ \t]-a[ \t]+",
            r"|[ \t]-pass(?:in|out)?[ \t]+pass:)",
            shell_word!()
        ),
        group: 1,
        confirm: Some(group_not_placeholder),
    },
    RuleDef {
        id: "url-credentials",
        title: "Credentials in a URL",
        severity: Severity::High,
        scope: Scope::Everywhere,
        pattern: r#"\b[A-Za-z][A-Za-z0-9+.\-]{1,15}://([^\s:/@"'<>\\]{1,64}):([^\s/@"'<>\\]{1,128})@([A-Za-z0-9][A-Za-z0-9.\-_]*)"#,
        group: 2,
        confirm: Some(url_credentials_real),
    },
];

/// The compiled table.
pub static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    DEFS.iter()
        .map(|def| Rule {
            def,
            regex: RegexBuilder::new(def.pattern)
                .unicode(false)
                .size_limit(16 << 20)
                .build()
                .unwrap_or_else(|e| panic!("secret rule {} does not compile: {e}", def.id)),
        })
        .collect()
});

/// The documented example keys of AWS end in `EXAMPLE`; they are in every tutorial.
fn not_documentation_example(caps: &Captures<'_>) -> bool {
    caps.get(1).is_some_and(|m| !m.as_bytes().ends_with(b"EXAMPLE"))
}

/// A real AWS secret key is 40 random base64 characters: it mixes upper case, lower case
/// and digits, and is not a documentation example.
fn random_looking(caps: &Captures<'_>) -> bool {
    let Some(m) = caps.get(1) else { return false };
    let s = m.as_bytes();
    s.iter().any(u8::is_ascii_uppercase)
        && s.iter().any(u8::is_ascii_lowercase)
        && s.iter().any(u8::is_ascii_digit)
        && !s.windows(7).any(|w| w.eq_ignore_ascii_case(b"EXAMPLE"))
}

/// A Docker config `auth` value is base64 of `user:password`; anything else that happens
/// to sit in an `auth` field is not a registry credential.
fn docker_auth_decodes(caps: &Captures<'_>) -> bool {
    let Some(m) = caps.get(1) else { return false };
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let Ok(decoded) = engine.decode(m.as_bytes()) else { return false };
    let Ok(text) = std::str::from_utf8(&decoded) else { return false };
    match text.split_once(':') {
        Some((user, pass)) => {
            !user.is_empty() && !pass.is_empty() && !text.chars().any(char::is_control) && !is_placeholder(pass)
        }
        None => false,
    }
}

/// A JWT worth reporting has a header that decodes to a JSON object naming a signing
/// algorithm other than `none` (unsigned tokens grant nothing).
fn jwt_is_signed(caps: &Captures<'_>) -> bool {
    let Some(m) = caps.get(1) else { return false };
    let Some(header) = m.as_bytes().split(|&b| b == b'.').next() else { return false };
    let Ok(json) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header) else { return false };
    let Ok(serde_json::Value::Object(obj)) = serde_json::from_slice::<serde_json::Value>(&json) else { return false };
    obj.get("alg").and_then(|a| a.as_str()).is_some_and(|alg| !alg.eq_ignore_ascii_case("none"))
}

/// The captured secret is a real value, not a placeholder.
fn group_not_placeholder(caps: &Captures<'_>) -> bool {
    caps.get(1).is_some_and(|m| !is_placeholder(unquote(&String::from_utf8_lossy(m.as_bytes()))))
}

/// Hosts of documentation examples (RFC 2606 names and generic words).
const EXAMPLE_HOSTS: &[&str] = &["example.com", "example.org", "example.net", "example", "host", "hostname", "server"];

/// A URL's password is reported unless it, the user or the host is a placeholder
/// (`user:password@host`, `${USER}:${PASS}@…`, `…@example.com`).
fn url_credentials_real(caps: &Captures<'_>) -> bool {
    let text = |i: usize| caps.get(i).map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned()).unwrap_or_default();
    let (user, pass, host) = (text(1), text(2), text(3));
    let host = host.to_ascii_lowercase();
    let example_host = EXAMPLE_HOSTS.iter().any(|h| host == *h || host.ends_with(&format!(".{h}")));
    !example_host && !is_placeholder(&pass) && !user.starts_with('$') && !user.contains("${") && user != "%s"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_compiles() {
        assert_eq!(RULES.len(), DEFS.len());
    }
}
