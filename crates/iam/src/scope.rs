//! Token scopes: an API token may only do what both its user's policies and its scope allow.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::action::Action;
use crate::evaluate::{allowed_actions, evaluate};
use crate::pattern::{ActionPattern, PatternError};
use crate::policy::{MAX_ACTIONS_PER_STATEMENT, PolicyDocument};

/// The most patterns one scope holds (the same as one statement's `Action` list).
pub const MAX_SCOPE_PATTERNS: usize = MAX_ACTIONS_PER_STATEMENT;

/// The actions an API token is limited to, as a non-empty list of action patterns. `*` is the explicit
/// "everything my user can do".
///
/// A scope never grants anything by itself: the token's user's policies must allow the action too
/// ([`Scope::allows`]).
///
/// ```
/// use iam::{Action, Scope, SystemPolicy};
///
/// let scope = Scope::parse(["cgs:images:*"]).unwrap();
/// assert!(scope.permits(Action::ImagesOperate));
/// assert!(!scope.permits(Action::ClusterList));
///
/// let user = [SystemPolicy::ReadOnlyAccess.document()];
/// assert!(scope.allows(&user, Action::ImagesList));
/// assert!(!scope.allows(&user, Action::ImagesOperate)); // in scope, but the user may not
/// assert!(Scope::parse(Vec::<String>::new()).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    patterns: Vec<ActionPattern>,
}

/// Why a list of strings is not a valid [`Scope`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// The list is empty: a token must be scoped to something.
    #[error("the scope is empty; a token must be scoped to at least one action pattern (\"*\" for everything)")]
    Empty,
    /// The list has more than [`MAX_SCOPE_PATTERNS`] patterns.
    #[error("the scope has {count} action patterns; the limit is {limit}")]
    TooMany {
        /// The number of patterns.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// An entry is not a valid action pattern.
    #[error("scope entry {}: {source}", index + 1)]
    InvalidPattern {
        /// The entry's index, from 0.
        index: usize,
        /// What is wrong with it.
        source: PatternError,
    },
}

impl Scope {
    /// The scope of everything the token's user can do: `*`.
    pub fn everything() -> Scope {
        Scope { patterns: vec![ActionPattern::any()] }
    }

    /// Parses a scope from its patterns, validated like a statement's `Action` list.
    pub fn parse<I, S>(patterns: I) -> Result<Scope, ScopeError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut parsed = Vec::new();
        let mut patterns = patterns.into_iter().enumerate();
        while let Some((index, text)) = patterns.next() {
            if index == MAX_SCOPE_PATTERNS {
                // Count the rest without parsing it, for the message.
                let count = index + 1 + patterns.count();
                return Err(ScopeError::TooMany { count, limit: MAX_SCOPE_PATTERNS });
            }
            let pattern =
                ActionPattern::parse(text.as_ref()).map_err(|source| ScopeError::InvalidPattern { index, source })?;
            parsed.push(pattern);
        }
        Scope::new(parsed)
    }

    /// A scope of already parsed patterns, checked against the same limits as [`Scope::parse`].
    pub fn new(patterns: Vec<ActionPattern>) -> Result<Scope, ScopeError> {
        match patterns.len() {
            0 => Err(ScopeError::Empty),
            count if count > MAX_SCOPE_PATTERNS => Err(ScopeError::TooMany { count, limit: MAX_SCOPE_PATTERNS }),
            _ => Ok(Scope { patterns }),
        }
    }

    /// The patterns, as written.
    pub fn patterns(&self) -> &[ActionPattern] {
        &self.patterns
    }

    /// Whether the scope covers `action` (one of its patterns matches it).
    pub fn permits(&self, action: Action) -> bool {
        self.patterns.iter().any(|pattern| pattern.matches(action))
    }

    /// Whether a token with this scope may do `action` for a user granted `policies`: both must allow it.
    pub fn allows(&self, policies: &[&PolicyDocument], action: Action) -> bool {
        self.permits(action) && evaluate(policies, action).is_allowed()
    }

    /// Every action a token with this scope may do for a user granted `policies`, in the order of [`Action::ALL`].
    pub fn allowed_actions(&self, policies: &[&PolicyDocument]) -> Vec<Action> {
        allowed_actions(policies).into_iter().filter(|&action| self.permits(action)).collect()
    }
}

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.patterns.serialize(serializer)
    }
}

/// Deserialises from a list of strings with the validation of [`Scope::parse`].
impl<'de> Deserialize<'de> for Scope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Scope, D::Error> {
        let patterns = Vec::<String>::deserialize(deserializer)?;
        Scope::parse(patterns).map_err(serde::de::Error::custom)
    }
}
