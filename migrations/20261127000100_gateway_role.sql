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
