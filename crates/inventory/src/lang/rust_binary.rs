//! Rust executables built with `cargo auditable`: the `.dep-v0` section holds the
//! dependency tree as zlib-compressed JSON (`{"packages": [{"name", "version",
//! "source", "kind", "dependencies", "root"}]}`).
//!
//! As syft does, every package of kind `runtime` (the default when `kind` is absent) is
//! reported, the root crate included; build-time dependencies (build scripts, proc macros)
//! are left out because none of their code is in the binary.

use std::io::Read;

use image::FileEntry;

use super::elf::Binary;
use super::{LangPackage, Parsed, json_str, report, to_package, visible};
use crate::analyzer::{Analyzer, Context, Found, Interest};
use crate::model::{Package, PackageType, Problem};

const NAME: &str = "rust-binary";
/// Largest decompressed dependency list accepted: real ones are tens of kilobytes, and a
/// small compressed section must not become gigabytes.
const MAX_JSON_BYTES: u64 = 8 << 20;

/// Finds Rust executables with embedded dependency lists.
#[derive(Debug, Default)]
pub struct RustBinaryAnalyzer {
    found: Vec<Found<Parsed<Vec<LangPackage>>>>,
}

impl Analyzer for RustBinaryAnalyzer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn interest(&self, _: &str, entry: &FileEntry) -> Interest {
        if entry.is_executable() { Interest::IfElf } else { Interest::No }
    }

    fn analyze(&mut self, path: &str, entry: &FileEntry, content: &[u8], _: &mut Vec<Problem>) {
        let parsed = parse_rust_binary(content);
        if !parsed.value.is_empty() || !parsed.problems.is_empty() {
            self.found.push(Found::new(path, entry, parsed));
        }
    }

    fn finish(self: Box<Self>, ctx: &Context<'_>, out: &mut Vec<Package>, problems: &mut Vec<Problem>) {
        for found in visible(&self.found, ctx) {
            report(NAME, &found.path, &found.value.problems, problems);
            for p in &found.value.value {
                out.push(to_package(PackageType::Cargo, p.clone(), found));
            }
        }
    }
}

/// Reads the `cargo auditable` dependency list of an executable; empty without problems
/// when it has none.
pub fn parse_rust_binary(content: &[u8]) -> Parsed<Vec<LangPackage>> {
    match Binary::parse(content).and_then(|b| b.section(".dep-v0")) {
        Some(section) => parse_dep_section(section),
        None => Parsed::default(),
    }
}

/// Decompresses and parses the contents of a `.dep-v0` section.
pub fn parse_dep_section(section: &[u8]) -> Parsed<Vec<LangPackage>> {
    let mut json = Vec::new();
    let mut decoder = flate2::read::ZlibDecoder::new(section).take(MAX_JSON_BYTES + 1);
    if let Err(e) = decoder.read_to_end(&mut json) {
        return Parsed::new(vec![], vec![format!("cannot decompress the .dep-v0 section: {e}")]);
    }
    if json.len() as u64 > MAX_JSON_BYTES {
        return Parsed::new(
            vec![],
            vec![format!("the .dep-v0 section decompresses to more than {MAX_JSON_BYTES} bytes")],
        );
    }
    parse_audit_json(&json)
}

/// Parses the decompressed dependency list.
pub fn parse_audit_json(json: &[u8]) -> Parsed<Vec<LangPackage>> {
    let v: serde_json::Value = match serde_json::from_slice(json) {
        Ok(v) => v,
        Err(e) => return Parsed::new(vec![], vec![format!("the .dep-v0 section is not valid JSON: {e}")]),
    };
    let Some(items) = v.get("packages").and_then(|p| p.as_array()) else {
        return Parsed::new(vec![], vec!["the .dep-v0 section has no `packages` list".into()]);
    };
    let mut out: Vec<LangPackage> = Vec::new();
    for item in items {
        if json_str(item, "kind").is_some_and(|k| k != "runtime") {
            continue;
        }
        let (Some(name), Some(version)) = (json_str(item, "name"), json_str(item, "version")) else { continue };
        if !out.iter().any(|p| p.name == name && p.version == version) {
            out.push(LangPackage::new(name, version));
        }
    }
    Parsed::new(out, vec![])
}
