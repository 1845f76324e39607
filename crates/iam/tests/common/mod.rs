//! Helpers shared by the test modules.

use iam::{Action, PolicyDocument, PolicyError};

/// Parses a policy that the test expects to be valid.
pub fn policy(json: &str) -> PolicyDocument {
    PolicyDocument::parse(json).unwrap_or_else(|error| panic!("{json}: {error}"))
}

/// Parses a policy that the test expects to be rejected, and returns the error.
pub fn rejected(json: &str) -> PolicyError {
    match PolicyDocument::parse(json) {
        Ok(document) => panic!("{json} was accepted as {document:?}"),
        Err(error) => error,
    }
}

/// A one-statement policy with `effect` ("Allow" or "Deny") over `actions`.
pub fn single(effect: &str, actions: &[&str]) -> PolicyDocument {
    let actions = serde_json::to_string(actions).unwrap();
    policy(&format!(r#"{{"Version":"1.1","Statement":[{{"Effect":"{effect}","Action":{actions}}}]}}"#))
}

/// The actions that `predicate` holds for, from `Action::ALL`.
pub fn actions_where(predicate: impl Fn(Action) -> bool) -> Vec<Action> {
    Action::ALL.into_iter().filter(|&action| predicate(action)).collect()
}
