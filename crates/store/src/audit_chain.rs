//! The audit log's hash chain: each record's hash covers its fields and the hash of the
//! record before it, so an edited, removed or inserted record breaks the chain.

use sha2::{Digest, Sha256};

use crate::records::{AuditRow, NewAudit};

/// SHA-256 (hex) over the previous hash, the sequence number and every field, each
/// length-prefixed so that no two different records hash the same input.
pub fn chain_hash(prev_hash: &str, seq: i64, r: &NewAudit) -> String {
    let mut h = Sha256::new();
    let seq = seq.to_string();
    let time = r.time.to_string();
    let fields: [&str; 16] = [
        "cguard-audit-v1",
        prev_hash,
        &seq,
        &r.id,
        &time,
        &r.event_name,
        &r.event_type,
        &r.source,
        &r.resource_type,
        &r.resource_id,
        &r.resource_name,
        &r.operator,
        &r.level,
        &r.outcome,
        &r.request,
        &r.result,
    ];
    for f in fields {
        h.update((f.len() as u64).to_be_bytes());
        h.update(f.as_bytes());
    }
    hex::encode(h.finalize())
}

/// A break in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainProblem {
    /// The record's stored hash is not the hash of its contents: it was edited.
    Altered { seq: i64 },
    /// The record does not follow the one before it: records were removed or inserted.
    Broken { seq: i64, expected_seq: i64 },
    /// The record's `prev_hash` is not the previous record's hash.
    Relinked { seq: i64 },
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChainProblem::Altered { seq } => {
                write!(f, "record {seq} was altered: its hash does not match its contents")
            }
            ChainProblem::Broken { seq, expected_seq } => {
                write!(f, "record {seq} follows record {}: records were removed or inserted", expected_seq - 1)
            }
            ChainProblem::Relinked { seq } => write!(f, "record {seq} does not link to the record before it"),
        }
    }
}

/// Checks `rows` (in order) as the continuation of a chain whose last record had
/// `prev_seq` and `prev_hash`. Returns every problem found and the new chain head.
pub fn verify_chain(prev_seq: i64, prev_hash: &str, rows: &[AuditRow]) -> (Vec<ChainProblem>, i64, String) {
    let mut problems = Vec::new();
    let (mut seq, mut hash) = (prev_seq, prev_hash.to_string());
    for row in rows {
        if row.seq != seq + 1 {
            problems.push(ChainProblem::Broken { seq: row.seq, expected_seq: seq + 1 });
        }
        if row.prev_hash != hash {
            problems.push(ChainProblem::Relinked { seq: row.seq });
        }
        if chain_hash(&row.prev_hash, row.seq, &row.record) != row.hash {
            problems.push(ChainProblem::Altered { seq: row.seq });
        }
        seq = row.seq;
        hash = row.hash.clone();
    }
    (problems, seq, hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u32) -> NewAudit {
        NewAudit {
            id: format!("id-{n}"),
            time: 1_700_000_000_000 + i64::from(n),
            event_name: "addPolicy".into(),
            event_type: "management".into(),
            source: "cgs".into(),
            resource_type: "policy".into(),
            resource_id: format!("p{n}"),
            resource_name: "web".into(),
            operator: "admin".into(),
            level: "normal".into(),
            outcome: "success".into(),
            request: "{}".into(),
            result: "{}".into(),
        }
    }

    fn chain(n: u32) -> Vec<AuditRow> {
        let mut prev = String::new();
        (1..=n)
            .map(|i| {
                let r = record(i);
                let hash = chain_hash(&prev, i64::from(i), &r);
                let row = AuditRow { seq: i64::from(i), record: r, prev_hash: prev.clone(), hash: hash.clone() };
                prev = hash;
                row
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let rows = chain(5);
        let (problems, seq, head) = verify_chain(0, "", &rows);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!((seq, head), (5, rows[4].hash.clone()));
    }

    #[test]
    fn edits_removals_and_insertions_are_caught() {
        let mut edited = chain(5);
        edited[2].record.operator = "mallory".into();
        assert_eq!(verify_chain(0, "", &edited).0, vec![ChainProblem::Altered { seq: 3 }]);

        let mut removed = chain(5);
        removed.remove(2);
        let problems = verify_chain(0, "", &removed).0;
        assert!(problems.contains(&ChainProblem::Broken { seq: 4, expected_seq: 3 }), "{problems:?}");

        let mut inserted = chain(5);
        let mut extra = inserted[1].clone();
        extra.record.id = "forged".into();
        inserted.insert(2, extra);
        assert!(!verify_chain(0, "", &inserted).0.is_empty());
    }

    #[test]
    fn fields_are_delimited() {
        let mut a = record(1);
        let mut b = record(1);
        a.resource_name = "ab".into();
        a.operator = "c".into();
        b.resource_name = "a".into();
        b.operator = "bc".into();
        assert_ne!(chain_hash("", 1, &a), chain_hash("", 1, &b));
    }
}
