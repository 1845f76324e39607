//! Enrolment: the tokens a cluster hands to its hosts and the nodes they enrol. A token
//! may be capped (at most so many new nodes; one for a single-use token), and every node
//! records the token that enrolled it, so that a leaked token's nodes can be removed with
//! the on-demand hours they were counted for.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::sql::{SqlStore, conflict_or, node_from};
use crate::{EnrolmentTokenRow, NodeRow, Result, StoreError};

/// How an enrolment ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Enrolment {
    /// The node, new or with its credential renewed.
    Enrolled(NodeRow),
    /// The cluster has a node of that name and the request may not replace it.
    NameTaken,
    /// The token already enrolled as many new nodes as it may.
    TokenUsedUp,
}

#[async_trait]
pub trait EnrolmentStore: Send + Sync {
    async fn create_enrolment_token(&self, token: &EnrolmentTokenRow) -> Result<()>;
    async fn enrolment_token(&self, secret_hash: &str) -> Result<Option<EnrolmentTokenRow>>;
    /// A cluster's tokens, newest first.
    async fn enrolment_tokens(&self, cluster_id: &str) -> Result<Vec<EnrolmentTokenRow>>;
    /// Revokes every token of a cluster that is not revoked yet.
    async fn revoke_enrolment_tokens(&self, cluster_id: &str, now: i64) -> Result<()>;
    /// Revokes one token of a cluster; `None` when the cluster has no such token.
    async fn revoke_enrolment_token(
        &self,
        cluster_id: &str,
        token_id: &str,
        now: i64,
    ) -> Result<Option<EnrolmentTokenRow>>;
    /// Registers a node enrolled with token `token_id`. When the cluster already has a
    /// node of that name, its credential (and version, facts, enrolment time, token) is
    /// replaced only if `proof_hash` is that node's current credential hash or an operator
    /// allowed its re-enrolment until at least `now`; otherwise nothing changes
    /// ([`Enrolment::NameTaken`]). A new node counts against the token's cap, in the same
    /// transaction: two enrolments can neither both take a name nor both take the last
    /// place of a token.
    async fn enrol(&self, node: &NodeRow, proof_hash: Option<&str>, now: i64) -> Result<Enrolment>;
    /// Removes the nodes a token enrolled (their credentials stop working) and the
    /// on-demand hours they were counted for. Returns the number of nodes removed.
    async fn remove_nodes_of_token(&self, token_id: &str) -> Result<u64>;
}

fn token_from(row: &AnyRow) -> Result<EnrolmentTokenRow> {
    Ok(EnrolmentTokenRow {
        id: row.try_get("id")?,
        cluster_id: row.try_get("cluster_id")?,
        secret_hash: row.try_get("secret_hash")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        max_nodes: row.try_get("max_nodes")?,
        nodes_enrolled: row.try_get("nodes_enrolled")?,
    })
}

#[async_trait]
impl EnrolmentStore for SqlStore {
    async fn create_enrolment_token(&self, t: &EnrolmentTokenRow) -> Result<()> {
        let _w = self.writing().await;
        sqlx::query(
            "INSERT INTO enrolment_tokens (id, cluster_id, secret_hash, created_at, expires_at, revoked_at, \
             max_nodes, nodes_enrolled) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&t.id)
        .bind(&t.cluster_id)
        .bind(&t.secret_hash)
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(t.revoked_at)
        .bind(t.max_nodes)
        .bind(t.nodes_enrolled)
        .execute(&self.pool)
        .await
        .map_err(|e| conflict_or(e, "enrolment token"))?;
        Ok(())
    }

    async fn enrolment_token(&self, secret_hash: &str) -> Result<Option<EnrolmentTokenRow>> {
        let row = sqlx::query("SELECT * FROM enrolment_tokens WHERE secret_hash = $1")
            .bind(secret_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(token_from).transpose()
    }

    async fn enrolment_tokens(&self, cluster_id: &str) -> Result<Vec<EnrolmentTokenRow>> {
        let rows = sqlx::query("SELECT * FROM enrolment_tokens WHERE cluster_id = $1 ORDER BY created_at DESC, id")
            .bind(cluster_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(token_from).collect()
    }

    async fn revoke_enrolment_tokens(&self, cluster_id: &str, now: i64) -> Result<()> {
        let _w = self.writing().await;
        sqlx::query("UPDATE enrolment_tokens SET revoked_at = $2 WHERE cluster_id = $1 AND revoked_at IS NULL")
            .bind(cluster_id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn revoke_enrolment_token(
        &self,
        cluster_id: &str,
        token_id: &str,
        now: i64,
    ) -> Result<Option<EnrolmentTokenRow>> {
        {
            let _w = self.writing().await;
            sqlx::query(
                "UPDATE enrolment_tokens SET revoked_at = $3 WHERE cluster_id = $1 AND id = $2 AND revoked_at IS NULL",
            )
            .bind(cluster_id)
            .bind(token_id)
            .bind(now)
            .execute(&self.pool)
            .await?;
        }
        let row = sqlx::query("SELECT * FROM enrolment_tokens WHERE cluster_id = $1 AND id = $2")
            .bind(cluster_id)
            .bind(token_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(token_from).transpose()
    }

    async fn enrol(&self, n: &NodeRow, proof_hash: Option<&str>, now: i64) -> Result<Enrolment> {
        let token_id = n.enrolment_token_id.as_deref().unwrap_or_default();
        let _w = self.writing().await;
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "INSERT INTO nodes (id, cluster_id, name, credential_hash, shield_version, facts, enrolled_at, \
             last_heartbeat, enrolment_token_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $11) \
             ON CONFLICT (cluster_id, name) DO UPDATE SET credential_hash = EXCLUDED.credential_hash, \
             shield_version = EXCLUDED.shield_version, facts = EXCLUDED.facts, \
             enrolled_at = EXCLUDED.enrolled_at, last_heartbeat = EXCLUDED.last_heartbeat, reenrol_until = NULL, \
             enrolment_token_id = EXCLUDED.enrolment_token_id \
             WHERE nodes.credential_hash = $9 OR nodes.reenrol_until >= $10",
        )
        .bind(&n.id)
        .bind(&n.cluster_id)
        .bind(&n.name)
        .bind(&n.credential_hash)
        .bind(&n.shield_version)
        .bind(&n.facts)
        .bind(n.enrolled_at)
        .bind(n.last_heartbeat)
        .bind(proof_hash)
        .bind(now)
        .bind(&n.enrolment_token_id)
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict_or(e, "node credential"))?;
        if done.rows_affected() == 0 {
            return Ok(Enrolment::NameTaken);
        }
        let row = sqlx::query("SELECT * FROM nodes WHERE credential_hash = $1")
            .bind(&n.credential_hash)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound("node".into()))?;
        let node = node_from(&row)?;
        // A new row keeps the id it was given; a renewed node keeps its own and costs the
        // token nothing. On PostgreSQL the update locks the token's row, so concurrent
        // enrolments through one token count one after the other.
        if node.id == n.id {
            let counted = sqlx::query(
                "UPDATE enrolment_tokens SET nodes_enrolled = nodes_enrolled + 1 \
                 WHERE id = $1 AND revoked_at IS NULL AND (max_nodes IS NULL OR nodes_enrolled < max_nodes)",
            )
            .bind(token_id)
            .execute(&mut *tx)
            .await?;
            if counted.rows_affected() == 0 {
                return Ok(Enrolment::TokenUsedUp);
            }
        }
        tx.commit().await?;
        Ok(Enrolment::Enrolled(node))
    }

    async fn remove_nodes_of_token(&self, token_id: &str) -> Result<u64> {
        let _w = self.writing().await;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM on_demand_hours WHERE node_id IN (SELECT id FROM nodes WHERE enrolment_token_id = $1)",
        )
        .bind(token_id)
        .execute(&mut *tx)
        .await?;
        let done =
            sqlx::query("DELETE FROM nodes WHERE enrolment_token_id = $1").bind(token_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}
