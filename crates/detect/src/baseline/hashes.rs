//! Password hash fields of /etc/shadow: locked, empty, or a crypt(3) hash of a known
//! algorithm, judged weak or acceptable.
//!
//! Weak: traditional DES (13 characters: 56-bit key, passwords cut to 8 characters),
//! BSDi extended DES (`_`), MD5-crypt (`$1$`: fixed 1000 rounds of MD5, cracked at
//! billions per second on a GPU), Sun MD5 (`$md5`), NT hash (`$3$`: unsalted MD4),
//! SHA1-crypt (`$sha1$`: PBKDF1-style HMAC-SHA1, obsolete), the original bcrypt `$2$`
//! and `$2x$` (hashes made by the crypt_blowfish sign-extension bug, CVE-2011-2483), and
//! SHA-crypt (`$5$`, `$6$`) with `rounds=` below its default of 5000.
//! Acceptable: yescrypt `$y$`, gost-yescrypt `$gy$`, scrypt `$7$`, bcrypt `$2a$`, `$2b$`,
//! `$2y$`, SHA-256-crypt `$5$` and SHA-512-crypt `$6$` at default rounds or more, and
//! Argon2 (`$argon2…`). `$2a$` stays acceptable: it is what most bcrypt implementations
//! wrote before `$2b$`, and the bug it may carry only concerns passwords with 8-bit
//! characters, for which crypt_blowfish writes `$2x$`.

/// What a password field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Empty: no password is needed.
    Empty,
    /// Locked without a hash (`*`, `!`, `!!`, `!*`, `x`, ...): nobody can log in with a password.
    Locked,
    /// A hash, possibly locked with a leading `!` (it still reveals the password if cracked).
    Hash { algorithm: &'static str, weak: Option<&'static str>, locked: bool },
    /// Something that is not a crypt hash (a plain word, a truncated value): no password
    /// typed at a prompt can match it, so it locks the account in effect.
    Unrecognised,
}

const CRYPT64: &str = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// SHA-crypt's default number of rounds; explicit values below it weaken the hash.
const SHA_CRYPT_DEFAULT_ROUNDS: u64 = 5000;

/// Classifies a password field.
pub fn classify(field: &str) -> Field {
    if field.is_empty() {
        return Field::Empty;
    }
    let hash = field.trim_start_matches('!');
    let locked = hash.len() != field.len();
    if hash.is_empty() || hash.starts_with('*') || hash == "x" {
        return Field::Locked;
    }
    match identify(hash) {
        Some((algorithm, weak)) => Field::Hash { algorithm, weak, locked },
        None if locked => Field::Locked,
        None => Field::Unrecognised,
    }
}

/// The hash without its lock marker: what two accounts share when they share a password.
pub fn comparable(field: &str) -> &str {
    field.trim_start_matches('!')
}

/// Names the algorithm of a hash and says why it is weak, if it is.
fn identify(hash: &str) -> Option<(&'static str, Option<&'static str>)> {
    let Some(rest) = hash.strip_prefix('$') else {
        if hash.len() == 13 && hash.chars().all(|c| CRYPT64.contains(c)) {
            return Some(("DES crypt", Some("56-bit DES, passwords cut to 8 characters")));
        }
        let bsdi = hash.strip_prefix('_').filter(|r| r.len() == 19 && r.chars().all(|c| CRYPT64.contains(c)));
        if bsdi.is_some() {
            return Some(("BSDi extended DES", Some("DES-based, 24-bit salt, fast to crack")));
        }
        return None;
    };
    let id = rest.split(['$', ',']).next().unwrap_or("");
    let verdict = match id {
        "1" => ("MD5-crypt", Some("MD5 with a fixed 1000 rounds")),
        "md5" => ("Sun MD5", Some("MD5-based")),
        "3" => ("NT hash", Some("unsalted MD4")),
        "sha1" => ("SHA1-crypt", Some("SHA-1-based, obsolete")),
        "2" => ("bcrypt ($2$)", Some("original bcrypt version with known flaws")),
        "2x" => ("bcrypt ($2x$)", Some("made by the crypt_blowfish 8-bit bug (CVE-2011-2483)")),
        "2a" | "2b" | "2y" => ("bcrypt", None),
        "5" | "6" => {
            let name = if id == "5" { "SHA-256-crypt" } else { "SHA-512-crypt" };
            let rounds =
                hash.split('$').nth(2).and_then(|p| p.strip_prefix("rounds=")).and_then(|r| r.parse::<u64>().ok());
            match rounds {
                Some(r) if r < SHA_CRYPT_DEFAULT_ROUNDS => (name, Some("fewer rounds than the default 5000")),
                _ => (name, None),
            }
        }
        "y" => ("yescrypt", None),
        "gy" => ("gost-yescrypt", None),
        "7" => ("scrypt", None),
        a if a.starts_with("argon2") => ("Argon2", None),
        _ => return None,
    };
    Some(verdict)
}

/// Shows a hash without revealing it: its algorithm prefix only (`$6$****`).
pub fn mask_hash(field: &str) -> String {
    let lock = &field[..field.len() - comparable(field).len()];
    let hash = comparable(field);
    let prefix = match hash.strip_prefix('$') {
        Some(rest) => rest.find('$').and_then(|i| hash.get(..i + 2)).unwrap_or("$"),
        None => "",
    };
    format!("{lock}{prefix}****")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weak(field: &str) -> bool {
        matches!(classify(field), Field::Hash { weak: Some(_), .. })
    }

    #[test]
    fn weak_algorithms() {
        assert!(weak("abJnggxhB/yWI"));
        assert!(weak("_J9..CCCCXBrJUJV154M"));
        assert!(weak("$1$saltsalt$qjXMvbEw8oaL.CzflDugX/"));
        assert!(weak("$md5,rounds=5000$GUBv0xjJ$$mSwgIswdjlTY0YxV7HBVm0"));
        assert!(weak("$3$$8846f7eaee8fb117ad06bdd830b7586c"));
        assert!(weak("$sha1$40000$jtNX3nZ2$hBNaIXkt4wBI2o5rsi8KejSjNqIq"));
        assert!(weak("$2x$10$abcdefghijklmnopqrstuu5Ds4Q0nF1A5b.tmV7NJT0mUYN2C2xwS"));
        assert!(weak("$6$rounds=1000$salt$hash"));
        assert!(weak("!$1$saltsalt$qjXMvbEw8oaL.CzflDugX/"));
    }

    #[test]
    fn acceptable_algorithms() {
        for h in [
            "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7",
            "$6$saltsalt$hash",
            "$6$rounds=656000$salt$hash",
            "$5$saltsalt$hash",
            "$2b$12$abcdefghijklmnopqrstuu5Ds4Q0nF1A5b.tmV7NJT0mUYN2C2xwS",
            "$2a$10$abcdefghijklmnopqrstuu5Ds4Q0nF1A5b.tmV7NJT0mUYN2C2xwS",
            "$7$CU..../....salt$hash",
            "$gy$j9T$salt$hash",
        ] {
            assert!(matches!(classify(h), Field::Hash { weak: None, .. }), "{h}");
        }
    }

    #[test]
    fn locked_empty_and_other_fields() {
        assert_eq!(classify(""), Field::Empty);
        for f in ["*", "!", "!!", "!*", "x", "*LK*"] {
            assert_eq!(classify(f), Field::Locked, "{f}");
        }
        assert_eq!(classify("toor"), Field::Unrecognised);
        assert_eq!(classify("$zz$whatever"), Field::Unrecognised);
        assert!(matches!(classify("!$6$s$h"), Field::Hash { locked: true, weak: None, .. }));
    }

    #[test]
    fn masking_keeps_only_the_algorithm() {
        assert_eq!(mask_hash("$6$saltsalt$hash"), "$6$****");
        assert_eq!(mask_hash("!$1$salt$hash"), "!$1$****");
        assert_eq!(mask_hash("abJnggxhB/yWI"), "****");
        assert_eq!(mask_hash("$"), "$****");
        assert_eq!(mask_hash("é"), "****");
    }
}
