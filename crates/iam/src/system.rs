//! The system policies every installation has: they cannot be edited, only granted.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::pattern::ActionPattern;
use crate::policy::{Effect, PolicyDocument, Statement};

/// A predefined policy.
///
/// ```
/// use iam::{Action, SystemPolicy, allowed_actions};
///
/// let read_only = SystemPolicy::ReadOnlyAccess;
/// assert_eq!(read_only.name(), "CGS ReadOnlyAccess");
/// let allowed = allowed_actions(&[read_only.document()]);
/// assert!(allowed.contains(&Action::ClusterList));
/// assert!(!allowed.contains(&Action::ClusterOperate));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SystemPolicy {
    /// `CGS Administrator`: everything (Allow `*`).
    Administrator,
    /// `CGS FullAccess`: every cgs action but `cgs:privilege:operate`: it runs the service,
    /// it does not grant permissions (or it could grant itself `CGS Administrator`).
    FullAccess,
    /// `CGS ReadOnlyAccess`: every read-only cgs action (Allow `cgs:*:list` and `cgs:*:get`).
    ReadOnlyAccess,
}

static ADMINISTRATOR: LazyLock<PolicyDocument> = LazyLock::new(|| allow(&["*"]));
static FULL_ACCESS: LazyLock<PolicyDocument> = LazyLock::new(|| {
    allow(&[
        "cgs:quota:*",
        "cgs:cluster:*",
        "cgs:images:*",
        "cgs:configuration:*",
        "cgs:imageSecure:*",
        "cgs:runtimeSecure:*",
        "cgs:privilege:get",
    ])
});
static READ_ONLY_ACCESS: LazyLock<PolicyDocument> = LazyLock::new(|| allow(&["cgs:*:list", "cgs:*:get"]));

/// A one-statement Allow document of constant, valid patterns (the unit tests parse every system policy).
fn allow(patterns: &[&str]) -> PolicyDocument {
    let patterns = patterns
        .iter()
        .map(|pattern| ActionPattern::parse(pattern).unwrap_or_else(|error| unreachable!("{pattern}: {error}")))
        .collect();
    PolicyDocument::new(vec![Statement::new(Effect::Allow, patterns)])
        .unwrap_or_else(|error| unreachable!("system policy is invalid: {error}"))
}

impl SystemPolicy {
    /// Every system policy.
    pub const ALL: [SystemPolicy; 3] =
        [SystemPolicy::Administrator, SystemPolicy::FullAccess, SystemPolicy::ReadOnlyAccess];

    /// The display name, e.g. `CGS FullAccess`.
    pub const fn name(self) -> &'static str {
        match self {
            SystemPolicy::Administrator => "CGS Administrator",
            SystemPolicy::FullAccess => "CGS FullAccess",
            SystemPolicy::ReadOnlyAccess => "CGS ReadOnlyAccess",
        }
    }

    /// What the policy grants.
    pub const fn description(self) -> &'static str {
        match self {
            SystemPolicy::Administrator => "Administrator of the container guard service, with every permission.",
            SystemPolicy::FullAccess => {
                "All permissions of the container guard service, except changing users, groups, permission \
                 policies and the service authorization (cgs:privilege:operate)."
            }
            SystemPolicy::ReadOnlyAccess => {
                "Read-only access to the container guard service: users with it can only view the service."
            }
        }
    }

    /// The policy's document.
    pub fn document(self) -> &'static PolicyDocument {
        match self {
            SystemPolicy::Administrator => &ADMINISTRATOR,
            SystemPolicy::FullAccess => &FULL_ACCESS,
            SystemPolicy::ReadOnlyAccess => &READ_ONLY_ACCESS,
        }
    }
}

/// The error of parsing a [`SystemPolicy`] from a name that is none of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{name:?} is not a system policy (expected \"CGS Administrator\", \"CGS FullAccess\" or \"CGS ReadOnlyAccess\")"
)]
pub struct UnknownSystemPolicy {
    /// The rejected name, shortened when it is long.
    pub name: String,
}

impl FromStr for SystemPolicy {
    type Err = UnknownSystemPolicy;

    /// Parses the display name. The permission table also spells two of them with spaces (`CGS Full Access`,
    /// `CGS Read Only Access`); those spellings are accepted too.
    fn from_str(name: &str) -> Result<SystemPolicy, UnknownSystemPolicy> {
        match name {
            "CGS Administrator" => Ok(SystemPolicy::Administrator),
            "CGS FullAccess" | "CGS Full Access" => Ok(SystemPolicy::FullAccess),
            "CGS ReadOnlyAccess" | "CGS Read Only Access" => Ok(SystemPolicy::ReadOnlyAccess),
            _ => Err(UnknownSystemPolicy { name: crate::text::shorten(name) }),
        }
    }
}

impl fmt::Display for SystemPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for SystemPolicy {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for SystemPolicy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SystemPolicy, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip_through_their_json() {
        for policy in SystemPolicy::ALL {
            let document = policy.document();
            assert_eq!(&PolicyDocument::parse(&document.to_json()).unwrap(), document, "{policy}");
        }
    }

    #[test]
    fn names_parse_back() {
        for policy in SystemPolicy::ALL {
            assert_eq!(policy.name().parse::<SystemPolicy>(), Ok(policy));
        }
        assert_eq!("CGS Read Only Access".parse::<SystemPolicy>(), Ok(SystemPolicy::ReadOnlyAccess));
        assert!("CGS Root".parse::<SystemPolicy>().is_err());
    }
}
