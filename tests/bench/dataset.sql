-- Benchmark dataset. psql variables: apps, devices_per_app, override_every (1 in N devices).
-- Per app: 100 bundles 1.0.0 … 1.0.99, ten channels (production: public, 1.0.99; beta: self-settable,
-- 1.0.98 with a 10-file manifest; ch2 … ch9: private), devices, and overrides onto ch2 … ch9.
-- Device n belongs to app (n % apps) + 1 and has id 00000000-0000-4000-8000-<n as 12 hex digits>.
\set ON_ERROR_STOP on
SELECT liveupdate.create_organization('bench') AS org \gset

INSERT INTO liveupdate.apps (organization_id, app_id, name)
SELECT :org, 'com.bench.app' || a, 'Bench ' || a FROM generate_series(1, :apps) AS a;

-- A bundle's manifest files are registered with it, in the same transaction, as many as it says.
BEGIN;
INSERT INTO liveupdate.bundles (app_id, name, checksum, external_url, manifest_count)
SELECT app.id, '1.0.' || k, encode(sha256(convert_to(app.app_id || k, 'UTF8')), 'hex'),
       'https://cdn.bench.test/' || app.app_id || '/1.0.' || k || '.zip', CASE WHEN k = 98 THEN 10 ELSE 0 END
FROM liveupdate.apps AS app, generate_series(0, 99) AS k;

INSERT INTO liveupdate.bundle_files (bundle_id, file_name, file_hash, download_url)
SELECT b.id, 'assets/file' || f || '.js', encode(sha256(convert_to(b.id || '/' || f, 'UTF8')), 'hex'),
       'https://cdn.bench.test/files/' || b.id || '/' || f
FROM liveupdate.bundles AS b, generate_series(1, 10) AS f
WHERE b.name = '1.0.98';
COMMIT;

INSERT INTO liveupdate.channels (app_id, name, bundle_id, public, allow_device_self_set)
SELECT app.id, c.name,
       (SELECT b.id FROM liveupdate.bundles AS b WHERE b.app_id = app.id AND b.name = c.bundle),
       c.name = 'production', c.name = 'beta'
FROM liveupdate.apps AS app,
     (VALUES ('production', '1.0.99'), ('beta', '1.0.98'), ('ch2', '1.0.90'), ('ch3', '1.0.91'),
             ('ch4', '1.0.92'), ('ch5', '1.0.93'), ('ch6', '1.0.94'), ('ch7', '1.0.95'),
             ('ch8', '1.0.96'), ('ch9', '1.0.97')) AS c(name, bundle);

-- Devices carry the state they report in the request mix (a fleet seen in the last minutes).
INSERT INTO liveupdate.devices (app_id, device_id, platform, plugin_version, version_build, version_name,
                                version_os, is_prod, is_emulator, first_seen_at, last_seen_at)
SELECT (n % :apps) + 1, ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid,
       CASE WHEN n % 2 = 0 THEN 'ios' ELSE 'android' END, '8.51.14', '1.0.0', 'builtin', '14', true, false,
       now(), now()
FROM generate_series(0, :apps * :devices_per_app - 1) AS n;

INSERT INTO liveupdate.device_overrides (app_id, device_id, channel_id)
SELECT c.app_id, ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, c.id
FROM generate_series(0, :apps * :devices_per_app - 1) AS n
JOIN liveupdate.channels AS c ON c.app_id = (n % :apps) + 1 AND c.name = 'ch' || (2 + (n / :apps / :override_every) % 8)
WHERE (n / :apps) % :override_every = 0;

VACUUM ANALYZE;
SELECT (SELECT count(*) FROM liveupdate.apps) AS apps, (SELECT count(*) FROM liveupdate.channels) AS channels,
       (SELECT count(*) FROM liveupdate.bundles) AS bundles, (SELECT count(*) FROM liveupdate.devices) AS devices,
       (SELECT count(*) FROM liveupdate.device_overrides) AS overrides;
