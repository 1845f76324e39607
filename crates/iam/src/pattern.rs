//! Action patterns: the strings of a statement's `Action` list and of a token's scope.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::action::{Action, SERVICE};
use crate::text::{edit_distance_ignore_case, shorten};

/// The largest edit distance at which an unknown `cgs` action gets a "did you mean" suggestion.
const MAX_SUGGESTION_DISTANCE: usize = 3;

/// One parsed action pattern: `service:resource:verb` (each part ASCII letters and digits, or with `*` wildcards),
/// `service:*`, or a lone `*`.
///
/// `*` matches any run of characters, `:` included, and matching ignores ASCII case, as cloud IAM does:
/// `cgs:*:list` matches every list action, `CGS:Cluster:List` matches `cgs:cluster:list`. Patterns of other
/// services (`hss:commonIPs:set`) are valid and never match a cgs action.
///
/// Equality compares the text as written, so a parsed policy serialises back to what was parsed.
///
/// ```
/// use iam::{Action, ActionPattern};
///
/// let pattern = ActionPattern::parse("cgs:im*:get").unwrap();
/// assert!(pattern.matches(Action::ImagesGet));
/// assert!(pattern.matches(Action::ImageSecureGet));
/// assert!(!pattern.matches(Action::ImagesList));
///
/// // A cgs action that does not exist is a typo, not a harmless no-op.
/// let error = ActionPattern::parse("cgs:cluster:lst").unwrap_err();
/// assert_eq!(error.to_string(), r#""cgs:cluster:lst" is not a cgs action (did you mean "cgs:cluster:list"?)"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActionPattern {
    text: String,
}

/// Why a string is not a valid [`ActionPattern`]. Every variant that names the pattern holds it shortened to at
/// most 80 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PatternError {
    /// The pattern is the empty string.
    #[error("the action is empty; expected \"service:resource:verb\", \"service:*\" or \"*\"")]
    Empty,
    /// The pattern holds a character other than ASCII letters, digits, `*` and the `:` separators.
    #[error(
        "{pattern:?}: character {character:?} at position {position} is not allowed \
         (an action holds ASCII letters, digits, \"*\" and \":\")"
    )]
    InvalidCharacter {
        /// The pattern.
        pattern: String,
        /// The offending character.
        character: char,
        /// Its position, counted in characters from 1.
        position: usize,
    },
    /// The pattern does not have the shape `service:resource:verb`, `service:*` or `*`.
    #[error("{pattern:?} is not of the form \"service:resource:verb\", \"service:*\" or \"*\"")]
    Malformed {
        /// The pattern.
        pattern: String,
    },
    /// One of the colon-separated parts is empty (`cgs::list`).
    #[error("{pattern:?}: part {part} is empty (expected \"service:resource:verb\")")]
    EmptyPart {
        /// The pattern.
        pattern: String,
        /// Which part, counted from 1.
        part: usize,
    },
    /// A `cgs` action without wildcards that is not one of the 18 actions.
    #[error("{pattern:?} is not a cgs action{}", suggestion.map(|a| format!(" (did you mean {:?}?)", a.as_str())).unwrap_or_default())]
    UnknownCgsAction {
        /// The pattern.
        pattern: String,
        /// The action the pattern most likely meant, when one is close.
        suggestion: Option<Action>,
    },
    /// A `cgs` pattern with wildcards that matches none of the 18 actions (`cgs:*:delete`).
    #[error("{pattern:?} matches none of the cgs actions")]
    MatchesNoCgsAction {
        /// The pattern.
        pattern: String,
    },
}

impl ActionPattern {
    /// The pattern that matches every action.
    pub fn any() -> ActionPattern {
        ActionPattern { text: "*".to_owned() }
    }

    /// The pattern that matches exactly `action`.
    pub fn exact(action: Action) -> ActionPattern {
        ActionPattern { text: action.as_str().to_owned() }
    }

    /// Parses and validates one pattern. Never panics, whatever the input.
    pub fn parse(text: &str) -> Result<ActionPattern, PatternError> {
        if text.is_empty() {
            return Err(PatternError::Empty);
        }
        if let Some((index, character)) =
            text.chars().enumerate().find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '*' || c == ':'))
        {
            return Err(PatternError::InvalidCharacter { pattern: shorten(text), character, position: index + 1 });
        }
        let parts: Vec<&str> = text.split(':').collect();
        if parts.len() <= 3
            && let Some(index) = parts.iter().position(|part| part.is_empty())
        {
            return Err(PatternError::EmptyPart { pattern: shorten(text), part: index + 1 });
        }
        let well_formed = match parts.as_slice() {
            [only] => *only == "*",
            [_, rest] => *rest == "*",
            [_, _, _] => true,
            _ => false,
        };
        if !well_formed {
            return Err(PatternError::Malformed { pattern: shorten(text) });
        }
        let pattern = ActionPattern { text: text.to_owned() };
        if parts.len() > 1 && parts[0].eq_ignore_ascii_case(SERVICE) {
            pattern.check_cgs()?;
        }
        Ok(pattern)
    }

    /// Rejects a `cgs` pattern that cannot match any action: a typo would silently grant (or deny) nothing.
    fn check_cgs(&self) -> Result<(), PatternError> {
        if Action::ALL.into_iter().any(|action| self.matches(action)) {
            return Ok(());
        }
        if self.has_wildcard() {
            return Err(PatternError::MatchesNoCgsAction { pattern: shorten(&self.text) });
        }
        let suggestion = Action::ALL
            .into_iter()
            .map(|action| (edit_distance_ignore_case(&self.text, action.as_str()), action))
            .min_by_key(|&(distance, _)| distance)
            .filter(|&(distance, _)| distance <= MAX_SUGGESTION_DISTANCE)
            .map(|(_, action)| action);
        Err(PatternError::UnknownCgsAction { pattern: shorten(&self.text), suggestion })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the pattern holds a `*`.
    pub fn has_wildcard(&self) -> bool {
        self.text.contains('*')
    }

    /// Whether the pattern matches `action`.
    pub fn matches(&self, action: Action) -> bool {
        self.matches_name(action.as_str())
    }

    /// Whether the pattern matches the action name `name`, which may belong to any service. `*` matches any run of
    /// characters (`:` included); other characters match ignoring ASCII case.
    pub fn matches_name(&self, name: &str) -> bool {
        glob_match_ignore_ascii_case(self.text.as_bytes(), name.as_bytes())
    }
}

/// Wildcard matching in linear space and O(pattern × name) worst-case time: on a mismatch, the last `*` seen
/// absorbs one more byte and matching resumes after it. Going back to only the last star is enough because a
/// later star can absorb anything an earlier one could.
fn glob_match_ignore_ascii_case(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    // The position just after the last `*` seen, and the name position that star's match currently ends at.
    let mut backtrack: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                p += 1;
                backtrack = Some((p, n));
            }
            Some(c) if c.eq_ignore_ascii_case(&name[n]) => {
                p += 1;
                n += 1;
            }
            _ => match backtrack {
                Some((after_star, star_end)) => {
                    p = after_star;
                    n = star_end + 1;
                    backtrack = Some((after_star, star_end + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

impl FromStr for ActionPattern {
    type Err = PatternError;

    fn from_str(text: &str) -> Result<ActionPattern, PatternError> {
        ActionPattern::parse(text)
    }
}

impl fmt::Display for ActionPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<Action> for ActionPattern {
    fn from(action: Action) -> ActionPattern {
        ActionPattern::exact(action)
    }
}

impl Serialize for ActionPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for ActionPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ActionPattern, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        ActionPattern::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(pattern: &str, name: &str) -> bool {
        glob_match_ignore_ascii_case(pattern.as_bytes(), name.as_bytes())
    }

    #[test]
    fn glob_handles_stars_anywhere() {
        assert!(glob("*", ""));
        assert!(glob("*", "cgs:cluster:list"));
        assert!(glob("cgs:*", "cgs:cluster:list"));
        assert!(glob("*:list", "cgs:cluster:list"));
        assert!(glob("c*s*:*t", "cgs:cluster:list"));
        assert!(glob("**a**", "a"));
        assert!(!glob("cgs:*:get", "cgs:cluster:list"));
        assert!(!glob("a*b", "a"));
        assert!(!glob("", "a"));
        // Needs the star to absorb more after a partial match ("ab" then "abc").
        assert!(glob("*abc", "ababc"));
        assert!(glob("a*b*c", "aXbXbYc"));
        assert!(!glob("a*b*c", "aXbXbY"));
    }

    #[test]
    fn shapes() {
        for valid in ["*", "cgs:*", "hss:*", "cgs:cluster:list", "cgs:*:list", "*:*:*", "ecs:cloudServers:list2"] {
            assert!(ActionPattern::parse(valid).is_ok(), "{valid}");
        }
        for malformed in ["cgs", "**", "cgs:cluster", "cgs:clu*", "a:b:c:d", "cgs:cluster:list:"] {
            assert!(
                matches!(ActionPattern::parse(malformed), Err(PatternError::Malformed { .. })),
                "{malformed}: {:?}",
                ActionPattern::parse(malformed)
            );
        }
        assert_eq!(
            ActionPattern::parse("cgs::list"),
            Err(PatternError::EmptyPart { pattern: "cgs::list".into(), part: 2 })
        );
        assert_eq!(ActionPattern::parse(":"), Err(PatternError::EmptyPart { pattern: ":".into(), part: 1 }));
    }

    #[test]
    fn suggestions_only_for_close_names() {
        let suggestion = |text: &str| match ActionPattern::parse(text) {
            Err(PatternError::UnknownCgsAction { suggestion, .. }) => suggestion,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(suggestion("cgs:image:list"), Some(Action::ImagesList));
        assert_eq!(suggestion("cgs:clusters:operat"), Some(Action::ClusterOperate));
        assert_eq!(suggestion("cgs:nodes:delete"), None);
    }
}
