//! Every language analyzer at once over one image, as the inventory runs them: each file
//! goes to the analyzers that want it, and each kind of package is found once.

use crate::lang_support;

use inventory::PackageType;
use lang_support::{TestImage, data};

#[test]
fn all_analyzers_together() {
    let mut img = TestImage::new();
    img.add(
        0,
        "/usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
        &data("python/six-1.16.0.dist-info/METADATA"),
    )
    .add(0, "/app/node_modules/debug/package.json", &data("npm/app/node_modules/debug/package.json"))
    .add_mode(1, "/usr/bin/hello-go", &data("go/hello-go"), 0o755)
    .add_mode(1, "/usr/bin/hello-rust", &data("rust/hello-rust"), 0o755)
    .add(1, "/src/Cargo.lock", &data("cargo/Cargo.v1.lock"))
    .add(2, "/opt/commons-cli-1.5.0.jar", &data("java/commons-cli-1.5.0.jar"))
    .add(2, "/gems/specifications/rake-13.0.6.gemspec", &data("gem/rake-13.0.6.gemspec"))
    .add(2, "/www/vendor/composer/installed.json", &data("composer/installed.v1.json"));
    let (packages, problems) = img.run_all(inventory::lang::analyzers());
    assert!(problems.is_empty(), "{problems:?}");
    let count = |kind: PackageType| packages.iter().filter(|p| p.kind == kind).count();
    assert_eq!(count(PackageType::Python), 1);
    assert_eq!(count(PackageType::Npm), 1);
    assert_eq!(count(PackageType::GoModule), 3);
    assert_eq!(count(PackageType::Cargo), 3, "two from the binary, one from Cargo.lock");
    assert_eq!(count(PackageType::Maven), 1);
    assert_eq!(count(PackageType::Gem), 1);
    assert_eq!(count(PackageType::Composer), 2);
    assert_eq!(packages.len(), 12);
}
