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
