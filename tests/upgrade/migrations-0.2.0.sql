-- migrations/20261127000000_create_extension.sql
-- Deployment migration 1: install the extension. Safe to apply twice.
-- (Grants to Supabase roles and the gateway's login role arrive with the management API.)
CREATE EXTENSION IF NOT EXISTS pg_liveupdate;
-- migrations/20261127000100_gateway_role.sql
-- Deployment migration 2: the gateway's login role. It needs no superuser, no service_role and no
-- table rights: only EXECUTE on the extension's gateway entry points, which are SECURITY DEFINER.
-- Safe to apply twice and in several databases of one cluster (roles are cluster-wide).
-- Set its password separately: ALTER ROLE liveupdate_gateway PASSWORD '...';
DO $$
BEGIN
    CREATE ROLE liveupdate_gateway LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- already there (possibly created concurrently by another database's migration)
END
$$;

GRANT USAGE ON SCHEMA liveupdate TO liveupdate_gateway;
GRANT EXECUTE ON FUNCTION
    liveupdate._resolve_update_text(text),
    liveupdate._record_stats_text(text),
    liveupdate._channel_self_text(text, text),
    liveupdate._manifest_size_text(text),
    liveupdate.record_device_checks(jsonb),
    liveupdate.ensure_event_partitions(integer),
    liveupdate.drop_event_partitions(integer)
TO liveupdate_gateway;
-- migrations/20261127000200_supabase_roles.sql
-- Deployment migration 3: what Supabase's own roles may do. Applies only the grants whose role
-- exists, so it also runs on plain PostgreSQL; safe to apply twice.
--   anon           nothing: the schema is not even visible.
--   authenticated  a console client; its rights come with migration 4.
--   service_role   everything (it bypasses RLS in Supabase).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'anon') THEN
        REVOKE ALL ON SCHEMA liveupdate FROM anon;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT USAGE ON SCHEMA liveupdate TO service_role;
        GRANT ALL ON ALL TABLES IN SCHEMA liveupdate TO service_role;
        GRANT ALL ON ALL SEQUENCES IN SCHEMA liveupdate TO service_role;
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA liveupdate TO service_role;
    END IF;
END
$$;
-- migrations/20261127000300_console_access.sql
-- Deployment migration 4: the rights of management clients, which are always filtered by
-- row-level security (liveupdate.caller_app_ids / caller_organization_ids): Supabase's
-- `authenticated` (console users, identified by their JWT, or by an x-api-key header) and the
-- gateway's role (management API requests, identified by the API key it puts in force for each
-- transaction). Without a JWT or key they see nothing. API key hashes are never readable.
-- Applies to the roles that exist; safe to apply twice, and again after an extension upgrade to
-- cover new functions.
DO $$
DECLARE
    client text;
    fn regprocedure;
BEGIN
    FOREACH client IN ARRAY ARRAY['authenticated', 'liveupdate_gateway'] LOOP
        CONTINUE WHEN NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = client);
        EXECUTE format('GRANT USAGE ON SCHEMA liveupdate TO %I', client);
        EXECUTE format($g$GRANT SELECT ON liveupdate.organizations, liveupdate.apps, liveupdate.channels,
            liveupdate.bundles, liveupdate.bundle_files, liveupdate.device_overrides, liveupdate.devices,
            liveupdate.device_events, liveupdate.device_failed_bundles, liveupdate.organization_members,
            liveupdate.deploy_history, liveupdate.stats_progress, liveupdate.stats_activity,
            liveupdate.stats_versions, liveupdate.stats_adoption, liveupdate.stats_storage,
            liveupdate.channel_guards, liveupdate.guard_events TO %I$g$, client);
        EXECUTE format($g$GRANT UPDATE (deploy_action, rollout_action, max_failure_rate, confidence, min_attempts,
            min_failures, window_minutes, watch_minutes, cooldown_minutes) ON liveupdate.channel_guards TO %I$g$, client);
        EXECUTE format($g$GRANT SELECT (id, organization_id, name, key_prefix, mode, app_ids, expires_at,
            last_used_at, created_at, revoked_at),
            INSERT (organization_id, name, key_hash, key_prefix, mode, app_ids, expires_at),
            UPDATE (revoked_at) ON liveupdate.api_keys TO %I$g$, client);
        -- What clients may write directly, column by column (README, Security): the rest is the
        -- extension's own bookkeeping. Table rights from earlier versions are revoked first.
        EXECUTE format('REVOKE INSERT, UPDATE, DELETE ON liveupdate.apps, liveupdate.bundles FROM %I', client);
        EXECUTE format($g$GRANT INSERT, UPDATE, DELETE ON liveupdate.channels, liveupdate.device_overrides,
            liveupdate.organization_members TO %I$g$, client);
        EXECUTE format($g$GRANT INSERT (organization_id, app_id, name, expose_metadata, allow_custom_id,
                bundle_retention_days, require_signature),
            UPDATE (organization_id, name, expose_metadata, allow_custom_id, bundle_retention_days,
                require_signature, updated_at),
            DELETE ON liveupdate.apps TO %I$g$, client);
        EXECUTE format($g$GRANT INSERT (app_id, name, checksum, session_key, key_id, external_url, storage_key,
                min_update_version, link, comment, manifest_count, signature, signed_by, archive_bytes),
            UPDATE (link, comment, deleted_at) ON liveupdate.bundles TO %I$g$, client);
        EXECUTE format('GRANT INSERT ON liveupdate.bundle_files TO %I', client);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE (revoked_at) ON liveupdate.signing_keys TO %I', client);
        EXECUTE format('GRANT UPDATE (name) ON liveupdate.organizations TO %I', client);
        EXECUTE format('GRANT USAGE ON SEQUENCE liveupdate.rollout_ids TO %I', client);
        -- Functions that run with the caller's rights (row-level security applies inside them),
        -- and the four SECURITY DEFINER functions the policies themselves call.
        FOR fn IN
            SELECT p.oid::regprocedure FROM pg_proc AS p
            WHERE p.pronamespace = 'liveupdate'::regnamespace AND p.prokind = 'f'
              AND (NOT p.prosecdef OR p.proname IN ('caller_rank', 'caller_app_rank', 'caller_app_ids',
                                                    'caller_organization_ids'))
              AND p.proname <> 'management_call'
        LOOP
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', fn, client);
        END LOOP;
    END LOOP;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'liveupdate_gateway') THEN
        -- management_call takes a key hash: only the gateway, which hashes what clients present.
        GRANT EXECUTE ON FUNCTION liveupdate.management_call(text, text, jsonb),
            liveupdate.authenticate_key(text), liveupdate.unreferenced_objects(text[]) TO liveupdate_gateway;
    END IF;
END
$$;
-- migrations/20261127000400_periodic_work.sql
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
