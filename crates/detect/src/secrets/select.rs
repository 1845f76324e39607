//! Which files the secret scanner reads, decided from the path alone so that the layer
//! reader can seek over everything else.
//!
//! The scanner looks where image authors put credentials: configuration (`/etc`, files
//! with configuration extensions anywhere), `.env` files, shell histories, well-known
//! credential files and key files, and the text files of the application (`/app`, `/opt`,
//! `/srv`, `/home`, `/root`, `/usr/local`, ...). It does not read what the operating
//! system's packages install (`/usr` outside `/usr/local`, `/lib*`, `/bin`, `/sbin`, the
//! package databases and caches) nor vendored third-party code (`node_modules`,
//! `site-packages`, `dist-packages`, `.git`): those trees are large, identical in every
//! image built from the same packages, and the keys they hold are test fixtures and
//! documentation examples, not the image author's secrets. Their vulnerabilities are the
//! business of the package scanner.

/// How a selected file is scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A shell or client history: every rule, including command-line passwords.
    History,
    /// A configuration or credential file: token rules and `key = value` assignments.
    Config,
    /// Any other text file: token rules only (no generic assignments, which in source
    /// code are mostly variable names).
    Text,
}

/// Trees the scanner never reads: OS package contents, package databases and caches,
/// virtual filesystems, and public certificate stores.
const SKIPPED_TREES: &[&str] = &[
    "/usr/",
    "/lib/",
    "/lib32/",
    "/lib64/",
    "/libx32/",
    "/bin/",
    "/sbin/",
    "/boot/",
    "/proc/",
    "/sys/",
    "/dev/",
    "/run/",
    "/var/lib/dpkg/",
    "/var/lib/apt/",
    "/var/lib/rpm/",
    "/var/lib/yum/",
    "/var/lib/dnf/",
    "/var/lib/apk/",
    "/var/cache/",
    "/etc/ssl/certs/",
    "/etc/pki/ca-trust/",
    "/etc/ca-certificates/",
    "/etc/alternatives/",
];

/// Trees inside [`SKIPPED_TREES`] that belong to the image author after all.
const AUTHOR_TREES: &[&str] = &["/usr/local/", "/usr/src/app/"];

/// Directory names whose contents are third-party code or version-control data.
const SKIPPED_DIRS: &[&str] = &["node_modules", "site-packages", "dist-packages", "__pycache__", ".git", ".svn", ".hg"];

/// File extensions never read: binary and media formats (the NUL-byte check would reject
/// most of them too, but only after reading their first block), public keys and
/// certificates, and generated text (lock files, checksum lists, source maps) that holds
/// hashes, never credentials.
const UNREAD_EXTENSIONS: &[&str] = &[
    "a", "o", "so", "ko", "pyc", "pyo", "class", "jar", "war", "ear", "zip", "gz", "tgz", "bz2", "xz", "zst", "lz4",
    "7z", "rar", "deb", "rpm", "apk", "whl", "egg", "png", "jpg", "jpeg", "gif", "ico", "bmp", "webp", "tif", "tiff",
    "woff", "woff2", "ttf", "otf", "eot", "pdf", "mo", "gmo", "mp3", "mp4", "ogg", "wav", "avi", "mov", "wasm", "exe",
    "dll", "dylib", "bin", "dat", "db", "sqlite", "sqlite3", "gpg", "kbx", "der", "p12", "pfx", "jks", "keystore",
    "pub", "crt", "cer", "map", "lock", "sum", "mod", "svg",
];

/// Extensions of configuration formats: generic `key = value` assignments count there.
const CONFIG_EXTENSIONS: &[&str] = &[
    "conf",
    "cfg",
    "cnf",
    "ini",
    "properties",
    "yaml",
    "yml",
    "json",
    "toml",
    "xml",
    "env",
    "config",
    "settings",
    "tfvars",
    "pem",
    "key",
];

/// File names of shell and client histories.
const HISTORY_NAMES: &[&str] = &[
    ".bash_history",
    ".ash_history",
    ".zsh_history",
    ".sh_history",
    ".history",
    ".mysql_history",
    ".psql_history",
    ".rediscli_history",
    ".python_history",
    ".node_repl_history",
];

/// File names of credential stores of common tools, and of private keys.
const CREDENTIAL_NAMES: &[&str] = &[
    ".git-credentials",
    ".netrc",
    "_netrc",
    ".npmrc",
    ".pypirc",
    ".pgpass",
    ".my.cnf",
    ".s3cfg",
    ".boto",
    ".dockercfg",
    ".env",
    "credentials",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    "id_ecdsa_sk",
    "id_ed25519_sk",
];

/// SSH host keys: the machine identity that openssh-server's install script generates in
/// every image that installs it. They are reported by the baseline check
/// `CG-IMAGE-004` (host keys baked into the image), not as hard-coded secrets.
pub fn is_ssh_host_key(path: &str) -> bool {
    path.strip_prefix("/etc/ssh/ssh_host_").is_some_and(|rest| rest.ends_with("_key") && !rest.contains('/'))
}

/// Decides whether and how the file at `path` is scanned.
pub fn classify(path: &str) -> Option<FileKind> {
    if is_ssh_host_key(path) {
        return None;
    }
    if SKIPPED_TREES.iter().any(|t| path.starts_with(t)) && !AUTHOR_TREES.iter().any(|t| path.starts_with(t)) {
        return None;
    }
    let mut parts = path.split('/').filter(|p| !p.is_empty());
    let name = parts.next_back()?;
    if parts.any(|dir| SKIPPED_DIRS.contains(&dir)) {
        return None;
    }
    if HISTORY_NAMES.contains(&name) {
        return Some(FileKind::History);
    }
    if CREDENTIAL_NAMES.contains(&name) || name.starts_with(".env.") || path.ends_with("/.docker/config.json") {
        return Some(FileKind::Config);
    }
    let ext = extension(name);
    if ext.is_some_and(|e| UNREAD_EXTENSIONS.iter().any(|b| b.eq_ignore_ascii_case(e))) {
        return None;
    }
    if path.starts_with("/etc/") || ext.is_some_and(|e| CONFIG_EXTENSIONS.iter().any(|c| c.eq_ignore_ascii_case(e))) {
        return Some(FileKind::Config);
    }
    Some(FileKind::Text)
}

/// The extension of a file name (`so` for `libx.so`, `None` for `.bashrc` and `Makefile`).
/// Versioned shared objects (`libx.so.1.2`) count as `so`.
fn extension(name: &str) -> Option<&str> {
    if name.contains(".so.") {
        return Some("so");
    }
    match name.rfind('.') {
        Some(0) | None => None,
        Some(i) => name.get(i + 1..),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_trees_and_vendored_code_are_skipped() {
        assert_eq!(classify("/usr/share/doc/x/example.pem"), None);
        assert_eq!(classify("/usr/lib/python3/dist-packages/a.py"), None);
        assert_eq!(classify("/app/node_modules/x/test/key.pem"), None);
        assert_eq!(classify("/var/lib/dpkg/status"), None);
        assert_eq!(classify("/etc/ssh/ssh_host_rsa_key"), None);
        assert_eq!(classify("/app/logo.png"), None);
        assert_eq!(classify("/opt/x/libfoo.so.1.2"), None);
    }

    #[test]
    fn author_files_are_classified() {
        assert_eq!(classify("/usr/local/bin/start.sh"), Some(FileKind::Text));
        assert_eq!(classify("/root/.bash_history"), Some(FileKind::History));
        assert_eq!(classify("/home/app/.zsh_history"), Some(FileKind::History));
        assert_eq!(classify("/root/.aws/credentials"), Some(FileKind::Config));
        assert_eq!(classify("/root/.docker/config.json"), Some(FileKind::Config));
        assert_eq!(classify("/app/.env.production"), Some(FileKind::Config));
        assert_eq!(classify("/etc/nginx/nginx.conf"), Some(FileKind::Config));
        assert_eq!(classify("/etc/init.d/app"), Some(FileKind::Config));
        assert_eq!(classify("/srv/app/settings.yaml"), Some(FileKind::Config));
        assert_eq!(classify("/app/main.py"), Some(FileKind::Text));
        assert_eq!(classify("/app/Dockerfile"), Some(FileKind::Text));
        assert_eq!(classify("/home/u/.ssh/id_ed25519"), Some(FileKind::Config));
        assert_eq!(classify("/etc/ssh/ssh_host_rsa_key.pub"), None);
    }

    #[test]
    fn extensions() {
        assert_eq!(extension(".bashrc"), None);
        assert_eq!(extension("Makefile"), None);
        assert_eq!(extension("a.tar.gz"), Some("gz"));
        assert_eq!(extension("libc.so.6"), Some("so"));
    }
}
