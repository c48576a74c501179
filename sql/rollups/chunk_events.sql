-- Run by _aggregate_chunk (extension/src/rollups.rs): the events received in [$1, $2) whose app
-- still exists, as the other statements of the chunk need them.
CREATE TEMP TABLE stats_chunk ON COMMIT DROP AS
SELECT e.app_id, e.device_id, e.platform, date_trunc('hour', e.received_at) AS hour, e.action,
       liveupdate._bundle_name_of(e.version_name) AS version_name, e.old_version_name, e.bundle_id,
       liveupdate._counts_for_versions(e.is_prod, e.is_emulator) AS counts
FROM liveupdate.device_events AS e
WHERE e.received_at >= $1 AND e.received_at < $2
  AND EXISTS (SELECT 1 FROM liveupdate.apps AS a WHERE a.id = e.app_id)
