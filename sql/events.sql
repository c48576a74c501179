-- The event store: what devices report through POST /stats, built for tens of millions of rows a
-- day. Daily range partitions on the server's receive time (UTC); retention drops whole partitions
-- (drop_event_partitions), so nothing is deleted row by row and nothing grows without bound.
-- Partitions are created at run time, never by the install script: they are then ordinary tables
-- that pg_dump carries and retention may drop.

CREATE TABLE liveupdate.device_events (
    received_at       timestamptz NOT NULL DEFAULT now(),
    app_id            bigint NOT NULL,
    device_id         uuid NOT NULL,
    action            text NOT NULL,
    version_name      text NOT NULL,
    old_version_name  text,
    bundle_id         bigint,
    platform          text,
    plugin_version    text,
    is_prod           boolean NOT NULL,
    is_emulator       boolean NOT NULL,
    metadata          jsonb,
    device_time       timestamptz
) PARTITION BY RANGE (received_at);
COMMENT ON TABLE liveupdate.device_events IS 'Raw device events from POST /stats (and server-side events), partitioned by day of receipt (UTC). Partitions are created ahead by ensure_event_partitions and dropped by drop_event_partitions.';
COMMENT ON COLUMN liveupdate.device_events.received_at IS 'When the server stored the event; the partition key.';
COMMENT ON COLUMN liveupdate.device_events.action IS 'The plugin''s stats action (set, update_fail, app_launch_ready, ...) or a server-side one (customIdBlocked).';
COMMENT ON COLUMN liveupdate.device_events.version_name IS 'The bundle the event is about ("<version>:<file>" for per-file failures), "unknown" when empty.';
COMMENT ON COLUMN liveupdate.device_events.old_version_name IS 'The previous bundle, for set and reset.';
COMMENT ON COLUMN liveupdate.device_events.bundle_id IS 'The bundle version_name names, when it is one of the app''s bundles.';
COMMENT ON COLUMN liveupdate.device_events.platform IS 'As reported by the device (any string).';
COMMENT ON COLUMN liveupdate.device_events.plugin_version IS 'Plugin version, when reported.';
COMMENT ON COLUMN liveupdate.device_events.is_prod IS 'Production build.';
COMMENT ON COLUMN liveupdate.device_events.is_emulator IS 'Emulator or simulator.';
COMMENT ON COLUMN liveupdate.device_events.metadata IS 'The event''s string map (at most 30 keys).';
COMMENT ON COLUMN liveupdate.device_events.device_time IS 'The device''s own clock for the event, when sent.';

-- Which events are evidence about a bundle (protocol.md §5.5): production builds on real devices.
-- Version counters and the failure guard count these only. Inlined by the planner.
CREATE FUNCTION liveupdate._counts_for_versions(is_prod boolean, is_emulator boolean) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT is_prod AND NOT is_emulator $$;

CREATE TABLE liveupdate.device_failed_bundles (
    app_id      bigint NOT NULL REFERENCES liveupdate.apps (id) ON DELETE CASCADE,
    device_id   uuid NOT NULL,
    bundle_id   bigint NOT NULL REFERENCES liveupdate.bundles (id) ON DELETE CASCADE,
    action      text NOT NULL,
    failed_at   timestamptz NOT NULL,
    PRIMARY KEY (app_id, device_id, bundle_id)
);
COMMENT ON TABLE liveupdate.device_failed_bundles IS 'Bundles a device reported as broken (update_fail, checksum_fail, ...). /updates does not offer such a bundle to that device again until its channel is pointed at another bundle after the failure.';
COMMENT ON COLUMN liveupdate.device_failed_bundles.action IS 'The failure the device reported last.';
COMMENT ON COLUMN liveupdate.device_failed_bundles.failed_at IS 'When the failure was received.';

SELECT pg_catalog.pg_extension_config_dump('liveupdate.device_failed_bundles', '');

-- The indexes of one daily partition of device_events. Each partition has its own, not inherited
-- from an index on device_events: an index on the parent would belong to the extension, and
-- restoring a pg_dump would then create each partition's copy twice (once when the partition is
-- attached, once from the dump) and fail.
--   _device_idx     per-device history and, by its prefix, per-app scans within the day;
--   _received_brin  the rollups' incremental reads (events received since the last run).
CREATE FUNCTION liveupdate._index_event_partition(partition_name text) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format('CREATE INDEX %I ON liveupdate.%I (app_id, device_id, received_at)',
        partition_name || '_device_idx', partition_name);
    EXECUTE format('CREATE INDEX %I ON liveupdate.%I USING brin (received_at)',
        partition_name || '_received_brin', partition_name);
END
$$;

-- Creates the daily partitions of device_events from today (UTC) to today + days_ahead.
-- SECURITY DEFINER: run by the gateway's login role, which owns nothing.
CREATE FUNCTION liveupdate.ensure_event_partitions(days_ahead integer DEFAULT 3) RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    first_day date := (now() AT TIME ZONE 'UTC')::date;
    day date;
    created integer := 0;
    partition_name text;
BEGIN
    IF days_ahead IS NULL OR days_ahead NOT BETWEEN 0 AND 366 THEN
        RAISE EXCEPTION 'days_ahead must be between 0 and 366' USING ERRCODE = '22023';
    END IF;
    -- Concurrent callers (gateways, cron, the stats path) create each partition once.
    PERFORM pg_advisory_xact_lock(hashtext('liveupdate.device_events partitions'));
    FOR day IN SELECT generate_series(first_day, first_day + days_ahead, interval '1 day')::date LOOP
        partition_name := 'device_events_p' || to_char(day, 'YYYYMMDD');
        IF to_regclass('liveupdate.' || partition_name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE liveupdate.%I PARTITION OF liveupdate.device_events FOR VALUES FROM (%L) TO (%L)',
                partition_name, day::text || ' 00:00:00+00', (day + 1)::text || ' 00:00:00+00');
            PERFORM liveupdate._index_event_partition(partition_name);
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION liveupdate.ensure_event_partitions(integer) IS
    'Creates the missing daily partitions of device_events for today (UTC) and the next days_ahead days; returns how many it created. run_periodic calls it on every run.';

-- Drops the daily partitions of device_events that end more than keep_days days ago.
-- SECURITY DEFINER: run by the gateway's login role, which owns nothing.
CREATE FUNCTION liveupdate.drop_event_partitions(keep_days integer) RETURNS SETOF text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cutoff date;
    part record;
BEGIN
    IF keep_days IS NULL OR keep_days < 1 THEN
        RAISE EXCEPTION 'keep_days must be at least 1' USING ERRCODE = '22023';
    END IF;
    cutoff := (now() AT TIME ZONE 'UTC')::date - keep_days;
    PERFORM pg_advisory_xact_lock(hashtext('liveupdate.device_events partitions'));
    FOR part IN
        SELECT c.relname
        FROM pg_inherits AS i
        JOIN pg_class AS c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'liveupdate.device_events'::regclass
          AND c.relname ~ '^device_events_p[0-9]{8}$'
          AND to_date(substr(c.relname, 16), 'YYYYMMDD') < cutoff
          -- Never events the statistics rollups have not taken in yet.
          AND to_date(substr(c.relname, 16), 'YYYYMMDD') + 1
              <= (SELECT (p.aggregated_until AT TIME ZONE 'UTC')::date FROM liveupdate.stats_progress AS p)
        ORDER BY c.relname
    LOOP
        EXECUTE format('DROP TABLE liveupdate.%I', part.relname);
        RETURN NEXT part.relname;
    END LOOP;
END
$$;
COMMENT ON FUNCTION liveupdate.drop_event_partitions(integer) IS
    'Retention: drops the daily partitions of device_events older than keep_days days (UTC) that the statistics rollups have taken in, and returns their names.';

