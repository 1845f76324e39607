//! Installed Python distributions: `*.dist-info/METADATA` (wheels), `*.egg-info/PKG-INFO`
//! and `*.egg-info` files (eggs and distutils installs), with the files each one owns from
//! `RECORD` (dist-info) or `installed-files.txt` (egg-info).
//!
//! The package name is reported as the metadata writes it (`PyYAML`), as syft does; the
//! purl carries the PEP 503 normalised name (`pkg:pypi/pyyaml@6.0.1`), as the purl spec
//! asks (syft keeps the name as written there too). Licences come from
//! `License-Expression`, else `License` (unless it is `UNKNOWN` or a whole licence text),
//! else the `License ::` classifiers.

use std::collections::HashMap;

use image::FileEntry;
use image::path::{join_in_root, parent};

use super::{LangPackage, Parsed, report, text, to_package, visible};
use crate::analyzer::{Analyzer, Context, Found, Interest};
use crate::model::{Package, PackageType, Problem};

const NAME: &str = "python";

/// Finds installed Python distributions.
#[derive(Debug, Default)]
pub struct PythonAnalyzer {
    metadata: Vec<Found<Parsed<Option<LangPackage>>>>,
    /// `RECORD` and `installed-files.txt` copies: file names as written in them.
    listings: Vec<Found<Vec<String>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Metadata,
    Record,
    InstalledFiles,
}

fn kind(path: &str) -> Option<Kind> {
    let dir = parent(path);
    let name = image::path::file_name(path);
    if (name == "METADATA" && dir.ends_with(".dist-info")) || (name == "PKG-INFO" && dir.ends_with(".egg-info")) {
        Some(Kind::Metadata)
    } else if name.ends_with(".egg-info") {
        // A single-file egg-info written by distutils (Debian's python3-* packages have many).
        Some(Kind::Metadata)
    } else if name == "RECORD" && dir.ends_with(".dist-info") {
        Some(Kind::Record)
    } else if name == "installed-files.txt" && dir.ends_with(".egg-info") {
        Some(Kind::InstalledFiles)
    } else {
        None
    }
}

impl Analyzer for PythonAnalyzer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn interest(&self, path: &str, _: &FileEntry) -> Interest {
        if kind(path).is_some() { Interest::Content } else { Interest::No }
    }

    fn analyze(&mut self, path: &str, entry: &FileEntry, content: &[u8], _: &mut Vec<Problem>) {
        match kind(path) {
            Some(Kind::Metadata) => self.metadata.push(Found::new(path, entry, parse_metadata(content))),
            Some(Kind::Record) => self.listings.push(Found::new(path, entry, parse_record(content))),
            Some(Kind::InstalledFiles) => {
                self.listings.push(Found::new(path, entry, parse_installed_files(content)));
            }
            None => {}
        }
    }

    fn finish(self: Box<Self>, ctx: &Context<'_>, out: &mut Vec<Package>, problems: &mut Vec<Problem>) {
        let listings: HashMap<&str, &Vec<String>> =
            visible(&self.listings, ctx).map(|f| (f.path.as_str(), &f.value)).collect();
        for found in visible(&self.metadata, ctx) {
            report(NAME, &found.path, &found.value.problems, problems);
            let Some(mut p) = found.value.value.clone() else { continue };
            p.files = owned_files(&found.path, &listings);
            out.push(to_package(PackageType::Python, p, found));
        }
    }
}

/// The files a distribution owns, as absolute paths: `RECORD` names them relative to the
/// site-packages directory, `installed-files.txt` relative to the egg-info directory.
fn owned_files(metadata_path: &str, listings: &HashMap<&str, &Vec<String>>) -> Vec<String> {
    let info_dir = parent(metadata_path);
    let mut files = vec![metadata_path.to_owned()];
    let (listing, base) = if info_dir.ends_with(".dist-info") {
        (listings.get(format!("{info_dir}/RECORD").as_str()), parent(info_dir))
    } else if info_dir.ends_with(".egg-info") {
        (listings.get(format!("{info_dir}/installed-files.txt").as_str()), info_dir)
    } else {
        (None, info_dir)
    };
    for rel in listing.into_iter().flat_map(|l| l.iter()) {
        let abs = join_in_root(base, rel);
        if !files.contains(&abs) {
            files.push(abs);
        }
    }
    files
}

/// Parses core metadata (`METADATA`, `PKG-INFO`): RFC 822 style headers up to the first
/// empty line. Returns `None` with a problem when the name or version is missing.
pub fn parse_metadata(content: &[u8]) -> Parsed<Option<LangPackage>> {
    let fields = rfc822_fields(&text(content));
    let get = |key: &str| -> Option<&str> {
        fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    };
    let (Some(name), Some(version)) = (get("Name"), get("Version")) else {
        return Parsed::new(None, vec!["metadata has no Name or no Version".into()]);
    };
    let mut p = LangPackage::new(name, version);
    p.purl_name = Some(normalize_name(name));
    p.licenses = licenses(&fields);
    Parsed::new(Some(p), vec![])
}

fn licenses(fields: &[(String, String)]) -> Vec<String> {
    fn all<'a>(fields: &'a [(String, String)], key: &'a str) -> impl Iterator<Item = &'a str> {
        fields.iter().filter(move |(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.trim())
    }
    if let Some(expr) = all(fields, "License-Expression").find(|v| !v.is_empty()) {
        return vec![expr.to_owned()];
    }
    // `License` sometimes holds the whole licence text; that is not a name.
    if let Some(l) =
        all(fields, "License").find(|v| !v.is_empty() && !v.eq_ignore_ascii_case("UNKNOWN") && !v.contains('\n'))
        && l.len() <= 200
    {
        return vec![l.to_owned()];
    }
    all(fields, "Classifier")
        .filter_map(|c| c.strip_prefix("License ::"))
        .filter_map(|c| c.rsplit("::").next())
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty() && c != "OSI Approved")
        .collect()
}

/// Header fields in order; continuation lines (starting with white space) are joined to
/// the previous value with a newline.
fn rfc822_fields(text: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if fields.is_empty() {
                continue;
            }
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = fields.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            fields.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    fields
}

/// PEP 503 normalisation: lower case, runs of `-`, `_` and `.` become one `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.extend(c.to_lowercase());
            in_run = false;
        }
    }
    out
}

/// Parses a wheel `RECORD` (CSV: path, hash, size) into the paths it lists.
pub fn parse_record(content: &[u8]) -> Vec<String> {
    text(content).lines().filter_map(first_csv_field).filter(|p| !p.is_empty()).collect()
}

/// The first field of a CSV line, with RFC 4180 quoting.
fn first_csv_field(line: &str) -> Option<String> {
    let line = line.trim_end_matches('\r');
    if let Some(rest) = line.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = rest.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    out.push('"');
                } else {
                    return Some(out);
                }
            } else {
                out.push(c);
            }
        }
        // An unterminated quote: the line is damaged, so it names no file.
        return None;
    }
    Some(line.split(',').next().unwrap_or("").to_owned())
}

/// Parses an egg-info `installed-files.txt`: one path per line, relative to the egg-info
/// directory.
pub fn parse_installed_files(content: &[u8]) -> Vec<String> {
    text(content).lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize_name("PyYAML"), "pyyaml");
        assert_eq!(normalize_name("zope.interface"), "zope-interface");
        assert_eq!(normalize_name("Foo__Bar-.baz"), "foo-bar-baz");
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(first_csv_field("a/b.py,sha256=x,12").as_deref(), Some("a/b.py"));
        assert_eq!(first_csv_field("\"a,\"\"b\"\".py\",,").as_deref(), Some("a,\"b\".py"));
        assert_eq!(first_csv_field("\"open"), None);
    }
}
