//! Node: installed `package.json` files, every lockfile format, and the rule that keeps
//! lockfiles from counting installed packages twice. The lockfiles in data/lang/npm/app
//! were written by npm 10, yarn 1.22 and pnpm 9 for the same project.

use crate::lang_support;

use inventory::lang::npm::{NpmAnalyzer, parse_package_json};
use inventory::lang::npm_lock::{parse_package_lock, parse_pnpm_lock, parse_yarn_lock};
use lang_support::{TestImage, check, data, no_panic};

fn analyzer() -> Box<NpmAnalyzer> {
    Box::default()
}

#[test]
fn installed_packages_win_over_lockfiles() {
    let mut img = TestImage::new();
    img.add(1, "/app/package.json", &data("npm/app/package.json"))
        .add(1, "/app/package-lock.json", &data("npm/app/package-lock.json"))
        .add(1, "/app/yarn.lock", &data("npm/app/yarn.lock"))
        .add(1, "/app/pnpm-lock.yaml", &data("npm/app/pnpm-lock.yaml"))
        .add(2, "/app/node_modules/debug/package.json", &data("npm/app/node_modules/debug/package.json"))
        .add(2, "/app/node_modules/@types/ms/package.json", &data("npm/app/node_modules/@types/ms/package.json"))
        .add(2, "/app/node_modules/debug/src/package.json", br#"{"type": "commonjs"}"#)
        .add(0, "/usr/lib/node_modules/old/package.json", &data("npm/old-license.package.json"));
    check(
        &img,
        analyzer(),
        "
        demo-web 1.0.0 pkg:npm/demo-web@1.0.0 L1 /app/package.json
        debug 4.3.4 pkg:npm/debug@4.3.4 L2 /app/node_modules/debug/package.json [MIT]
        @types/ms 0.7.34 pkg:npm/%40types/ms@0.7.34 L2 /app/node_modules/@types/ms/package.json [MIT]
        @acme/old-widget 0.2.0 pkg:npm/%40acme/old-widget@0.2.0 L0 /usr/lib/node_modules/old/package.json [MIT, Apache-2.0]
        ",
    );
}

#[test]
fn lockfiles_without_node_modules() {
    let mut img = TestImage::new();
    img.add(1, "/srv/npm/package-lock.json", &data("npm/app/package-lock.json"))
        .add(1, "/srv/v1/package-lock.json", &data("npm/package-lock.v1.json"))
        .add(1, "/srv/pnpm9/pnpm-lock.yaml", &data("npm/app/pnpm-lock.yaml"))
        .add(1, "/srv/pnpm6/pnpm-lock.yaml", &data("npm/pnpm-lock.v6.yaml"))
        .add(1, "/srv/pnpm5/pnpm-lock.yaml", &data("npm/pnpm-lock.v5.yaml"))
        .add(1, "/srv/yarn/yarn.lock", &data("npm/app/yarn.lock"))
        .add(1, "/srv/berry/yarn.lock", &data("npm/yarn-berry.lock"));
    check(
        &img,
        analyzer(),
        "
        @types/ms 0.7.34 pkg:npm/%40types/ms@0.7.34 L1 /srv/npm/package-lock.json
        debug 4.3.4 pkg:npm/debug@4.3.4 L1 /srv/npm/package-lock.json
        ms 2.1.2 pkg:npm/ms@2.1.2 L1 /srv/npm/package-lock.json
        ms 2.1.3 pkg:npm/ms@2.1.3 L1 /srv/npm/package-lock.json

        express 4.17.1 pkg:npm/express@4.17.1 L1 /srv/v1/package-lock.json
        debug 2.6.9 pkg:npm/debug@2.6.9 L1 /srv/v1/package-lock.json
        string-width 4.2.3 pkg:npm/string-width@4.2.3 L1 /srv/v1/package-lock.json

        @types/ms 0.7.34 pkg:npm/%40types/ms@0.7.34 L1 /srv/pnpm9/pnpm-lock.yaml
        debug 4.3.4 pkg:npm/debug@4.3.4 L1 /srv/pnpm9/pnpm-lock.yaml
        is-number 7.0.0 pkg:npm/is-number@7.0.0 L1 /srv/pnpm9/pnpm-lock.yaml
        ms 2.1.2 pkg:npm/ms@2.1.2 L1 /srv/pnpm9/pnpm-lock.yaml
        ms 2.1.3 pkg:npm/ms@2.1.3 L1 /srv/pnpm9/pnpm-lock.yaml

        js-tokens 4.0.0 pkg:npm/js-tokens@4.0.0 L1 /srv/pnpm6/pnpm-lock.yaml
        react 18.2.0 pkg:npm/react@18.2.0 L1 /srv/pnpm6/pnpm-lock.yaml
        react-dom 18.2.0 pkg:npm/react-dom@18.2.0 L1 /srv/pnpm6/pnpm-lock.yaml

        @babel/core 7.0.0 pkg:npm/%40babel/core@7.0.0 L1 /srv/pnpm5/pnpm-lock.yaml
        lodash 4.17.21 pkg:npm/lodash@4.17.21 L1 /srv/pnpm5/pnpm-lock.yaml

        @types/ms 0.7.34 pkg:npm/%40types/ms@0.7.34 L1 /srv/yarn/yarn.lock
        debug 4.3.4 pkg:npm/debug@4.3.4 L1 /srv/yarn/yarn.lock
        is-number 7.0.0 pkg:npm/is-number@7.0.0 L1 /srv/yarn/yarn.lock
        ms 2.1.2 pkg:npm/ms@2.1.2 L1 /srv/yarn/yarn.lock
        ms 2.1.3 pkg:npm/ms@2.1.3 L1 /srv/yarn/yarn.lock

        @babel/code-frame 7.22.13 pkg:npm/%40babel/code-frame@7.22.13 L1 /srv/berry/yarn.lock
        resolve 1.22.8 pkg:npm/resolve@1.22.8 L1 /srv/berry/yarn.lock
        ",
    );
}

#[test]
fn lockfiles_in_one_directory_count_each_package_once() {
    let mut img = TestImage::new();
    img.add(1, "/srv/both/package-lock.json", &data("npm/app/package-lock.json")).add(
        2,
        "/srv/both/yarn.lock",
        &data("npm/app/yarn.lock"),
    );
    // package-lock.json wins for the four it shares; yarn.lock cannot tell that
    // is-number is a dev dependency, so it adds it.
    check(
        &img,
        analyzer(),
        "
        @types/ms 0.7.34 pkg:npm/%40types/ms@0.7.34 L1 /srv/both/package-lock.json
        debug 4.3.4 pkg:npm/debug@4.3.4 L1 /srv/both/package-lock.json
        ms 2.1.2 pkg:npm/ms@2.1.2 L1 /srv/both/package-lock.json
        ms 2.1.3 pkg:npm/ms@2.1.3 L1 /srv/both/package-lock.json
        is-number 7.0.0 pkg:npm/is-number@7.0.0 L2 /srv/both/yarn.lock
        ",
    );
}

#[test]
fn a_deleted_node_modules_brings_the_lockfile_back() {
    let mut img = TestImage::new();
    img.add(0, "/app/package-lock.json", &data("npm/app/package-lock.json"))
        .add(0, "/app/node_modules/debug/package.json", &data("npm/app/node_modules/debug/package.json"))
        .whiteout("/app/node_modules");
    let (packages, problems) = img.run(analyzer());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(packages.len(), 4, "{packages:#?}");
    assert!(packages.iter().all(|p| p.location == "/app/package-lock.json"));
}

#[test]
fn broken_json_is_a_problem() {
    let mut img = TestImage::new();
    img.add(0, "/app/node_modules/x/package.json", b"{\"name\": \"x\", ");
    let (packages, problems) = img.run(analyzer());
    assert!(packages.is_empty());
    assert_eq!(problems.len(), 1);
    assert!(problems[0].message.starts_with("not valid JSON"), "{problems:?}");
}

#[test]
fn parsers_never_panic() {
    no_panic(&data("npm/app/node_modules/debug/package.json"), 1, 1000, None, |b| {
        let _ = parse_package_json(b);
    });
    no_panic(&data("npm/package-lock.v1.json"), 1, 1000, None, |b| {
        let _ = parse_package_lock(b);
    });
    no_panic(&data("npm/app/package-lock.json"), 1, 1000, None, |b| {
        let _ = parse_package_lock(b);
    });
    for f in ["npm/app/yarn.lock", "npm/yarn-berry.lock"] {
        no_panic(&data(f), 1, 1000, None, |b| {
            let _ = parse_yarn_lock(b);
        });
    }
    for f in ["npm/app/pnpm-lock.yaml", "npm/pnpm-lock.v6.yaml", "npm/pnpm-lock.v5.yaml"] {
        no_panic(&data(f), 1, 1000, None, |b| {
            let _ = parse_pnpm_lock(b);
        });
    }
}
