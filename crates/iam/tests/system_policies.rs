//! The system policies: names, documents and what they allow.

use iam::{Action, Effect, PolicyDocument, SystemPolicy, allowed_actions};

use crate::common::{actions_where, single};

#[test]
fn read_only_access_allows_exactly_the_read_only_actions() {
    let expected = actions_where(Action::is_read_only);
    // Six list and five get actions; the other seven operate.
    assert_eq!(expected.len(), 11);
    assert!(expected.iter().all(|action| matches!(action.verb(), "list" | "get")));
    assert_eq!(allowed_actions(&[SystemPolicy::ReadOnlyAccess.document()]), expected);
}

#[test]
fn administrator_allows_every_action_and_full_access_all_but_granting_permissions() {
    let full = actions_where(|action| action != Action::PrivilegeOperate);
    assert_eq!(full.len(), 17);
    assert_eq!(allowed_actions(&[SystemPolicy::FullAccess.document()]), full);
    assert_eq!(allowed_actions(&[SystemPolicy::Administrator.document()]), Action::ALL);
}

#[test]
fn documents_are_as_documented() {
    let expected = [
        (SystemPolicy::Administrator, r#"{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["*"]}]}"#),
        (
            SystemPolicy::FullAccess,
            r#"{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["cgs:quota:*","cgs:cluster:*","cgs:images:*","cgs:configuration:*","cgs:imageSecure:*","cgs:runtimeSecure:*","cgs:privilege:get"]}]}"#,
        ),
        (
            SystemPolicy::ReadOnlyAccess,
            r#"{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["cgs:*:list","cgs:*:get"]}]}"#,
        ),
    ];
    for (policy, json) in expected {
        assert_eq!(policy.document().to_json(), json, "{policy}");
        assert!(policy.document().statements().iter().all(|statement| statement.effect() == Effect::Allow));
    }
}

#[test]
fn names_and_descriptions() {
    let names: Vec<&str> = SystemPolicy::ALL.iter().map(|policy| policy.name()).collect();
    assert_eq!(names, ["CGS Administrator", "CGS FullAccess", "CGS ReadOnlyAccess"]);
    for policy in SystemPolicy::ALL {
        assert_eq!(policy.to_string(), policy.name());
        assert_eq!(serde_json::to_string(&policy).unwrap(), format!("{:?}", policy.name()));
        assert_eq!(serde_json::from_str::<SystemPolicy>(&format!("{:?}", policy.name())).unwrap(), policy);
        assert!(policy.description().len() > 20, "{policy}");
    }
    assert_eq!("CGS Full Access".parse::<SystemPolicy>(), Ok(SystemPolicy::FullAccess));
    let error = "CGS Owner".parse::<SystemPolicy>().unwrap_err();
    assert!(error.to_string().starts_with(r#""CGS Owner" is not a system policy"#), "{error}");
}

#[test]
fn a_deny_narrows_a_system_policy() {
    let no_runtime: PolicyDocument = single("Deny", &["cgs:runtimeSecure:*"]);
    let allowed = allowed_actions(&[SystemPolicy::ReadOnlyAccess.document(), &no_runtime]);
    assert_eq!(allowed, actions_where(|action| action.is_read_only() && action.resource() != "runtimeSecure"));
    assert_eq!(allowed.len(), 9);
}
