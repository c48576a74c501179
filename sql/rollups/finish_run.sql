-- Run by aggregate_stats (extension/src/rollups.rs): the watermark $1 and the run's event count $2.
UPDATE liveupdate.stats_progress
SET aggregated_until = greatest(aggregated_until, $1), last_run_at = clock_timestamp(), last_run_events = $2
