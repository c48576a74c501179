-- Appends a batch of validated events. $1 app (bigint), $2 json array of events.
INSERT INTO liveupdate.device_events (app_id, device_id, action, version_name, old_version_name, bundle_id,
                                      platform, plugin_version, is_prod, is_emulator, metadata, device_time)
SELECT $1, e.device_id::uuid, e.action, e.version_name, e.old_version_name, e.bundle_id, e.platform,
       e.plugin_version, e.is_prod, e.is_emulator, e.metadata,
       to_timestamp(e.device_time_ms / 1000.0)
FROM json_to_recordset($2) AS e(device_id text, action text, version_name text, old_version_name text,
     bundle_id bigint, platform text, plugin_version text, is_prod boolean, is_emulator boolean,
     metadata jsonb, device_time_ms bigint)
