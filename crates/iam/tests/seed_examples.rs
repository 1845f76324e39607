//! The three custom policy examples of the product documentation, verbatim, and what it says they do.

use iam::{Action, Decision, Effect, SystemPolicy, allowed_actions, evaluate};

use crate::common::{actions_where, policy};

const EXAMPLE_1: &str = r#"{
  "Version": "1.1",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "cgs:cluster:list"
      ]
    }
  ]
}"#;

const EXAMPLE_2: &str = r#"{
  "Version": "1.1",
  "Statement": [
    {
      "Action": [
        "cgs:configuration:operate"
      ],
      "Effect": "Deny"
    }
  ]
}"#;

const EXAMPLE_3: &str = r#"{
  "Version": "1.1",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "cgs:cluster:list",
        "cgs:quota:list"
      ]
    },
    {
      "Effect": "Allow",
      "Action": [
        "hss:accountCracks:unblock",
        "hss:commonIPs:set"
      ]
    }
  ]
}"#;

#[test]
fn example_1_allows_only_the_cluster_list() {
    let document = policy(EXAMPLE_1);
    assert_eq!(allowed_actions(&[&document]), [Action::ClusterList]);
    assert_eq!(evaluate(&[&document], Action::ClusterOperate), Decision::ImplicitDeny);
}

#[test]
fn example_2_alone_allows_nothing() {
    let deny = policy(EXAMPLE_2);
    assert_eq!(deny.statements()[0].effect(), Effect::Deny);
    assert_eq!(allowed_actions(&[&deny]), []);
}

#[test]
fn example_2_with_full_access_allows_everything_but_modifying_configuration() {
    let deny = policy(EXAMPLE_2);
    // FullAccess never held cgs:privilege:operate.
    let expected = actions_where(|action| action != Action::ConfigurationOperate && action != Action::PrivilegeOperate);
    assert_eq!(expected.len(), 16);
    // Deny wins whichever order the policies come in.
    assert_eq!(allowed_actions(&[SystemPolicy::FullAccess.document(), &deny]), expected);
    assert_eq!(allowed_actions(&[&deny, SystemPolicy::FullAccess.document()]), expected);
    match evaluate(&[SystemPolicy::FullAccess.document(), &deny], Action::ConfigurationOperate) {
        Decision::ExplicitDeny { statement } => assert_eq!((statement.policy, statement.statement), (1, 0)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn example_3_allows_its_cgs_actions_and_accepts_another_services_actions() {
    let document = policy(EXAMPLE_3);
    assert_eq!(document.statements().len(), 2);
    assert_eq!(document.statements()[1].actions()[1].as_str(), "hss:commonIPs:set");
    assert_eq!(allowed_actions(&[&document]), [Action::QuotaList, Action::ClusterList]);
    // The other service's actions never match a cgs action.
    for action in Action::ALL {
        assert!(!document.statements()[1].matches(action), "{action}");
    }
}
