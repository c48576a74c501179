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
