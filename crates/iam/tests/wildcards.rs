//! Wildcard patterns: which actions each form matches, and agreement with a regular-expression reference.

use iam::{Action, ActionPattern, PatternError};
use proptest::prelude::*;

use crate::common::actions_where;

fn matched_by(pattern: &str) -> Vec<Action> {
    let pattern = ActionPattern::parse(pattern).unwrap_or_else(|error| panic!("{pattern}: {error}"));
    actions_where(|action| pattern.matches(action))
}

#[test]
fn every_verb_of_one_kind() {
    let lists = matched_by("cgs:*:list");
    assert_eq!(lists, actions_where(|action| action.as_str().ends_with(":list")));
    assert_eq!(lists.len(), 6);
}

#[test]
fn every_verb_of_one_resource() {
    assert_eq!(matched_by("cgs:cluster:*"), [Action::ClusterList, Action::ClusterOperate]);
    assert_eq!(
        matched_by("cgs:runtimeSecure:*"),
        [Action::RuntimeSecureList, Action::RuntimeSecureGet, Action::RuntimeSecureOperate]
    );
}

#[test]
fn the_whole_service_and_everything() {
    assert_eq!(matched_by("cgs:*"), Action::ALL);
    assert_eq!(matched_by("*"), Action::ALL);
    assert_eq!(matched_by("*:*:*"), Action::ALL);
    assert_eq!(matched_by("*:*"), Action::ALL);
}

#[test]
fn case_is_ignored() {
    assert_eq!(matched_by("CGS:Cluster:List"), [Action::ClusterList]);
    assert_eq!(matched_by("cgs:IMAGESECURE:*"), matched_by("cgs:imageSecure:*"));
    assert_eq!(matched_by("Cgs:*:GET"), matched_by("cgs:*:get"));
}

#[test]
fn stars_inside_a_part() {
    assert_eq!(matched_by("cgs:im*:get"), [Action::ImagesGet, Action::ImageSecureGet]);
    assert_eq!(matched_by("cgs:*Secure:operate"), [Action::ImageSecureOperate, Action::RuntimeSecureOperate]);
    assert_eq!(matched_by("c*:quota:*t"), [Action::QuotaGet, Action::QuotaList]);
}

#[test]
fn a_star_spans_colons() {
    // In `service:*` the star stands for `resource:verb`, colon included, and for longer names of other services.
    let service = ActionPattern::parse("hss:*").unwrap();
    assert!(service.matches_name("hss:commonIPs:set"));
    assert!(service.matches_name("hss:a:b:c"));
    assert!(!service.matches_name("hss"));
    assert!(ActionPattern::any().matches_name("any:thing:at:all"));
    assert!(ActionPattern::parse("cgs:*e").is_err(), "a two-part pattern ends in a lone star");
}

#[test]
fn other_services_never_match_cgs_actions() {
    for pattern in ["hss:*", "hss:commonIPs:set", "cce:cluster:list", "cgsx:cluster:list", "*:cluster:lists"] {
        assert_eq!(matched_by(pattern), [], "{pattern}");
    }
    let hss = ActionPattern::parse("hss:*").unwrap();
    assert!(hss.matches_name("hss:commonIPs:set"));
    assert!(hss.matches_name("HSS:commonips:SET"));
}

/// The reference: the pattern as an anchored, case-insensitive regular expression where `*` is `.*`.
fn reference(pattern: &str) -> regex::Regex {
    let body: Vec<String> = pattern.split('*').map(regex::escape).collect();
    regex::RegexBuilder::new(&format!("^(?s:{})$", body.join(".*"))).case_insensitive(true).build().unwrap()
}

/// Valid patterns of other services (so that the cgs typo checks never reject them), with many stars and
/// repeated letters to exercise backtracking.
fn other_service_pattern() -> impl Strategy<Value = String> {
    ("[ab*]{1,4}x", "[abAB*]{1,6}", "[abAB*0]{1,6}")
        .prop_map(|(service, resource, verb)| format!("{service}:{resource}:{verb}"))
}

proptest! {
    #[test]
    fn matching_agrees_with_the_reference(pattern in other_service_pattern(), name in "[abAB:x0]{0,16}") {
        let parsed = ActionPattern::parse(&pattern).unwrap();
        let expected = reference(&pattern).is_match(&name);
        prop_assert_eq!(parsed.matches_name(&name), expected, "{} against {}", pattern, name);
    }

    /// Names made from the pattern itself, so that about half of them match.
    #[test]
    fn matching_agrees_with_the_reference_on_near_names(
        pattern in other_service_pattern(),
        fills in prop::collection::vec("[abAB:x0]{0,3}", 12),
        case_flips in any::<u16>(),
        damage in prop::option::of((0..20usize, "[abx:]")),
    ) {
        let mut fills = fills.iter().cycle();
        let mut name = String::new();
        for (i, c) in pattern.chars().enumerate() {
            match c {
                '*' => name.push_str(fills.next().unwrap()),
                c if case_flips >> (i % 16) & 1 == 1 => name.push(c.to_ascii_uppercase()),
                c => name.push(c),
            }
        }
        if let Some((at, replacement)) = damage
            && at < name.len()
        {
            name.replace_range(at..=at, &replacement);
        }
        let parsed = ActionPattern::parse(&pattern).unwrap();
        let expected = reference(&pattern).is_match(&name);
        prop_assert_eq!(parsed.matches_name(&name), expected, "{} against {}", pattern, name);
    }

    #[test]
    fn cgs_patterns_agree_with_the_reference((index, edits) in (0..Action::ALL.len(), prop::collection::vec(0..8u8, 30))) {
        let pattern = mutate(Action::ALL[index].as_str(), &edits);
        let expected = reference(&pattern);
        let matching = actions_where(|action| expected.is_match(action.as_str()));
        match ActionPattern::parse(&pattern) {
            Ok(parsed) => {
                prop_assert_eq!(actions_where(|action| parsed.matches(action)), matching, "{}", pattern);
            }
            // A cgs pattern is refused exactly when it matches no action.
            Err(error) => {
                prop_assert!(matching.is_empty(), "{} refused: {}", pattern, error);
                prop_assert!(
                    matches!(error, PatternError::UnknownCgsAction { .. } | PatternError::MatchesNoCgsAction { .. }),
                    "{} refused: {}", pattern, error
                );
            }
        }
    }
}

/// An action name with some characters other than `:` turned into stars, upper case or a `q`.
fn mutate(name: &str, edits: &[u8]) -> String {
    name.chars()
        .zip(edits.iter().cycle())
        .map(|(c, edit)| match (c, edit) {
            (':', _) => ':',
            (_, 0 | 1) => '*',
            (_, 2) => c.to_ascii_uppercase(),
            (_, 3) => 'q',
            _ => c,
        })
        .collect()
}
