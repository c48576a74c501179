-- Row-level security as PostgREST drives it: SET ROLE plus request.jwt.claims / request.headers,
-- set transaction-locally. Supabase's roles are created here; the deployment migrations (each applied
-- twice, to show that is harmless) grant them and create the gateway's role.
DO $$ BEGIN
    CREATE ROLE anon NOLOGIN;
    CREATE ROLE authenticated NOLOGIN;
    CREATE ROLE service_role NOLOGIN BYPASSRLS;
EXCEPTION WHEN duplicate_object THEN NULL; END $$;
\set QUIET on
\set ECHO none
\i ../../migrations/20261127000100_gateway_role.sql
\i ../../migrations/20261127000100_gateway_role.sql
\i ../../migrations/20261127000200_supabase_roles.sql
\i ../../migrations/20261127000200_supabase_roles.sql
\i ../../migrations/20261127000300_console_access.sql
\i ../../migrations/20261127000300_console_access.sql
\set ECHO all
\set QUIET off
SELECT liveupdate.create_organization('org a') AS org_a \gset
SELECT liveupdate.create_organization('org b') AS org_b \gset
SELECT liveupdate.create_app(:org_a, 'com.a.one') > 0 AS a1, liveupdate.create_app(:org_a, 'com.a.two') > 0 AS a2,
       liveupdate.create_app(:org_b, 'com.b.one') > 0 AS b1;
SELECT liveupdate.create_channel(app, 'production', public => true) > 0 AS channel
FROM unnest(ARRAY['com.a.one', 'com.a.two', 'com.b.one']) AS app;
SELECT liveupdate.add_member(:org_a, 'aaaaaaaa-0000-4000-8000-000000000001', 'admin');
SELECT liveupdate.add_member(:org_b, 'bbbbbbbb-0000-4000-8000-000000000002', 'read');
SELECT key AS key_a FROM liveupdate.create_api_key(:org_a, 'ci', 'read') \gset
SELECT key AS key_a2 FROM liveupdate.create_api_key(:org_a, 'one app', 'write', ARRAY['com.a.two']) \gset
SELECT key AS key_b FROM liveupdate.create_api_key(:org_b, 'revoked', 'all') \gset
SELECT liveupdate.revoke_api_key(id) FROM liveupdate.api_keys WHERE name = 'revoked';
SELECT length(:'key_a') AS key_length, count(*) AS stored_in_clear FROM liveupdate.api_keys
WHERE key_prefix <> left(:'key_a', 10) AND encode(key_hash, 'escape') LIKE 'lu_%';

-- the admin of org a sees org a only, and may change its channels but not org b's
BEGIN;
SET LOCAL ROLE authenticated;
SELECT set_config('request.jwt.claims', '{"sub": "aaaaaaaa-0000-4000-8000-000000000001", "role": "authenticated"}', true) IS NOT NULL AS claims;
SELECT name FROM liveupdate.organizations ORDER BY 1;
SELECT app_id FROM liveupdate.apps ORDER BY 1;
UPDATE liveupdate.channels SET allow_emulator = false RETURNING (SELECT app_id FROM liveupdate.apps a WHERE a.id = channels.app_id);
UPDATE liveupdate.channels SET allow_emulator = false WHERE app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.b.one');
SELECT count(*) AS members_visible FROM liveupdate.organization_members;
SELECT name, mode FROM liveupdate.api_keys ORDER BY 1;
-- the hashes are not readable, even for admins
SELECT key_hash FROM liveupdate.api_keys;
ROLLBACK;

-- a read member of org b: sees org b, cannot change it
BEGIN;
SET LOCAL ROLE authenticated;
SELECT set_config('request.jwt.claims', '{"sub": "bbbbbbbb-0000-4000-8000-000000000002"}', true) IS NOT NULL AS claims;
SELECT app_id FROM liveupdate.apps ORDER BY 1;
UPDATE liveupdate.channels SET public = false;
SELECT count(*) AS keys_visible FROM liveupdate.api_keys;
ROLLBACK;

-- no or forged claims: nothing
BEGIN;
SET LOCAL ROLE authenticated;
SELECT count(*) AS apps_without_claims FROM liveupdate.apps;
SELECT set_config('request.jwt.claims', '{"sub": "not-a-uuid"}', true) IS NOT NULL AS claims;
SELECT count(*) AS apps_with_bad_sub FROM liveupdate.apps;
ROLLBACK;

-- API keys through PostgREST's request headers: mode, app limit, revocation
BEGIN;
SET LOCAL ROLE authenticated;
SELECT set_config('request.headers', json_build_object('x-api-key', :'key_a')::text, true) IS NOT NULL AS headers;
SELECT app_id FROM liveupdate.apps ORDER BY 1;
UPDATE liveupdate.channels SET public = false;
SELECT set_config('request.headers', json_build_object('x-api-key', :'key_a2')::text, true) IS NOT NULL AS headers;
SELECT app_id FROM liveupdate.apps ORDER BY 1;
UPDATE liveupdate.channels SET allow_dev = false RETURNING name;
SELECT set_config('request.headers', json_build_object('x-api-key', :'key_b')::text, true) IS NOT NULL AS headers;
SELECT count(*) AS apps_for_revoked_key FROM liveupdate.apps;
SELECT set_config('request.headers', '{"x-api-key": "lu_guessed"}', true) IS NOT NULL AS headers;
SELECT count(*) AS apps_for_unknown_key FROM liveupdate.apps;
ROLLBACK;

-- anon sees nothing; service_role sees everything
BEGIN;
SET LOCAL ROLE anon;
SELECT count(*) FROM liveupdate.apps;
ROLLBACK;
BEGIN;
SET LOCAL ROLE service_role;
SELECT count(*) AS apps_for_service_role FROM liveupdate.apps;
ROLLBACK;

-- bad input to the key API
SELECT liveupdate.create_api_key(:org_a, 'x', 'root');
SELECT liveupdate.create_api_key(:org_a, 'x', 'read', ARRAY['com.b.one']);
SELECT liveupdate.create_api_key(:org_a, 'x', 'read', expires_at => now() - interval '1 day');
SELECT liveupdate.add_member(:org_a, 'aaaaaaaa-0000-4000-8000-000000000001', 'owner');
