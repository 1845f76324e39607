-- An operator's permission for the next enrolment under a node's name to replace the node
-- (its credential): until this time (ms); NULL when not allowed. Without it, only a
-- request that carries the node's current credential may enrol under that name again.
ALTER TABLE nodes ADD COLUMN reenrol_until BIGINT;
