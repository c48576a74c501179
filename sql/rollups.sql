-- Statistics rollups: what the console and the statistics API show, derived from device_events
-- (the one source of truth) by aggregate_stats, incrementally: each run reads only the events
-- received since the previous run, found through each partition's BRIN index on received_at
-- (_index_event_partition), and adds them to the counters below. Every figure is a sum of those
-- additions, so the hourly, daily and per-version views always agree with each other and with the
-- raw events.
--
-- Distinct-device figures (active devices, monthly active devices, adoption) cannot be summed
-- from smaller periods. As events are taken in in time order, it is enough to remember, per
-- device, the last hour, day and month it was counted in (stats_device_activity) and, per device
-- and bundle, the last day it was counted as running it (stats_device_versions): a device is new
-- in a period when that period is later. One row per device, updated in place, instead of a set
-- of devices per period. All periods are UTC (received_at, the server's clock, not the device's).

CREATE TABLE liveupdate.stats_progress (
    only_row          boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    aggregated_until  timestamptz NOT NULL DEFAULT '-infinity',
    last_run_at       timestamptz,
    last_run_events   bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE liveupdate.stats_progress IS 'Where aggregate_stats stopped: every event received before aggregated_until is in the rollups, none after it.';
COMMENT ON COLUMN liveupdate.stats_progress.last_run_events IS 'Events the last run added.';
COMMENT ON COLUMN liveupdate.stats_progress.only_row IS 'There is one row.';
COMMENT ON COLUMN liveupdate.stats_progress.aggregated_until IS 'Every event received before this time is in the rollups, and none after.';
COMMENT ON COLUMN liveupdate.stats_progress.last_run_at IS 'When aggregate_stats last ran.';

CREATE TABLE liveupdate.stats_activity (
    app_id          bigint NOT NULL REFERENCES liveupdate.apps (id) ON DELETE CASCADE,
    granularity     text NOT NULL CHECK (granularity IN ('hour', 'day', 'month')),
    period_start    timestamptz NOT NULL,
    active_devices  bigint NOT NULL DEFAULT 0,
    new_in_month    bigint NOT NULL DEFAULT 0,
    events          bigint NOT NULL DEFAULT 0,
    served_bytes    bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, granularity, period_start)
);
COMMENT ON TABLE liveupdate.stats_activity IS 'Per app and UTC hour, day or month: distinct devices that sent events, and the events received.';
COMMENT ON COLUMN liveupdate.stats_activity.new_in_month IS 'Day rows: devices first seen in the month on that day (summed over the month so far: monthly active devices).';
COMMENT ON COLUMN liveupdate.stats_activity.granularity IS 'hour, day or month.';
COMMENT ON COLUMN liveupdate.stats_activity.period_start IS 'Start of the UTC hour, day or month.';
COMMENT ON COLUMN liveupdate.stats_activity.active_devices IS 'Distinct devices that sent at least one event in the period.';
COMMENT ON COLUMN liveupdate.stats_activity.events IS 'Events received in the period.';
COMMENT ON COLUMN liveupdate.stats_activity.served_bytes IS 'Bytes of the app''s stored objects the gateway sent in the period (record_served_bytes); not derived from events, so a rebuild keeps it.';

CREATE TABLE liveupdate.stats_device_activity (
    app_id      bigint NOT NULL REFERENCES liveupdate.apps (id) ON DELETE CASCADE,
    device_id   uuid NOT NULL,
    last_hour   timestamptz,
    last_day    date,
    last_month  date,
    PRIMARY KEY (app_id, device_id)
) WITH (fillfactor = 80);
COMMENT ON TABLE liveupdate.stats_device_activity IS 'The last UTC hour, day and month each device was counted active in (bookkeeping of aggregate_stats; devices idle for two months are forgotten).';
COMMENT ON COLUMN liveupdate.stats_device_activity.last_hour IS 'Start of the last hour counted.';
COMMENT ON COLUMN liveupdate.stats_device_activity.last_day IS 'The last day counted.';
COMMENT ON COLUMN liveupdate.stats_device_activity.last_month IS 'First day of the last month counted.';

CREATE TABLE liveupdate.stats_versions (
    app_id           bigint NOT NULL REFERENCES liveupdate.apps (id) ON DELETE CASCADE,
    hour             timestamptz NOT NULL,
    version_name     text NOT NULL,
    channel          text NOT NULL,
    gets             bigint NOT NULL DEFAULT 0,
    installs         bigint NOT NULL DEFAULT 0,
    fails            bigint NOT NULL DEFAULT 0,
    uninstalls       bigint NOT NULL DEFAULT 0,
    bandwidth_bytes  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, hour, version_name, channel)
);
COMMENT ON TABLE liveupdate.stats_versions IS 'Per app, UTC hour, bundle and channel: gets, installs, failures, uninstalls and bytes served, from production builds on real devices. Kept by name, so figures outlive a purged bundle.';
COMMENT ON COLUMN liveupdate.stats_versions.channel IS 'The device''s effective channel when the events were aggregated (its override, else its defaultChannel, else the public channel of its platform); empty when none.';
COMMENT ON COLUMN liveupdate.stats_versions.hour IS 'Start of the UTC hour the events were received in.';
COMMENT ON COLUMN liveupdate.stats_versions.version_name IS 'The bundle''s name.';
COMMENT ON COLUMN liveupdate.stats_versions.gets IS 'download_complete events: the device fetched the bundle.';
COMMENT ON COLUMN liveupdate.stats_versions.installs IS 'set events: the bundle was activated.';
COMMENT ON COLUMN liveupdate.stats_versions.fails IS '*_fail events about the bundle.';
COMMENT ON COLUMN liveupdate.stats_versions.uninstalls IS 'set events that replaced this bundle with another.';
COMMENT ON COLUMN liveupdate.stats_versions.bandwidth_bytes IS 'gets × the bundle''s zip size: what a full download costs (a manifest download of a few changed files costs less).';

CREATE TABLE liveupdate.stats_adoption (
    app_id        bigint NOT NULL REFERENCES liveupdate.apps (id) ON DELETE CASCADE,
    day           date NOT NULL,
    version_name  text NOT NULL,
    devices       bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (app_id, day, version_name)
);
COMMENT ON TABLE liveupdate.stats_adoption IS 'Per app, UTC day and bundle (or builtin): distinct devices that reported running it. Divided by the day''s active devices: adoption.';
COMMENT ON COLUMN liveupdate.stats_adoption.day IS 'UTC day.';
COMMENT ON COLUMN liveupdate.stats_adoption.version_name IS 'The bundle''s name, or builtin.';
COMMENT ON COLUMN liveupdate.stats_adoption.devices IS 'Distinct devices that reported running it that day.';

CREATE TABLE liveupdate.stats_device_versions (
    app_id        bigint NOT NULL REFERENCES liveupdate.apps (id) ON DELETE CASCADE,
    device_id     uuid NOT NULL,
    version_name  text NOT NULL,
    last_day      date NOT NULL,
    PRIMARY KEY (app_id, device_id, version_name)
) WITH (fillfactor = 80);
COMMENT ON TABLE liveupdate.stats_device_versions IS 'The last UTC day each device was counted as running each bundle (bookkeeping of aggregate_stats; kept two days).';
COMMENT ON COLUMN liveupdate.stats_device_versions.version_name IS 'The bundle''s name, or builtin.';
COMMENT ON COLUMN liveupdate.stats_device_versions.last_day IS 'The last day counted.';

CREATE TABLE liveupdate.stats_storage (
    app_id         bigint NOT NULL REFERENCES liveupdate.apps (id) ON DELETE CASCADE,
    day            date NOT NULL,
    storage_bytes  bigint NOT NULL,
    bundles        integer NOT NULL,
    measured_at    timestamptz NOT NULL,
    PRIMARY KEY (app_id, day)
);
COMMENT ON TABLE liveupdate.stats_storage IS 'Per app and UTC day: bytes of the stored objects its bundles use (each object once), measured at most hourly; the day''s last measurement.';
COMMENT ON COLUMN liveupdate.stats_storage.day IS 'UTC day.';
COMMENT ON COLUMN liveupdate.stats_storage.storage_bytes IS 'Bytes of the distinct stored objects (zips and manifest files) of the app''s bundles not yet purged.';
COMMENT ON COLUMN liveupdate.stats_storage.bundles IS 'Bundles not yet purged (deleted ones included until then).';
COMMENT ON COLUMN liveupdate.stats_storage.measured_at IS 'When it was measured.';

SELECT pg_catalog.pg_extension_config_dump('liveupdate.stats_progress', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.stats_activity', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.stats_device_activity', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.stats_versions', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.stats_adoption', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.stats_device_versions', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.stats_storage', '');

ALTER TABLE liveupdate.stats_progress ENABLE ROW LEVEL SECURITY;
CREATE POLICY stats_progress_read ON liveupdate.stats_progress FOR SELECT USING (true);
ALTER TABLE liveupdate.stats_activity ENABLE ROW LEVEL SECURITY;
CREATE POLICY stats_activity_read ON liveupdate.stats_activity FOR SELECT
    USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(1))::bigint[]));
ALTER TABLE liveupdate.stats_versions ENABLE ROW LEVEL SECURITY;
CREATE POLICY stats_versions_read ON liveupdate.stats_versions FOR SELECT
    USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(1))::bigint[]));
ALTER TABLE liveupdate.stats_adoption ENABLE ROW LEVEL SECURITY;
CREATE POLICY stats_adoption_read ON liveupdate.stats_adoption FOR SELECT
    USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(1))::bigint[]));
ALTER TABLE liveupdate.stats_storage ENABLE ROW LEVEL SECURITY;
CREATE POLICY stats_storage_read ON liveupdate.stats_storage FOR SELECT
    USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(1))::bigint[]));
-- Per-device bookkeeping: no client reads it.
ALTER TABLE liveupdate.stats_device_activity ENABLE ROW LEVEL SECURITY;
ALTER TABLE liveupdate.stats_device_versions ENABLE ROW LEVEL SECURITY;

-- Events are stored with received_at = their transaction's start, and commit later: an event
-- received before the newest committed one may still be in flight. The rollups may only advance
-- to the start of the oldest client transaction still open (less a second for a transaction that
-- has just begun and not yet published its start). Only client sessions write events: autovacuum
-- and other workers do not hold freshness back, nor do client transactions open for over two
-- minutes (each POST /stats is one statement, bounded by the gateway's statement timeout).
-- SECURITY DEFINER: other sessions' transaction starts are visible to privileged roles only.
CREATE FUNCTION liveupdate._stats_safe_until() RETURNS timestamptz
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    now_at timestamptz := clock_timestamp();
BEGIN
    -- Activity is otherwise read once per transaction and kept: take a fresh look.
    PERFORM pg_stat_clear_snapshot();
    RETURN least(now_at - interval '1 second',
                 (SELECT min(a.xact_start) FROM pg_stat_activity AS a
                  WHERE a.pid <> pg_backend_pid() AND a.datname = current_database()
                    AND a.backend_type = 'client backend'
                    AND a.xact_start > now_at - interval '2 minutes'));
END
$$;

-- The start of the oldest event partition: where a first run begins.
CREATE FUNCTION liveupdate._oldest_event_day() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT min(to_date(substr(c.relname, 16), 'YYYYMMDD'))::timestamp AT TIME ZONE 'UTC'
    FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'liveupdate.device_events'::regclass AND c.relname ~ '^device_events_p[0-9]{8}$'
$$;

-- Adds the events received in [from_time, to_time), which lie within one UTC day, to every rollup;
-- returns how many there were. Rust (rollups.rs), running the statements in sql/rollups/.
CREATE FUNCTION liveupdate._aggregate_chunk(from_time timestamptz, to_time timestamptz) RETURNS bigint
LANGUAGE c VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
-- A backlog chunk is a whole day of events: sort and hash in memory.
SET work_mem = '128MB'
AS 'MODULE_PATHNAME', 'aggregate_chunk_wrapper';

-- Measures each app's stored bytes for today, at most once an hour per app (it reads every
-- bundle's file list, so it does not run on every periodic run).
CREATE FUNCTION liveupdate._measure_storage() RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
AS $$
DECLARE
    measured integer;
BEGIN
    INSERT INTO liveupdate.stats_storage AS s (app_id, day, storage_bytes, bundles, measured_at)
    SELECT a.id, current_date, coalesce(objects.bytes, 0),
           (SELECT count(*) FROM liveupdate.bundles AS b WHERE b.app_id = a.id AND b.purged_at IS NULL),
           clock_timestamp()
    FROM liveupdate.apps AS a
    LEFT JOIN LATERAL (
        SELECT sum(o.bytes)::bigint AS bytes FROM (
            SELECT max(b.archive_bytes) AS bytes FROM liveupdate.bundles AS b
            WHERE b.app_id = a.id AND b.purged_at IS NULL AND b.storage_key IS NOT NULL GROUP BY b.storage_key
            UNION ALL
            SELECT max(f.file_size) FROM liveupdate.bundle_files AS f JOIN liveupdate.bundles AS b ON b.id = f.bundle_id
            WHERE b.app_id = a.id AND b.purged_at IS NULL AND f.storage_key IS NOT NULL GROUP BY f.storage_key
        ) AS o) AS objects ON true
    WHERE NOT EXISTS (SELECT 1 FROM liveupdate.stats_storage AS m
                      WHERE m.app_id = a.id AND m.day = current_date AND m.measured_at > clock_timestamp() - interval '1 hour')
    ON CONFLICT ON CONSTRAINT stats_storage_pkey DO UPDATE
    SET storage_bytes = excluded.storage_bytes, bundles = excluded.bundles, measured_at = excluded.measured_at;
    GET DIAGNOSTICS measured = ROW_COUNT;
    RETURN measured;
END
$$;

-- Brings the rollups up to date with every event committed so far. Runs never overlap: a second
-- caller returns at once with skipped. SECURITY DEFINER: the gateway and pg_cron call it; it
-- writes tables no client may write. Rust (rollups.rs).
CREATE FUNCTION liveupdate.aggregate_stats() RETURNS jsonb
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
AS 'MODULE_PATHNAME', 'aggregate_stats_wrapper';
COMMENT ON FUNCTION liveupdate.aggregate_stats() IS
    'Adds the events committed since the last run to the statistics rollups and measures storage (hourly per app); returns {events, aggregated_until, storage_measured}, or {skipped: true} while another run is in progress. run_periodic calls it on every run.';

-- Forgets the rollups from the start of since's month on, so the next aggregate_stats rebuilds
-- them from the raw events still kept (after a backfill of events, say).
CREATE FUNCTION liveupdate.reaggregate_stats(since timestamptz) RETURNS timestamptz
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
AS $$
DECLARE
    restart_at timestamptz := date_trunc('month', since);
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('liveupdate.aggregate_stats'));
    -- Served bytes come from the gateway, not from events: they stay.
    UPDATE liveupdate.stats_activity AS a SET active_devices = 0, new_in_month = 0, events = 0
    WHERE a.period_start >= restart_at;
    -- What devices did from restart_at on is counted again; what they did before does not matter
    -- to periods from restart_at on.
    UPDATE liveupdate.stats_device_activity AS s
    SET last_hour = CASE WHEN s.last_hour >= restart_at THEN NULL ELSE s.last_hour END,
        last_day = CASE WHEN s.last_day >= restart_at::date THEN NULL ELSE s.last_day END,
        last_month = CASE WHEN s.last_month >= restart_at::date THEN NULL ELSE s.last_month END
    WHERE s.last_hour >= restart_at OR s.last_day >= restart_at::date OR s.last_month >= restart_at::date;
    DELETE FROM liveupdate.stats_versions AS v WHERE v.hour >= restart_at;
    DELETE FROM liveupdate.stats_adoption AS a WHERE a.day >= restart_at::date;
    DELETE FROM liveupdate.stats_device_versions AS s WHERE s.last_day >= restart_at::date;
    INSERT INTO liveupdate.stats_progress DEFAULT VALUES ON CONFLICT DO NOTHING;
    UPDATE liveupdate.stats_progress SET aggregated_until = least(aggregated_until, restart_at);
    RETURN restart_at;
END
$$;
COMMENT ON FUNCTION liveupdate.reaggregate_stats(timestamptz) IS
    'Forgets the statistics rollups from the start of the (UTC) month of since; the next aggregate_stats rebuilds them from the raw events. Returns where it will restart.';

-- Bytes the gateway sent per stored object since its last report ({"<key>": bytes, ...}), added
-- to the current UTC hour, day and month of the app whose newest bundle uses the object; keys no
-- bundle uses are ignored. Returns the keys attributed. SECURITY DEFINER: the gateway calls it.
CREATE FUNCTION liveupdate.record_served_bytes(served jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
AS $$
DECLARE
    attributed integer;
BEGIN
    IF jsonb_typeof(served) IS DISTINCT FROM 'object' OR EXISTS (
        SELECT 1 FROM jsonb_each(served) AS e
        WHERE jsonb_typeof(e.value) <> 'number' OR e.value::text !~ '^[0-9]{1,18}$') THEN
        RAISE EXCEPTION 'served must be an object of object keys to byte counts' USING ERRCODE = '22023';
    END IF;
    WITH owners AS (
        SELECT (SELECT o.app_id FROM (
                    SELECT b.app_id, b.id FROM liveupdate.bundles AS b WHERE b.storage_key = e.key
                    UNION ALL
                    SELECT b.app_id, b.id FROM liveupdate.bundle_files AS f
                    JOIN liveupdate.bundles AS b ON b.id = f.bundle_id WHERE f.storage_key = e.key) AS o
                ORDER BY o.id DESC LIMIT 1) AS app_id,
               e.value::text::bigint AS bytes
        FROM jsonb_each(served) AS e
    ), counted AS (
        INSERT INTO liveupdate.stats_activity AS a (app_id, granularity, period_start, served_bytes)
        SELECT o.app_id, g.granularity, date_trunc(g.granularity, clock_timestamp()), sum(o.bytes)
        FROM owners AS o CROSS JOIN (VALUES ('hour'), ('day'), ('month')) AS g(granularity)
        WHERE o.app_id IS NOT NULL
        GROUP BY o.app_id, g.granularity
        ON CONFLICT ON CONSTRAINT stats_activity_pkey DO UPDATE SET served_bytes = a.served_bytes + excluded.served_bytes
    )
    SELECT count(*) INTO attributed FROM owners AS o WHERE o.app_id IS NOT NULL;
    RETURN attributed;
END
$$;
COMMENT ON FUNCTION liveupdate.record_served_bytes(jsonb) IS
    'For the gateway: adds the bytes it sent per stored object ({"<key>": bytes}) to the owning app''s statistics (current UTC hour, day, month); returns how many keys belonged to an app.';

-- The statistics API: an app's figures for the UTC days (or hours) from from_day to to_day.
CREATE FUNCTION liveupdate.app_stats(app_id text, from_day date, to_day date, granularity text DEFAULT 'day')
RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(app_id);
    range_start timestamptz := from_day::timestamptz;
    range_end timestamptz := (to_day + 1)::timestamptz;
    step interval := CASE granularity WHEN 'hour' THEN interval '1 hour' ELSE interval '1 day' END;
    most_days integer := CASE granularity WHEN 'hour' THEN 31 ELSE 400 END;
    periods jsonb;
BEGIN
    PERFORM liveupdate._require_app_rank(app_pk, 1);
    IF granularity IS NULL OR granularity NOT IN ('day', 'hour') THEN
        RAISE EXCEPTION 'granularity must be day or hour' USING ERRCODE = '22023';
    END IF;
    IF from_day IS NULL OR to_day IS NULL OR to_day < from_day THEN
        RAISE EXCEPTION 'from and to must be dates, from on or before to' USING ERRCODE = '22023';
    END IF;
    IF to_day - from_day >= most_days THEN
        RAISE EXCEPTION 'at most % days at % granularity', most_days, granularity USING ERRCODE = '22023';
    END IF;

    WITH slots AS (
        SELECT s AS period_start FROM generate_series(range_start, range_end - step, step) AS s
    ), versions AS (
        SELECT date_trunc(granularity, v.hour) AS period_start, v.version_name, v.channel,
               sum(v.gets) AS gets, sum(v.installs) AS installs, sum(v.fails) AS fails,
               sum(v.uninstalls) AS uninstalls, sum(v.bandwidth_bytes) AS bandwidth_bytes
        FROM liveupdate.stats_versions AS v
        WHERE v.app_id = app_pk AND v.hour >= range_start AND v.hour < range_end
        GROUP BY 1, 2, 3
    ), totals AS (
        SELECT v.period_start, sum(v.gets) AS gets, sum(v.installs) AS installs, sum(v.fails) AS fails,
               sum(v.uninstalls) AS uninstalls, sum(v.bandwidth_bytes) AS bandwidth_bytes
        FROM versions AS v GROUP BY v.period_start
    ), activity AS (
        -- From the start of the first month: monthly active devices to date are the devices
        -- first seen in the month on each day so far.
        SELECT a.period_start, a.active_devices, a.events, a.served_bytes,
               sum(a.new_in_month) OVER (PARTITION BY date_trunc('month', a.period_start) ORDER BY a.period_start)
                   AS monthly_active_devices
        FROM liveupdate.stats_activity AS a
        WHERE a.app_id = app_pk AND a.granularity = app_stats.granularity
          AND a.period_start >= date_trunc('month', range_start) AND a.period_start < range_end
    ), version_lists AS (
        SELECT coalesce(v.period_start, d.period_start) AS period_start,
               jsonb_agg(jsonb_build_object(
                   'version', coalesce(v.version_name, d.version_name), 'gets', coalesce(v.gets, 0),
                   'installs', coalesce(v.installs, 0), 'fails', coalesce(v.fails, 0),
                   'uninstalls', coalesce(v.uninstalls, 0), 'bandwidth_bytes', coalesce(v.bandwidth_bytes, 0),
                   'devices', d.devices,
                   'adoption', CASE WHEN d.devices IS NOT NULL AND a.active_devices > 0
                                    THEN round(d.devices::numeric / a.active_devices, 4) END)
                   ORDER BY coalesce(v.version_name, d.version_name)) AS list
        FROM (SELECT x.period_start, x.version_name, sum(x.gets) AS gets, sum(x.installs) AS installs,
                     sum(x.fails) AS fails, sum(x.uninstalls) AS uninstalls, sum(x.bandwidth_bytes) AS bandwidth_bytes
              FROM versions AS x GROUP BY x.period_start, x.version_name) AS v
        FULL JOIN (SELECT ad.day::timestamptz AS period_start, ad.version_name, ad.devices
                   FROM liveupdate.stats_adoption AS ad
                   WHERE granularity = 'day' AND ad.app_id = app_pk AND ad.day >= from_day AND ad.day <= to_day) AS d
            ON d.period_start = v.period_start AND d.version_name = v.version_name
        LEFT JOIN activity AS a ON a.period_start = coalesce(v.period_start, d.period_start)
        GROUP BY 1
    ), channel_lists AS (
        SELECT c.period_start,
               jsonb_agg(jsonb_build_object(
                   'channel', c.channel, 'gets', c.gets, 'installs', c.installs, 'fails', c.fails,
                   'uninstalls', c.uninstalls, 'bandwidth_bytes', c.bandwidth_bytes) ORDER BY c.channel) AS list
        FROM (SELECT x.period_start, x.channel, sum(x.gets) AS gets, sum(x.installs) AS installs, sum(x.fails) AS fails,
                     sum(x.uninstalls) AS uninstalls, sum(x.bandwidth_bytes) AS bandwidth_bytes
              FROM versions AS x GROUP BY x.period_start, x.channel) AS c
        GROUP BY c.period_start
    )
    SELECT jsonb_agg(jsonb_build_object(
        'start', s.period_start,
        'active_devices', coalesce(a.active_devices, 0),
        'monthly_active_devices', CASE WHEN granularity = 'day' THEN coalesce(a.monthly_active_devices,
            (SELECT m.monthly_active_devices FROM activity AS m
             WHERE m.period_start < s.period_start AND m.period_start >= date_trunc('month', s.period_start)
             ORDER BY m.period_start DESC LIMIT 1), 0) END,
        'events', coalesce(a.events, 0),
        'gets', coalesce(t.gets, 0), 'installs', coalesce(t.installs, 0), 'fails', coalesce(t.fails, 0),
        'uninstalls', coalesce(t.uninstalls, 0), 'bandwidth_bytes', coalesce(t.bandwidth_bytes, 0),
        'served_bytes', coalesce(a.served_bytes, 0),
        'storage_bytes', CASE WHEN granularity = 'day' THEN st.storage_bytes END,
        'versions', coalesce(vl.list, '[]'),
        'channels', coalesce(cl.list, '[]')) ORDER BY s.period_start)
    INTO periods
    FROM slots AS s
    LEFT JOIN activity AS a ON a.period_start = s.period_start
    LEFT JOIN totals AS t ON t.period_start = s.period_start
    LEFT JOIN version_lists AS vl ON vl.period_start = s.period_start
    LEFT JOIN channel_lists AS cl ON cl.period_start = s.period_start
    LEFT JOIN liveupdate.stats_storage AS st ON st.app_id = app_pk AND st.day = s.period_start::date;

    RETURN jsonb_build_object(
        'app_id', app_id, 'granularity', granularity, 'from', from_day, 'to', to_day,
        'fresh_until', (SELECT p.aggregated_until FROM liveupdate.stats_progress AS p),
        'periods', coalesce(periods, '[]'));
END
$$;
COMMENT ON FUNCTION liveupdate.app_stats(text, date, date, text) IS
    'An app''s statistics for the UTC days from_day..to_day (inclusive), per day (at most 400 days) or hour (at most 31 days): active and monthly active devices (month to date), events, gets/installs/fails/uninstalls and bandwidth (gets × zip size) in total, bytes the gateway served, per bundle (with adoption: the share of the day''s active devices running it) and per channel, and storage used. fresh_until: every event received before it is included. Read rights on the app.';

CREATE FUNCTION liveupdate.api_app_stats(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, from, to, granularity}');
BEGIN
    RETURN liveupdate.app_stats(liveupdate._required_text(fields, 'app_id'),
        liveupdate._date_field(fields, 'from'), liveupdate._date_field(fields, 'to'),
        coalesce(liveupdate._text_field(fields, 'granularity'), 'day'));
END
$$;
COMMENT ON FUNCTION liveupdate.api_app_stats(jsonb) IS
    'Management API: an app''s statistics (read rights). {app_id, from, to (YYYY-MM-DD, UTC, inclusive), granularity? day|hour} → see app_stats.';
