//! The catalogue of baseline checks: id, title, level, how each is decided and how to
//! fix a failure. The ids are stable: reports, SARIF rule ids and suppressions use them.

use super::{CheckResult, Level, Location, Outcome};

/// The fixed description of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    pub id: &'static str,
    pub title: &'static str,
    pub level: Level,
    /// How the check is decided (shown as the detection method).
    pub method: &'static str,
    /// What to do when it fails.
    pub advice: &'static str,
}

impl Check {
    pub(crate) fn passed(&self) -> CheckResult {
        self.result(Outcome::Passed, String::new(), Vec::new())
    }

    pub(crate) fn failed(&self, problem: String, locations: Vec<Location>) -> CheckResult {
        self.result(Outcome::Failed, problem, locations)
    }

    pub(crate) fn not_applicable(&self, why: &str) -> CheckResult {
        self.result(Outcome::NotApplicable, why.to_owned(), Vec::new())
    }

    fn result(&self, result: Outcome, problem: String, locations: Vec<Location>) -> CheckResult {
        CheckResult {
            id: self.id.to_owned(),
            title: self.title.to_owned(),
            level: self.level,
            method: self.method.to_owned(),
            result,
            problem,
            advice: self.advice.to_owned(),
            locations,
        }
    }
}

pub const UNIQUE_NAMES: Check = Check {
    id: "CG-ACCOUNT-001",
    title: "Account names in /etc/passwd are unique",
    level: Level::Medium,
    method: "Parses /etc/passwd of the final filesystem and looks for an account name on more than one line.",
    advice: "Remove or rename the duplicate entries (vipw, or fix the Dockerfile step that appends to /etc/passwd); \
             every account must have one entry.",
};

pub const UNIQUE_UIDS: Check = Check {
    id: "CG-ACCOUNT-002",
    title: "UIDs in /etc/passwd are unique",
    level: Level::Medium,
    method: "Parses /etc/passwd of the final filesystem and looks for a UID shared by several accounts.",
    advice: "Give every account its own UID (usermod -u); accounts sharing a UID share every file and process \
             permission.",
};

pub const ROOT_UID_ONLY: Check = Check {
    id: "CG-ACCOUNT-003",
    title: "No account other than root has UID 0",
    level: Level::High,
    method: "Parses /etc/passwd of the final filesystem and lists the accounts with UID 0 not named root.",
    advice: "Delete the extra UID 0 account or give it an unprivileged UID; a second superuser is a classic \
             backdoor.",
};

pub const UNIQUE_GROUPS: Check = Check {
    id: "CG-ACCOUNT-004",
    title: "Group names and GIDs in /etc/group are unique",
    level: Level::Low,
    method: "Parses /etc/group of the final filesystem and looks for a group name or GID on more than one line.",
    advice: "Remove or renumber the duplicate groups (groupmod -g); duplicates make group permissions ambiguous.",
};

pub const NO_HARDCODED_CREDENTIALS: Check = Check {
    id: "CG-PASSWORD-001",
    title: "No hard-coded passwords or credentials in the image",
    level: Level::High,
    method: "Runs the secret scanner (private keys, cloud keys, service tokens, passwords in configuration, .env \
             files, shell histories, URLs, ENV, labels and build history) over every layer; fails on any finding.",
    advice: "Remove the credential from the image and from every layer that holds it (a later `rm` does not \
             remove it from the earlier layer), rotate it, and provide it at run time (secret mounts, \
             environment injected by the orchestrator, a secret manager).",
};

pub const UNIQUE_HASHES: Check = Check {
    id: "CG-PASSWORD-002",
    title: "No two accounts share a password hash",
    level: Level::High,
    method: "Compares the password hashes of /etc/shadow (and any hash left in /etc/passwd), locked markers \
             excluded; a shared hash means a shared password and a copied salt.",
    advice: "Set a different password for each account (passwd), or lock the accounts that need none \
             (passwd -l, usermod -p '*').",
};

pub const STRONG_HASHES: Check = Check {
    id: "CG-PASSWORD-003",
    title: "No password uses a weak hash algorithm",
    level: Level::High,
    method: "Identifies the crypt(3) algorithm of every hash in /etc/shadow (and /etc/passwd): DES, BSDi DES, \
             MD5-crypt ($1$), Sun MD5 ($md5), NT hash ($3$), SHA1-crypt ($sha1$), the original and the \
             buggy bcrypt variants ($2$, $2x$) and SHA-crypt with fewer than 5000 rounds are weak.",
    advice: "Re-set the password so that it is hashed with yescrypt ($y$), SHA-512-crypt ($6$) or bcrypt ($2b$); \
             set ENCRYPT_METHOD in /etc/login.defs (YESCRYPT or SHA512). Better: lock accounts in images \
             and log in with keys or not at all.",
};

pub const NO_EMPTY_PASSWORDS: Check = Check {
    id: "CG-PASSWORD-004",
    title: "No account has an empty password",
    level: Level::High,
    method: "Looks for an empty password field in /etc/shadow, or in /etc/passwd for accounts without a \
             shadow entry; a locked field (`!`, `*`, `!!`, `!*`) is not empty.",
    advice: "Lock the account (passwd -l, usermod -p '*') or give it a strong password; an empty field lets \
             anyone log in or su to it without a password.",
};

pub const NON_ROOT_USER: Check = Check {
    id: "CIS-DI-4.1",
    title: "A non-root user is set for the container",
    level: Level::Medium,
    method: "Reads User from the image config: empty, `root`, `0` or an account with UID 0 in /etc/passwd \
             means containers run as root.",
    advice: "Create an unprivileged user in the Dockerfile (useradd -r app) and add `USER app` (or a numeric \
             UID) after the steps that need root.",
};

pub const HEALTHCHECK: Check = Check {
    id: "CIS-DI-4.6",
    title: "A HEALTHCHECK is set",
    level: Level::Low,
    method: "Reads Healthcheck from the image config; absent, empty or `NONE` fails.",
    advice: "Add a HEALTHCHECK instruction that probes the service (for example \
             `HEALTHCHECK CMD curl -fs http://localhost/ || exit 1`).",
};

pub const UPDATE_ALONE: Check = Check {
    id: "CIS-DI-4.7",
    title: "Package index updates are not used alone",
    level: Level::Low,
    method: "Reads the build history: a RUN step that updates the package index (apt-get update, apk update, \
             yum/dnf makecache, zypper refresh) without installing in the same step leaves a stale cached index \
             for later builds.",
    advice: "Update and install in one RUN step (`apt-get update && apt-get install -y ...`), and remove the \
             index in that step too.",
};

pub const SETUID_FILES: Check = Check {
    id: "CIS-DI-4.8",
    title: "Files with setuid or setgid permissions",
    level: Level::Low,
    method: "Lists the regular files of the final filesystem whose mode has the setuid (04000) or setgid \
             (02000) bit.",
    advice: "Remove the bits from the files the application does not need (`chmod a-s`, e.g. \
             `find / -xdev -perm /6000 -type f -exec chmod a-s {} +` in the Dockerfile) and run containers with \
             no-new-privileges.",
};

pub const COPY_NOT_ADD: Check = Check {
    id: "CIS-DI-4.9",
    title: "COPY is used instead of ADD",
    level: Level::Low,
    method: "Reads the build history for ADD steps. The first step adding a root filesystem to `/` (how base \
             images such as Docker's official ones are made) is normal and ignored; any other ADD fails, \
             with the reason: it downloads a URL, extracts an archive, or copies local files that COPY copies \
             without surprises.",
    advice: "Use COPY for local files; download with curl/wget in a RUN step and verify a checksum; extract \
             archives explicitly.",
};

pub const NO_CONFIG_SECRETS: Check = Check {
    id: "CIS-DI-4.10",
    title: "No secrets in ENV, labels or build history",
    level: Level::High,
    method: "Runs the secret rules over the image config: every Env entry, every label and every build step \
             (RUN command lines and build arguments are kept in the history).",
    advice: "Do not pass secrets through ENV, LABEL or ARG, nor on RUN command lines: use build secrets \
             (`RUN --mount=type=secret`) and run-time secret injection; rotate the exposed secret.",
};

pub const NO_SUDO: Check = Check {
    id: "CG-IMAGE-001",
    title: "sudo is not installed",
    level: Level::Medium,
    method: "Looks for the sudo and doas executables in the final filesystem (/usr/bin, /bin, /usr/sbin, \
             /usr/local/bin).",
    advice: "Remove sudo (apt-get purge sudo); a container has no interactive administrators, and sudo is an \
             escalation path for anything that runs as the unprivileged user. Use gosu/setpriv in entrypoints.",
};

pub const NO_PACKAGE_CACHES: Check = Check {
    id: "CG-IMAGE-002",
    title: "No package manager caches left in the image",
    level: Level::Low,
    method: "Counts the files left in /var/cache/apt/archives (*.deb), /var/cache/apt/*.bin, /var/lib/apt/lists, \
             /var/cache/apk, /var/cache/yum, /var/cache/dnf, /root/.cache/pip, /home/*/.cache/pip and \
             /root/.npm/_cacache.",
    advice: "Clean caches in the same RUN step that fills them: `apt-get clean && rm -rf /var/lib/apt/lists/*`, \
             `apk add --no-cache`, `dnf clean all`, `pip install --no-cache-dir`, `npm cache clean --force`.",
};

pub const NOT_LATEST: Check = Check {
    id: "CG-IMAGE-003",
    title: "The image is not referenced by the `latest` tag",
    level: Level::Low,
    method: "Parses the image reference: an explicit `latest` tag or no tag at all (which means latest) fails; a \
             digest or another tag passes. Archive and directory references carry no tag.",
    advice: "Reference images by a version tag or, better, by digest (name@sha256:...), so that a deployment \
             always gets the image that was scanned.",
};

pub const NO_SSH_HOST_KEYS: Check = Check {
    id: "CG-IMAGE-004",
    title: "No SSH host keys baked into the image",
    level: Level::Medium,
    method: "Looks for /etc/ssh/ssh_host_*_key private keys in the final filesystem (openssh-server's install \
             script generates them at build time).",
    advice: "Delete the keys in the Dockerfile (`rm -f /etc/ssh/ssh_host_*`) and generate them when the \
             container starts (`ssh-keygen -A` in the entrypoint); otherwise every container shares one host \
             identity, and anyone with the image can impersonate them.",
};

pub const NO_NOPASSWD_SUDO: Check = Check {
    id: "CG-IMAGE-005",
    title: "sudoers grants nothing without a password",
    level: Level::Medium,
    method: "Reads /etc/sudoers and /etc/sudoers.d/* of the final filesystem for NOPASSWD rules.",
    advice: "Remove the NOPASSWD rules; better, remove sudo from the image altogether.",
};

/// Every check, in report order.
pub const ALL: &[&Check] = &[
    &UNIQUE_NAMES,
    &UNIQUE_UIDS,
    &ROOT_UID_ONLY,
    &UNIQUE_GROUPS,
    &NO_HARDCODED_CREDENTIALS,
    &UNIQUE_HASHES,
    &STRONG_HASHES,
    &NO_EMPTY_PASSWORDS,
    &NON_ROOT_USER,
    &HEALTHCHECK,
    &UPDATE_ALONE,
    &SETUID_FILES,
    &COPY_NOT_ADD,
    &NO_CONFIG_SECRETS,
    &NO_SUDO,
    &NO_PACKAGE_CACHES,
    &NOT_LATEST,
    &NO_SSH_HOST_KEYS,
    &NO_NOPASSWD_SUDO,
];
