//! Installed Ruby gems: the `specifications/*.gemspec` files RubyGems writes for each
//! installed gem (`/usr/lib/ruby/gems/3.1.0/specifications`, `/usr/local/bundle/...`,
//! default gems under `specifications/default/`).
//!
//! A gemspec is Ruby code; it is never executed here. The files RubyGems writes assign
//! literals (`s.name = "rake".freeze`, `s.licenses = ["MIT".freeze]`, older ones
//! `%q{rake}`), and those assignments are read as text. The files of a gem are those under
//! its `gems/NAME-VERSION/` directory next to `specifications/`.

use image::path::{file_name, parent};
use image::{FileEntry, FileKind};

use super::{LangPackage, Parsed, report, text, to_package, visible};
use crate::analyzer::{Analyzer, Context, Found, Interest};
use crate::model::{Package, PackageType, Problem};

const NAME: &str = "gem";

/// Finds installed gems.
#[derive(Debug, Default)]
pub struct GemAnalyzer {
    found: Vec<Found<Parsed<Option<LangPackage>>>>,
}

fn is_gemspec(path: &str) -> bool {
    path.ends_with(".gemspec") && {
        let dir = parent(path);
        file_name(dir) == "specifications"
            || (file_name(dir) == "default" && file_name(parent(dir)) == "specifications")
    }
}

impl Analyzer for GemAnalyzer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn interest(&self, path: &str, _: &FileEntry) -> Interest {
        if is_gemspec(path) { Interest::Content } else { Interest::No }
    }

    fn analyze(&mut self, path: &str, entry: &FileEntry, content: &[u8], _: &mut Vec<Problem>) {
        self.found.push(Found::new(path, entry, parse_gemspec(content)));
    }

    fn finish(self: Box<Self>, ctx: &Context<'_>, out: &mut Vec<Package>, problems: &mut Vec<Problem>) {
        for found in visible(&self.found, ctx) {
            report(NAME, &found.path, &found.value.problems, problems);
            let Some(mut p) = found.value.value.clone() else { continue };
            p.files = gem_files(ctx, &found.path, &p);
            out.push(to_package(PackageType::Gem, p, found));
        }
    }
}

/// The gemspec itself and the regular files of the gem's installed directory.
fn gem_files(ctx: &Context<'_>, spec_path: &str, p: &LangPackage) -> Vec<String> {
    let mut spec_dir = parent(spec_path);
    if file_name(spec_dir) == "default" {
        spec_dir = parent(spec_dir);
    }
    let gem_dir = format!("{}/gems/{}-{}", parent(spec_dir), p.name, p.version);
    let mut files = vec![spec_path.to_owned()];
    files.extend(
        ctx.tree
            .walk_under(&gem_dir)
            .filter(|(_, e)| matches!(e.kind, FileKind::Regular | FileKind::Hardlink))
            .map(|(path, _)| path.to_owned()),
    );
    files
}

/// Reads the name, version and licences a gemspec assigns.
pub fn parse_gemspec(content: &[u8]) -> Parsed<Option<LangPackage>> {
    let text = text(content);
    let (mut name, mut version, mut licenses) = (None, None, Vec::new());
    for line in text.lines() {
        let Some((field, rhs)) = assignment(line) else { continue };
        match field {
            "name" if name.is_none() => name = literals(rhs).into_iter().next(),
            "version" if version.is_none() => version = literals(rhs).into_iter().next(),
            "license" | "licenses" => licenses.extend(literals(rhs)),
            _ => {}
        }
    }
    match (name, version) {
        (Some(n), Some(v)) if !n.is_empty() && !v.is_empty() => {
            let mut p = LangPackage::new(n, v);
            p.licenses = licenses;
            Parsed::new(Some(p), vec![])
        }
        _ => Parsed::new(None, vec!["gemspec assigns no name or no version".into()]),
    }
}

/// `  s.name = "x".freeze` as `("name", "\"x\".freeze")`: an assignment to an attribute of
/// the specification variable.
fn assignment(line: &str) -> Option<(&str, &str)> {
    let (lhs, rhs) = line.split_once('=')?;
    // `==` and `=>` are comparisons and hash pairs, not assignments.
    if rhs.starts_with(['=', '>']) || lhs.ends_with(['!', '<', '>', '=']) {
        return None;
    }
    let (var, field) = lhs.trim().split_once('.')?;
    let is_ident = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (is_ident(var) && is_ident(field)).then_some((field, rhs.trim()))
}

/// The string literals of a right-hand side: `"x"`, `'x'`, `%q{x}`, in order.
fn literals(rhs: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = rhs;
    while let Some(start) = rest.find(['"', '\'', '%']) {
        let open = &rest[start..];
        let (value, after) = if let Some(body) = open.strip_prefix("%q{").or_else(|| open.strip_prefix("%Q{")) {
            match body.split_once('}') {
                Some((v, after)) => (v, after),
                None => break,
            }
        } else if let Some(q) = open.chars().next().filter(|c| *c == '"' || *c == '\'') {
            match open[1..].split_once(q) {
                Some((v, after)) => (v, after),
                None => break,
            }
        } else {
            rest = &open[1..];
            continue;
        };
        out.push(value.to_owned());
        rest = after;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_literals() {
        assert_eq!(literals("[\"MIT\".freeze, 'Ruby'.freeze]"), ["MIT", "Ruby"]);
        assert_eq!(literals("%q{rake}"), ["rake"]);
        assert_eq!(literals("Gem::Version.new(\"1.0\")"), ["1.0"]);
        assert!(literals("\"unterminated").is_empty());
        assert_eq!(assignment("  s.name = \"x\""), Some(("name", "\"x\"")));
        assert_eq!(assignment("if s.respond_to? :x then s.a == b"), None);
    }
}
