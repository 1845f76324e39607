//! Custom policy documents: `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["cgs:cluster:list"]}]}`.

use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::action::Action;
use crate::error::{Location, PolicyError, allowed_keys};
use crate::json::Json;
use crate::pattern::ActionPattern;
use crate::text::shorten;

/// The only policy syntax version there is.
pub const POLICY_VERSION: &str = "1.1";
/// The largest policy document [`PolicyDocument::parse`] reads, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
/// The most statements one policy holds.
pub const MAX_STATEMENTS: usize = 100;
/// The most entries one statement's `Action` list holds.
pub const MAX_ACTIONS_PER_STATEMENT: usize = 200;

/// Whether a statement grants or refuses its actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Effect {
    /// Grants the actions, unless a Deny somewhere refuses them.
    Allow,
    /// Refuses the actions, whatever any Allow says.
    Deny,
}

/// One statement: an effect over a list of action patterns.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Statement {
    #[serde(rename = "Effect")]
    effect: Effect,
    #[serde(rename = "Action")]
    actions: Vec<ActionPattern>,
}

impl Statement {
    /// A statement with `effect` over `actions`. The limits are checked when statements become a
    /// [`PolicyDocument`].
    pub fn new(effect: Effect, actions: Vec<ActionPattern>) -> Statement {
        Statement { effect, actions }
    }

    /// Whether the statement allows or denies.
    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// The action patterns, as written.
    pub fn actions(&self) -> &[ActionPattern] {
        &self.actions
    }

    /// Whether one of the statement's patterns matches `action` (whatever the effect).
    pub fn matches(&self, action: Action) -> bool {
        self.actions.iter().any(|pattern| pattern.matches(action))
    }
}

/// A validated policy document in the custom policy syntax.
///
/// It serialises back to the same JSON shape (`Version`, then `Statement`; `Effect`, then `Action`), with the
/// patterns as written, so `parse(to_json(doc)) == doc`.
///
/// ```
/// use iam::{Action, Effect, PolicyDocument};
///
/// let policy = PolicyDocument::parse(
///     r#"{"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["cgs:cluster:list"]}]}"#,
/// )
/// .unwrap();
/// assert_eq!(policy.statements()[0].effect(), Effect::Allow);
/// assert!(policy.statements()[0].matches(Action::ClusterList));
/// assert_eq!(policy.to_json(), r#"{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["cgs:cluster:list"]}]}"#);
///
/// let error = PolicyDocument::parse(
///     r#"{"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["cgs:cluster:list"], "Condition": {}}]}"#,
/// )
/// .unwrap_err();
/// assert_eq!(
///     error.to_string(),
///     r#"statement 1: key "Condition" is not supported (a statement holds only "Effect" and "Action")"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PolicyDocument {
    statements: Vec<Statement>,
}

impl PolicyDocument {
    /// Parses and validates a policy document of at most [`MAX_DOCUMENT_BYTES`]. Never panics, whatever the input.
    pub fn parse(text: &str) -> Result<PolicyDocument, PolicyError> {
        if text.len() > MAX_DOCUMENT_BYTES {
            return Err(PolicyError::TooLarge { size: text.len(), limit: MAX_DOCUMENT_BYTES });
        }
        let json: Json =
            serde_json::from_str(text).map_err(|error| PolicyError::Syntax { message: error.to_string() })?;
        PolicyDocument::from_json(json)
    }

    /// A document of `statements`, checked against the same limits as a parsed one (at least one statement, at
    /// most [`MAX_STATEMENTS`], each with 1 to [`MAX_ACTIONS_PER_STATEMENT`] actions, and a compact JSON form of
    /// at most [`MAX_DOCUMENT_BYTES`]), so that every document can be parsed back from its JSON.
    pub fn new(statements: Vec<Statement>) -> Result<PolicyDocument, PolicyError> {
        check_statement_count(statements.len())?;
        for (index, statement) in statements.iter().enumerate() {
            check_action_count(index, statement.actions.len())?;
        }
        let document = PolicyDocument { statements };
        let size = document.to_json().len();
        if size > MAX_DOCUMENT_BYTES {
            return Err(PolicyError::TooLarge { size, limit: MAX_DOCUMENT_BYTES });
        }
        Ok(document)
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// The document as compact JSON.
    pub fn to_json(&self) -> String {
        // Serialising strings and enums into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The document as indented JSON, for display and editing.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    fn from_json(json: Json) -> Result<PolicyDocument, PolicyError> {
        let [version, statements] = object_fields(json, Location::Document)?;
        match version {
            Some(Json::String(version)) if version == POLICY_VERSION => {}
            Some(other) => return Err(PolicyError::UnsupportedVersion { found: other.describe() }),
            None => return Err(PolicyError::MissingKey { location: Location::Document, key: "Version" }),
        }
        let statements = match statements {
            Some(Json::Array(statements)) => statements,
            Some(other) => return Err(PolicyError::StatementNotArray { found: other.kind() }),
            None => return Err(PolicyError::MissingKey { location: Location::Document, key: "Statement" }),
        };
        check_statement_count(statements.len())?;
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(index, json)| statement_from_json(index, json))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PolicyDocument { statements })
    }
}

fn statement_from_json(index: usize, json: Json) -> Result<Statement, PolicyError> {
    let [effect, actions] = object_fields(json, Location::Statement(index))?;
    let effect = match effect {
        Some(Json::String(effect)) if effect == "Allow" => Effect::Allow,
        Some(Json::String(effect)) if effect == "Deny" => Effect::Deny,
        Some(other) => return Err(PolicyError::InvalidEffect { statement: index, found: other.describe() }),
        None => return Err(PolicyError::MissingKey { location: Location::Statement(index), key: "Effect" }),
    };
    let actions = match actions {
        Some(Json::Array(actions)) => actions,
        Some(other) => return Err(PolicyError::ActionNotArray { statement: index, found: other.kind() }),
        None => return Err(PolicyError::MissingKey { location: Location::Statement(index), key: "Action" }),
    };
    check_action_count(index, actions.len())?;
    let actions = actions
        .into_iter()
        .enumerate()
        .map(|(action, json)| match json {
            Json::String(text) => ActionPattern::parse(&text).map_err(|source| PolicyError::InvalidAction {
                statement: index,
                action,
                source,
            }),
            other => Err(PolicyError::ActionNotString { statement: index, action, found: other.kind() }),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Statement { effect, actions })
}

/// The values of the two keys an object at `location` may hold, in the order of [`allowed_keys`]. Rejects
/// anything but an object, unknown keys and duplicate keys.
fn object_fields(json: Json, location: Location) -> Result<[Option<Json>; 2], PolicyError> {
    let Json::Object(entries) = json else {
        return Err(PolicyError::NotAnObject { location, found: json.kind() });
    };
    let allowed = allowed_keys(&location);
    let mut fields: [Option<Json>; 2] = [None, None];
    for (key, value) in entries {
        let Some(slot) = allowed.iter().position(|allowed| *allowed == key) else {
            return Err(PolicyError::UnsupportedKey { location, key: shorten(&key) });
        };
        if fields[slot].replace(value).is_some() {
            return Err(PolicyError::DuplicateKey { location, key });
        }
    }
    Ok(fields)
}

fn check_statement_count(count: usize) -> Result<(), PolicyError> {
    match count {
        0 => Err(PolicyError::NoStatements),
        count if count > MAX_STATEMENTS => Err(PolicyError::TooManyStatements { count, limit: MAX_STATEMENTS }),
        _ => Ok(()),
    }
}

fn check_action_count(statement: usize, count: usize) -> Result<(), PolicyError> {
    match count {
        0 => Err(PolicyError::NoActions { statement }),
        count if count > MAX_ACTIONS_PER_STATEMENT => {
            Err(PolicyError::TooManyActions { statement, count, limit: MAX_ACTIONS_PER_STATEMENT })
        }
        _ => Ok(()),
    }
}

impl std::str::FromStr for PolicyDocument {
    type Err = PolicyError;

    fn from_str(text: &str) -> Result<PolicyDocument, PolicyError> {
        PolicyDocument::parse(text)
    }
}

impl Serialize for PolicyDocument {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut document = serializer.serialize_struct("PolicyDocument", 2)?;
        document.serialize_field("Version", POLICY_VERSION)?;
        document.serialize_field("Statement", &self.statements)?;
        document.end()
    }
}

/// Deserialising applies every rule of [`PolicyDocument::parse`] except the size limit, which only applies to text.
impl<'de> Deserialize<'de> for PolicyDocument {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<PolicyDocument, D::Error> {
        let json = Json::deserialize(deserializer)?;
        PolicyDocument::from_json(json).map_err(serde::de::Error::custom)
    }
}
