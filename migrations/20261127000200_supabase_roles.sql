-- Deployment migration 3: what Supabase's API roles may do. Applies only the grants whose role
-- exists, so it also runs on plain PostgreSQL; safe to apply twice.
--   anon           nothing.
--   authenticated  reads every table and changes apps, channels, bundles, overrides and members,
--                  always filtered by row-level security (liveupdate.caller_rank): a user sees
--                  only the organizations they belong to, with their role's rights. API key
--                  hashes are not readable.
--   service_role   everything (it bypasses RLS in Supabase).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN
        GRANT USAGE ON SCHEMA liveupdate TO authenticated;
        GRANT SELECT ON liveupdate.organizations, liveupdate.apps, liveupdate.channels, liveupdate.bundles,
            liveupdate.bundle_files, liveupdate.device_overrides, liveupdate.devices, liveupdate.device_events,
            liveupdate.device_failed_bundles, liveupdate.bundle_daily_counts, liveupdate.bundle_counts,
            liveupdate.organization_members
            TO authenticated;
        GRANT SELECT (id, organization_id, name, key_prefix, mode, app_ids, expires_at, last_used_at, created_at,
            revoked_at) ON liveupdate.api_keys TO authenticated;
        GRANT INSERT, UPDATE, DELETE ON liveupdate.channels, liveupdate.bundles, liveupdate.device_overrides,
            liveupdate.organization_members TO authenticated;
        GRANT UPDATE ON liveupdate.apps, liveupdate.organizations TO authenticated;
        GRANT EXECUTE ON FUNCTION liveupdate.caller_rank(bigint, bigint), liveupdate.caller_app_rank(bigint)
            TO authenticated;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'service_role') THEN
        GRANT USAGE ON SCHEMA liveupdate TO service_role;
        GRANT ALL ON ALL TABLES IN SCHEMA liveupdate TO service_role;
        GRANT ALL ON ALL SEQUENCES IN SCHEMA liveupdate TO service_role;
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA liveupdate TO service_role;
    END IF;
END
$$;
