-- Statistics rollups from events with chosen timestamps: every figure, across a day and a month
-- boundary, whatever the session's time zone (rollups are UTC); incremental runs agree with a
-- rebuild.
SET TimeZone = 'America/New_York';
SELECT liveupdate.create_app(liveupdate.create_organization('stats'), 'com.stats.app') > 0 AS app;
SELECT liveupdate.register_bundle('com.stats.app', '1.0.0', storage_key => 'zips/s100.zip',
    manifest => '[{"file_name": "index.html", "file_hash": "1111111111111111111111111111111111111111111111111111111111111111", "file_size": 300, "storage_key": "files/s-index"}]') > 0 AS v100;
SELECT liveupdate.register_bundle('com.stats.app', '1.1.0', storage_key => 'zips/s110.zip',
    manifest => '[{"file_name": "index.html", "file_hash": "2222222222222222222222222222222222222222222222222222222222222222", "file_size": 500, "storage_key": "files/s-index2"}, {"file_name": "a.js", "file_hash": "1111111111111111111111111111111111111111111111111111111111111111", "file_size": 300, "storage_key": "files/s-index"}]') > 0 AS v110;
UPDATE liveupdate.bundles SET archive_bytes = CASE name WHEN '1.0.0' THEN 1000 ELSE 2000 END
WHERE app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.stats.app');
SELECT liveupdate.create_channel('com.stats.app', 'production', bundle => '1.0.0', public => true) > 0 AS production;
SELECT liveupdate.create_channel('com.stats.app', 'beta', bundle => '1.1.0', allow_device_self_set => true) > 0 AS beta;
-- d3 is overridden to beta; d4 chose beta itself (defaultChannel); d1, d2 follow the public channel.
SELECT liveupdate.set_device_override('com.stats.app', '00000000-0000-4000-8000-000000000003', 'beta');
INSERT INTO liveupdate.devices (app_id, device_id, platform, plugin_version, version_build, version_name, is_prod,
                                is_emulator, default_channel, first_seen_at, last_seen_at)
SELECT a.id, ('00000000-0000-4000-8000-00000000000' || n)::uuid, 'android', '8.51.14', '1.0.0', 'builtin', true, false,
       CASE n WHEN 4 THEN 'beta' END, now(), now()
FROM liveupdate.apps AS a, generate_series(1, 5) AS n WHERE a.app_id = 'com.stats.app';

-- Partitions for the chosen days (run time creates them for today onwards).
DO $$
DECLARE day date;
BEGIN
    FOREACH day IN ARRAY ARRAY['2026-02-28', '2026-03-01', '2026-03-02']::date[] LOOP
        EXECUTE format('CREATE TABLE liveupdate.%I PARTITION OF liveupdate.device_events FOR VALUES FROM (%L) TO (%L)',
                       'device_events_p' || to_char(day, 'YYYYMMDD'), day || ' 00:00:00+00', day + 1 || ' 00:00:00+00');
    END LOOP;
END
$$;
CREATE FUNCTION pg_temp.event(received text, device integer, action text, version text, old_version text DEFAULT NULL,
                              is_prod boolean DEFAULT true, is_emulator boolean DEFAULT false) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO liveupdate.device_events (received_at, app_id, device_id, action, version_name, old_version_name,
                                          bundle_id, platform, is_prod, is_emulator)
    SELECT received::timestamptz, a.id, ('00000000-0000-4000-8000-00000000000' || device)::uuid, action, version,
           old_version, (SELECT b.id FROM liveupdate.bundles AS b WHERE b.app_id = a.id AND b.name = split_part(version, ':', 1)),
           'android', is_prod, is_emulator
    FROM liveupdate.apps AS a WHERE a.app_id = 'com.stats.app'
$$;
-- 2026-02-28 (UTC): d1 downloads and installs 1.0.0 over builtin; d2 launches on builtin;
-- '2026-03-01 00:30+02' is 22:30 UTC on the 28th.
SELECT pg_temp.event('2026-02-28 10:15:00Z', 1, 'download_complete', '1.0.0');
SELECT pg_temp.event('2026-02-28 10:16:00Z', 1, 'set', '1.0.0', 'builtin');
SELECT pg_temp.event('2026-02-28 10:20:00Z', 2, 'app_moved_to_foreground', 'builtin');
SELECT pg_temp.event('2026-03-01 00:30:00+02', 2, 'download_complete', '1.0.0');
-- 2026-03-01 (UTC): '2026-02-28 23:30-05' is 04:30 UTC on the 1st. d1 moves to 1.1.0 (an uninstall
-- of 1.0.0); d3 (beta, by override) fails 1.1.0 twice, once per file; an emulator and a debug
-- build count as active but not in the version counters.
SELECT pg_temp.event('2026-02-28 23:30:00-05', 1, 'set', '1.1.0', '1.0.0');
SELECT pg_temp.event('2026-03-01 04:31:00Z', 3, 'download_complete', '1.1.0');
SELECT pg_temp.event('2026-03-01 04:32:00Z', 3, 'download_manifest_file_fail', '1.1.0:index.html');
SELECT pg_temp.event('2026-03-01 23:59:59.999Z', 3, 'update_fail', '1.1.0');
SELECT pg_temp.event('2026-03-01 12:00:00Z', 5, 'set', '1.1.0', 'builtin', is_emulator => true);
SELECT pg_temp.event('2026-03-01 12:00:00Z', 5, 'set', '1.0.0', 'builtin', is_prod => false);
-- 2026-03-02: d4 (beta by its defaultChannel) installs 1.1.0; d2 installs 1.0.0 (builtin before).
SELECT pg_temp.event('2026-03-02 00:00:00Z', 4, 'set', '1.1.0', 'builtin');
SELECT pg_temp.event('2026-03-02 08:00:00Z', 2, 'set', '1.0.0', 'builtin');
SELECT pg_temp.event('2026-03-02 09:00:00Z', 2, 'app_moved_to_background', '1.0.0');

-- Events written with past timestamps (a backfill, as here) are behind the rollups' watermark:
-- rebuild from their month on.
SELECT liveupdate.reaggregate_stats('2026-02-28 12:00Z') AT TIME ZONE 'UTC' AS restarts_at;
SELECT (liveupdate.aggregate_stats() ->> 'events')::bigint >= 13 AS aggregated;
-- Each day, as the statistics API answers it.
CREATE FUNCTION pg_temp.days() RETURNS TABLE (day text, active bigint, mau bigint, events bigint, gets bigint,
    installs bigint, fails bigint, uninstalls bigint, bandwidth bigint, versions text, channels text)
LANGUAGE sql AS $$
    SELECT left(p ->> 'start', 10), (p ->> 'active_devices')::bigint, (p ->> 'monthly_active_devices')::bigint,
           (p ->> 'events')::bigint, (p ->> 'gets')::bigint, (p ->> 'installs')::bigint, (p ->> 'fails')::bigint,
           (p ->> 'uninstalls')::bigint, (p ->> 'bandwidth_bytes')::bigint,
           (SELECT string_agg(format('%s g%s i%s f%s u%s b%s d%s a%s', v ->> 'version', v ->> 'gets', v ->> 'installs',
                                     v ->> 'fails', v ->> 'uninstalls', v ->> 'bandwidth_bytes', v ->> 'devices',
                                     v ->> 'adoption'), ' | ')
            FROM jsonb_array_elements(p -> 'versions') AS v),
           (SELECT string_agg(format('%s g%s i%s f%s u%s', c ->> 'channel', c ->> 'gets', c ->> 'installs',
                                     c ->> 'fails', c ->> 'uninstalls'), ' | ')
            FROM jsonb_array_elements(p -> 'channels') AS c)
    FROM jsonb_array_elements(liveupdate.app_stats('com.stats.app', '2026-02-27', '2026-03-02') -> 'periods') AS p
$$;
SELECT * FROM pg_temp.days();
-- Hours with events on the 1st, through the management API.
SELECT p ->> 'start' AS hour, p -> 'active_devices' AS active, p -> 'events' AS events, p -> 'installs' AS installs,
       p -> 'fails' AS fails, p -> 'monthly_active_devices' AS mau
FROM jsonb_array_elements(liveupdate.api_app_stats('{"app_id": "com.stats.app", "from": "2026-03-01", "to": "2026-03-01", "granularity": "hour"}') -> 'periods') AS p
WHERE (p ->> 'events')::bigint > 0;
SELECT jsonb_array_length(liveupdate.app_stats('com.stats.app', '2026-03-01', '2026-03-01', 'hour') -> 'periods') AS hours_in_a_day;
-- Storage today: each object once (files/s-index is in both bundles): 1000 + 2000 + 300 + 500.
SELECT storage_bytes, bundles FROM liveupdate.stats_storage
WHERE app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.stats.app');

-- Incremental runs agree with a rebuild: forget March, aggregate it again hour by hour (as
-- minute-by-minute runs would), and compare with the figures above.
CREATE TEMP TABLE first_figures AS SELECT * FROM pg_temp.days();
SELECT liveupdate.reaggregate_stats('2026-03-15') AT TIME ZONE 'UTC' AS restarts_at;
SELECT sum(liveupdate._aggregate_chunk(h, h + interval '1 hour')) AS events_again
FROM generate_series('2026-03-01 00:00Z'::timestamptz, '2026-03-02 23:00Z', interval '1 hour') AS h;
UPDATE liveupdate.stats_progress SET aggregated_until = '2026-03-03 00:00Z';
SELECT (liveupdate.aggregate_stats() ->> 'events')::bigint >= 0 AS caught_up;
SELECT count(*) AS differing_days FROM (SELECT * FROM pg_temp.days() EXCEPT SELECT * FROM first_figures) AS d;
-- Bytes the gateway served: 1.0.0's zip and a file both bundles share (counted once, for the
-- app), 1.1.0's zip in a second report; a key no bundle uses is ignored. A rebuild keeps them:
-- they do not come from events.
SELECT liveupdate.record_served_bytes('{"zips/s100.zip": 1000, "files/s-index": 300, "zips/nobody.zip": 5}') AS attributed;
SELECT liveupdate.record_served_bytes('{"zips/s110.zip": 2000}') AS attributed;
SELECT liveupdate.reaggregate_stats(now()) IS NOT NULL AS rebuilt, (liveupdate.aggregate_stats() ->> 'events')::bigint >= 0 AS again;
SELECT g.granularity, a.served_bytes
FROM (VALUES ('hour'), ('day'), ('month')) AS g(granularity)
JOIN liveupdate.stats_activity AS a ON a.granularity = g.granularity AND a.period_start = date_trunc(g.granularity, now(), 'UTC')
WHERE a.app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.stats.app') ORDER BY 1;
SELECT liveupdate.app_stats('com.stats.app', (now() AT TIME ZONE 'UTC')::date, (now() AT TIME ZONE 'UTC')::date) -> 'periods' -> 0 -> 'served_bytes' AS served_today;
SELECT liveupdate.record_served_bytes('{"zips/s100.zip": -1}');
SELECT liveupdate.record_served_bytes('{"zips/s100.zip": "1000"}');
SELECT liveupdate.record_served_bytes('[1000]');

-- Bad input.
SELECT liveupdate.app_stats('com.stats.app', '2026-03-02', '2026-03-01');
SELECT liveupdate.app_stats('com.stats.app', '2026-01-01', '2026-03-01', 'hour');
SELECT liveupdate.app_stats('com.stats.app', '2026-01-01', '2026-03-01', 'week');
SELECT liveupdate.app_stats('com.nope.app', '2026-01-01', '2026-03-01');
SELECT liveupdate.api_app_stats('{"app_id": "com.stats.app", "from": "2026-02-30", "to": "2026-03-01"}');
SELECT liveupdate.api_app_stats('{"app_id": "com.stats.app", "from": "yesterday", "to": "2026-03-01"}');
SELECT liveupdate.api_app_stats('{"app_id": "com.stats.app", "to": "2026-03-01"}');
SELECT liveupdate.api_app_stats('{"app_id": "com.stats.app", "from": "2026-03-01", "to": "2026-03-01", "tz": "UTC"}');
RESET TimeZone;
