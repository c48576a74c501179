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
