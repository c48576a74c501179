-- Statistics benchmark dataset. psql variables: apps, devices, events, day (a UTC date).
-- `apps` apps with ten bundles each on a public channel, `devices` devices with a device row each,
-- and `events` events of `day`, spread over it: launches and backgrounds, downloads, installs and a
-- few failures, one in 50 from an emulator (not counted by the per-version rollups).
\set ON_ERROR_STOP on
SELECT liveupdate.create_organization('bench-stats') AS org \gset
SELECT liveupdate.create_app(:org, 'com.bench.stats' || a) FROM generate_series(1, :apps) AS a \g /dev/null
SELECT liveupdate.register_bundle('com.bench.stats' || a, '1.0.' || v,
                                  external_url => 'https://cdn.example.com/' || a || '/' || v || '.zip')
FROM generate_series(1, :apps) AS a, generate_series(0, 9) AS v \g /dev/null
UPDATE liveupdate.bundles SET archive_bytes = 2000000;
SELECT liveupdate.create_channel('com.bench.stats' || a, 'production', bundle => '1.0.9', public => true)
FROM generate_series(1, :apps) AS a \g /dev/null
CREATE TEMP TABLE bench_apps AS
SELECT row_number() OVER (ORDER BY id) AS n, id FROM liveupdate.apps WHERE app_id LIKE 'com.bench.stats%';
INSERT INTO liveupdate.devices (app_id, device_id, platform, plugin_version, version_build, version_name, is_prod,
                                is_emulator, first_seen_at, last_seen_at)
SELECT a.id, md5('stats' || d)::uuid, 'android', '8.51.14', '1.0.0', '1.0.8', true, false, now(), now()
FROM generate_series(1, :devices) AS d JOIN bench_apps AS a ON a.n = 1 + d % :apps;

SELECT format('CREATE TABLE IF NOT EXISTS liveupdate.%I PARTITION OF liveupdate.device_events FOR VALUES FROM (%L) TO (%L)',
              'device_events_p' || to_char(:'day'::date, 'YYYYMMDD'), :'day' || ' 00:00+00',
              (:'day'::date + 1) || ' 00:00+00') \gexec
INSERT INTO liveupdate.device_events (received_at, app_id, device_id, action, version_name, old_version_name,
                                      bundle_id, platform, is_prod, is_emulator)
SELECT (:'day' || ' 00:00+00')::timestamptz + ((i - 1)::float8 / :events) * interval '24 hours', a.id,
       md5('stats' || k.d)::uuid, x.action, '1.0.' || k.v,
       CASE WHEN x.action = 'set' THEN '1.0.' || (k.v + 9) % 10 END,
       (SELECT b.id FROM liveupdate.bundles AS b WHERE b.app_id = a.id AND b.name = '1.0.' || k.v),
       'android', true, i % 50 = 0
FROM generate_series(1, :events::bigint) AS i
CROSS JOIN LATERAL (SELECT (i * 7919) % :devices + 1 AS d, CASE WHEN i % 10 < 8 THEN 9 ELSE 8 END AS v) AS k
JOIN bench_apps AS a ON a.n = 1 + k.d % :apps
CROSS JOIN LATERAL (SELECT (ARRAY['app_moved_to_foreground', 'app_moved_to_foreground', 'app_moved_to_foreground',
    'app_moved_to_background', 'app_moved_to_background', 'app_launch_ready', 'download_complete', 'set', 'set',
    'update_fail'])[1 + (i / 7) % 10] AS action) AS x;
ANALYZE liveupdate.device_events;
