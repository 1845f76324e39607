//! Names and JSON forms: actions, patterns and documents serialise to what users write.

use std::collections::HashSet;

use iam::{Action, ActionPattern, PolicyDocument};

use crate::common::policy;

#[test]
fn actions_are_their_names_everywhere() {
    let names: Vec<&str> = Action::ALL.iter().map(|action| action.as_str()).collect();
    assert_eq!(
        names,
        [
            "cgs:quota:get",
            "cgs:quota:list",
            "cgs:quota:operate",
            "cgs:cluster:list",
            "cgs:cluster:operate",
            "cgs:images:list",
            "cgs:images:operate",
            "cgs:images:get",
            "cgs:configuration:list",
            "cgs:configuration:operate",
            "cgs:imageSecure:list",
            "cgs:imageSecure:operate",
            "cgs:imageSecure:get",
            "cgs:runtimeSecure:list",
            "cgs:runtimeSecure:get",
            "cgs:runtimeSecure:operate",
            "cgs:privilege:operate",
            "cgs:privilege:get",
        ]
    );
    for action in Action::ALL {
        assert_eq!(action.to_string(), action.as_str());
        assert_eq!(action.as_str().parse::<Action>(), Ok(action));
        let json = serde_json::to_string(&action).unwrap();
        assert_eq!(json, format!("{:?}", action.as_str()));
        assert_eq!(serde_json::from_str::<Action>(&json).unwrap(), action);
    }
    let error = "cgs:cluster:delete".parse::<Action>().unwrap_err();
    assert_eq!(error.to_string(), r#""cgs:cluster:delete" is not a cgs action"#);
    assert!(serde_json::from_str::<Action>(r#""cgs:Cluster:list""#).is_err());
}

#[test]
fn descriptions_are_distinct_sentences() {
    let descriptions: HashSet<&str> = Action::ALL.iter().map(|action| action.description()).collect();
    assert_eq!(descriptions.len(), Action::ALL.len());
    for action in Action::ALL {
        let description = action.description();
        assert!(description.starts_with(char::is_uppercase) && !description.ends_with('.'), "{description}");
    }
    assert_eq!(Action::ConfigurationOperate.description(), "Modify configuration");
}

#[test]
fn documents_serialise_in_the_documented_key_order_with_patterns_as_written() {
    // Action before Effect, as in the documentation's Deny example, and mixed-case patterns.
    let document = policy(
        r#"{ "Statement": [ { "Action": ["CGS:Cluster:List", "hss:*"], "Effect": "Deny" } ], "Version": "1.1" }"#,
    );
    let json = document.to_json();
    assert_eq!(json, r#"{"Version":"1.1","Statement":[{"Effect":"Deny","Action":["CGS:Cluster:List","hss:*"]}]}"#);
    assert_eq!(PolicyDocument::parse(&json).unwrap(), document);
    let pretty = document.to_json_pretty();
    assert!(pretty.contains("\n  \"Statement\": ["), "{pretty}");
    assert_eq!(PolicyDocument::parse(&pretty).unwrap(), document);
}

#[test]
fn deserialising_applies_the_same_rules_as_parsing() {
    let value = serde_json::json!({"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["cgs:quota:list"]}]});
    let document: PolicyDocument = serde_json::from_value(value).unwrap();
    assert_eq!(document.statements()[0].actions()[0], ActionPattern::exact(Action::QuotaList));

    let value = serde_json::json!({"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["cgs:quota:lst"]}]});
    let error = serde_json::from_value::<PolicyDocument>(value).unwrap_err();
    assert!(error.to_string().starts_with(r#"statement 1, action 1: "cgs:quota:lst" is not a cgs action"#), "{error}");

    let text = r#"{"Version":"1.1","Statement":[{"Effect":"Allow","Effect":"Deny","Action":["*"]}]}"#;
    let error = serde_json::from_str::<PolicyDocument>(text).unwrap_err();
    assert!(error.to_string().contains(r#"key "Effect" appears more than once"#), "{error}");

    // Inside a larger structure, as a stored policy row would be.
    #[derive(serde::Deserialize)]
    struct Row {
        document: PolicyDocument,
    }
    let row: Row = serde_json::from_str(
        r#"{"document": {"Version":"1.1","Statement":[{"Effect":"Deny","Action":["cgs:*:operate"]}]}}"#,
    )
    .unwrap();
    assert_eq!(row.document.statements()[0].actions()[0].as_str(), "cgs:*:operate");
}

#[test]
fn patterns_serialise_as_written() {
    let pattern = ActionPattern::parse("CGS:*:List").unwrap();
    assert_eq!(pattern.to_string(), "CGS:*:List");
    assert_eq!(serde_json::to_string(&pattern).unwrap(), r#""CGS:*:List""#);
    assert_eq!(serde_json::from_str::<ActionPattern>(r#""CGS:*:List""#).unwrap(), pattern);
    assert!(serde_json::from_str::<ActionPattern>(r#""cgs:*:lst""#).is_err());
    assert_ne!(pattern, ActionPattern::parse("cgs:*:list").unwrap(), "equality is textual");
    assert_eq!(ActionPattern::from(Action::PrivilegeGet).as_str(), "cgs:privilege:get");
}
