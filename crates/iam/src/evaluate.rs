//! Deciding whether a set of policies allows an action: an explicit Deny anywhere wins, and without an Allow the
//! action is denied.

use crate::action::Action;
use crate::policy::{Effect, PolicyDocument};

/// Which statement of which policy a decision rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatementRef {
    /// The policy's index in the slice given to [`evaluate`], from 0.
    pub policy: usize,
    /// The statement's index in that policy, from 0.
    pub statement: usize,
}

/// The outcome of [`evaluate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Some statement allows the action and none denies it.
    Allow,
    /// A Deny statement matches the action; it wins over every Allow. When several do, this is the first one in
    /// policy and statement order.
    ExplicitDeny {
        /// The denying statement.
        statement: StatementRef,
    },
    /// No statement allows the action (a new user, with no policies, can do nothing).
    ImplicitDeny,
}

impl Decision {
    /// Whether the action may go ahead.
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }
}

/// Decides `action` under every policy granted to a user (directly and through groups), in any order: the
/// decision does not depend on it, except for which denying statement [`Decision::ExplicitDeny`] names.
///
/// ```
/// use iam::{Action, Decision, PolicyDocument, SystemPolicy, evaluate};
///
/// let deny = PolicyDocument::parse(
///     r#"{"Version":"1.1","Statement":[{"Action":["cgs:configuration:operate"],"Effect":"Deny"}]}"#,
/// )
/// .unwrap();
/// let policies = [SystemPolicy::FullAccess.document(), &deny];
/// assert_eq!(evaluate(&policies, Action::ConfigurationList), Decision::Allow);
/// assert!(matches!(evaluate(&policies, Action::ConfigurationOperate), Decision::ExplicitDeny { .. }));
/// assert_eq!(evaluate(&[], Action::ConfigurationList), Decision::ImplicitDeny);
/// ```
pub fn evaluate(policies: &[&PolicyDocument], action: Action) -> Decision {
    let mut allowed = false;
    for (policy_index, policy) in policies.iter().enumerate() {
        for (statement_index, statement) in policy.statements().iter().enumerate() {
            if !statement.matches(action) {
                continue;
            }
            match statement.effect() {
                Effect::Deny => {
                    return Decision::ExplicitDeny {
                        statement: StatementRef { policy: policy_index, statement: statement_index },
                    };
                }
                Effect::Allow => allowed = true,
            }
        }
    }
    if allowed { Decision::Allow } else { Decision::ImplicitDeny }
}

/// Every action `policies` allow, in the order of [`Action::ALL`]: what a "what can I do" query answers and what
/// the console shows.
pub fn allowed_actions(policies: &[&PolicyDocument]) -> Vec<Action> {
    Action::ALL.into_iter().filter(|&action| evaluate(policies, action).is_allowed()).collect()
}
