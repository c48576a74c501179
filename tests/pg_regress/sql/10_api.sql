-- The DBA API: normal use, then each refusal with its message.
SELECT liveupdate.create_organization('acme') AS org \gset
SELECT liveupdate.create_app(:org, 'com.acme.app', 'Acme') > 0 AS app_created;
SELECT liveupdate.register_bundle('com.acme.app', '1.0.0', external_url => 'https://cdn.acme.test/1.0.0.zip',
       checksum => repeat('AB', 32), min_update_version => '1.0.0') > 0 AS bundle_registered;
SELECT name, checksum = repeat('ab', 32) AS checksum_lowercased, manifest_count FROM liveupdate.bundles;
SELECT liveupdate.create_channel('com.acme.app', 'production', bundle => '1.0.0', public => true) > 0 AS channel_created;
SELECT liveupdate.update_channel('com.acme.app', 'production', allow_emulator => false, disable_auto_update => 'patch');
SELECT name, public, allow_emulator, disable_auto_update, disable_auto_update_under_native FROM liveupdate.channels;
SELECT liveupdate.set_channel_bundle('com.acme.app', 'production', NULL);
SELECT name, bundle_id IS NULL AS builtin FROM liveupdate.channels;
SELECT liveupdate.set_device_override('com.acme.app', 'AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE', 'production');
SELECT device_id FROM liveupdate.device_overrides;
SELECT liveupdate.remove_device_override('com.acme.app', 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee') AS removed,
       liveupdate.remove_device_override('com.acme.app', 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee') AS removed_again;
SELECT liveupdate.delete_bundle('com.acme.app', '1.0.0');
SELECT name, deleted_at IS NOT NULL AS deleted FROM liveupdate.bundles;
-- refusals
SELECT liveupdate.create_app(:org, 'acme');
SELECT liveupdate.create_app(:org, 'com.acme.app');
SELECT liveupdate.create_app(424242, 'com.other.app');
SELECT liveupdate.register_bundle('com.acme.app', '1.0.0', external_url => 'https://cdn.acme.test/again.zip');
SELECT liveupdate.register_bundle('com.acme.app', 'one', external_url => 'https://cdn.acme.test/x.zip');
SELECT liveupdate.register_bundle('com.acme.app', '1.0.1', external_url => 'javascript:alert(1)');
SELECT liveupdate.register_bundle('com.acme.app', '1.0.1');
SELECT liveupdate.register_bundle('com.acme.app', '1.0.1', manifest => format('[{"file_name": "../etc/passwd", "file_hash": "%s", "download_url": "https://x.test/a"}]', repeat('a', 64))::jsonb);
SELECT liveupdate.register_bundle('com.acme.app', '1.0.1', external_url => 'https://x.test/a.zip', session_key => 'not a key');
SELECT liveupdate.create_channel('com.acme.app', 'production');
SELECT liveupdate.create_channel('com.acme.app', 'second-public', public => true);
SELECT liveupdate.create_channel('com.acme.app', 'x', disable_auto_update => 'always');
SELECT liveupdate.set_channel_bundle('com.acme.app', 'production', '1.0.0');
SELECT liveupdate.set_channel_bundle('com.acme.app', 'staging', NULL);
SELECT liveupdate.set_device_override('com.acme.app', 'robert''); DROP TABLE liveupdate.apps; --', 'production');
SELECT liveupdate.update_app('com.nobody.app', expose_metadata => true);
SELECT count(*) AS apps_still_there FROM liveupdate.apps;
