//! `docs/iam-policies.md` agrees with the code: the action table, the system policies and every JSON example.

use iam::{Action, PolicyDocument, SystemPolicy, allowed_actions};

use crate::common::actions_where;

fn page() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/iam-policies.md");
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The cells of the table rows whose first cell is a code span starting with `prefix`.
fn table_rows(page: &str, prefix: &str) -> Vec<Vec<String>> {
    page.lines()
        .filter(|line| line.starts_with(&format!("| `{prefix}")))
        .map(|line| line.trim_matches('|').split('|').map(|cell| cell.trim().to_owned()).collect())
        .collect()
}

#[test]
fn the_action_table_lists_every_action_with_its_description() {
    let rows = table_rows(&page(), "cgs:");
    let rows: Vec<&Vec<String>> = rows.iter().filter(|row| row.len() == 3).collect();
    assert_eq!(rows.len(), Action::ALL.len());
    for (row, action) in rows.iter().zip(Action::ALL) {
        assert_eq!(row[0], format!("`{action}`"));
        assert_eq!(row[1], action.description(), "{action}");
        assert_eq!(row[2] == "yes", action.is_read_only(), "{action}");
    }
}

#[test]
fn the_system_policy_table_matches_the_documents() {
    let rows = table_rows(&page(), "CGS ");
    assert_eq!(rows.len(), SystemPolicy::ALL.len());
    for (row, policy) in rows.iter().zip(SystemPolicy::ALL) {
        assert_eq!(row[0], format!("`{}`", policy.name()));
        let patterns: Vec<String> =
            policy.document().statements()[0].actions().iter().map(|pattern| format!("`{pattern}`")).collect();
        assert_eq!(row[2], format!("Allow {}", patterns.join(", ")), "{policy}");
    }
}

#[test]
fn every_json_example_is_a_valid_policy() {
    let page = page();
    let examples: Vec<PolicyDocument> = page
        .split("```json\n")
        .skip(1)
        .map(|block| {
            let json = block.split("```").next().unwrap();
            PolicyDocument::parse(json).unwrap_or_else(|error| panic!("{json}: {error}"))
        })
        .collect();
    // The syntax section, the three documented examples and the read-and-handle-runtime example.
    assert_eq!(examples.len(), 5);
    let last = examples.last().unwrap();
    assert_eq!(
        allowed_actions(&[last]),
        actions_where(|action| action.is_read_only() || action == Action::RuntimeSecureOperate)
    );
}
