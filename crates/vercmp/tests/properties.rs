//! Order properties of every scheme: no panic on any input, reflexivity, antisymmetry, transitivity (checked as
//! consistency of sorted lists and over triples), on arbitrary strings and on version-like strings built from
//! each scheme's vocabulary, where comparisons are varied enough to matter.

use std::cmp::Ordering;

use proptest::prelude::*;
use vercmp::{Scheme, compare};

/// Version-like strings for a scheme: valid versions mostly, with the odd corner.
fn like(scheme: Scheme) -> BoxedStrategy<String> {
    let pattern = match scheme {
        Scheme::Dpkg => "([0-9]{1,2}:)?[0-9][0-9a-zA-Z.~+]{0,7}(-[0-9a-z.~+]{1,4})?",
        Scheme::Rpm => "([0-9]{1,2}:)?[0-9a-zA-Z.~^_+]{1,9}(-[0-9a-z.~^]{1,4})?",
        Scheme::Apk => {
            "[0-9]{1,3}(\\.0?[0-9]{1,2}){0,3}[a-c]?(_(alpha|beta|pre|rc|cvs|p|git)[0-9]{0,2}){0,2}(~[0-9a-f]{1,3})?(-r[0-9]{1,2})?[._a-z-]{0,1}"
        }
        Scheme::Semver => {
            "v?(0|[1-9][0-9]{0,2})\\.(0|[1-9])\\.(0|[1-9]|11)(-(alpha|beta|rc|0|1|2|11|a-b)(\\.(alpha|beta|0|1|2|11)){0,2})?(\\+[a-z0-9]{1,3})?"
        }
        Scheme::Cargo => {
            "(0|[1-9][0-9]{0,2})\\.(0|[1-9])\\.(0|[1-9]|11)(-(alpha|beta|rc|0|1|2|11|a-b)(\\.(alpha|beta|0|1|2|11)){0,2})?(\\+(0|00|1|01|a|b)(\\.(0|01|x)){0,2})?"
        }
        Scheme::Pep440 => {
            "v?([0-9]!)?[0-9]{1,2}(\\.[0-9]{1,2}){0,3}((a|b|rc|alpha|c|pre)[0-9]{0,2})?(\\.post[0-9]{0,2}|-[0-9])?(\\.dev[0-9]{0,2})?(\\+[a-z0-9]{1,3}([._-][a-z0-9]{1,3}){0,2})?"
        }
        // Maven's own order has cycles where a word and a nested list meet at one position (`5.sp-1` < `5-alpha`
        // < `5` < `5.sp-1`), and the module reproduces them; so words appear here only right after a `-`, the
        // shape of nearly all published versions, where the order is transitive.
        Scheme::Maven => {
            "[0-9]{1,2}(\\.[0-9]{1,2}){0,3}(-(alpha|beta|rc|cr|sp|ga|final|snapshot|a|b|m|x)([1-9]|-[1-9])?)?"
        }
        Scheme::Go => {
            "v(0|[1-9][0-9]?)(\\.(0|[1-9][0-9]?)(\\.(0|[1-9])(-(alpha|beta|0|1|20210101000000-abcdef123456)(\\.(0|1|rc)){0,2})?(\\+incompatible)?)?)?"
        }
        Scheme::RubyGems => "[0-9]{1,2}(\\.([0-9]{1,2}|[a-cA]|rc[0-9]|pre)){0,4}(-[a-z0-9]{1,3})?",
    };
    pattern.prop_map(|s: String| s).boxed()
}

/// Anything at all, or something version-like, or a version-like string with noise.
fn any_input(scheme: Scheme) -> BoxedStrategy<String> {
    prop_oneof![any::<String>(), "\\PC{0,20}", like(scheme), (like(scheme), any::<String>()).prop_map(|(a, b)| a + &b)]
        .boxed()
}

fn scheme() -> impl Strategy<Value = Scheme> {
    proptest::sample::select(Scheme::ALL.to_vec())
}

fn with_like_triple() -> impl Strategy<Value = (Scheme, String, String, String)> {
    scheme().prop_flat_map(|s| (Just(s), like(s), like(s), like(s)))
}

fn with_like_list() -> impl Strategy<Value = (Scheme, Vec<String>)> {
    scheme().prop_flat_map(|s| (Just(s), proptest::collection::vec(like(s), 2..12)))
}

fn with_any_pair() -> impl Strategy<Value = (Scheme, String, String)> {
    scheme().prop_flat_map(|s| (Just(s), any_input(s), any_input(s)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn never_panics_and_is_antisymmetric_on_any_input((scheme, a, b) in with_any_pair()) {
        let ab = compare(scheme, &a, &b);
        let ba = compare(scheme, &b, &a);
        prop_assert_eq!(ab.is_ok(), ba.is_ok(), "{}: {:?} / {:?}", scheme, a, b);
        if let (Ok(ab), Ok(ba)) = (ab, ba) {
            prop_assert_eq!(ab, ba.reverse(), "{}: {:?} vs {:?}", scheme, a, b);
        }
        if let Ok(aa) = compare(scheme, &a, &a) {
            prop_assert_eq!(aa, Ordering::Equal, "{}: {:?} vs itself", scheme, a);
        }
    }

    #[test]
    fn version_like_strings_are_ordered_consistently((scheme, a, b, c) in with_like_triple()) {
        for (x, y) in [(&a, &b), (&b, &c), (&a, &c)] {
            let (xy, yx) = (compare(scheme, x, y), compare(scheme, y, x));
            prop_assert_eq!(xy.is_ok(), yx.is_ok());
            if let (Ok(xy), Ok(yx)) = (xy, yx) {
                prop_assert_eq!(xy, yx.reverse(), "{}: {:?} vs {:?}", scheme, x, y);
            }
        }
        if let (Ok(ab), Ok(bc), Ok(ac)) = (compare(scheme, &a, &b), compare(scheme, &b, &c), compare(scheme, &a, &c)) {
            // If a <= b <= c then a <= c, strictly so if either step is strict; likewise for >=.
            for (step1, step2, whole, dir) in [(ab, bc, ac, Ordering::Less), (ab, bc, ac, Ordering::Greater)] {
                if step1 != dir.reverse() && step2 != dir.reverse() {
                    let want = if step1 == dir || step2 == dir { dir } else { Ordering::Equal };
                    prop_assert_eq!(whole, want, "{}: {:?} {:?} {:?}", scheme, a, b, c);
                }
            }
        }
    }

    #[test]
    fn sorting_gives_a_consistent_order((scheme, list) in with_like_list()) {
        let mut valid: Vec<&String> = list.iter().filter(|v| compare(scheme, v, v).is_ok()).collect();
        valid.sort_by(|x, y| compare(scheme, x, y).unwrap());
        for (i, x) in valid.iter().enumerate() {
            for y in &valid[i + 1..] {
                prop_assert_ne!(compare(scheme, x, y).unwrap(), Ordering::Greater, "{}: {:?} sorted before {:?}", scheme, x, y);
            }
        }
    }
}

/// The strategies must produce mostly valid versions, or the properties above would check little.
#[test]
fn like_strategies_produce_valid_versions() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    for scheme in Scheme::ALL {
        let strategy = like(scheme);
        let valid = (0..200)
            .filter(|_| {
                let v = strategy.new_tree(&mut runner).unwrap().current();
                compare(scheme, &v, &v).is_ok()
            })
            .count();
        assert!(valid > 150, "{scheme}: only {valid} of 200 generated versions are valid");
    }
}
