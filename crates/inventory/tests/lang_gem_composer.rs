//! Ruby gems (gemspecs as RubyGems 3 and 1.8 write them; the Ruby 3.1 ones come from
//! Debian's ruby package) and PHP Composer (installed.json v1 and v2, composer.lock).

use crate::lang_support;

use inventory::lang::composer::{ComposerAnalyzer, parse_composer_lock, parse_installed_json};
use inventory::lang::gem::{GemAnalyzer, parse_gemspec};
use lang_support::{TestImage, check, data, no_panic};

const GEMS: &str = "/usr/lib/ruby/gems/3.1.0";

#[test]
fn installed_gems() {
    let mut img = TestImage::new();
    img.add(0, &format!("{GEMS}/specifications/rake-13.0.6.gemspec"), &data("gem/rake-13.0.6.gemspec"))
        .add(0, &format!("{GEMS}/gems/rake-13.0.6/exe/rake"), b"#!/usr/bin/env ruby\n")
        .add(0, &format!("{GEMS}/gems/rake-13.0.6/lib/rake.rb"), b"module Rake; end\n")
        .add(
            0,
            &format!("{GEMS}/specifications/default/bigdecimal-3.1.1.gemspec"),
            &data("gem/bigdecimal-3.1.1.gemspec"),
        )
        .add(2, "/usr/local/bundle/specifications/json-1.8.3.gemspec", &data("gem/json-1.8.3.gemspec"))
        // Not under specifications/: a project's own gemspec, not an installed gem.
        .add(2, "/app/mygem.gemspec", &data("gem/rake-13.0.6.gemspec"));
    check(
        &img,
        Box::<GemAnalyzer>::default(),
        "
        rake 13.0.6 pkg:gem/rake@13.0.6 L0 /usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec [MIT] (3 files)
        bigdecimal 3.1.1 pkg:gem/bigdecimal@3.1.1 L0 /usr/lib/ruby/gems/3.1.0/specifications/default/bigdecimal-3.1.1.gemspec [Ruby] (1 files)
        json 1.8.3 pkg:gem/json@1.8.3 L2 /usr/local/bundle/specifications/json-1.8.3.gemspec [Ruby] (1 files)
        ",
    );
}

#[test]
fn a_gemspec_without_a_name_is_a_problem() {
    let mut img = TestImage::new();
    img.add(0, &format!("{GEMS}/specifications/x.gemspec"), b"Gem::Specification.new do |s|\nend\n");
    let (packages, problems) = img.run(Box::<GemAnalyzer>::default());
    assert!(packages.is_empty());
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].message, "gemspec assigns no name or no version");
}

#[test]
fn composer_installed_and_locked() {
    let mut img = TestImage::new();
    img.add(1, "/var/www/vendor/composer/installed.json", &data("composer/installed.v2.json"))
        // Installed packages exist next to this lockfile: it is not reported.
        .add(1, "/var/www/composer.lock", &data("composer/composer.lock"))
        .add(2, "/srv/old/vendor/composer/installed.json", &data("composer/installed.v1.json"))
        // Nothing installed here: the lockfile's non-dev packages are reported.
        .add(3, "/srv/src/composer.lock", &data("composer/composer.lock"));
    check(
        &img,
        Box::<ComposerAnalyzer>::default(),
        "
        monolog/monolog 3.5.0 pkg:composer/monolog/monolog@3.5.0 L1 /var/www/vendor/composer/installed.json [MIT]
        psr/log 3.0.0 pkg:composer/psr/log@3.0.0 L1 /var/www/vendor/composer/installed.json [MIT]
        phpunit/phpunit 10.5.3 pkg:composer/phpunit/phpunit@10.5.3 L1 /var/www/vendor/composer/installed.json [BSD-3-Clause]
        symfony/polyfill-mbstring v1.28.0 pkg:composer/symfony/polyfill-mbstring@v1.28.0 L2 /srv/old/vendor/composer/installed.json [MIT]
        guzzlehttp/guzzle 6.5.8 pkg:composer/guzzlehttp/guzzle@6.5.8 L2 /srv/old/vendor/composer/installed.json [MIT]
        laravel/framework v10.38.2 pkg:composer/laravel/framework@v10.38.2 L3 /srv/src/composer.lock [MIT]
        psr/log 3.0.0 pkg:composer/psr/log@3.0.0 L3 /srv/src/composer.lock [MIT]
        ",
    );
}

#[test]
fn parsers_never_panic() {
    for f in ["gem/rake-13.0.6.gemspec", "gem/json-1.8.3.gemspec"] {
        no_panic(&data(f), 1, 1000, None, |b| {
            let _ = parse_gemspec(b);
        });
    }
    for f in ["composer/installed.v1.json", "composer/installed.v2.json"] {
        no_panic(&data(f), 1, 1000, None, |b| {
            let _ = parse_installed_json(b);
        });
    }
    no_panic(&data("composer/composer.lock"), 1, 1000, None, |b| {
        let _ = parse_composer_lock(b);
    });
}
