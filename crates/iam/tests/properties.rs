//! Properties over random policy sets, and parsing of arbitrary input.

use std::collections::BTreeSet;

use iam::{Action, ActionPattern, Decision, Effect, PolicyDocument, Scope, Statement, allowed_actions, evaluate};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::Value;

/// Wildcard patterns users write, of this service and others.
const WILDCARDS: &[&str] = &[
    "*",
    "cgs:*",
    "cgs:*:list",
    "cgs:*:get",
    "cgs:*:operate",
    "cgs:cluster:*",
    "cgs:images:*",
    "cgs:im*:get",
    "cgs:*Secure:*",
    "CGS:Cluster:List",
    "c*:quota:*",
    "hss:*",
    "hss:commonIPs:set",
];

fn pattern() -> impl Strategy<Value = ActionPattern> {
    prop_oneof![
        select(Action::ALL.to_vec()).prop_map(ActionPattern::exact),
        select(WILDCARDS).prop_map(|text| ActionPattern::parse(text).unwrap()),
        (select(Action::ALL.to_vec()), any::<u32>()).prop_map(|(action, bits)| {
            let text: String = action
                .as_str()
                .chars()
                .enumerate()
                .map(|(i, c)| if bits >> (i % 32) & 1 == 1 { c.to_ascii_uppercase() } else { c })
                .collect();
            ActionPattern::parse(&text).unwrap()
        }),
    ]
}

fn statement_with(effect: impl Strategy<Value = Effect>) -> impl Strategy<Value = Statement> {
    (effect, prop::collection::vec(pattern(), 1..5)).prop_map(|(effect, actions)| Statement::new(effect, actions))
}

fn effect() -> impl Strategy<Value = Effect> {
    prop_oneof![3 => Just(Effect::Allow), 1 => Just(Effect::Deny)]
}

fn document() -> impl Strategy<Value = PolicyDocument> {
    prop::collection::vec(statement_with(effect()), 1..4)
        .prop_map(|statements| PolicyDocument::new(statements).unwrap())
}

fn deny_document() -> impl Strategy<Value = PolicyDocument> {
    prop::collection::vec(statement_with(Just(Effect::Deny)), 1..3)
        .prop_map(|statements| PolicyDocument::new(statements).unwrap())
}

fn documents() -> impl Strategy<Value = Vec<PolicyDocument>> {
    prop::collection::vec(document(), 0..6)
}

fn allowed(documents: &[PolicyDocument]) -> BTreeSet<Action> {
    let refs: Vec<&PolicyDocument> = documents.iter().collect();
    allowed_actions(&refs).into_iter().collect()
}

fn has_matching_deny(document: &PolicyDocument, action: Action) -> bool {
    document.statements().iter().any(|statement| statement.effect() == Effect::Deny && statement.matches(action))
}

/// A JSON value shaped like a policy often enough to reach the deep checks.
fn json_value() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        select(&["Version", "Statement", "Effect", "Action", "Condition", "Resource", "effect"][..])
            .prop_map(str::to_owned),
        "[a-zA-Z]{0,6}",
    ];
    let string = prop_oneof![
        select(&["1.1", "1.0", "Allow", "Deny", "allow", "*", "cgs:*", "cgs:cluster:list", "cgs:cluster:lst", ""][..])
            .prop_map(str::to_owned),
        "[a-zA-Z:*]{0,20}",
        any::<String>(),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>().prop_map(|number| serde_json::json!(number)),
        any::<i64>().prop_map(|number| serde_json::json!(number)),
        string.prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..5)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn adding_a_deny_never_grants(documents in documents(), deny in deny_document(), at in any::<prop::sample::Index>()) {
        let before = allowed(&documents);
        let mut with_deny = documents.clone();
        with_deny.insert(at.index(documents.len() + 1), deny.clone());
        let after = allowed(&with_deny);
        prop_assert!(after.is_subset(&before), "{:?} grew to {:?}", before, after);
        // What is lost is exactly what the Deny matches.
        for action in before.difference(&after) {
            prop_assert!(has_matching_deny(&deny, *action));
        }
    }

    #[test]
    fn removing_a_policy_grants_only_what_its_deny_refused(documents in documents(), at in any::<prop::sample::Index>()) {
        prop_assume!(!documents.is_empty());
        let index = at.index(documents.len());
        let mut remaining = documents.clone();
        let removed = remaining.remove(index);
        let before = allowed(&documents);
        let after = allowed(&remaining);
        for action in after.difference(&before) {
            prop_assert!(has_matching_deny(&removed, *action), "removing {:?} granted {}", removed, action);
        }
        let removed_has_deny = removed.statements().iter().any(|statement| statement.effect() == Effect::Deny);
        if !removed_has_deny {
            prop_assert!(after.is_subset(&before));
        }
    }

    #[test]
    fn evaluation_is_independent_of_policy_order(
        (documents, shuffled) in documents().prop_flat_map(|documents| (Just(documents.clone()), Just(documents).prop_shuffle()))
    ) {
        let original: Vec<&PolicyDocument> = documents.iter().collect();
        let permuted: Vec<&PolicyDocument> = shuffled.iter().collect();
        for action in Action::ALL {
            let a = evaluate(&original, action);
            let b = evaluate(&permuted, action);
            prop_assert_eq!(std::mem::discriminant(&a), std::mem::discriminant(&b), "{}", action);
            if let Decision::ExplicitDeny { statement } = b {
                let named = &permuted[statement.policy].statements()[statement.statement];
                prop_assert!(named.effect() == Effect::Deny && named.matches(action));
            }
        }
    }

    #[test]
    fn evaluation_follows_the_rules(documents in documents()) {
        let statements: Vec<&Statement> = documents.iter().flat_map(|document| document.statements()).collect();
        let refs: Vec<&PolicyDocument> = documents.iter().collect();
        for action in Action::ALL {
            let denied = statements.iter().any(|s| s.effect() == Effect::Deny && s.matches(action));
            let granted = statements.iter().any(|s| s.effect() == Effect::Allow && s.matches(action));
            let expected_kind = match (denied, granted) {
                (true, _) => "explicit",
                (false, true) => "allow",
                (false, false) => "implicit",
            };
            let kind = match evaluate(&refs, action) {
                Decision::ExplicitDeny { .. } => "explicit",
                Decision::Allow => "allow",
                Decision::ImplicitDeny => "implicit",
            };
            prop_assert_eq!(kind, expected_kind, "{}", action);
        }
    }

    #[test]
    fn documents_round_trip_through_json(document in document()) {
        prop_assert_eq!(&PolicyDocument::parse(&document.to_json()).unwrap(), &document);
        prop_assert_eq!(&PolicyDocument::parse(&document.to_json_pretty()).unwrap(), &document);
    }

    #[test]
    fn a_scope_never_adds_to_the_policies(documents in documents(), patterns in prop::collection::vec(pattern(), 1..4)) {
        let scope = Scope::new(patterns).unwrap();
        let refs: Vec<&PolicyDocument> = documents.iter().collect();
        let scoped: BTreeSet<Action> = scope.allowed_actions(&refs).into_iter().collect();
        prop_assert!(scoped.is_subset(&allowed(&documents)));
        for action in Action::ALL {
            prop_assert_eq!(scoped.contains(&action), scope.permits(action) && evaluate(&refs, action).is_allowed());
        }
    }

    #[test]
    fn parse_never_panics_on_arbitrary_strings(text in any::<String>()) {
        let _ = PolicyDocument::parse(&text);
        let _ = ActionPattern::parse(&text);
        let _ = Scope::parse([&text]);
    }

    #[test]
    fn parse_never_panics_on_json_like_strings(text in r#"[{}\[\]",: a-zA-Z0-9*.\\]{0,120}"#) {
        let _ = PolicyDocument::parse(&text);
    }

    #[test]
    fn parse_never_panics_on_arbitrary_json_values(value in json_value()) {
        let text = value.to_string();
        if let Ok(document) = PolicyDocument::parse(&text) {
            prop_assert_eq!(PolicyDocument::parse(&document.to_json()).unwrap(), document);
        }
    }

    #[test]
    fn parse_never_panics_on_damaged_documents(document in document(), edits in prop::collection::vec((any::<prop::sample::Index>(), any::<char>()), 1..4)) {
        let mut chars: Vec<char> = document.to_json().chars().collect();
        for (at, replacement) in edits {
            let index = at.index(chars.len());
            chars[index] = replacement;
        }
        let text: String = chars.into_iter().collect();
        if let Ok(parsed) = PolicyDocument::parse(&text) {
            prop_assert_eq!(PolicyDocument::parse(&parsed.to_json()).unwrap(), parsed);
        }
    }
}

#[test]
fn deeply_nested_json_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(PolicyDocument::parse(&deep).is_err());
    let deep_in_statement = format!(
        r#"{{"Version":"1.1","Statement":[{{"Effect":"Allow","Action":{}"*"{}}}]}}"#,
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    assert!(PolicyDocument::parse(&deep_in_statement).is_err());
}
