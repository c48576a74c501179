-- Run by _aggregate_chunk (extension/src/rollups.rs) for the chunk of events received from $1 on
-- (within one UTC day; the function runs with TimeZone UTC), over pg_temp.stats_chunk.
-- Adoption: devices not yet counted as running each bundle today.
WITH fresh AS (
    INSERT INTO liveupdate.stats_device_versions AS s (app_id, device_id, version_name, last_day)
    SELECT DISTINCT c.app_id, c.device_id, c.version_name, $1::date
    FROM pg_temp.stats_chunk AS c
    WHERE liveupdate._reports_running_bundle(c.action) AND c.version_name NOT IN ('', 'unknown')
    ON CONFLICT ON CONSTRAINT stats_device_versions_pkey DO UPDATE SET last_day = excluded.last_day
    WHERE s.last_day < excluded.last_day
    RETURNING s.app_id, s.version_name
)
INSERT INTO liveupdate.stats_adoption AS a (app_id, day, version_name, devices)
SELECT f.app_id, $1::date, f.version_name, count(*) FROM fresh AS f GROUP BY f.app_id, f.version_name
ON CONFLICT ON CONSTRAINT stats_adoption_pkey DO UPDATE SET devices = a.devices + excluded.devices
