//! Configuration files exactly as an OS package shipped them.
//!
//! dpkg records the MD5 of every configuration file ("conffile") a package installs, in
//! the `Conffiles:` field of /var/lib/dpkg/status. A file under /etc whose content still
//! has that MD5 is the distribution's default, identical in every installation: what it
//! holds (OpenSSL's demo CA password in openssl.cnf, say) is not a secret of the image's
//! author. Findings in such files are dropped; once the file is edited its MD5 differs
//! and it is reported like any other.

use std::collections::HashMap;

use md5::{Digest, Md5};

/// The dpkg status database, read for its conffile list.
pub const DPKG_STATUS: &str = "/var/lib/dpkg/status";

/// Largest status database read (big images have a few megabytes).
pub const MAX_STATUS_BYTES: u64 = 64 << 20;

/// Conffile path to the MD5 (lower-case hex) its package shipped.
pub type Conffiles = HashMap<String, String>;

/// Reads the `Conffiles:` fields of a dpkg status database. Malformed lines are skipped.
pub fn parse_conffiles(status: &str) -> Conffiles {
    let mut out = Conffiles::new();
    let mut inside = false;
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix(' ').filter(|_| inside) {
            let mut parts = rest.split_whitespace();
            if let (Some(path), Some(md5)) = (parts.next(), parts.next()) {
                // `newconffile` marks a conffile not yet installed: it has no MD5.
                if md5.len() == 32 && md5.bytes().all(|b| b.is_ascii_hexdigit()) {
                    out.insert(path.to_owned(), md5.to_ascii_lowercase());
                }
            }
            continue;
        }
        inside = line.starts_with("Conffiles:");
    }
    out
}

/// MD5 of a file's content, as dpkg writes it.
pub fn md5_hex(content: &[u8]) -> String {
    hex::encode(Md5::digest(content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_conffiles_of_every_package() {
        let status = "Package: a\nConffiles:\n /etc/a.conf 0123456789abcdef0123456789ABCDEF\n /etc/new newconffile\n\
                      Description: x\n continuation line /etc/b 0123456789abcdef0123456789abcdef\n\n\
                      Package: b\nConffiles:\n /etc/b.conf ffffffffffffffffffffffffffffffff obsolete\n";
        let c = parse_conffiles(status);
        assert_eq!(c.len(), 2);
        assert_eq!(c["/etc/a.conf"], "0123456789abcdef0123456789abcdef");
        assert!(c.contains_key("/etc/b.conf"));
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
