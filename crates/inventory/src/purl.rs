//! Package URLs (<https://github.com/package-url/purl-spec>).

/// Builds `pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS`, percent-encoding each part.
/// Qualifiers with empty values are left out; the rest are sorted by key as the spec asks.
pub fn purl(kind: &str, namespace: Option<&str>, name: &str, version: &str, qualifiers: &[(&str, &str)]) -> String {
    let mut out = format!("pkg:{kind}/");
    if let Some(ns) = namespace.filter(|ns| !ns.is_empty()) {
        for (i, seg) in ns.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            out.push_str(&encode(seg));
        }
        out.push('/');
    }
    out.push_str(&encode(name));
    if !version.is_empty() {
        out.push('@');
        out.push_str(&encode(version));
    }
    let mut q: Vec<_> = qualifiers.iter().filter(|(_, v)| !v.is_empty()).collect();
    q.sort();
    for (i, (k, v)) in q.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.push_str(&encode(v));
    }
    out
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else if b == b':' {
            // purl-spec keeps ':' unencoded in versions (epochs); it is not a separator there.
            out.push(':');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::purl;

    #[test]
    fn builds_purls() {
        assert_eq!(
            purl("deb", Some("debian"), "libc6", "2.36-9+deb12u4", &[("arch", "amd64"), ("distro", "debian-12")]),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"
        );
        assert_eq!(purl("npm", Some("@babel"), "core", "7.0.0", &[]), "pkg:npm/%40babel/core@7.0.0");
        assert_eq!(purl("rpm", Some("redhat"), "bash", "1:5.1-2", &[("epoch", "")]), "pkg:rpm/redhat/bash@1:5.1-2");
        assert_eq!(purl("golang", Some("github.com/a/b"), "c", "v1.0.0", &[]), "pkg:golang/github.com/a/b/c@v1.0.0");
    }
}
