-- Run by aggregate_stats (extension/src/rollups.rs) once the rollups reach $1: devices last
-- counted before the previous month would count as new anyway.
DELETE FROM liveupdate.stats_device_activity AS s
WHERE s.last_month < date_trunc('month', date_trunc('month', $1) - interval '1 day')::date
