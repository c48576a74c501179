-- Writing the tables directly, as PostgREST lets console clients (and service_role, and a
-- superuser in psql) do, cannot break the rules the functions follow: each write below is tried
-- by each principal, within that principal's own organization, and undone. Runs after 40_access
-- (Supabase's roles and the deployment migrations).
SELECT liveupdate.create_organization('direct a') AS org_a \gset
SELECT liveupdate.create_organization('direct b') AS org_b \gset
SELECT liveupdate.create_app(:org_a, 'com.dw.app') > 0 AS plain, liveupdate.create_app(:org_a, 'com.dw.signed') > 0 AS signed;
-- com.dw.app: 1.0.0 stored with a one-file manifest and deployed; 1.1.0 deleted; 1.2.0 purged.
SELECT liveupdate.register_bundle('com.dw.app', '1.0.0', storage_key => 'zips/dw-1.0.0.zip', checksum => repeat('a', 64),
    manifest => '[{"file_name": "index.html", "file_hash": "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb", "storage_key": "files/dw-index", "file_size": 1}]') > 0 AS b100;
SELECT liveupdate.register_bundle('com.dw.app', v, external_url => 'https://cdn.example.com/' || v || '.zip') > 0 AS registered
FROM unnest(ARRAY['1.1.0', '1.2.0']) AS v;
SELECT liveupdate.delete_bundle('com.dw.app', v) FROM unnest(ARRAY['1.1.0', '1.2.0']) AS v;
UPDATE liveupdate.bundles SET purged_at = now() WHERE name = '1.2.0' AND app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.dw.app');
SELECT liveupdate.create_channel('com.dw.app', 'production', bundle => '1.0.0', public => true) > 0 AS production;
-- com.dw.signed: 1.0.0 was registered unsigned before the app required signatures.
SELECT liveupdate.register_bundle('com.dw.signed', '1.0.0', external_url => 'https://cdn.example.com/s-1.0.0.zip') > 0 AS unsigned;
SELECT liveupdate.add_signing_key('com.dw.signed', 'release', 'Ps5Yhk8jh+oiYqeaFDg732l2UgwRcrAlUsxStjgBlzc=');
SELECT liveupdate.update_app('com.dw.signed', require_signature => true);
SELECT liveupdate.create_channel('com.dw.signed', 'production', public => true) > 0 AS signed_production;
-- Members: read, upload, write (also admin of organization b), admin, admin of both; keys.
SELECT liveupdate.add_member(:org_a, ('d0000000-0000-4000-8000-00000000000' || n)::uuid, role)
FROM (VALUES (1, 'read'), (2, 'upload'), (3, 'write'), (4, 'admin'), (5, 'admin')) AS m(n, role);
SELECT liveupdate.add_member(:org_b, ('d0000000-0000-4000-8000-00000000000' || n)::uuid, 'admin') FROM unnest(ARRAY[3, 5]) AS n;
CREATE TEMP TABLE direct_keys AS
SELECT mode, (liveupdate.create_api_key(:org_a, 'direct ' || mode, mode)).key FROM unnest(ARRAY['upload', 'write']) AS mode;
GRANT SELECT ON direct_keys TO PUBLIC;

-- Runs statements (then the deferred checks, as a commit would) and undoes them: 'ok <rows the
-- last one changed>', or the SQLSTATE it failed with.
CREATE FUNCTION pg_temp.try_write(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    changed bigint;
BEGIN
    BEGIN
        EXECUTE statement;
        GET DIAGNOSTICS changed = ROW_COUNT;
        SET CONSTRAINTS ALL IMMEDIATE;
        RAISE EXCEPTION USING ERRCODE = 'ZZ000', MESSAGE = 'ok ' || changed;
    EXCEPTION
        WHEN SQLSTATE 'ZZ000' THEN RETURN SQLERRM;
        WHEN OTHERS THEN RETURN SQLSTATE;
    END;
END
$$;

CREATE TEMP TABLE writes (position int, name text, statement text);
INSERT INTO writes VALUES
 (1, 'switch require_signature off', $q$UPDATE liveupdate.apps SET require_signature = false WHERE app_id = 'com.dw.signed'$q$),
 (2, 'unsigned bundle, signing app', $q$INSERT INTO liveupdate.bundles (app_id, name, external_url)
     SELECT id, '9.0.0', 'https://evil.example/9.zip' FROM liveupdate.apps WHERE app_id = 'com.dw.signed'$q$),
 (3, 'forged signature', $q$INSERT INTO liveupdate.bundles (app_id, name, external_url, checksum, signature, signed_by)
     SELECT id, '9.0.0', 'https://evil.example/9.zip', repeat('b', 64), repeat('A', 86) || '==', 'release'
     FROM liveupdate.apps WHERE app_id = 'com.dw.signed'$q$),
 (4, 'deploy unsigned, signing app', $q$UPDATE liveupdate.channels AS c SET bundle_id = b.id FROM liveupdate.bundles AS b
     WHERE b.app_id = c.app_id AND b.name = '1.0.0' AND c.app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.dw.signed')$q$),
 (5, 'rewrite external_url', $q$UPDATE liveupdate.bundles SET external_url = 'https://evil.example/1.zip', storage_key = NULL
     WHERE name = '1.0.0' AND app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.dw.app')$q$),
 (6, 'rewrite checksum', $q$UPDATE liveupdate.bundles SET checksum = repeat('0', 64)
     WHERE name = '1.0.0' AND app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.dw.app')$q$),
 (7, 'edit comment (allowed)', $q$UPDATE liveupdate.bundles SET comment = 'notes'
     WHERE name = '1.0.0' AND app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.dw.app')$q$),
 (8, 'delete deployed bundle', $q$UPDATE liveupdate.bundles SET deleted_at = now()
     WHERE name = '1.0.0' AND app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.dw.app')$q$),
 (9, 'remove bundle row', $q$DELETE FROM liveupdate.bundles
     WHERE name = '1.1.0' AND app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.dw.app')$q$),
 (10, 'reuse deleted name', $q$INSERT INTO liveupdate.bundles (app_id, name, external_url)
     SELECT id, '1.1.0', 'https://evil.example/1.1.zip' FROM liveupdate.apps WHERE app_id = 'com.dw.app'$q$),
 (11, 'undelete', $q$UPDATE liveupdate.bundles SET deleted_at = NULL
     WHERE name = '1.1.0' AND app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.dw.app')$q$),
 (12, 'move deletion time', $q$UPDATE liveupdate.bundles SET deleted_at = deleted_at - interval '30 days'
     WHERE name = '1.1.0' AND app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.dw.app')$q$),
 (13, 'set purged_at', $q$UPDATE liveupdate.bundles SET purged_at = now()
     WHERE name = '1.1.0' AND app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.dw.app')$q$),
 (14, 'clear purged_at', $q$UPDATE liveupdate.bundles SET purged_at = NULL
     WHERE name = '1.2.0' AND app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.dw.app')$q$),
 (15, 'append manifest file', $q$INSERT INTO liveupdate.bundle_files (bundle_id, file_name, file_hash, download_url)
     SELECT b.id, 'evil.js', repeat('e', 64), 'https://evil.example/e.js' FROM liveupdate.bundles AS b
     WHERE b.name = '1.0.0' AND b.app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.dw.app')$q$),
 (16, 'change manifest file', $q$UPDATE liveupdate.bundle_files SET download_url = 'https://evil.example/i.html', storage_key = NULL
     WHERE storage_key = 'files/dw-index'$q$),
 (17, 'remove manifest file', $q$DELETE FROM liveupdate.bundle_files WHERE storage_key = 'files/dw-index'$q$),
 (18, 'register complete', $q$INSERT INTO liveupdate.bundles (app_id, name, manifest_count)
     SELECT id, '3.0.0', 1 FROM liveupdate.apps WHERE app_id = 'com.dw.app';
     INSERT INTO liveupdate.bundle_files (bundle_id, file_name, file_hash, download_url)
     SELECT b.id, 'index.html', repeat('c', 64), 'https://cdn.example.com/i.html' FROM liveupdate.bundles AS b
     WHERE b.name = '3.0.0' AND b.app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.dw.app')$q$),
 (19, 'register incomplete', $q$INSERT INTO liveupdate.bundles (app_id, name, manifest_count)
     SELECT id, '3.0.0', 2 FROM liveupdate.apps WHERE app_id = 'com.dw.app';
     INSERT INTO liveupdate.bundle_files (bundle_id, file_name, file_hash, download_url)
     SELECT b.id, 'index.html', repeat('c', 64), 'https://cdn.example.com/i.html' FROM liveupdate.bundles AS b
     WHERE b.name = '3.0.0' AND b.app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.dw.app')$q$),
 (20, 'move app to org b', format($q$UPDATE liveupdate.apps SET organization_id = %s WHERE app_id = 'com.dw.app'$q$, :org_b)),
 (21, 'change plugin app id', $q$UPDATE liveupdate.apps SET app_id = 'com.dw.other' WHERE app_id = 'com.dw.app'$q$),
 (22, 'delete app', $q$DELETE FROM liveupdate.apps WHERE app_id = 'com.dw.app'$q$);
GRANT SELECT ON writes TO PUBLIC;

CREATE FUNCTION pg_temp.writes_as(who text, role_name text, subject text, api_key text, gateway boolean DEFAULT false)
RETURNS TABLE (principal text, write text, outcome text) LANGUAGE plpgsql AS $$
DECLARE
    w record;
BEGIN
    FOR w IN SELECT * FROM writes ORDER BY position LOOP
        PERFORM set_config('role', role_name, true);
        PERFORM set_config('request.jwt.claims', coalesce(json_build_object('sub', subject)::text, ''), true);
        PERFORM set_config('request.headers', CASE WHEN NOT gateway THEN coalesce(json_build_object('x-api-key', api_key)::text, '') ELSE '' END, true);
        PERFORM set_config('liveupdate.api_key_sha256', CASE WHEN gateway THEN encode(sha256(convert_to(api_key, 'UTF8')), 'hex') ELSE '' END, true);
        principal := who;
        write := w.name;
        outcome := pg_temp.try_write(w.statement);
        PERFORM set_config('role', 'postgres', true);
        RETURN NEXT;
    END LOOP;
END
$$;

CREATE TEMP TABLE outcomes AS
SELECT * FROM pg_temp.writes_as('read', 'authenticated', 'd0000000-0000-4000-8000-000000000001', NULL)
UNION ALL SELECT * FROM pg_temp.writes_as('upload', 'authenticated', 'd0000000-0000-4000-8000-000000000002', NULL)
UNION ALL SELECT * FROM pg_temp.writes_as('write', 'authenticated', 'd0000000-0000-4000-8000-000000000003', NULL)
UNION ALL SELECT * FROM pg_temp.writes_as('admin', 'authenticated', 'd0000000-0000-4000-8000-000000000004', NULL)
UNION ALL SELECT * FROM pg_temp.writes_as('admin a+b', 'authenticated', 'd0000000-0000-4000-8000-000000000005', NULL)
UNION ALL SELECT * FROM pg_temp.writes_as('key upload', 'authenticated', NULL, (SELECT key FROM direct_keys WHERE mode = 'upload'))
UNION ALL SELECT * FROM pg_temp.writes_as('key write', 'authenticated', NULL, (SELECT key FROM direct_keys WHERE mode = 'write'))
UNION ALL SELECT * FROM pg_temp.writes_as('gw key write', 'liveupdate_gateway', NULL, (SELECT key FROM direct_keys WHERE mode = 'write'), true)
UNION ALL SELECT * FROM pg_temp.writes_as('service_role', 'service_role', NULL, NULL)
UNION ALL SELECT * FROM pg_temp.writes_as('superuser', 'postgres', NULL, NULL);

-- 'ok n': allowed, n rows changed ('ok 0': row-level security hid the rows); otherwise the
-- SQLSTATE: 42501 no right (column privilege, policy or rank), 55000 the data's rule, LU001
-- signature required, LU002 signature invalid, 23505 the name is taken.
SELECT w.position AS "#", w.name AS write,
       max(o.outcome) FILTER (WHERE o.principal = 'read') AS read,
       max(o.outcome) FILTER (WHERE o.principal = 'upload') AS upload,
       max(o.outcome) FILTER (WHERE o.principal = 'write') AS "write (b admin)",
       max(o.outcome) FILTER (WHERE o.principal = 'admin') AS admin,
       max(o.outcome) FILTER (WHERE o.principal = 'admin a+b') AS "admin a+b",
       max(o.outcome) FILTER (WHERE o.principal = 'key upload') AS "key upload",
       max(o.outcome) FILTER (WHERE o.principal = 'key write') AS "key write",
       max(o.outcome) FILTER (WHERE o.principal = 'gw key write') AS "gateway",
       max(o.outcome) FILTER (WHERE o.principal = 'service_role') AS service_role,
       max(o.outcome) FILTER (WHERE o.principal = 'superuser') AS superuser
FROM writes AS w JOIN outcomes AS o ON o.write = w.name
GROUP BY w.position, w.name ORDER BY w.position;

-- Every attempt was undone.
SELECT a.app_id, a.organization_id = :org_a AS in_org_a, a.require_signature, b.name, left(b.checksum, 8) AS checksum,
       b.external_url IS NOT NULL AS external,
       b.deleted_at IS NOT NULL AS deleted, b.purged_at IS NOT NULL AS purged, b.manifest_count,
       (SELECT count(*) FROM liveupdate.bundle_files AS f WHERE f.bundle_id = b.id) AS files
FROM liveupdate.apps AS a JOIN liveupdate.bundles AS b ON b.app_id = a.id
WHERE a.app_id LIKE 'com.dw.%' ORDER BY a.app_id, b.name;

-- The functions meet the same rules, with their own messages.
SELECT liveupdate.set_channel_bundle('com.dw.signed', 'production', '1.0.0');
SELECT liveupdate.register_bundle('com.dw.signed', '9.0.0', external_url => 'https://cdn.example.com/9.zip');
SELECT liveupdate.delete_bundle('com.dw.app', '1.0.0');
-- A purge still removes files and sets purged_at (it runs as the owner, on deleted bundles).
BEGIN;
UPDATE liveupdate.bundles SET deleted_at = now() - interval '8 days' WHERE name = '1.1.0'
    AND app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.dw.app');
SELECT (liveupdate.purge_bundles() ->> 'purged')::int >= 1 AS purged;
ROLLBACK;
-- Leave no deleted bundle waiting for a purge in later files.
UPDATE liveupdate.bundles SET purged_at = now() WHERE name = '1.1.0'
    AND app_id = (SELECT id FROM liveupdate.apps WHERE app_id = 'com.dw.app');
