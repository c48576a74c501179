-- Run by _run_guard (extension/src/guard.rs): channel $1 as it is now, locked until the decision
-- is recorded, with its app's id.
SELECT c.bundle_id, c.rollout_id, c.rollout_paused, c.name, a.app_id, c.app_id
FROM liveupdate.channels AS c JOIN liveupdate.apps AS a ON a.id = c.app_id
WHERE c.id = $1
FOR UPDATE OF c
