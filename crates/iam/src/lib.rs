//! The permission model of the cguard control plane. Pure: no I/O, no async.
//!
//! - [`Action`]: the 18 `cgs` actions; every API operation is guarded by exactly one of them.
//! - [`PolicyDocument`]: custom policies in the JSON syntax
//!   `{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["cgs:cluster:list"]}]}`, validated with
//!   messages that name the statement and the action at fault ([`PolicyError`]).
//! - [`ActionPattern`]: `service:resource:verb` with `*` wildcards, matched ignoring ASCII case.
//! - [`SystemPolicy`]: `CGS Administrator`, `CGS FullAccess`, `CGS ReadOnlyAccess`.
//! - [`evaluate`] and [`allowed_actions`]: an explicit Deny in any policy wins over any Allow; without an Allow
//!   the action is denied.
//! - [`Scope`]: what an API token is limited to, on top of its user's policies.
//!
//! `docs/iam-policies.md` describes the syntax and rules for users.
//!
//! ```
//! use iam::{Action, PolicyDocument, SystemPolicy, allowed_actions};
//!
//! let deny = PolicyDocument::parse(
//!     r#"{"Version":"1.1","Statement":[{"Action":["cgs:configuration:operate"],"Effect":"Deny"}]}"#,
//! )
//! .unwrap();
//! let allowed = allowed_actions(&[SystemPolicy::FullAccess.document(), &deny]);
//! assert_eq!(allowed.len(), 16, "FullAccess holds every action but cgs:privilege:operate");
//! assert!(!allowed.contains(&Action::ConfigurationOperate));
//! ```

mod action;
mod error;
mod evaluate;
mod json;
mod pattern;
mod policy;
mod scope;
mod system;
mod text;

pub use action::{Action, SERVICE, UnknownAction};
pub use error::{Location, PolicyError};
pub use evaluate::{Decision, StatementRef, allowed_actions, evaluate};
pub use pattern::{ActionPattern, PatternError};
pub use policy::{
    Effect, MAX_ACTIONS_PER_STATEMENT, MAX_DOCUMENT_BYTES, MAX_STATEMENTS, POLICY_VERSION, PolicyDocument, Statement,
};
pub use scope::{MAX_SCOPE_PATTERNS, Scope, ScopeError};
pub use system::{SystemPolicy, UnknownSystemPolicy};
