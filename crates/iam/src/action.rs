//! The 18 actions of the `cgs` service: every API operation is guarded by exactly one of them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One permission of the `cgs` service, named `cgs:<resource>:<verb>` as in custom policies.
///
/// The set is closed: policies can only grant or deny these, and a policy that names a `cgs` action outside the
/// set is rejected when it is parsed (a typo would otherwise silently grant nothing).
///
/// ```
/// use iam::Action;
///
/// let action: Action = "cgs:cluster:list".parse().unwrap();
/// assert_eq!(action, Action::ClusterList);
/// assert_eq!(action.to_string(), "cgs:cluster:list");
/// assert!(action.is_read_only());
/// assert_eq!(action.description(), "Query the cluster list");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// `cgs:quota:get`
    QuotaGet,
    /// `cgs:quota:list`
    QuotaList,
    /// `cgs:quota:operate`
    QuotaOperate,
    /// `cgs:cluster:list`
    ClusterList,
    /// `cgs:cluster:operate`
    ClusterOperate,
    /// `cgs:images:list`
    ImagesList,
    /// `cgs:images:operate`
    ImagesOperate,
    /// `cgs:images:get`
    ImagesGet,
    /// `cgs:configuration:list`
    ConfigurationList,
    /// `cgs:configuration:operate`
    ConfigurationOperate,
    /// `cgs:imageSecure:list`
    ImageSecureList,
    /// `cgs:imageSecure:operate`
    ImageSecureOperate,
    /// `cgs:imageSecure:get`
    ImageSecureGet,
    /// `cgs:runtimeSecure:list`
    RuntimeSecureList,
    /// `cgs:runtimeSecure:get`
    RuntimeSecureGet,
    /// `cgs:runtimeSecure:operate`
    RuntimeSecureOperate,
    /// `cgs:privilege:operate`
    PrivilegeOperate,
    /// `cgs:privilege:get`
    PrivilegeGet,
}

/// The service part of every [`Action`]'s name.
pub const SERVICE: &str = "cgs";

impl Action {
    /// Every action, in the order of the permission table (quota, cluster, images, configuration, image security,
    /// runtime security, privilege).
    pub const ALL: [Action; 18] = [
        Action::QuotaGet,
        Action::QuotaList,
        Action::QuotaOperate,
        Action::ClusterList,
        Action::ClusterOperate,
        Action::ImagesList,
        Action::ImagesOperate,
        Action::ImagesGet,
        Action::ConfigurationList,
        Action::ConfigurationOperate,
        Action::ImageSecureList,
        Action::ImageSecureOperate,
        Action::ImageSecureGet,
        Action::RuntimeSecureList,
        Action::RuntimeSecureGet,
        Action::RuntimeSecureOperate,
        Action::PrivilegeOperate,
        Action::PrivilegeGet,
    ];

    /// The action's name as written in policies, e.g. `cgs:imageSecure:list`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::QuotaGet => "cgs:quota:get",
            Action::QuotaList => "cgs:quota:list",
            Action::QuotaOperate => "cgs:quota:operate",
            Action::ClusterList => "cgs:cluster:list",
            Action::ClusterOperate => "cgs:cluster:operate",
            Action::ImagesList => "cgs:images:list",
            Action::ImagesOperate => "cgs:images:operate",
            Action::ImagesGet => "cgs:images:get",
            Action::ConfigurationList => "cgs:configuration:list",
            Action::ConfigurationOperate => "cgs:configuration:operate",
            Action::ImageSecureList => "cgs:imageSecure:list",
            Action::ImageSecureOperate => "cgs:imageSecure:operate",
            Action::ImageSecureGet => "cgs:imageSecure:get",
            Action::RuntimeSecureList => "cgs:runtimeSecure:list",
            Action::RuntimeSecureGet => "cgs:runtimeSecure:get",
            Action::RuntimeSecureOperate => "cgs:runtimeSecure:operate",
            Action::PrivilegeOperate => "cgs:privilege:operate",
            Action::PrivilegeGet => "cgs:privilege:get",
        }
    }

    /// The resource part of the name, e.g. `imageSecure`.
    pub fn resource(self) -> &'static str {
        let name = self.as_str();
        let rest = &name[SERVICE.len() + 1..];
        rest.split_once(':').map_or(rest, |(resource, _)| resource)
    }

    /// The verb part of the name: `list`, `get` or `operate`.
    pub fn verb(self) -> &'static str {
        let name = self.as_str();
        name.rsplit_once(':').map_or(name, |(_, verb)| verb)
    }

    /// Whether the action only reads (its verb is `list` or `get`). These are the actions of
    /// [`SystemPolicy::ReadOnlyAccess`](crate::SystemPolicy::ReadOnlyAccess).
    pub fn is_read_only(self) -> bool {
        matches!(self.verb(), "list" | "get")
    }

    /// What the action permits, in the words of the permission table.
    pub const fn description(self) -> &'static str {
        match self {
            Action::QuotaGet => "Query protection quota statistics",
            Action::QuotaList => "Query the list of subscription quotas",
            Action::QuotaOperate => "Order subscription protection quotas",
            Action::ClusterList => "Query the cluster list",
            Action::ClusterOperate => "Enable or disable protection of a container cluster",
            Action::ImagesList => "Query the image list",
            Action::ImagesOperate => "Synchronise and scan images",
            Action::ImagesGet => "Query container image details",
            Action::ConfigurationList => "Query configuration",
            Action::ConfigurationOperate => "Modify configuration",
            Action::ImageSecureList => "Query image security information",
            Action::ImageSecureOperate => "Handle image security events",
            Action::ImageSecureGet => "Get image scan results",
            Action::RuntimeSecureList => "Query the runtime event list",
            Action::RuntimeSecureGet => "Query runtime monitoring information",
            Action::RuntimeSecureOperate => "Handle runtime monitoring events",
            Action::PrivilegeOperate => "Grant or revoke the service authorization",
            Action::PrivilegeGet => "Query the service authorization",
        }
    }

    /// The action whose name equals `name` ignoring ASCII case, as policy matching compares names.
    pub fn from_name_ignore_case(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|action| action.as_str().eq_ignore_ascii_case(name))
    }
}

/// The error of parsing an [`Action`] from a string that is not one of the 18 names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name:?} is not a cgs action")]
pub struct UnknownAction {
    /// The rejected name, shortened when it is long.
    pub name: String,
}

impl FromStr for Action {
    type Err = UnknownAction;

    /// Parses the exact name (`cgs:cluster:list`); names are case-sensitive here, as in the API. Policies compare
    /// names ignoring case: see [`Action::from_name_ignore_case`].
    fn from_str(name: &str) -> Result<Action, UnknownAction> {
        Action::ALL
            .into_iter()
            .find(|action| action.as_str() == name)
            .ok_or_else(|| UnknownAction { name: crate::text::shorten(name) })
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Action, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_have_three_parts_and_known_verbs() {
        for action in Action::ALL {
            let parts: Vec<&str> = action.as_str().split(':').collect();
            assert_eq!(parts, [SERVICE, action.resource(), action.verb()], "{action}");
            assert!(["list", "get", "operate"].contains(&action.verb()), "{action}");
        }
    }

    #[test]
    fn names_are_distinct_even_ignoring_case() {
        for (i, a) in Action::ALL.iter().enumerate() {
            for b in &Action::ALL[i + 1..] {
                assert!(!a.as_str().eq_ignore_ascii_case(b.as_str()), "{a} and {b}");
            }
        }
    }

    #[test]
    fn from_str_is_exact_and_from_name_ignore_case_is_not() {
        assert_eq!("cgs:imageSecure:get".parse::<Action>(), Ok(Action::ImageSecureGet));
        assert!("cgs:imagesecure:get".parse::<Action>().is_err());
        assert_eq!(Action::from_name_ignore_case("CGS:IMAGESECURE:GET"), Some(Action::ImageSecureGet));
        assert_eq!(Action::from_name_ignore_case("cgs:imageSecure"), None);
    }
}
