-- Remembers bundles devices reported as broken. $1 app (bigint), $2 json array, one row per
-- (device, bundle). Clock time, as channels.bundle_changed_at, which it is compared with.
INSERT INTO liveupdate.device_failed_bundles AS f (app_id, device_id, bundle_id, action, failed_at)
SELECT $1, x.device_id::uuid, x.bundle_id, x.action, clock_timestamp()
FROM json_to_recordset($2) AS x(device_id text, bundle_id bigint, action text)
ON CONFLICT ON CONSTRAINT device_failed_bundles_pkey DO UPDATE
SET action = excluded.action, failed_at = excluded.failed_at
