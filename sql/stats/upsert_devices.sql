-- Last known state from stats: one row per device (the batch's latest non-failure event). The
-- channel the device asks for follows that event too, cleared when it names none.
-- $1 app (bigint), $2 json array. running_version is NULL when the event names another bundle
-- than the running one (downloads, set_next, delete), which then stays as it was.
INSERT INTO liveupdate.devices AS d (app_id, device_id, platform, plugin_version, version_build, version_name,
                                     version_code, version_os, is_prod, is_emulator, install_source, custom_id,
                                     default_channel, key_id, first_seen_at, last_seen_at)
SELECT $1, e.device_id::uuid, coalesce(e.platform, 'unknown'), coalesce(e.plugin_version, 'unknown'),
       coalesce(e.version_build, '0.0.0'), coalesce(e.running_version, 'unknown'), e.version_code, e.version_os,
       e.is_prod, e.is_emulator, e.install_source, e.custom_id, e.default_channel, e.key_id, now(), now()
FROM json_to_recordset($2) AS e(device_id text, platform text, plugin_version text, version_build text,
     running_version text, version_code text, version_os text, is_prod boolean, is_emulator boolean,
     install_source text, custom_id text, default_channel text, key_id text)
ON CONFLICT ON CONSTRAINT devices_pkey DO UPDATE
SET version_name = CASE WHEN excluded.version_name = 'unknown' THEN d.version_name ELSE excluded.version_name END,
    version_os = excluded.version_os,
    is_prod = excluded.is_prod,
    is_emulator = excluded.is_emulator,
    custom_id = coalesce(excluded.custom_id, d.custom_id),
    default_channel = excluded.default_channel,
    last_seen_at = greatest(d.last_seen_at, excluded.last_seen_at)
