-- The console benchmark's history for app 1 of tests/bench/dataset.sql: a year of daily activity
-- and adoption (ten bundles taking over one after another), 90 days of hourly install/failure
-- counters, 48 hours of hourly activity, storage, and 200,000 raw events received today. Written
-- straight into the rollups (what aggregate_stats would have made of a year of events): the
-- console only reads them.
\set ON_ERROR_STOP on
SELECT liveupdate.ensure_event_partitions();

INSERT INTO liveupdate.stats_activity (app_id, granularity, period_start, active_devices, new_in_month, events, served_bytes)
SELECT 1, 'day', d, 600000 + (hashint4(extract(doy FROM d)::int) & 262143), 20000, 3000000, 0
FROM generate_series(date_trunc('day', now(), 'UTC') - interval '364 days', date_trunc('day', now(), 'UTC'), interval '1 day') AS d;
INSERT INTO liveupdate.stats_activity (app_id, granularity, period_start, active_devices, new_in_month, events, served_bytes)
SELECT 1, 'hour', h, 40000 + (hashint4(extract(epoch FROM h)::int) & 16383), 0, 120000, 0
FROM generate_series(date_trunc('hour', now()) - interval '47 hours', date_trunc('hour', now()), interval '1 hour') AS h;

-- Bundle k (1.0.9k) is adopted from day 36k on; each day's devices split between the newest two.
INSERT INTO liveupdate.stats_adoption (app_id, day, version_name, devices)
SELECT 1, day::date, '1.0.' || (90 + k),
       CASE WHEN (current_date - day::date) / 36 = 9 - k THEN 450000 ELSE 200000 END
FROM generate_series(current_date - 364, current_date, interval '1 day') AS day, generate_series(0, 9) AS k
WHERE (current_date - day::date) / 36 IN (9 - k, 10 - k);

INSERT INTO liveupdate.stats_versions (app_id, hour, version_name, channel, gets, installs, fails, uninstalls, bandwidth_bytes)
SELECT 1, h, '1.0.' || (90 + k), 'production', 900, 850, (hashint4(extract(epoch FROM h)::int + k) & 63), 800, 900 * 2500000::bigint
FROM generate_series(date_trunc('hour', now()) - interval '90 days', date_trunc('hour', now()), interval '1 hour') AS h,
     generate_series(7, 9) AS k;

INSERT INTO liveupdate.stats_storage (app_id, day, storage_bytes, bundles, measured_at)
SELECT 1, day::date, 250000000, 100, now() FROM generate_series(current_date - 364, current_date, interval '1 day') AS day;

INSERT INTO liveupdate.device_events (received_at, app_id, device_id, action, version_name, old_version_name,
                                      platform, plugin_version, is_prod, is_emulator)
SELECT now() - (n % 3600) * interval '1 second', 1, ('00000000-0000-4000-8000-' || lpad(to_hex(n * 5), 12, '0'))::uuid,
       CASE WHEN n % 50 = 0 THEN 'update_fail' ELSE 'set' END, '1.0.99', '1.0.98', 'android', '8.51.14', true, false
FROM generate_series(0, 199999) AS n;
UPDATE liveupdate.stats_progress SET aggregated_until = now();
VACUUM ANALYZE;
