//! Evaluation: Deny wins, no Allow means denied, and the decision names the denying statement.

use iam::{Action, Decision, StatementRef, SystemPolicy, allowed_actions, evaluate};

use crate::common::{policy, single};

#[test]
fn no_policy_allows_nothing() {
    for action in Action::ALL {
        assert_eq!(evaluate(&[], action), Decision::ImplicitDeny, "{action}");
    }
    assert_eq!(allowed_actions(&[]), []);
}

#[test]
fn an_allow_grants_only_what_it_matches() {
    let images = single("Allow", &["cgs:images:*"]);
    assert_eq!(evaluate(&[&images], Action::ImagesOperate), Decision::Allow);
    assert_eq!(evaluate(&[&images], Action::ImageSecureList), Decision::ImplicitDeny);
    assert_eq!(allowed_actions(&[&images]), [Action::ImagesList, Action::ImagesOperate, Action::ImagesGet]);
}

#[test]
fn a_deny_in_the_same_policy_wins_over_an_allow_before_it() {
    let document = policy(
        r#"{"Version":"1.1","Statement":[
            {"Effect":"Allow","Action":["cgs:*"]},
            {"Effect":"Deny","Action":["cgs:quota:operate","cgs:privilege:*"]}
        ]}"#,
    );
    assert_eq!(evaluate(&[&document], Action::QuotaList), Decision::Allow);
    let denied = Decision::ExplicitDeny { statement: StatementRef { policy: 0, statement: 1 } };
    assert_eq!(evaluate(&[&document], Action::QuotaOperate), denied);
    assert_eq!(evaluate(&[&document], Action::PrivilegeGet), denied);
    assert_eq!(allowed_actions(&[&document]).len(), 15);
}

#[test]
fn a_deny_without_any_allow_is_still_reported_as_explicit() {
    let deny = single("Deny", &["cgs:cluster:operate"]);
    let decision = evaluate(&[&deny], Action::ClusterOperate);
    assert_eq!(decision, Decision::ExplicitDeny { statement: StatementRef { policy: 0, statement: 0 } });
    assert!(!decision.is_allowed());
    assert_eq!(evaluate(&[&deny], Action::ClusterList), Decision::ImplicitDeny);
}

#[test]
fn the_first_denying_statement_is_named() {
    let allow = single("Allow", &["*"]);
    let first = single("Deny", &["cgs:*:operate"]);
    let second = single("Deny", &["cgs:images:operate"]);
    let policies = [&allow, SystemPolicy::FullAccess.document(), &first, &second];
    assert_eq!(
        evaluate(&policies, Action::ImagesOperate),
        Decision::ExplicitDeny { statement: StatementRef { policy: 2, statement: 0 } }
    );
}

#[test]
fn a_wildcard_deny_beats_an_exact_allow() {
    let allow = single("Allow", &["cgs:configuration:operate"]);
    let deny = single("Deny", &["CGS:*:OPERATE"]);
    assert!(!evaluate(&[&allow, &deny], Action::ConfigurationOperate).is_allowed());
    assert!(!evaluate(&[&deny, &allow], Action::ConfigurationOperate).is_allowed());
}
