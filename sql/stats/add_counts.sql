-- Adds a batch's per-bundle counts to today's (UTC) counters. $1 jsonb array.
INSERT INTO liveupdate.bundle_daily_counts AS c (bundle_id, day, shard, installs, fails, uninstalls)
SELECT k.bundle_id, (now() AT TIME ZONE 'UTC')::date, (pg_backend_pid() % 8)::smallint,
       k.installs, k.fails, k.uninstalls
FROM jsonb_to_recordset($1) AS k(bundle_id bigint, installs bigint, fails bigint, uninstalls bigint)
ON CONFLICT ON CONSTRAINT bundle_daily_counts_pkey DO UPDATE
SET installs = c.installs + excluded.installs,
    fails = c.fails + excluded.fails,
    uninstalls = c.uninstalls + excluded.uninstalls
