-- Run by _run_guard (extension/src/guard.rs): one decision, with the figures it was made on.
INSERT INTO liveupdate.guard_events (app_id, channel_id, target, version_name, rollout_id, action, outcome,
                                     attempts, failures, lower_bound, max_failure_rate, confidence, counted_since)
SELECT $1, $2, $3, b.name, $4, $5, $6, $7, $8, $9, $10, $11, $12
FROM liveupdate.bundles AS b WHERE b.id = $13
RETURNING id
