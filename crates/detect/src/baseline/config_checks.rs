//! Checks decided from the image config and the image reference: the user containers run
//! as, the health check, ADD and lone index updates in the build history, and the tag.

use image::ImageConfig;

use super::accounts::{Account, PASSWD};
use super::catalog;
use super::{CheckResult, Location};

/// CIS-DI-4.1: containers must not run as root.
pub fn non_root_user(config: &ImageConfig, accounts: Option<&[Account]>) -> CheckResult {
    let check = &catalog::NON_ROOT_USER;
    let user = config.config.as_ref().and_then(|c| c.user.as_deref()).unwrap_or("").trim();
    let name = user.split(':').next().unwrap_or("").trim();
    if name.is_empty() {
        return check.failed("no USER is set: containers run as root".into(), Vec::new());
    }
    if name == "root" || name.parse::<u64>() == Ok(0) {
        return check.failed(format!("USER is `{user}`: containers run as root"), Vec::new());
    }
    let as_root = accounts.unwrap_or_default().iter().find(|a| a.name == name && a.uid == Some(0));
    match as_root {
        Some(a) => check.failed(
            format!("USER is `{user}`, but {name} has UID 0 in {PASSWD} (line {}): containers run as root", a.line),
            vec![Location { path: PASSWD.into(), line: Some(a.line) }],
        ),
        None => check.passed(),
    }
}

/// CIS-DI-4.6: a health check must be configured.
pub fn healthcheck(config: &ImageConfig) -> CheckResult {
    let check = &catalog::HEALTHCHECK;
    let test = config.config.as_ref().and_then(|c| c.healthcheck.as_ref()).and_then(|h| h.test.as_deref());
    match test {
        None | Some([]) => check.failed("no HEALTHCHECK is set".into(), Vec::new()),
        Some([first, ..]) if first == "NONE" => {
            check.failed("HEALTHCHECK NONE disables the health check inherited from the base image".into(), Vec::new())
        }
        Some(_) => check.passed(),
    }
}

/// A build step of the history, as the instruction that made it.
#[derive(Debug, PartialEq, Eq)]
struct Step<'a> {
    instruction: String,
    args: &'a str,
}

/// Recovers the Dockerfile instruction from a `created_by` string. The classic builder
/// writes `/bin/sh -c #(nop)  ADD file:… in /` for metadata and copy steps and
/// `/bin/sh -c apt-get …` (or `|2 A=1 B=2 /bin/sh -c …` with build arguments) for RUN;
/// BuildKit writes the instruction itself with a `# buildkit` comment.
fn parse_step(created_by: &str) -> Step<'_> {
    let text = created_by.trim();
    let text = text.strip_suffix("# buildkit").unwrap_or(text).trim_end();
    if let Some(rest) = text.find("#(nop)").map(|i| text[i + "#(nop)".len()..].trim_start()) {
        let (word, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        return Step { instruction: word.to_ascii_uppercase(), args: args.trim() };
    }
    if text.contains("/bin/sh -c") || text.starts_with('|') {
        return Step { instruction: "RUN".into(), args: text };
    }
    let (word, args) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let upper = word.to_ascii_uppercase();
    let known = ["ADD", "COPY", "RUN", "ENV", "ARG", "LABEL", "USER", "WORKDIR", "CMD", "ENTRYPOINT", "EXPOSE"];
    if known.contains(&upper.as_str()) {
        Step { instruction: upper, args: args.trim() }
    } else {
        // Commit messages and hand-made histories: treat as a command.
        Step { instruction: "RUN".into(), args: text }
    }
}

/// Sources and destination of an ADD, without its flags.
fn add_operands(args: &str) -> (Vec<&str>, &str) {
    let words: Vec<&str> = args.split_whitespace().filter(|w| !w.starts_with("--")).collect();
    // Classic builder: `file:<hash> in <dest>`.
    if let Some(pos) = words.iter().position(|w| *w == "in") {
        let dest = words.get(pos + 1).copied().unwrap_or("");
        return (words[..pos].to_vec(), dest);
    }
    match words.split_last() {
        Some((dest, sources)) => (sources.to_vec(), dest),
        None => (Vec::new(), ""),
    }
}

const ARCHIVE_SUFFIXES: &[&str] =
    &[".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz", ".tar.zst", ".tzst", ".tar.lz4"];

/// Why an ADD source is worth a COPY instead.
fn add_reason(source: &str) -> &'static str {
    let lower = source.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("git@") {
        "downloads a URL"
    } else if ARCHIVE_SUFFIXES.iter().any(|s| lower.ends_with(s)) {
        "extracts an archive"
    } else {
        "copies local files (COPY does that without ADD's implicit download and extraction)"
    }
}

/// CIS-DI-4.9: ADD is only acceptable for the base image's root filesystem.
pub fn copy_not_add(config: &ImageConfig) -> CheckResult {
    let check = &catalog::COPY_NOT_ADD;
    if config.history.iter().all(|h| h.created_by.is_none()) {
        return check.not_applicable("the image has no build history");
    }
    let first = config.history.iter().position(|h| h.created_by.is_some());
    let mut problems = Vec::new();
    for (i, h) in config.history.iter().enumerate() {
        let Some(created_by) = h.created_by.as_deref() else { continue };
        let step = parse_step(created_by);
        if step.instruction != "ADD" {
            continue;
        }
        let (sources, dest) = add_operands(step.args);
        if Some(i) == first && dest == "/" {
            continue;
        }
        let reasons: Vec<&str> = sources.iter().map(|s| add_reason(s)).collect();
        let reason = reasons.first().copied().unwrap_or("copies files");
        problems.push(format!(
            "history step {}: `ADD {}` {reason}",
            i + 1,
            crate::secrets::mask::shorten(step.args, 160)
        ));
    }
    if problems.is_empty() { check.passed() } else { check.failed(problems.join("; "), Vec::new()) }
}

/// CIS-DI-4.7: an index update in a step that installs nothing.
pub fn update_not_alone(config: &ImageConfig) -> CheckResult {
    let check = &catalog::UPDATE_ALONE;
    if config.history.iter().all(|h| h.created_by.is_none()) {
        return check.not_applicable("the image has no build history");
    }
    let updates = ["apt-get update", "apt update", "apk update", "yum makecache", "dnf makecache", "zypper refresh"];
    let installs = ["install", "upgrade", "apk add", "dist-upgrade", "zypper in "];
    let mut problems = Vec::new();
    for (i, h) in config.history.iter().enumerate() {
        let Some(created_by) = h.created_by.as_deref() else { continue };
        let step = parse_step(created_by);
        if step.instruction != "RUN" {
            continue;
        }
        let cmd = step.args.split_whitespace().collect::<Vec<_>>().join(" ");
        if updates.iter().any(|u| cmd.contains(u)) && !installs.iter().any(|w| cmd.contains(w)) {
            problems.push(format!(
                "history step {}: `{}` updates the package index without installing",
                i + 1,
                crate::secrets::mask::shorten(&cmd, 160)
            ));
        }
    }
    if problems.is_empty() { check.passed() } else { check.failed(problems.join("; "), Vec::new()) }
}

/// CG-IMAGE-003: the tag of the reference, `None` when the reference names no tag
/// (archives and directories) or pins a digest.
pub fn not_latest(reference: &str) -> CheckResult {
    let check = &catalog::NOT_LATEST;
    let r = reference.trim();
    for scheme in ["docker-archive:", "dir:"] {
        if r.starts_with(scheme) {
            return check.not_applicable("the reference names an archive or a directory, not a tag");
        }
    }
    if r.is_empty() {
        return check.not_applicable("no image reference was given");
    }
    let (name, oci) = match r.strip_prefix("oci:") {
        Some(rest) => (rest, true),
        None => (r.strip_prefix("docker:").or_else(|| r.strip_prefix("registry:")).unwrap_or(r), false),
    };
    if name.contains('@') {
        return check.passed();
    }
    // A tag follows the last `:` that comes after the last `/` (a `:` before it is a
    // registry port).
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let tag = name[last_slash..].rsplit_once(':').map(|(_, t)| t);
    match tag {
        Some("latest") => check.failed(format!("`{reference}` uses the `latest` tag"), Vec::new()),
        Some(_) => check.passed(),
        None if oci => check.not_applicable("the OCI layout reference names no tag"),
        None => check.failed(format!("`{reference}` names no tag, which means `latest`"), Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_recognised_in_both_builders() {
        let s = parse_step("/bin/sh -c #(nop) ADD file:0123abcd in / ");
        assert_eq!((s.instruction.as_str(), s.args), ("ADD", "file:0123abcd in /"));
        assert_eq!(parse_step("ADD https://x.invalid/a.tgz /opt/ # buildkit").instruction, "ADD");
        assert_eq!(parse_step("|1 TOKEN=abc /bin/sh -c make").instruction, "RUN");
        assert_eq!(parse_step("RUN /bin/sh -c apt-get update # buildkit").instruction, "RUN");
        assert_eq!(parse_step("/bin/sh -c apt-get update").instruction, "RUN");
    }

    #[test]
    fn add_operands_in_both_forms() {
        assert_eq!(add_operands("file:abc in /app"), (vec!["file:abc"], "/app"));
        assert_eq!(add_operands("--chown=1:1 a.tar.gz b /opt/"), (vec!["a.tar.gz", "b"], "/opt/"));
        assert_eq!(add_operands(""), (vec![], ""));
    }

    #[test]
    fn tags() {
        let outcome = |r: &str| not_latest(r).result;
        use super::super::Outcome::*;
        assert_eq!(outcome("nginx"), Failed);
        assert_eq!(outcome("nginx:latest"), Failed);
        assert_eq!(outcome("registry.local:5000/team/app"), Failed);
        assert_eq!(outcome("registry.local:5000/team/app:1.2"), Passed);
        assert_eq!(outcome("app@sha256:0123"), Passed);
        assert_eq!(outcome("docker:app:latest"), Failed);
        assert_eq!(outcome("oci:/tmp/layout:latest"), Failed);
        assert_eq!(outcome("oci:/tmp/layout"), NotApplicable);
        assert_eq!(outcome("docker-archive:/tmp/x.tar"), NotApplicable);
    }
}
