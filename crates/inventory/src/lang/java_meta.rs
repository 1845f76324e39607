//! What a Java archive says about itself: `META-INF/MANIFEST.MF`,
//! `META-INF/maven/GROUP/ARTIFACT/pom.properties`, and its file name
//! (`commons-cli-1.5.0.jar`). Pure functions over text; [`super::java`] opens the archives.

/// A parsed `MANIFEST.MF`: the main section and the named per-entry sections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub main: Vec<(String, String)>,
    pub sections: Vec<Vec<(String, String)>>,
}

impl Manifest {
    /// A main-section attribute (names are case-insensitive), non-empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        find(&self.main, key)
    }

    /// A main-section attribute, else the first named section that has it.
    pub fn get_any(&self, key: &str) -> Option<&str> {
        self.get(key).or_else(|| self.sections.iter().find_map(|s| find(s, key)))
    }
}

fn find<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
}

/// Parses a manifest: `Name: value` lines, continuation lines starting with one space,
/// sections separated by empty lines. Lines without a colon are skipped.
pub fn parse_manifest(text: &str) -> Manifest {
    let mut sections: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            if sections.last().is_some_and(|s| !s.is_empty()) {
                sections.push(Vec::new());
            }
            continue;
        }
        let Some(section) = sections.last_mut() else { continue };
        if let Some(cont) = line.strip_prefix(' ') {
            if let Some((_, v)) = section.last_mut() {
                v.push_str(cont);
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            section.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    // Values are trimmed after continuations are joined.
    for (_, v) in sections.iter_mut().flatten() {
        *v = v.trim().to_owned();
    }
    sections.retain(|s| !s.is_empty());
    let mut iter = sections.into_iter();
    Manifest { main: iter.next().unwrap_or_default(), sections: iter.collect() }
}

/// `groupId`, `artifactId`, `version` of a `pom.properties`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PomProperties {
    pub group_id: String,
    pub artifact_id: String,
    pub version: String,
}

/// Parses Java properties text for the three Maven coordinates. `None` unless both the
/// artifact id and the version are present.
pub fn parse_pom_properties(text: &str) -> Option<PomProperties> {
    let mut p = PomProperties::default();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with(['#', '!']) {
            continue;
        }
        let Some(idx) = line.find(['=', ':']) else { continue };
        let (key, value) = (line[..idx].trim(), line[idx + 1..].trim().to_owned());
        match key {
            "groupId" => p.group_id = value,
            "artifactId" => p.artifact_id = value,
            "version" => p.version = value,
            _ => {}
        }
    }
    (!p.artifact_id.is_empty() && !p.version.is_empty()).then_some(p)
}

/// Name and version from an archive's file name, the way syft reads them: dash-separated
/// words form the name until one starts with a digit (or is `buildN`, or a final `rN` /
/// `rcN`), which starts the version. Name words must start with a letter; when one does
/// not, nothing is read. `foo_1.2.jar` and `foo.1.2.jar` give a version too.
pub fn name_version_from_file_name(file_name: &str) -> (String, String) {
    let base = file_name.rsplit('/').next().unwrap_or(file_name);
    let stem = match base.rfind('.') {
        Some(i) if i > 0 => &base[..i],
        _ => base,
    };
    let words: Vec<&str> = stem.split('-').collect();
    let is_name_word = |w: &str| {
        w.starts_with(|c: char| c.is_alphabetic()) && w.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.')
    };
    let starts_version = |i: usize, w: &str| {
        w.starts_with(|c: char| c.is_ascii_digit())
            || w.strip_prefix("build").is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
            || (i + 1 == words.len() && {
                let r = w.strip_prefix("rc").or_else(|| w.strip_prefix('r')).unwrap_or("");
                !r.is_empty() && r.chars().all(|c| c.is_ascii_digit())
            })
    };
    let split = (1..words.len()).find(|&i| words.get(i).is_some_and(|w| starts_version(i, w)));
    let name_words = &words[..split.unwrap_or(words.len())];
    if name_words.is_empty() || !name_words.iter().all(|w| is_name_word(w)) {
        return (String::new(), String::new());
    }
    let name = name_words.join("-");
    if let Some(i) = split {
        return (name, words[i..].join("-"));
    }
    // `name_1.2.3` or `name.1.2.3`: a separator followed by a digit.
    let bytes = name.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(b, b'_' | b'.' | b'-') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) && i > 0 {
            return (name[..i].to_owned(), name[i + 1..].to_owned());
        }
    }
    (name, String::new())
}

/// The main package's name when there is no matching `pom.properties`: the file name's,
/// else the manifest's `Name`, `Bundle-Name`, `Short-Name`, `Extension-Name`,
/// `Implementation-Title` (syft's order).
pub fn select_name(manifest: &Manifest, file_name: &str) -> String {
    if !file_name.is_empty() {
        return file_name.to_owned();
    }
    ["Name", "Bundle-Name", "Short-Name", "Extension-Name", "Implementation-Title"]
        .iter()
        .find_map(|k| manifest.get(k))
        .unwrap_or("")
        .to_owned()
}

/// The main package's version: the file name's, else the manifest's
/// `Implementation-Version`, `Specification-Version`, `Plugin-Version`, then
/// `Bundle-Version` (syft stops before the last one).
pub fn select_version(manifest: &Manifest, file_version: &str) -> String {
    if !file_version.is_empty() {
        return file_version.to_owned();
    }
    ["Implementation-Version", "Specification-Version", "Plugin-Version", "Bundle-Version"]
        .iter()
        .find_map(|k| manifest.get_any(k))
        .unwrap_or("")
        .to_owned()
}

/// A Maven group id guessed from the manifest when no `pom.properties` gives one:
/// the first of `Implementation-Vendor-Id`, `Bundle-SymbolicName`, `Extension-Name`,
/// `Automatic-Module-Name`, `Implementation-Title` that looks like a reversed domain name,
/// without OSGi directives.
pub fn group_from_manifest(manifest: &Manifest) -> Option<String> {
    const TLDS: [&str; 12] = ["com.", "org.", "net.", "io.", "edu.", "gov.", "de.", "uk.", "jp.", "fr.", "ch.", "eu."];
    [
        "Implementation-Vendor-Id",
        "Bundle-SymbolicName",
        "Extension-Name",
        "Automatic-Module-Name",
        "Implementation-Title",
    ]
    .iter()
    .filter_map(|k| manifest.get(k))
    .map(|v| v.split(';').next().unwrap_or("").trim())
    .find(|v| TLDS.iter().any(|t| v.starts_with(t)) && !v.contains(char::is_whitespace))
    .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        let nv = |f: &str| {
            let (n, v) = name_version_from_file_name(f);
            format!("{n}|{v}")
        };
        assert_eq!(nv("commons-cli-1.5.0.jar"), "commons-cli|1.5.0");
        assert_eq!(nv("/x/spring-boot-3.2.0-SNAPSHOT.jar"), "spring-boot|3.2.0-SNAPSHOT");
        assert_eq!(nv("my-http2-server-5.jar"), "my-http2-server|5");
        assert_eq!(nv("commons-lang3.jar"), "commons-lang3|");
        assert_eq!(nv("jetpack-build235-rc5.jar"), "jetpack|build235-rc5");
        assert_eq!(nv("foo_1.2.jar"), "foo|1.2");
        assert_eq!(nv("guava-31.1-jre.jar"), "guava|31.1-jre");
        assert_eq!(nv("1password.jar"), "|");
    }

    #[test]
    fn manifests() {
        let m = parse_manifest(
            "Manifest-Version: 1.0\r\nImplementation-Title: very long\r\n  title\r\n\r\nName: a/b\r\nSpecification-Version: 2\r\n",
        );
        assert_eq!(m.get("implementation-title"), Some("very long title"));
        assert_eq!(m.get("Specification-Version"), None);
        assert_eq!(m.get_any("Specification-Version"), Some("2"));
    }
}
