-- Lists sort by (time, id) and (enrolled_at, id): indexes that give that order directly.
CREATE INDEX runtime_events_time_id ON runtime_events (time, id);
CREATE INDEX runtime_events_category_time_id ON runtime_events (category, time, id);
DROP INDEX runtime_events_time;
DROP INDEX runtime_events_category;
CREATE INDEX nodes_enrolled ON nodes (enrolled_at, id);
CREATE INDEX nodes_cluster_enrolled ON nodes (cluster_id, enrolled_at, id);
