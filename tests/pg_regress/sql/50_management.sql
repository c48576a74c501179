-- The management API (api_* functions) as console clients and the gateway call it: every
-- principal against every operation on organization A's data, then bad input. Runs after
-- 40_access, which created Supabase's roles and applied the deployment migrations.
SELECT liveupdate.create_organization('matrix a') AS org_a \gset
SELECT liveupdate.create_organization('matrix b') AS org_b \gset
SELECT liveupdate.create_app(:org_a, 'com.ma.one') > 0 AS a1, liveupdate.create_app(:org_a, 'com.ma.two') > 0 AS a2,
       liveupdate.create_app(:org_b, 'com.mb.one') > 0 AS b1;
SELECT liveupdate.register_bundle(app, '1.0.0', 'https://cdn.example.com/1.0.0.zip') > 0 AS b100,
       liveupdate.register_bundle(app, '1.1.0', 'https://cdn.example.com/1.1.0.zip') > 0 AS b110
FROM unnest(ARRAY['com.ma.one', 'com.ma.two', 'com.mb.one']) AS app;
SELECT liveupdate.create_channel(app, 'production', bundle => '1.0.0', public => true) > 0 AS production,
       liveupdate.create_channel(app, 'beta') > 0 AS beta
FROM unnest(ARRAY['com.ma.one', 'com.ma.two', 'com.mb.one']) AS app;
SELECT liveupdate.record_device_checks(jsonb_agg(jsonb_build_object('app_id', app, 'device_id', device,
    'platform', 'ios', 'plugin_version', '7.0.0', 'version_build', '1.0', 'version_name', '1.0.0')))
FROM (VALUES ('com.ma.one', '00000000-0000-4000-8000-00000000000a'), ('com.ma.two', '00000000-0000-4000-8000-00000000000b'),
             ('com.mb.one', '00000000-0000-4000-8000-00000000000c')) AS d(app, device);
SELECT liveupdate.add_member(:org_a, ('a0000000-0000-4000-8000-00000000000' || n)::uuid, role)
FROM (VALUES (1, 'admin'), (2, 'write'), (3, 'upload'), (4, 'read')) AS m(n, role);
SELECT liveupdate.add_member(:org_b, 'b0000000-0000-4000-8000-000000000001', 'admin');
CREATE TEMP TABLE principal_keys AS
SELECT mode, (liveupdate.create_api_key(:org_a, mode || ' key', mode)).key FROM unnest(ARRAY['all', 'write', 'upload', 'read']) AS mode
UNION ALL SELECT 'limited', (liveupdate.create_api_key(:org_a, 'limited', 'write', ARRAY['com.ma.two'])).key
UNION ALL SELECT 'expired', (liveupdate.create_api_key(:org_a, 'expired', 'all', expires_at => now() + interval '1 hour')).key
UNION ALL SELECT 'revoked', (liveupdate.create_api_key(:org_a, 'revoked', 'all')).key
UNION ALL SELECT 'other org', (liveupdate.create_api_key(:org_b, 'b all', 'all')).key;
UPDATE liveupdate.api_keys SET expires_at = now() - interval '1 second' WHERE name = 'expired' AND organization_id = :org_a;
SELECT liveupdate.revoke_api_key(id) FROM liveupdate.api_keys WHERE name = 'revoked' AND organization_id = :org_a;
GRANT SELECT ON principal_keys TO PUBLIC;
SELECT id AS b_app FROM liveupdate.apps WHERE app_id = 'com.mb.one' \gset

-- Runs one statement and undoes it, whatever happened: 'ok', a row count for lists, or the error's
-- SQLSTATE named (denied 42501, unseen P0002, bad 22023, dup 23505, state 55000).
CREATE FUNCTION pg_temp.attempt(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    answer jsonb;
    outcome text;
BEGIN
    BEGIN
        EXECUTE statement INTO answer;
        -- a list answers its length
        SELECT coalesce(max(jsonb_array_length(e.value))::text, 'ok') INTO outcome
        FROM jsonb_each(CASE WHEN jsonb_typeof(answer) = 'object' THEN answer ELSE '{}' END) AS e
        WHERE e.key IN ('apps', 'channels', 'bundles', 'devices', 'keys') AND NOT answer ? 'name' AND NOT answer ? 'version';
        RAISE EXCEPTION USING ERRCODE = 'ZZ000', MESSAGE = outcome;
    EXCEPTION
        WHEN SQLSTATE 'ZZ000' THEN RETURN SQLERRM;
        WHEN OTHERS THEN
            RETURN CASE SQLSTATE WHEN '42501' THEN 'denied' WHEN 'P0002' THEN 'unseen' WHEN '22023' THEN 'bad'
                                 WHEN '23505' THEN 'dup' WHEN '55000' THEN 'state' ELSE SQLSTATE || ': ' || SQLERRM END;
    END;
END
$$;

-- Each operation, on organization A's app com.ma.one unless it says otherwise.
CREATE TEMP TABLE operations (position int, name text, statement text);
INSERT INTO operations VALUES
 (1, 'list apps', $q$SELECT liveupdate.api_list_apps('{}')$q$),
 (2, 'get app', $q$SELECT liveupdate.api_get_app('{"app_id": "com.ma.one"}')$q$),
 (3, 'create app', format($q$SELECT liveupdate.api_create_app('{"app_id": "com.ma.new", "organization_id": %s}')$q$, :org_a)),
 (4, 'update app', $q$SELECT liveupdate.api_update_app('{"app_id": "com.ma.one", "name": "One"}')$q$),
 (5, 'list channels', $q$SELECT liveupdate.api_list_channels('{"app_id": "com.ma.one"}')$q$),
 (6, 'create channel', $q$SELECT liveupdate.api_create_channel('{"app_id": "com.ma.one", "name": "qa"}')$q$),
 (7, 'channel flags', $q$SELECT liveupdate.api_update_channel('{"app_id": "com.ma.one", "channel": "beta", "allow_emulator": false}')$q$),
 (8, 'deploy', $q$SELECT liveupdate.api_update_channel('{"app_id": "com.ma.one", "channel": "production", "bundle": "1.1.0"}')$q$),
 (9, 'delete channel', $q$SELECT liveupdate.api_delete_channel('{"app_id": "com.ma.one", "channel": "beta"}')$q$),
 (10, 'list bundles', $q$SELECT liveupdate.api_list_bundles('{"app_id": "com.ma.one"}')$q$),
 (11, 'register bundle', $q$SELECT liveupdate.api_register_bundle('{"app_id": "com.ma.one", "version": "2.0.0", "external_url": "https://cdn.example.com/2.zip"}')$q$),
 (12, 'bundle comment', $q$SELECT liveupdate.api_update_bundle('{"app_id": "com.ma.one", "version": "1.1.0", "comment": "hi"}')$q$),
 (13, 'delete bundle', $q$SELECT liveupdate.api_delete_bundle('{"app_id": "com.ma.one", "version": "1.1.0"}')$q$),
 (14, 'list devices', $q$SELECT liveupdate.api_list_devices('{"app_id": "com.ma.one"}')$q$),
 (15, 'set override', $q$SELECT liveupdate.api_set_device_channel('{"app_id": "com.ma.one", "device_id": "00000000-0000-4000-8000-00000000000a", "channel": "beta"}')$q$),
 (16, 'list keys', format($q$SELECT liveupdate.api_list_keys('{"organization_id": %s}')$q$, :org_a)),
 (17, 'create key', format($q$SELECT liveupdate.api_create_key('{"name": "new", "mode": "read", "organization_id": %s}')$q$, :org_a)),
 (18, 'revoke key', format($q$SELECT liveupdate.api_revoke_key('{"key_id": %s}')$q$, (SELECT min(id) FROM liveupdate.api_keys WHERE name = 'read key'))),
 (19, 'add member', format($q$SELECT to_jsonb(liveupdate.add_member(%s, 'c0000000-0000-4000-8000-000000000001', 'read')::text)$q$, :org_a)),
 (20, 'get app two', $q$SELECT liveupdate.api_get_app('{"app_id": "com.ma.two"}')$q$),
 (21, 'deploy app two', $q$SELECT liveupdate.api_update_channel('{"app_id": "com.ma.two", "channel": "production", "bundle": "1.1.0"}')$q$),
 (22, 'get org b app', $q$SELECT liveupdate.api_get_app('{"app_id": "com.mb.one"}')$q$),
 (23, 'deploy org b', $q$SELECT liveupdate.api_update_channel('{"app_id": "com.mb.one", "channel": "production", "bundle": "1.1.0"}')$q$),
 (24, 'delete app', $q$SELECT liveupdate.api_delete_app('{"app_id": "com.ma.one"}')$q$);
GRANT SELECT ON operations TO PUBLIC;

-- One row per principal: a role, a JWT subject or an API key (as PostgREST's x-api-key header
-- or as the gateway's key hash).
CREATE FUNCTION pg_temp.rights(who text, role_name text, subject text, api_key text, gateway boolean DEFAULT false)
RETURNS TABLE (principal text, operation text, outcome text) LANGUAGE plpgsql AS $$
DECLARE
    op record;
BEGIN
    FOR op IN SELECT * FROM operations ORDER BY position LOOP
        PERFORM set_config('role', role_name, true);
        PERFORM set_config('request.jwt.claims', coalesce(json_build_object('sub', subject)::text, ''), true);
        PERFORM set_config('request.headers', CASE WHEN NOT gateway THEN coalesce(json_build_object('x-api-key', api_key)::text, '') ELSE '' END, true);
        PERFORM set_config('liveupdate.api_key_sha256', CASE WHEN gateway THEN encode(sha256(convert_to(api_key, 'UTF8')), 'hex') ELSE '' END, true);
        principal := who;
        operation := op.name;
        outcome := pg_temp.attempt(op.statement);
        PERFORM set_config('role', 'postgres', true);
        RETURN NEXT;
    END LOOP;
END
$$;

CREATE TEMP TABLE matrix AS
SELECT * FROM pg_temp.rights('admin A', 'authenticated', 'a0000000-0000-4000-8000-000000000001', NULL)
UNION ALL SELECT * FROM pg_temp.rights('write A', 'authenticated', 'a0000000-0000-4000-8000-000000000002', NULL)
UNION ALL SELECT * FROM pg_temp.rights('upload A', 'authenticated', 'a0000000-0000-4000-8000-000000000003', NULL)
UNION ALL SELECT * FROM pg_temp.rights('read A', 'authenticated', 'a0000000-0000-4000-8000-000000000004', NULL)
UNION ALL SELECT * FROM pg_temp.rights('admin B', 'authenticated', 'b0000000-0000-4000-8000-000000000001', NULL)
UNION ALL SELECT * FROM pg_temp.rights('nobody', 'authenticated', NULL, NULL)
UNION ALL SELECT * FROM pg_temp.rights('key all', 'authenticated', NULL, (SELECT key FROM principal_keys WHERE mode = 'all'))
UNION ALL SELECT * FROM pg_temp.rights('key write', 'authenticated', NULL, (SELECT key FROM principal_keys WHERE mode = 'write'))
UNION ALL SELECT * FROM pg_temp.rights('key upload', 'authenticated', NULL, (SELECT key FROM principal_keys WHERE mode = 'upload'))
UNION ALL SELECT * FROM pg_temp.rights('key read', 'authenticated', NULL, (SELECT key FROM principal_keys WHERE mode = 'read'))
UNION ALL SELECT * FROM pg_temp.rights('key limited', 'authenticated', NULL, (SELECT key FROM principal_keys WHERE mode = 'limited'))
UNION ALL SELECT * FROM pg_temp.rights('key expired', 'authenticated', NULL, (SELECT key FROM principal_keys WHERE mode = 'expired'))
UNION ALL SELECT * FROM pg_temp.rights('key revoked', 'authenticated', NULL, (SELECT key FROM principal_keys WHERE mode = 'revoked'))
UNION ALL SELECT * FROM pg_temp.rights('key org B', 'authenticated', NULL, (SELECT key FROM principal_keys WHERE mode = 'other org'))
UNION ALL SELECT * FROM pg_temp.rights('gw key write', 'liveupdate_gateway', NULL, (SELECT key FROM principal_keys WHERE mode = 'write'), true)
UNION ALL SELECT * FROM pg_temp.rights('gw key limited', 'liveupdate_gateway', NULL, (SELECT key FROM principal_keys WHERE mode = 'limited'), true)
UNION ALL SELECT * FROM pg_temp.rights('gw no key', 'liveupdate_gateway', NULL, NULL, true)
UNION ALL SELECT * FROM pg_temp.rights('anon', 'anon', NULL, NULL)
UNION ALL SELECT * FROM pg_temp.rights('service_role', 'service_role', NULL, NULL);

-- Read down a column: what one operation allows to whom.
SELECT o.position AS "#", o.name AS operation,
       string_agg(m.principal || '=' || m.outcome, ', ' ORDER BY m.principal) FILTER (WHERE m.principal IN ('admin A', 'write A', 'upload A', 'read A', 'admin B', 'nobody')) AS members,
       string_agg(m.principal || '=' || m.outcome, ', ' ORDER BY m.principal) FILTER (WHERE m.principal LIKE 'key %') AS keys_via_postgrest,
       string_agg(m.principal || '=' || m.outcome, ', ' ORDER BY m.principal) FILTER (WHERE m.principal LIKE 'gw %' OR m.principal IN ('anon', 'service_role')) AS others
FROM operations o JOIN matrix m ON m.operation = o.name
GROUP BY o.position, o.name ORDER BY o.position;

-- The matrix left nothing behind: every attempt was undone.
SELECT (SELECT count(*) FROM liveupdate.apps WHERE app_id LIKE 'com.m%') AS apps,
       (SELECT count(*) FROM liveupdate.channels c JOIN liveupdate.apps a ON a.id = c.app_id WHERE a.app_id LIKE 'com.m%') AS channels,
       (SELECT count(*) FROM liveupdate.api_keys WHERE revoked_at IS NULL) AS live_keys,
       (SELECT count(*) FROM liveupdate.device_overrides) AS overrides;

-- Direct table access as PostgREST gives it. First rows in every table for both organizations:
-- manifests, overrides, events, failures and counters.
SELECT liveupdate.register_bundle(app, '1.2.0', manifest => '[{"file_name": "index.html", "file_hash": "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb", "download_url": "https://cdn.example.com/f/index.html", "file_size": 1}]') > 0 AS manifest_bundle
FROM unnest(ARRAY['com.ma.one', 'com.mb.one']) AS app;
SELECT liveupdate.add_signing_key(app, 'release', 'Ps5Yhk8jh+oiYqeaFDg732l2UgwRcrAlUsxStjgBlzc=')
FROM unnest(ARRAY['com.ma.one', 'com.mb.one']) AS app;
SELECT liveupdate.set_device_override(app, device, 'beta')
FROM (VALUES ('com.ma.one', '00000000-0000-4000-8000-00000000000a'), ('com.mb.one', '00000000-0000-4000-8000-00000000000c')) AS d(app, device);
SELECT liveupdate.record_stats(jsonb_build_array(
    jsonb_build_object('app_id', app, 'device_id', device, 'platform', 'ios', 'plugin_version', '8.51.14',
        'version_build', '1.0', 'version_os', '17', 'version_name', '1.0.0', 'old_version_name', 'builtin', 'action', 'set',
        'is_prod', true, 'is_emulator', false),
    jsonb_build_object('app_id', app, 'device_id', device, 'platform', 'ios', 'plugin_version', '8.51.14',
        'version_build', '1.0', 'version_os', '17', 'version_name', '1.1.0', 'action', 'update_fail', 'is_prod', true, 'is_emulator', false)))
FROM (VALUES ('com.ma.one', '00000000-0000-4000-8000-00000000000a'), ('com.mb.one', '00000000-0000-4000-8000-00000000000c')) AS d(app, device);
-- Their statistics, and a decision of the failure guard on each app's beta channel.
-- (The rollups stop a second short of now: events are a second old before they can be aggregated.)
SELECT pg_sleep(1.1);
SELECT (liveupdate.aggregate_stats() ->> 'events')::bigint > 0 AS aggregated;
INSERT INTO liveupdate.guard_events (app_id, channel_id, target, version_name, action, outcome, attempts, failures,
                                     lower_bound, max_failure_rate, confidence, counted_since)
SELECT c.app_id, c.id, 'deploy', '1.1.0', 'alert', 'alert only', 60, 30, 0.37, 0.2, 0.95, now()
FROM liveupdate.channels AS c JOIN liveupdate.apps AS a ON a.id = c.app_id
WHERE a.app_id IN ('com.ma.one', 'com.mb.one') AND c.name = 'beta';

-- Rows of the matrix organizations each principal can read, table by table.
CREATE FUNCTION pg_temp.visible_rows() RETURNS TABLE (relation text, visible bigint) LANGUAGE sql AS $$
    WITH matrix_apps AS (SELECT id FROM liveupdate.apps WHERE app_id LIKE 'com.m%'),
         matrix_orgs AS (SELECT id FROM liveupdate.organizations WHERE name LIKE 'matrix%')
    SELECT 'organizations', count(*) FROM matrix_orgs
    UNION ALL SELECT 'organization_members', count(*) FROM liveupdate.organization_members WHERE organization_id IN (SELECT id FROM matrix_orgs)
    UNION ALL SELECT 'api_keys', count(*) FROM liveupdate.api_keys WHERE organization_id IN (SELECT id FROM matrix_orgs)
    UNION ALL SELECT 'apps', count(*) FROM matrix_apps
    UNION ALL SELECT 'channels', count(*) FROM liveupdate.channels WHERE app_id IN (SELECT id FROM matrix_apps)
    UNION ALL SELECT 'bundles', count(*) FROM liveupdate.bundles WHERE app_id IN (SELECT id FROM matrix_apps)
    UNION ALL SELECT 'bundle_files', count(*) FROM liveupdate.bundle_files f JOIN liveupdate.bundles b ON b.id = f.bundle_id WHERE b.app_id IN (SELECT id FROM matrix_apps)
    UNION ALL SELECT 'signing_keys', count(*) FROM liveupdate.signing_keys WHERE app_id IN (SELECT id FROM matrix_apps)
    UNION ALL SELECT 'device_overrides', count(*) FROM liveupdate.device_overrides WHERE app_id IN (SELECT id FROM matrix_apps)
    UNION ALL SELECT 'devices', count(*) FROM liveupdate.devices WHERE app_id IN (SELECT id FROM matrix_apps)
    UNION ALL SELECT 'device_events', count(*) FROM liveupdate.device_events WHERE app_id IN (SELECT id FROM matrix_apps)
    UNION ALL SELECT 'device_failed_bundles', count(*) FROM liveupdate.device_failed_bundles WHERE app_id IN (SELECT id FROM matrix_apps)
    UNION ALL SELECT 'stats_activity', count(*) FROM liveupdate.stats_activity WHERE app_id IN (SELECT id FROM matrix_apps)
    UNION ALL SELECT 'stats_versions', count(*) FROM liveupdate.stats_versions WHERE app_id IN (SELECT id FROM matrix_apps)
    UNION ALL SELECT 'stats_adoption', count(*) FROM liveupdate.stats_adoption WHERE app_id IN (SELECT id FROM matrix_apps)
    UNION ALL SELECT 'stats_storage', count(*) FROM liveupdate.stats_storage WHERE app_id IN (SELECT id FROM matrix_apps)
    UNION ALL SELECT 'channel_guards', count(*) FROM liveupdate.channel_guards WHERE app_id IN (SELECT id FROM matrix_apps)
    UNION ALL SELECT 'guard_events', count(*) FROM liveupdate.guard_events WHERE app_id IN (SELECT id FROM matrix_apps)
$$;
GRANT EXECUTE ON FUNCTION pg_temp.visible_rows() TO PUBLIC;
CREATE FUNCTION pg_temp.visible_as(role_name text, subject text, api_key text)
RETURNS TABLE (relation text, visible bigint) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('role', role_name, true);
    PERFORM set_config('request.jwt.claims', coalesce(json_build_object('sub', subject)::text, ''), true);
    PERFORM set_config('request.headers', coalesce(json_build_object('x-api-key', api_key)::text, ''), true);
    RETURN QUERY SELECT * FROM pg_temp.visible_rows();
    PERFORM set_config('role', 'postgres', true);
END
$$;
SELECT everything.relation, everything.visible AS superuser, admin_a.visible AS "admin A", read_a.visible AS "read A",
       limited.visible AS "key limited", admin_b.visible AS "admin B", nobody.visible AS nobody
FROM pg_temp.visible_rows() AS everything
JOIN pg_temp.visible_as('authenticated', 'a0000000-0000-4000-8000-000000000001', NULL) AS admin_a USING (relation)
JOIN pg_temp.visible_as('authenticated', 'a0000000-0000-4000-8000-000000000004', NULL) AS read_a USING (relation)
JOIN pg_temp.visible_as('authenticated', NULL, (SELECT key FROM principal_keys WHERE mode = 'limited')) AS limited USING (relation)
JOIN pg_temp.visible_as('authenticated', 'b0000000-0000-4000-8000-000000000001', NULL) AS admin_b USING (relation)
JOIN pg_temp.visible_as('authenticated', NULL, NULL) AS nobody USING (relation);

-- A's admin changes nothing of B's, in any table it may write.
BEGIN;
SET LOCAL ROLE authenticated;
SELECT set_config('request.jwt.claims', '{"sub": "a0000000-0000-4000-8000-000000000001"}', true) IS NOT NULL AS claims;
WITH changed AS (UPDATE liveupdate.apps SET name = 'hijacked' WHERE app_id = 'com.mb.one' RETURNING 1)
SELECT count(*) AS b_apps_renamed FROM changed;
WITH changed AS (DELETE FROM liveupdate.channels WHERE app_id IN (SELECT id FROM liveupdate.apps WHERE organization_id = :org_b) RETURNING 1)
SELECT count(*) AS b_channels_deleted FROM changed;
WITH changed AS (INSERT INTO liveupdate.channels (app_id, name) SELECT id, 'sneaky' FROM liveupdate.apps WHERE app_id = 'com.mb.one' RETURNING 1)
SELECT count(*) AS b_channels_added FROM changed;
WITH changed AS (INSERT INTO liveupdate.channels (app_id, name) SELECT id, 'own' FROM liveupdate.apps WHERE app_id = 'com.ma.one' RETURNING 1)
SELECT count(*) AS own_channels_added FROM changed;
-- guessing org b's app id does not help
SAVEPOINT before_guess;
INSERT INTO liveupdate.channels (app_id, name) VALUES (:b_app, 'sneaky');
ROLLBACK TO before_guess;
INSERT INTO liveupdate.bundles (app_id, name, external_url) VALUES (:b_app, '9.9.9', 'https://x.example/z.zip');
ROLLBACK;
BEGIN;
SET LOCAL ROLE authenticated;
SELECT set_config('request.jwt.claims', '{"sub": "a0000000-0000-4000-8000-000000000001"}', true) IS NOT NULL AS claims;
WITH changed AS (DELETE FROM liveupdate.device_overrides WHERE app_id = :b_app RETURNING 1) SELECT count(*) AS b_overrides_deleted FROM changed;
WITH changed AS (UPDATE liveupdate.organization_members SET role = 'read' WHERE organization_id = :org_b RETURNING 1) SELECT count(*) AS b_members_changed FROM changed;
WITH changed AS (UPDATE liveupdate.api_keys SET revoked_at = now() WHERE organization_id = :org_b RETURNING 1) SELECT count(*) AS b_keys_revoked FROM changed;
WITH changed AS (UPDATE liveupdate.organizations SET name = 'taken' WHERE id = :org_b RETURNING 1) SELECT count(*) AS b_orgs_renamed FROM changed;
SAVEPOINT before_guess;
INSERT INTO liveupdate.bundle_files (bundle_id, file_name, file_hash, download_url)
SELECT max(id), 'evil.js', 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb', 'https://x.example/e.js'
FROM liveupdate.bundles WHERE app_id = :b_app;
ROLLBACK TO before_guess;
INSERT INTO liveupdate.organization_members VALUES (:org_b, 'a0000000-0000-4000-8000-000000000001', 'admin');
ROLLBACK TO before_guess;
INSERT INTO liveupdate.device_overrides (app_id, device_id, channel_id)
SELECT :b_app, gen_random_uuid(), max(id) FROM liveupdate.channels;
ROLLBACK TO before_guess;
-- tables only the extension writes
DELETE FROM liveupdate.devices;
ROLLBACK TO before_guess;
INSERT INTO liveupdate.device_events (app_id, device_id, action) VALUES (:b_app, gen_random_uuid(), 'set');
ROLLBACK;
SELECT name FROM liveupdate.apps WHERE app_id = 'com.mb.one';

-- Bad input: clear 22023 errors, and nothing changes.
SELECT liveupdate.api_get_app('[1, 2]');
SELECT liveupdate.api_get_app('{"app_id": "com.ma.one", "extra": 1}');
SELECT liveupdate.api_get_app('{"app_id": 7}');
SELECT liveupdate.api_get_app('{}');
SELECT liveupdate.api_list_devices('{"app_id": "com.ma.one", "limit": 100000}');
SELECT liveupdate.api_list_devices('{"app_id": "com.ma.one", "limit": "ten"}');
SELECT liveupdate.api_list_devices('{"app_id": "com.ma.one", "cursor": "not-a-uuid"}');
SELECT liveupdate.api_list_bundles('{"app_id": "com.ma.one", "cursor": "-1"}');
SELECT liveupdate.api_get_device('{"app_id": "com.ma.one", "device_id": "1234"}');
SELECT liveupdate.api_update_channel('{"app_id": "com.ma.one", "channel": "beta", "public": "yes"}');
SELECT liveupdate.api_update_channel('{"app_id": "com.ma.one", "channel": "beta", "disable_auto_update": "sometimes"}');
SELECT liveupdate.api_create_key(format('{"name": "x", "mode": "read", "expires_at": "tomorrow-ish", "organization_id": %s}', :org_a)::jsonb);
SELECT liveupdate.api_create_key(format('{"name": "x", "mode": "read", "apps": [], "organization_id": %s}', :org_a)::jsonb);
SELECT liveupdate.api_create_key(format('{"name": "x", "mode": "read", "apps": "com.ma.one", "organization_id": %s}', :org_a)::jsonb);
SELECT liveupdate.api_revoke_key('{"key_id": "1; DELETE FROM liveupdate.api_keys"}');
SELECT liveupdate.api_create_app('{"app_id": "com.ma.x''; DROP TABLE liveupdate.apps; --"}');
SELECT liveupdate.api_get_app('{"app_id": "com.ma.one'' OR ''1''=''1"}');
SELECT liveupdate.api_create_channel('{"app_id": "com.ma.one", "name": "x''); DELETE FROM liveupdate.channels; --", "bundle": "1.0.0 OR 1=1"}');
SELECT liveupdate.api_update_channel('{"app_id": "com.ma.one", "channel": "production", "name": "beta"}');
SELECT liveupdate.api_delete_bundle('{"app_id": "com.ma.one", "version": "1.0.0"}');
SELECT liveupdate.management_call(NULL, 'api_list_apps; DROP TABLE liveupdate.apps', '{}');
SELECT liveupdate.management_call(NULL, 'record_device_checks', '{}');
SELECT (SELECT count(*) FROM liveupdate.apps WHERE app_id LIKE 'com.m%') AS apps,
       (SELECT count(*) FROM liveupdate.channels c JOIN liveupdate.apps a ON a.id = c.app_id WHERE a.app_id LIKE 'com.m%') AS channels,
       (SELECT count(*) FROM liveupdate.api_keys WHERE revoked_at IS NULL) AS live_keys;

-- What the API answers, for the record (timestamps left out).
SELECT jsonb_pretty(liveupdate.api_get_channel('{"app_id": "com.ma.one", "channel": "production"}')
    - 'bundle_changed_at' - 'created_at' - 'updated_at');
SELECT jsonb_pretty(liveupdate.api_get_bundle('{"app_id": "com.ma.one", "version": "1.0.0"}') - 'created_at');
SELECT d - 'first_seen_at' - 'last_seen_at' AS device
FROM jsonb_array_elements(liveupdate.api_list_devices('{"app_id": "com.ma.one", "platform": "ios"}') -> 'devices') AS d;
-- paging: a page of one has a next page; a page of all three has none
SELECT liveupdate.api_list_bundles('{"app_id": "com.ma.one", "limit": 1}') -> 'next_cursor' IS NOT NULL AS has_next,
       jsonb_array_length(liveupdate.api_list_bundles(jsonb_build_object('app_id', 'com.ma.one', 'limit', 1,
           'cursor', liveupdate.api_list_bundles('{"app_id": "com.ma.one", "limit": 1}') ->> 'next_cursor')) -> 'bundles') AS second_page,
       liveupdate.api_list_bundles('{"app_id": "com.ma.one", "limit": 3}') -> 'next_cursor' AS after_last;
-- the gateway's authentication: a live key answers its organization, anything else is 28000
SELECT liveupdate.authenticate_key(encode(sha256(convert_to(key, 'UTF8')), 'hex')) - 'key_id' - 'organization_id' AS who
FROM principal_keys WHERE mode IN ('write', 'limited') ORDER BY mode;
SELECT liveupdate.authenticate_key(encode(sha256(convert_to(key, 'UTF8')), 'hex')) FROM principal_keys WHERE mode = 'expired';
SELECT liveupdate.authenticate_key(encode(sha256(convert_to(key, 'UTF8')), 'hex')) FROM principal_keys WHERE mode = 'revoked';
SELECT liveupdate.authenticate_key('not a hash');
SELECT count(*) AS keys_with_last_use FROM liveupdate.api_keys WHERE last_used_at IS NOT NULL;
