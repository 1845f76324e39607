//! Python distributions: wheels (dist-info with RECORD), eggs (egg-info directory and
//! file), layer attribution and shadowing.

use crate::lang_support;

use inventory::lang::python::{PythonAnalyzer, parse_metadata, parse_record};
use lang_support::{TestImage, check, data, no_panic};

const SITE: &str = "/usr/local/lib/python3.11/site-packages";

fn analyzer() -> Box<PythonAnalyzer> {
    Box::default()
}

#[test]
fn wheels_and_eggs() {
    let mut img = TestImage::new();
    img.add(1, &format!("{SITE}/six-1.16.0.dist-info/METADATA"), &data("python/six-1.16.0.dist-info/METADATA"))
        .add(1, &format!("{SITE}/six-1.16.0.dist-info/RECORD"), &data("python/six-1.16.0.dist-info/RECORD"))
        .add(2, &format!("{SITE}/attrs-24.2.0.dist-info/METADATA"), &data("python/attrs-24.2.0.dist-info/METADATA"))
        .add(0, "/usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info", &data("python/python_apt-2.6.0.egg-info"))
        .add(3, &format!("{SITE}/Legacy_Pkg.egg-info/PKG-INFO"), &data("python/Legacy_Pkg.egg-info/PKG-INFO"))
        .add(
            3,
            &format!("{SITE}/Legacy_Pkg.egg-info/installed-files.txt"),
            &data("python/Legacy_Pkg.egg-info/installed-files.txt"),
        );
    let packages = check(
        &img,
        analyzer(),
        "
        six 1.16.0 pkg:pypi/six@1.16.0 L1 /usr/local/lib/python3.11/site-packages/six-1.16.0.dist-info/METADATA [MIT] (9 files)
        attrs 24.2.0 pkg:pypi/attrs@24.2.0 L2 /usr/local/lib/python3.11/site-packages/attrs-24.2.0.dist-info/METADATA [MIT] (1 files)
        python-apt 2.6.0 pkg:pypi/python-apt@2.6.0 L0 /usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info [GNU GPL] (1 files)
        Legacy_Pkg 0.9 pkg:pypi/legacy-pkg@0.9 L3 /usr/local/lib/python3.11/site-packages/Legacy_Pkg.egg-info/PKG-INFO [BSD License] (4 files)
        ",
    );
    let six = packages.iter().find(|p| p.name == "six").unwrap();
    assert!(six.files.contains(&format!("{SITE}/six.py")), "{:?}", six.files);
    assert!(six.files.contains(&format!("{SITE}/__pycache__/six.cpython-311.pyc")));
    let legacy = packages.iter().find(|p| p.name == "Legacy_Pkg").unwrap();
    assert!(legacy.files.contains(&format!("{SITE}/legacy_pkg/core.py")), "{:?}", legacy.files);
}

#[test]
fn later_layers_shadow_and_delete() {
    let mut img = TestImage::new();
    let meta = |v: &str| format!("Metadata-Version: 2.1\nName: requests\nVersion: {v}\n\nbody\n");
    img.add(0, &format!("{SITE}/requests-2.0.dist-info/METADATA"), meta("2.31.0").as_bytes())
        .add(2, &format!("{SITE}/requests-2.0.dist-info/METADATA"), meta("2.32.3").as_bytes())
        .add(1, &format!("{SITE}/gone-1.0.dist-info/METADATA"), b"Name: gone\nVersion: 1.0\n")
        .whiteout(&format!("{SITE}/gone-1.0.dist-info"));
    check(
        &img,
        analyzer(),
        "requests 2.32.3 pkg:pypi/requests@2.32.3 L2 /usr/local/lib/python3.11/site-packages/requests-2.0.dist-info/METADATA (1 files)",
    );
}

#[test]
fn licences_by_precedence() {
    let lic = |text: &str| parse_metadata(text.as_bytes()).value.map(|p| p.licenses).unwrap_or_default();
    assert_eq!(
        lic("Name: a\nVersion: 1\nLicense-Expression: Apache-2.0 OR MIT\nLicense: BSD\n"),
        ["Apache-2.0 OR MIT"]
    );
    assert_eq!(
        lic("Name: a\nVersion: 1\nLicense: UNKNOWN\nClassifier: License :: OSI Approved :: MIT License\n"),
        ["MIT License"]
    );
    // A whole licence text in `License` is no licence name.
    assert_eq!(
        lic(
            "Name: a\nVersion: 1\nLicense: Copyright (c) 2020\n        Permission is granted\nClassifier: License :: OSI Approved :: ISC License (ISCL)\n"
        ),
        ["ISC License (ISCL)"]
    );
}

#[test]
fn broken_metadata_is_a_problem_only_when_visible() {
    let mut img = TestImage::new();
    img.add(0, &format!("{SITE}/x-1.dist-info/METADATA"), b"garbage without fields")
        .add(1, &format!("{SITE}/x-1.dist-info/METADATA"), b"Name: x\nVersion: 1\n")
        .add(0, &format!("{SITE}/y-1.dist-info/METADATA"), b"Summary: no name\n");
    let (packages, problems) = img.run(analyzer());
    assert_eq!(packages.len(), 1);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].path.ends_with("y-1.dist-info/METADATA"));
}

#[test]
fn parsers_never_panic() {
    no_panic(&data("python/six-1.16.0.dist-info/METADATA"), 1, 2000, None, |b| {
        let _ = parse_metadata(b);
    });
    no_panic(&data("python/six-1.16.0.dist-info/RECORD"), 1, 2000, None, |b| {
        let _ = parse_record(b);
    });
}
