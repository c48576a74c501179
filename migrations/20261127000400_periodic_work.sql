-- Deployment migration 5: who runs liveupdate.run_periodic() (statistics rollups,
-- event partitions, the failure guard, bundle cleanup). Where this database has pg_cron (Supabase
-- does; on Debian, postgresql-15-cron with shared_preload_libraries = 'pg_cron' and
-- cron.database_name naming this database), a pg_cron job does. Otherwise the gateway does, on
-- a timer; it checks for the job (liveupdate.periodic_scheduled_by_cron) before each run, and runs
-- never overlap either way. The gateway always deletes the stored objects of purged bundles (it
-- owns storage) and reports the bytes it served. Safe to apply twice.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'liveupdate_gateway') THEN
        GRANT EXECUTE ON FUNCTION liveupdate.run_periodic(), liveupdate.periodic_scheduled_by_cron(),
            liveupdate.claim_storage_deletions(integer), liveupdate.forget_storage_deletions(text[]),
            liveupdate.record_served_bytes(jsonb)
        TO liveupdate_gateway;
    END IF;
    IF current_setting('cron.database_name', true) IS DISTINCT FROM current_database() THEN
        RAISE NOTICE 'pg_cron does not serve this database: the gateway will run liveupdate.run_periodic() on its timer';
        RETURN;
    END IF;
    CREATE EXTENSION IF NOT EXISTS pg_cron;
    -- Every 30 seconds, so rollups are fresh within a minute; pg_cron before 1.5 (Debian 12 ships
    -- 1.4) schedules whole minutes only. A job of this name is replaced, not added again.
    PERFORM cron.schedule('liveupdate-periodic',
        CASE WHEN (SELECT regexp_split_to_array(e.extversion, '[.-]')::integer[] >= '{1,5}'
                   FROM pg_extension AS e WHERE e.extname = 'pg_cron')
             THEN '30 seconds' ELSE '* * * * *' END,
        'SELECT liveupdate.run_periodic()');
END
$$;
