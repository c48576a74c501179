-- pg_liveupdate 0.2.0 → 0.3.0. Run by ALTER EXTENSION pg_liveupdate UPDATE.
--
-- Every change to the schema or to the SQL API since 0.2.0 has its step here, in the order the
-- changes landed, so that an upgraded database equals a fresh 0.3.0 install (tests/tests/upgrade.rs
-- compares the two, from every frozen release in sql/versions).

-- 1. Event partitions carry their own indexes (sql/events.sql, _index_event_partition), so that a
--    pg_dump of the database restores: the indexes on device_events itself belonged to the
--    extension, and a restore created each partition's copy twice. Each existing partition gets
--    its own indexes, then the parent's go (and with them the copies they had made).

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
REVOKE EXECUTE ON FUNCTION liveupdate._index_event_partition(text) FROM PUBLIC;

SELECT liveupdate._index_event_partition(c.relname)
FROM pg_catalog.pg_inherits AS i
JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid
WHERE i.inhparent = 'liveupdate.device_events'::regclass;

DROP INDEX liveupdate.device_events_device_idx;
DROP INDEX liveupdate.device_events_received_brin;

CREATE OR REPLACE FUNCTION liveupdate.ensure_event_partitions(days_ahead integer DEFAULT 3) RETURNS integer
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
