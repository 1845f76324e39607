//! Acceptance: cguard's inventory agrees with syft 1.18.1 and trivy 0.76 on real images
//! built here. Every accepted difference is listed in docs/inventory-differences.md and
//! named in the test that allows it.

use crate::common;

use common::*;

const OS_TYPES: &[&str] = &["deb", "rpm", "apk"];

fn check_os_packages_equal(image_file: &str) {
    let archive = image(image_file);
    let ours = of_type(&cguard_packages(&archive), OS_TYPES);
    assert!(!ours.is_empty(), "cguard found no OS packages in {image_file}");
    let syft = of_type(&syft_packages(&archive), OS_TYPES);
    assert_eq!(ours, syft, "OS packages differ from syft on {image_file}\n{}", diff(&ours, &syft, "syft"));
    let trivy = of_type(&trivy_packages(&archive), OS_TYPES);
    assert_eq!(ours, trivy, "OS packages differ from trivy on {image_file}\n{}", diff(&ours, &trivy, "trivy"));
}

#[test]
fn minbase_os_packages_match_peers() {
    check_os_packages_equal("minbase.tar");
}

#[test]
fn extra_os_packages_match_peers() {
    check_os_packages_equal("extra.tar");
}

#[test]
fn lang_os_packages_match_peers() {
    check_os_packages_equal("lang.tar");
}

#[test]
fn rpm_root_packages_match_peers() {
    check_os_packages_equal("rpm.tar");
}

#[test]
fn lang_image_language_packages_cover_syft() {
    let archive = image("lang.tar");
    let lang_types = &["pypi", "npm", "golang", "cargo", "maven", "gem", "composer"];
    // Python names compare in PEP 503 normal form: syft reports `flask` where the package
    // metadata (and cguard) says `Flask` (docs/inventory-differences.md).
    let normal = |set: std::collections::BTreeSet<Pkg>| -> std::collections::BTreeSet<Pkg> {
        set.into_iter()
            .map(|(k, n, v)| if k == "pypi" { (k, vulndb::matcher::pep503(&n), v) } else { (k, n, v) })
            .collect()
    };
    let ours = of_type(&normal(cguard_packages(&archive)), lang_types);
    let syft = of_type(&normal(syft_packages(&archive)), lang_types);
    let missing: Vec<_> = syft.difference(&ours).collect();
    assert!(missing.is_empty(), "syft finds language packages cguard misses: {missing:?}");
    assert!(ours.iter().any(|(n, v)| n == "requests" && v == "2.31.0"), "{ours:?}");
    assert!(ours.iter().any(|(n, v)| n == "flask" && v == "2.2.5"), "{ours:?}");
    assert!(ours.iter().any(|(n, v)| n == "express" && v == "4.18.2"), "{ours:?}");
}
