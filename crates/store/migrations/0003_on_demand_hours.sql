-- Node-hours of nodes protected beyond the normal quotas (SPEC 1.2): one row per node and
-- started hour in which it was protected on demand.
CREATE TABLE on_demand_hours (
    node_id TEXT NOT NULL,
    hour BIGINT NOT NULL,
    PRIMARY KEY (node_id, hour)
);
