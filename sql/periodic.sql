-- The periodic work, one call: pg_cron runs it every 30 seconds (or minute) where the database has pg_cron (the
-- deployment migrations schedule it), otherwise the gateway does, on a timer. Everything happens
-- in the caller's one transaction, and runs never overlap (an advisory lock): a run that dies
-- half-way leaves nothing half-done, and two schedulers cannot act twice.

CREATE TABLE liveupdate.periodic_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    runner       text NOT NULL,
    summary      jsonb NOT NULL
);
COMMENT ON TABLE liveupdate.periodic_runs IS 'The last week of run_periodic calls: when, by whom and what each step did.';
COMMENT ON COLUMN liveupdate.periodic_runs.started_at IS 'When the run began.';
COMMENT ON COLUMN liveupdate.periodic_runs.finished_at IS 'When it ended (committed with it).';
COMMENT ON COLUMN liveupdate.periodic_runs.runner IS 'Who ran it: the session''s application_name (liveupdate-gateway), else a background worker''s type (pg_cron), else the role.';
COMMENT ON COLUMN liveupdate.periodic_runs.summary IS 'What each step did, as run_periodic returned it.';

CREATE FUNCTION liveupdate.run_periodic() RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    started timestamptz := clock_timestamp();
    keep_days integer := coalesce(nullif(current_setting('liveupdate.event_retention_days', true), ''), '90')::integer;
    summary jsonb;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('liveupdate.run_periodic')) THEN
        RETURN jsonb_build_object('skipped', true);
    END IF;
    -- The event partitions' lock before anything reads device_events, in the order the stats path
    -- takes them (ensure_event_partitions: this lock, then the table for a new partition). Taken
    -- later, after the rollups' reads, a run and the first POST /stats into a day without its
    -- partition each waited for the other (deadlock).
    PERFORM pg_advisory_xact_lock(hashtext('liveupdate.device_events partitions'));
    -- Rollups next: their safe bound must be taken before this transaction does anything else.
    summary := jsonb_build_object('stats', liveupdate.aggregate_stats());
    summary := summary || jsonb_build_object(
        'partitions_created', liveupdate.ensure_event_partitions(3),
        'partitions_dropped', (SELECT coalesce(jsonb_agg(p), '[]') FROM liveupdate.drop_event_partitions(keep_days) AS p));
    summary := summary || jsonb_build_object('guard', (
        SELECT coalesce(jsonb_agg(jsonb_build_object('channel_id', g.channel_id, 'target', g.target,
                                                     'version', g.version_name, 'action', g.action,
                                                     'outcome', g.outcome)), '[]')
        FROM liveupdate.run_guard() AS g));
    summary := summary || jsonb_build_object('bundles', liveupdate.purge_bundles());
    INSERT INTO liveupdate.periodic_runs (started_at, finished_at, runner, summary)
    VALUES (started, clock_timestamp(),
            -- pg_cron's background workers have no application_name, but their own backend type.
            coalesce(nullif(current_setting('application_name'), ''),
                     (SELECT a.backend_type FROM pg_stat_activity AS a
                      WHERE a.pid = pg_backend_pid() AND a.backend_type <> 'client backend'),
                     session_user),
            summary);
    DELETE FROM liveupdate.periodic_runs AS r WHERE r.started_at < started - interval '7 days';
    RETURN summary;
END
$$;
COMMENT ON FUNCTION liveupdate.run_periodic() IS
    'The periodic work, every 30 seconds by default: statistics rollups, event partitions (created ahead; dropped after liveupdate.event_retention_days, default 90, once aggregated), the failure guard, bundle retention and purging. Returns what each step did, or {skipped: true} while another run is in progress.';

-- Whether pg_cron runs run_periodic in this database; the gateway then leaves it alone.
-- SECURITY DEFINER: pg_cron's job table is not readable by the gateway's role.
CREATE FUNCTION liveupdate.periodic_scheduled_by_cron() RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    scheduled boolean;
BEGIN
    IF to_regclass('cron.job') IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE $q$SELECT EXISTS (SELECT 1 FROM cron.job AS j
                               WHERE j.active AND j.database = current_database()
                                 AND j.command ILIKE '%liveupdate.run_periodic()%')$q$
    INTO scheduled;
    RETURN scheduled;
END
$$;
COMMENT ON FUNCTION liveupdate.periodic_scheduled_by_cron() IS
    'True when an active pg_cron job runs liveupdate.run_periodic() in this database.';
