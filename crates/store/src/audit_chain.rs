//! The audit log's hash chain: each record's hash covers its fields and the hash of the
//! record before it, so an edited, removed or inserted record breaks the chain.
//!
//! Two versions live in one chain. Version 1 (records written before the chain was keyed)
//! is plain SHA-256: whoever can write the database can edit a record and hash it again.
//! Version 2 is HMAC-SHA256 under an [`AuditKey`] that is not in the database (it is
//! derived from the server's secret key file), and its hashes are written `v2:<hex>`. Once
//! the chain has a version 2 record, every later record must be version 2, so that a
//! rewriter cannot fall back to the unkeyed form.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::records::{AuditRow, NewAudit};

/// The prefix of a version 2 (keyed) hash.
pub const KEYED_PREFIX: &str = "v2:";

/// The key of the audit chain's HMAC. Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct AuditKey([u8; 32]);

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditKey(<redacted>)")
    }
}

impl AuditKey {
    /// The audit key derived from the server's secret key: HMAC-SHA256(secret, "cguard
    /// audit chain v2"), so that it is never the key that seals secrets itself.
    pub fn derive(secret: &[u8]) -> AuditKey {
        AuditKey(hmac_sha256(secret, &[b"cguard audit chain v2"]))
    }
}

/// HMAC-SHA256 (RFC 2104) of the concatenation of `parts`.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The chain's fields of a record, each length-prefixed so that no two different records
/// hash the same input.
fn encoded(tag: &str, prev_hash: &str, seq: i64, r: &NewAudit) -> Vec<u8> {
    let seq = seq.to_string();
    let time = r.time.to_string();
    let fields: [&str; 16] = [
        tag,
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
    let mut out = Vec::new();
    for f in fields {
        out.extend_from_slice(&(f.len() as u64).to_be_bytes());
        out.extend_from_slice(f.as_bytes());
    }
    out
}

/// Version 1, unkeyed: SHA-256 (hex) over the previous hash, the sequence number and every
/// field. Only to check records written before the chain was keyed.
pub fn chain_hash(prev_hash: &str, seq: i64, r: &NewAudit) -> String {
    hex::encode(Sha256::digest(encoded("cguard-audit-v1", prev_hash, seq, r)))
}

/// Version 2, keyed: `v2:` and HMAC-SHA256 (hex) under `key` over the same fields.
pub fn keyed_chain_hash(key: &AuditKey, prev_hash: &str, seq: i64, r: &NewAudit) -> String {
    let mac = hmac_sha256(&key.0, &[&encoded("cguard-audit-v2", prev_hash, seq, r)]);
    format!("{KEYED_PREFIX}{}", hex::encode(mac))
}

/// Whether a stored hash is a version 2 (keyed) one.
pub fn is_keyed(hash: &str) -> bool {
    hash.starts_with(KEYED_PREFIX)
}

/// The hash `row` must carry, in the version its stored hash claims.
fn expected_hash(key: &AuditKey, row: &AuditRow) -> String {
    if is_keyed(&row.hash) {
        keyed_chain_hash(key, &row.prev_hash, row.seq, &row.record)
    } else {
        chain_hash(&row.prev_hash, row.seq, &row.record)
    }
}

/// A point of the chain kept outside the database: a record's sequence number and hash,
/// written `seq=N hash=H`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub seq: i64,
    pub hash: String,
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seq={} hash={}", self.seq, self.hash)
    }
}

impl FromStr for Checkpoint {
    type Err = String;

    /// Reads `seq=N hash=H` (the two fields in any order, separated by blanks).
    fn from_str(text: &str) -> Result<Checkpoint, String> {
        let (mut seq, mut hash) = (None, None);
        for part in text.split_whitespace() {
            match part.split_once('=') {
                Some(("seq", v)) => seq = Some(v.parse::<i64>().map_err(|_| format!("`seq={v}` is not a number"))?),
                Some(("hash", v)) if !v.is_empty() => hash = Some(v.to_owned()),
                _ => return Err(format!("unexpected `{part}`; a checkpoint reads `seq=N hash=H`")),
            }
        }
        match (seq, hash) {
            (Some(seq), Some(hash)) if seq >= 0 => Ok(Checkpoint { seq, hash }),
            _ => Err("a checkpoint reads `seq=N hash=H`, as `cguard audit checkpoint` prints it".into()),
        }
    }
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
    /// An unkeyed (version 1) record after a keyed one: a rewrite without the key.
    Unkeyed { seq: i64 },
    /// The checkpoint's record is gone, though the chain has not been pruned past it.
    CheckpointMissing { seq: i64 },
    /// The record at the checkpoint's sequence number has another hash.
    CheckpointMismatch { seq: i64 },
    /// The checkpoint's record was pruned (the chain now starts after `anchor_seq`): a
    /// checkpoint older than the retention can no longer be checked.
    CheckpointPruned { seq: i64, anchor_seq: i64 },
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
            ChainProblem::Unkeyed { seq } => {
                write!(f, "record {seq} is not keyed though records before it are: the chain was rewritten")
            }
            ChainProblem::CheckpointMissing { seq } => write!(
                f,
                "the checkpoint's record {seq} is missing though the log was not pruned past it: records were removed"
            ),
            ChainProblem::CheckpointMismatch { seq } => {
                write!(f, "record {seq} does not have the checkpoint's hash: the chain was rewritten")
            }
            ChainProblem::CheckpointPruned { seq, anchor_seq } => write!(
                f,
                "the checkpoint's record {seq} is no longer in the log, which now starts after record {anchor_seq}: \
                 either it was pruned (a checkpoint older than the retention cannot be checked; keep a newer one) \
                 or the oldest records were removed"
            ),
        }
    }
}

/// Checks `rows` (in order) as the continuation of a chain whose last record had
/// `prev_seq` and `prev_hash`, keyed records under `key`. Returns every problem found and
/// the new chain head.
pub fn verify_chain(
    key: &AuditKey,
    prev_seq: i64,
    prev_hash: &str,
    rows: &[AuditRow],
) -> (Vec<ChainProblem>, i64, String) {
    let mut problems = Vec::new();
    let (mut seq, mut hash) = (prev_seq, prev_hash.to_string());
    for row in rows {
        if row.seq != seq + 1 {
            problems.push(ChainProblem::Broken { seq: row.seq, expected_seq: seq + 1 });
        }
        if row.prev_hash != hash {
            problems.push(ChainProblem::Relinked { seq: row.seq });
        }
        if is_keyed(&hash) && !is_keyed(&row.hash) {
            problems.push(ChainProblem::Unkeyed { seq: row.seq });
        }
        if expected_hash(key, row) != row.hash {
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

    fn key() -> AuditKey {
        AuditKey::derive(&[7u8; 32])
    }

    /// A keyed chain of `n` records.
    fn chain(n: u32) -> Vec<AuditRow> {
        let mut prev = String::new();
        (1..=n)
            .map(|i| {
                let r = record(i);
                let hash = keyed_chain_hash(&key(), &prev, i64::from(i), &r);
                let row = AuditRow { seq: i64::from(i), record: r, prev_hash: prev.clone(), hash: hash.clone() };
                prev = hash;
                row
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        let rows = chain(5);
        let (problems, seq, head) = verify_chain(&key(), 0, "", &rows);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!((seq, head), (5, rows[4].hash.clone()));
    }

    #[test]
    fn edits_removals_and_insertions_are_caught() {
        let mut edited = chain(5);
        edited[2].record.operator = "mallory".into();
        assert_eq!(verify_chain(&key(), 0, "", &edited).0, vec![ChainProblem::Altered { seq: 3 }]);

        let mut removed = chain(5);
        removed.remove(2);
        let problems = verify_chain(&key(), 0, "", &removed).0;
        assert!(problems.contains(&ChainProblem::Broken { seq: 4, expected_seq: 3 }), "{problems:?}");

        let mut inserted = chain(5);
        let mut extra = inserted[1].clone();
        extra.record.id = "forged".into();
        inserted.insert(2, extra);
        assert!(!verify_chain(&key(), 0, "", &inserted).0.is_empty());
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231, test cases 1 and 6 (a key longer than the block).
        let mac = hmac_sha256(&[0x0b; 20], &[b"Hi There"]);
        assert_eq!(hex::encode(mac), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
        let mac = hmac_sha256(&[0xaa; 131], &[b"Test Using Larger Than Block-Size Key - Hash Key First"]);
        assert_eq!(hex::encode(mac), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
        assert_eq!(format!("{:?}", key()), "AuditKey(<redacted>)");
    }

    #[test]
    fn an_edit_hashed_again_without_the_key_is_caught() {
        let mut rows = chain(5);
        rows[2].record.operator = "mallory".into();
        // Plain SHA-256, as version 1: refused after keyed records.
        rows[2].hash = chain_hash(&rows[2].prev_hash, 3, &rows[2].record);
        let problems = verify_chain(&key(), 0, "", &rows).0;
        assert!(problems.contains(&ChainProblem::Unkeyed { seq: 3 }), "{problems:?}");
        // Plain SHA-256 written as a keyed hash: it is not the HMAC.
        rows[2].hash = format!("v2:{}", chain_hash(&rows[2].prev_hash, 3, &rows[2].record));
        assert!(verify_chain(&key(), 0, "", &rows).0.contains(&ChainProblem::Altered { seq: 3 }));
        // Another key cannot make a hash that verifies.
        rows[2].hash = keyed_chain_hash(&AuditKey::derive(b"guess"), &rows[2].prev_hash, 3, &rows[2].record);
        assert!(verify_chain(&key(), 0, "", &rows).0.contains(&ChainProblem::Altered { seq: 3 }));
        // The whole chain rewritten unkeyed from its first record is a valid version 1
        // chain: only a checkpoint kept elsewhere catches that.
    }

    #[test]
    fn unkeyed_records_before_keyed_ones_verify() {
        let mut rows = Vec::new();
        let mut prev = String::new();
        for i in 1..=4u32 {
            let r = record(i);
            let hash = if i <= 2 {
                chain_hash(&prev, i64::from(i), &r)
            } else {
                keyed_chain_hash(&key(), &prev, i64::from(i), &r)
            };
            rows.push(AuditRow { seq: i64::from(i), record: r, prev_hash: prev.clone(), hash: hash.clone() });
            prev = hash;
        }
        let (problems, seq, _) = verify_chain(&key(), 0, "", &rows);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(seq, 4);
        rows[0].record.operator = "mallory".into();
        assert_eq!(verify_chain(&key(), 0, "", &rows).0, vec![ChainProblem::Altered { seq: 1 }]);
    }

    #[test]
    fn checkpoints_read_what_they_print() {
        let c = Checkpoint { seq: 12, hash: "v2:ab".into() };
        assert_eq!(c.to_string(), "seq=12 hash=v2:ab");
        assert_eq!(c.to_string().parse::<Checkpoint>().unwrap(), c);
        assert_eq!(" hash=v2:ab  seq=12 ".parse::<Checkpoint>().unwrap(), c);
        for bad in ["", "seq=12", "hash=x", "seq=x hash=y", "seq=1 hash=y extra", "seq=-1 hash=y"] {
            assert!(bad.parse::<Checkpoint>().is_err(), "{bad}");
        }
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
