-- Enrolment tokens may be capped: at most max_nodes new nodes (NULL: no cap; 1: a
-- single-use token). nodes_enrolled counts the new nodes a token enrolled; renewing an
-- enrolled node's credential does not count. A node records the token that enrolled it,
-- so that the nodes of a leaked token can be found and removed with their on-demand hours.
ALTER TABLE enrolment_tokens ADD COLUMN max_nodes BIGINT;
ALTER TABLE enrolment_tokens ADD COLUMN nodes_enrolled BIGINT NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN enrolment_token_id TEXT;
CREATE INDEX nodes_enrolment_token ON nodes (enrolment_token_id);
