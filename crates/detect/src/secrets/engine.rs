//! Running the rules over one text: which rules apply to what is scanned, overlap
//! between matches, masking and line numbers.

use super::select::FileKind;
use super::{Severity, generic, mask, placeholder, rules};

/// What is being scanned, which decides the rules that apply.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    File {
        kind: FileKind,
        name: &'a str,
    },
    /// An ENV entry or a label.
    ConfigValue,
    /// A `created_by` command of the history.
    BuildStep,
}

impl Target<'_> {
    fn is_file(&self) -> bool {
        matches!(self, Target::File { .. })
    }

    fn allows(&self, scope: rules::Scope) -> bool {
        use rules::Scope;
        match (scope, self) {
            (Scope::Everywhere, _) => true,
            (Scope::Assignments, Target::File { kind, .. }) => *kind != FileKind::Text,
            (Scope::Assignments, _) => true,
            (Scope::Commands, Target::File { kind, .. }) => *kind == FileKind::History,
            (Scope::Commands, Target::BuildStep) => true,
            (Scope::Commands, Target::ConfigValue) => false,
            (Scope::Named(names), Target::File { name, .. }) => names.contains(name),
            (Scope::Named(_), _) => false,
        }
    }
}

/// One match before it is tied to a file or config entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub rule_id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    pub line: u32,
    pub masked: String,
}

/// Runs every rule that applies to `target` over `text`. A match whose secret overlaps
/// the secret of an earlier match is dropped: the specific rule first in the table wins.
pub fn scan_text(text: &[u8], target: Target<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    let mut taken: Vec<(usize, usize)> = Vec::new();
    let overlaps = |taken: &[(usize, usize)], s: usize, e: usize| taken.iter().any(|&(ts, te)| s < te && ts < e);
    for rule in rules::RULES.iter() {
        if !target.allows(rule.def.scope) {
            continue;
        }
        for caps in rule.regex.captures_iter(text) {
            let (Some(whole), Some(secret)) = (caps.get(0), caps.get(rule.def.group)) else { continue };
            if overlaps(&taken, secret.start(), secret.end()) {
                continue;
            }
            if rule.def.confirm.is_some_and(|confirm| !confirm(&caps)) {
                continue;
            }
            // Comment lines of configuration hold examples; only the exact token formats
            // (which examples do not use) are reported there.
            if rule.def.id == "url-credentials" && target.is_file() && generic::in_comment(text, whole.start()) {
                continue;
            }
            taken.push((secret.start(), secret.end()));
            let secret_text = String::from_utf8_lossy(secret.as_bytes());
            let shown = placeholder::unquote(&secret_text);
            hits.push(Hit {
                rule_id: rule.def.id,
                title: rule.def.title,
                severity: rule.def.severity,
                line: line_of(text, whole.start()),
                masked: mask::mask_in(&String::from_utf8_lossy(whole.as_bytes()), shown),
            });
        }
    }
    if target.allows(rules::Scope::Assignments) && !generic_exempt(&target) {
        for a in generic::find(text, target.is_file()) {
            if overlaps(&taken, a.start, a.end) {
                continue;
            }
            taken.push((a.start, a.end));
            let (rule_id, title) = match a.kind {
                generic::KeyKind::Password => ("hardcoded-password", "Hard-coded password"),
                generic::KeyKind::Secret => ("hardcoded-secret", "Hard-coded secret or token"),
            };
            hits.push(Hit {
                rule_id,
                title,
                severity: Severity::Medium,
                line: line_of(text, a.key_start),
                masked: format!("{}={}", mask::shorten(&a.key, 64), mask::mask(&a.value)),
            });
        }
    }
    hits.sort_by_key(|h| h.line);
    hits
}

/// Files whose `key: value` lines are not settings of credentials: in nsswitch.conf the
/// keys name databases (`passwd: files`) and the values name their sources.
const GENERIC_EXEMPT_NAMES: &[&str] = &["nsswitch.conf"];

fn generic_exempt(target: &Target<'_>) -> bool {
    matches!(target, Target::File { name, .. } if GENERIC_EXEMPT_NAMES.contains(name))
}

/// 1-based line number of byte `offset`.
fn line_of(text: &[u8], offset: usize) -> u32 {
    let head = text.get(..offset).unwrap_or(text);
    let newlines = head.iter().filter(|&&b| b == b'\n').count();
    u32::try_from(newlines + 1).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::mask;

    fn ids(text: &str, target: Target<'_>) -> Vec<&'static str> {
        scan_text(text.as_bytes(), target).into_iter().map(|h| h.rule_id).collect()
    }

    const CONFIG: Target<'static> = Target::File { kind: FileKind::Config, name: "app.conf" };
    const HISTORY: Target<'static> = Target::File { kind: FileKind::History, name: ".bash_history" };

    #[test]
    fn near_misses_are_not_reported() {
        // Unsigned JWT, an `auth` that is not user:password, PEM armour without a body,
        // AWS's documentation key, a Stripe test key, a token one character short, a
        // prompting mysql -p, a URL to a documentation host.
        let text = "t = eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4eXoxMjM0NSJ9.c2lnbmF0dXJlc2lnbmF0dXJl\n\
                    {\"auth\": \"dGVzdHRlc3Q=\"}\n\
                    const HEADER = \"-----BEGIN RSA PRIVATE KEY-----\";\n\
                    id = AKIAIOSFODNN7EXAMPLE\n\
                    stripe = sk_test_4eC39HqLyjWDarjtT1zdp7dc\n\
                    gh = ghp_123456789012345678901234567890abcde\n\
                    u = https://user:S3cret-Pw@example.com/x\n";
        assert_eq!(ids(text, CONFIG), Vec::<&str>::new());
        assert_eq!(ids("mysql -u root -p app\nmysql -u root --password app\n", HISTORY), Vec::<&str>::new());
    }

    #[test]
    fn rules_keep_to_their_scope() {
        let cmd = "sshpass -p Tr0ub4dor-9 ssh host";
        assert_eq!(ids(cmd, HISTORY), ["cli-password"]);
        assert_eq!(ids(cmd, Target::BuildStep), ["cli-password"]);
        assert_eq!(ids(cmd, CONFIG), Vec::<&str>::new());
        assert_eq!(
            ids("password N3trc-Pw-1", Target::File { kind: FileKind::Config, name: ".netrc" }),
            ["netrc-password"]
        );
        assert_eq!(ids("password N3trc-Pw-1", CONFIG), Vec::<&str>::new());
        let text = Target::File { kind: FileKind::Text, name: "main.py" };
        assert_eq!(ids("DB_PASSWORD = 'Src-Pw-123'", text), Vec::<&str>::new());
    }

    #[test]
    fn random_input_never_panics() {
        // A fixed xorshift sequence mixing token fragments, separators and raw bytes.
        let pieces: &[&[u8]] = &[
            b"-----BEGIN PRIVATE KEY-----",
            b"\\n",
            b"\n",
            b"password",
            b"=",
            b":",
            b"\"",
            b"'",
            b"ghp_",
            b"AKIA",
            b"eyJ",
            b".",
            b"://",
            b"@",
            b"#",
            b" ",
            b"mysql -p",
            b"aGVsbG86d29ybGQ=",
            b"\xff\xfe",
            b"\xc3",
            b"AAAAAAAAAAAAAAAAAAAA",
            b"\"auth\": \"",
            b"glpat-",
            b"xoxb-1234567-",
            b"AccountName=a;AccountKey=",
            b"${",
            b"<password>",
            b"</",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..3000 {
            let mut text = Vec::new();
            for _ in 0..24 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.extend_from_slice(pieces[(state % pieces.len() as u64) as usize]);
            }
            for target in [CONFIG, HISTORY, Target::BuildStep, Target::ConfigValue] {
                for hit in scan_text(&text, target) {
                    assert!(hit.masked.contains(mask::MASK));
                }
            }
        }
    }
}
