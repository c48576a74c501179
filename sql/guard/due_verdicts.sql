-- Run by _run_guard (extension/src/guard.rs) at $1: the verdicts that cross their channel's limit,
-- on channels with no decision within their cooldown, in the order they are acted on.
SELECT v.channel_id, v.target, v.bundle_id, v.rollout_id, v.action, v.attempts, v.failures, v.lower_bound,
       v.max_failure_rate, v.confidence, v.counted_since
FROM liveupdate._guard_verdicts($1) AS v
WHERE v.crossed
  AND NOT EXISTS (SELECT 1 FROM liveupdate.guard_events AS d JOIN liveupdate.channel_guards AS g
                           ON g.channel_id = d.channel_id
                  WHERE d.channel_id = v.channel_id
                    AND d.decided_at > $1 - make_interval(mins => g.cooldown_minutes))
ORDER BY v.channel_id, v.target
