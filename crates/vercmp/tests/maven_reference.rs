//! Maven ordering checked against Maven's own `ComparableVersion`, from the maven-artifact jar that the Debian
//! `maven` package installs, in one `java` process.

use crate::common;

use std::path::{Path, PathBuf};

use common::{PAIRS, Rng, make_pairs, missing, outcome, run_batch};

/// The maven-artifact jar of the installed Maven.
fn artifact_jar() -> Option<PathBuf> {
    let dir = Path::new("/usr/share/maven/lib");
    let mut jars: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("maven-artifact-") && n.ends_with(".jar"))
        })
        .collect();
    jars.sort();
    jars.pop()
}

fn segment(rng: &mut Rng) -> String {
    match rng.below(14) {
        0..=5 => rng.number(),
        6..=8 => rng
            .pick(&[
                "alpha",
                "a",
                "beta",
                "b",
                "m",
                "milestone",
                "rc",
                "cr",
                "snapshot",
                "SNAPSHOT",
                "ga",
                "GA",
                "final",
                "Final",
                "release",
                "RELEASE",
                "sp",
                "SP",
                "foo",
                "xyz",
                "jre",
                "dev",
                "",
                "ü",
                "Ä",
            ])
            .to_owned(),
        9 => format!("{}{}", rng.pick(&["a", "b", "m", "rc", "sp", "x", "RC"]), rng.number()),
        10 => format!("{}{}", rng.number(), rng.pick(&["a", "b", "rc", "-1", "ga", "final", "sp"])),
        11 => rng.pick(&["0", "00", "0000000000", &"0".repeat(19)]).to_owned(),
        _ => rng.below(3).to_string(),
    }
}

fn version(rng: &mut Rng) -> String {
    let mut v = if rng.percent(90) { rng.number() } else { segment(rng) };
    for _ in 0..rng.below(6) {
        v.push_str(rng.pick(&[".", ".", ".", "-", "-", "", "_"]));
        v.push_str(&segment(rng));
    }
    if rng.percent(5) {
        v.push_str(rng.pick(&[".", "-", "--", ".."]));
    }
    v
}

#[test]
fn maven_agrees_with_comparable_version() {
    let Some(jar) = artifact_jar() else {
        missing("Maven's maven-artifact jar", "apt-get install -y maven");
    };
    if !common::runs("javac", &["-version"]) {
        missing("javac", "apt-get install -y openjdk-17-jdk-headless");
    }
    let classes = Path::new(env!("CARGO_TARGET_TMPDIR")).join("vercmp-maven");
    std::fs::create_dir_all(&classes).unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/maven/CompareVersions.java");
    let jar = jar.to_str().unwrap();
    let status = std::process::Command::new("javac")
        .args(["-d", classes.to_str().unwrap(), "-cp", jar, source.to_str().unwrap()])
        .status()
        .expect("running javac");
    assert!(status.success(), "javac failed on {}", source.display());

    let mut rng = Rng::new(0x6d76_6e00);
    let pool: Vec<String> = (0..5000).map(|_| version(&mut rng)).collect();
    let pairs = make_pairs(&mut rng, pool, PAIRS);
    let classpath = format!("{}:{jar}", classes.display());
    let theirs = run_batch("java", &["-cp", &classpath, "CompareVersions"], None, common::encode(&pairs));
    common::assert_agree("maven", &pairs, &theirs, |a, b| outcome::<()>(Ok(vercmp::maven::compare(a, b))));
}
