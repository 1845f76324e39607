//! Token scopes: a token may do only what both its user's policies and its scope allow.

use iam::{Action, MAX_SCOPE_PATTERNS, PatternError, Scope, ScopeError, SystemPolicy};

use crate::common::{actions_where, single};

#[test]
fn a_scope_must_name_something() {
    let error = Scope::parse(Vec::<&str>::new()).unwrap_err();
    assert_eq!(error, ScopeError::Empty);
    assert!(error.to_string().contains("at least one action pattern"), "{error}");
    assert_eq!(Scope::new(vec![]), Err(ScopeError::Empty));
}

#[test]
fn scope_patterns_are_validated_like_policy_actions() {
    let error = Scope::parse(["cgs:*:list", "cgs:cluster:lst"]).unwrap_err();
    assert_eq!(
        error,
        ScopeError::InvalidPattern {
            index: 1,
            source: PatternError::UnknownCgsAction {
                pattern: "cgs:cluster:lst".into(),
                suggestion: Some(Action::ClusterList)
            },
        }
    );
    assert_eq!(
        error.to_string(),
        r#"scope entry 2: "cgs:cluster:lst" is not a cgs action (did you mean "cgs:cluster:list"?)"#
    );
    assert!(matches!(Scope::parse(["cgs:cluster"]), Err(ScopeError::InvalidPattern { index: 0, .. })));
    assert!(matches!(Scope::parse([""]), Err(ScopeError::InvalidPattern { source: PatternError::Empty, .. })));
}

#[test]
fn scope_size_is_limited() {
    assert!(Scope::parse(vec!["*"; MAX_SCOPE_PATTERNS]).is_ok());
    let error = Scope::parse(vec!["*"; MAX_SCOPE_PATTERNS + 5]).unwrap_err();
    assert_eq!(error, ScopeError::TooMany { count: 205, limit: 200 });
    assert_eq!(error.to_string(), "the scope has 205 action patterns; the limit is 200");
}

#[test]
fn permits_is_pattern_matching() {
    let scope = Scope::parse(["cgs:*:list", "CGS:Images:Get"]).unwrap();
    let expected = actions_where(|action| action.verb() == "list" || action == Action::ImagesGet);
    assert_eq!(actions_where(|action| scope.permits(action)), expected);
    assert!(Action::ALL.into_iter().all(|action| Scope::everything().permits(action)));
}

#[test]
fn a_token_gets_the_intersection_of_scope_and_policies() {
    let scope = Scope::parse(["cgs:images:*", "cgs:cluster:list"]).unwrap();
    let read_only = [SystemPolicy::ReadOnlyAccess.document()];
    assert_eq!(scope.allowed_actions(&read_only), [Action::ClusterList, Action::ImagesList, Action::ImagesGet]);
    assert!(!scope.allows(&read_only, Action::ImagesOperate), "the user may not");
    assert!(!scope.allows(&read_only, Action::QuotaList), "the scope does not cover it");
    // `*` is everything the user can do, never more.
    assert_eq!(Scope::everything().allowed_actions(&read_only), actions_where(Action::is_read_only));
    let deny = single("Deny", &["cgs:images:list"]);
    let full = [SystemPolicy::FullAccess.document(), &deny];
    assert_eq!(scope.allowed_actions(&full), [Action::ClusterList, Action::ImagesOperate, Action::ImagesGet]);
    assert_eq!(Scope::everything().allowed_actions(&[]), []);
}

#[test]
fn scopes_serialise_as_their_patterns() {
    let scope = Scope::parse(["cgs:*:list", "CGS:Images:Get"]).unwrap();
    let json = serde_json::to_string(&scope).unwrap();
    assert_eq!(json, r#"["cgs:*:list","CGS:Images:Get"]"#);
    assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), scope);
    let error = serde_json::from_str::<Scope>("[]").unwrap_err();
    assert!(error.to_string().contains("the scope is empty"), "{error}");
    let error = serde_json::from_str::<Scope>(r#"["cgs:images:lst"]"#).unwrap_err();
    assert!(error.to_string().contains(r#"did you mean "cgs:images:list"?"#), "{error}");
}
