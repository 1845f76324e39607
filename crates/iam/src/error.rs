//! Why a policy document is rejected. Messages are for the person who wrote the policy: they say which statement,
//! which action and what is wrong. Statement and action numbers in messages count from 1; the indexes in the
//! variants count from 0, for programs that point at the offending element.

use std::fmt;

use crate::pattern::PatternError;

/// Where in a policy document a key problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// The top-level object.
    Document,
    /// The statement at this index (from 0) of `Statement`.
    Statement(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Document => f.write_str("policy"),
            Location::Statement(index) => write!(f, "statement {}", index + 1),
        }
    }
}

/// Why a policy document was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The document is larger than [`MAX_DOCUMENT_BYTES`](crate::MAX_DOCUMENT_BYTES).
    #[error("the policy is {size} bytes long; the limit is {limit} bytes")]
    TooLarge {
        /// The document's size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The document is not JSON.
    #[error("the policy is not valid JSON: {message}")]
    Syntax {
        /// The JSON parser's message, with line and column.
        message: String,
    },
    /// The document or a statement is not a JSON object.
    #[error("{location} must be a JSON object, found {found}")]
    NotAnObject {
        /// The policy or the statement.
        location: Location,
        /// What was found instead.
        found: &'static str,
    },
    /// A key that the policy syntax does not have, such as `Condition` or `Resource`.
    #[error("{location}: key {key:?} is not supported ({})", unsupported_key_hint(key, location))]
    UnsupportedKey {
        /// The policy or the statement.
        location: Location,
        /// The key, shortened when it is long.
        key: String,
    },
    /// A key that appears twice in one object: which one counts would be a guess.
    #[error("{location}: key {key:?} appears more than once")]
    DuplicateKey {
        /// The policy or the statement.
        location: Location,
        /// The key.
        key: String,
    },
    /// A required key is missing.
    #[error("{location}: required key {key:?} is missing")]
    MissingKey {
        /// The policy or the statement.
        location: Location,
        /// The key.
        key: &'static str,
    },
    /// `Version` is not the string `"1.1"`.
    #[error("policy: \"Version\" must be \"1.1\", found {found}")]
    UnsupportedVersion {
        /// The value found, described (a string is quoted).
        found: String,
    },
    /// `Statement` is not an array.
    #[error("policy: \"Statement\" must be an array of statements, found {found}")]
    StatementNotArray {
        /// What was found instead.
        found: &'static str,
    },
    /// `Statement` is an empty array.
    #[error("policy: \"Statement\" is empty; a policy needs at least one statement")]
    NoStatements,
    /// `Statement` has more than [`MAX_STATEMENTS`](crate::MAX_STATEMENTS) statements.
    #[error("policy: \"Statement\" has {count} statements; the limit is {limit}")]
    TooManyStatements {
        /// The number of statements.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// `Effect` is not exactly `"Allow"` or `"Deny"`.
    #[error("statement {}: \"Effect\" must be \"Allow\" or \"Deny\" (case-sensitive), found {found}", statement + 1)]
    InvalidEffect {
        /// The statement's index, from 0.
        statement: usize,
        /// The value found, described (a string is quoted).
        found: String,
    },
    /// `Action` is not an array.
    #[error("statement {}: \"Action\" must be an array of action strings, found {found}", statement + 1)]
    ActionNotArray {
        /// The statement's index, from 0.
        statement: usize,
        /// What was found instead.
        found: &'static str,
    },
    /// `Action` is an empty array.
    #[error("statement {}: \"Action\" is empty; a statement needs at least one action", statement + 1)]
    NoActions {
        /// The statement's index, from 0.
        statement: usize,
    },
    /// `Action` has more than [`MAX_ACTIONS_PER_STATEMENT`](crate::MAX_ACTIONS_PER_STATEMENT) entries.
    #[error("statement {}: \"Action\" has {count} entries; the limit is {limit}", statement + 1)]
    TooManyActions {
        /// The statement's index, from 0.
        statement: usize,
        /// The number of entries.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// An `Action` entry is not a string.
    #[error("statement {}, action {}: must be a string, found {found}", statement + 1, action + 1)]
    ActionNotString {
        /// The statement's index, from 0.
        statement: usize,
        /// The entry's index in `Action`, from 0.
        action: usize,
        /// What was found instead.
        found: &'static str,
    },
    /// An `Action` entry is not a valid action pattern.
    #[error("statement {}, action {}: {source}", statement + 1, action + 1)]
    InvalidAction {
        /// The statement's index, from 0.
        statement: usize,
        /// The entry's index in `Action`, from 0.
        action: usize,
        /// What is wrong with it.
        source: PatternError,
    },
}

/// The keys an object at `location` may hold.
pub(crate) fn allowed_keys(location: &Location) -> &'static [&'static str] {
    match location {
        Location::Document => &["Version", "Statement"],
        Location::Statement(_) => &["Effect", "Action"],
    }
}

/// Why a key is refused: a key that differs from an allowed one only in case gets a pointer to the right spelling;
/// any other key is one the syntax does not have (conditions and resources are not part of it).
fn unsupported_key_hint(key: &str, location: &Location) -> String {
    let allowed = allowed_keys(location);
    if let Some(meant) = allowed.iter().find(|allowed| allowed.eq_ignore_ascii_case(key)) {
        return format!("keys are case-sensitive: did you mean {meant:?}?");
    }
    let what = match location {
        Location::Document => "a policy",
        Location::Statement(_) => "a statement",
    };
    format!("{what} holds only {:?} and {:?}", allowed[0], allowed[1])
}
