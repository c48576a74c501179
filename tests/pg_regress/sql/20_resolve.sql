-- resolve_update as DBAs call it: the same answers the gateway sends.
SELECT liveupdate.register_bundle('com.acme.app', '1.0.1', external_url => 'https://cdn.acme.test/1.0.1.zip') > 0 AS registered;
SELECT liveupdate.set_channel_bundle('com.acme.app', 'production', '1.0.1');
SELECT liveupdate.update_channel('com.acme.app', 'production', allow_emulator => true, disable_auto_update => 'major');
SELECT liveupdate.resolve_update('{"app_id": "com.acme.app", "device_id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
  "platform": "ios", "version_build": "1.0", "version_name": "builtin", "plugin_version": "8.51.14"}');
SELECT liveupdate.resolve_update('{"app_id": "com.acme.app", "device_id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
  "platform": "ios", "version_build": "1.0", "version_name": "1.0.1", "plugin_version": "8.51.14"}');
SELECT liveupdate.resolve_update('{"app_id": "com.nobody.app", "device_id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
  "platform": "ios", "version_build": "1.0", "version_name": "builtin", "plugin_version": "8.51.14"}');
SELECT liveupdate.resolve_update('{"device_id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"}');
SELECT liveupdate.resolve_update('{}');
SELECT liveupdate.resolve_update(NULL) IS NULL AS null_in_null_out;
-- Stored bundles are offered from <public_url>/files, or from liveupdate.files_url (a CDN).
SELECT liveupdate.register_bundle('com.acme.app', '1.0.2', storage_key => 'zips/' || repeat('a', 64) || '.zip',
  checksum => repeat('a', 64), manifest => format('[{"file_name": "index.html", "file_hash": "%s", "storage_key": "files/%s"}]',
  repeat('b', 64), repeat('b', 64))::jsonb) > 0 AS stored;
SELECT liveupdate.set_channel_bundle('com.acme.app', 'production', '1.0.2');
SET liveupdate.public_url = 'https://updates.acme.test/';
SELECT r ->> 'url' AS url, r -> 'manifest' -> 0 ->> 'download_url' AS file_url
FROM liveupdate.resolve_update('{"app_id": "com.acme.app", "device_id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
  "platform": "ios", "version_build": "1.0", "version_name": "builtin", "plugin_version": "8.51.14"}') AS r;
SET liveupdate.files_url = 'https://cdn.acme.test/liveupdate/';
SELECT r ->> 'url' AS url, r -> 'manifest' -> 0 ->> 'download_url' AS file_url
FROM liveupdate.resolve_update('{"app_id": "com.acme.app", "device_id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
  "platform": "ios", "version_build": "1.0", "version_name": "builtin", "plugin_version": "8.51.14"}') AS r;
RESET liveupdate.files_url;
RESET liveupdate.public_url;
-- Deploy history and rollback: every change of a channel's bundle is recorded, by whom.
SELECT liveupdate.register_bundle('com.acme.app', '1.0.3', external_url => 'https://cdn.acme.test/1.0.3.zip') > 0 AS registered;
SELECT liveupdate.set_channel_bundle('com.acme.app', 'production', '1.0.3');
UPDATE liveupdate.channels SET allow_dev = false;  -- not a deploy
SELECT d ->> 'from' AS "from", d ->> 'to' AS "to", d ->> 'deployed_by' AS by
FROM jsonb_array_elements(liveupdate.api_channel_history('{"app_id": "com.acme.app", "channel": "production"}') -> 'deploys') AS d;
SELECT liveupdate.rollback_channel('com.acme.app', 'production') AS back_to;
SELECT liveupdate.rollback_channel('com.acme.app', 'production') AS back_to;
SELECT liveupdate.set_channel_bundle('com.acme.app', 'production', NULL);
SELECT liveupdate.rollback_channel('com.acme.app', 'production') AS back_to;
SELECT liveupdate.set_channel_bundle('com.acme.app', 'production', '1.0.3');
SELECT liveupdate.delete_bundle('com.acme.app', '1.0.1');
SELECT liveupdate.rollback_channel('com.acme.app', 'production') AS back_to;
SELECT d ->> 'from' AS "from", d ->> 'to' AS "to", d ->> 'reason' AS reason
FROM jsonb_array_elements(liveupdate.api_channel_history('{"app_id": "com.acme.app", "channel": "production", "limit": 4}') -> 'deploys') AS d;
SELECT count(*) AS deploys FROM liveupdate.deploy_history h JOIN liveupdate.channels c ON c.id = h.channel_id WHERE c.name = 'production';
