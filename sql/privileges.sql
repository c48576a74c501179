-- Nothing in the schema is callable by PUBLIC: the deployment migrations grant what each role needs.
-- The install script grants nothing to Supabase roles, which may not exist.
REVOKE ALL ON SCHEMA liveupdate FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA liveupdate FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA liveupdate FROM PUBLIC;

COMMENT ON SCHEMA liveupdate IS 'liveupdate: self-hosted live updates for Capacitor apps.';
COMMENT ON FUNCTION liveupdate.resolve_update(jsonb) IS
    'Answers a plugin update check (the body of POST /updates) with the JSON body to send back: a bundle, {"version":"builtin"}, or {error, message, kind}. Read-only: device state is recorded separately by record_device_checks.';
COMMENT ON FUNCTION liveupdate.record_stats(jsonb) IS
    'Stores a POST /stats body (an array of events or one event) in one transaction and returns the answer body: {"status":"ok"[,"results":[...]]} or an error. Events naming an unknown bundle are refused with version_not_found and not stored.';
COMMENT ON FUNCTION liveupdate._record_stats_text(text) IS 'record_stats with JSON text in and out, for the gateway.';
COMMENT ON FUNCTION liveupdate.channel_self(text, jsonb) IS
    'Answers /channel_self: operation set (POST), get (PUT), list (GET) or unset (DELETE), request the body or the query string as an object. Plugins before 5.34/6.34/7.34/8.0 keep their channel as a server-side override; later ones only have it validated.';
COMMENT ON FUNCTION liveupdate._channel_self_text(text, text) IS 'channel_self with JSON text in and out, for the gateway.';
COMMENT ON FUNCTION liveupdate.manifest_size(jsonb) IS
    'Answers POST /updates/manifest_size: the update-check fields plus version and manifest (the entries the device is missing); returns {totalSize, knownFiles, unknownFiles, files}, size_unknown for files not in that bundle with that hash.';
COMMENT ON FUNCTION liveupdate._manifest_size_text(text) IS 'manifest_size with JSON text in and out, for the gateway.';
COMMENT ON FUNCTION liveupdate._resolve_update_text(text) IS
    'resolve_update with JSON text in and out, for the gateway''s hot path (no jsonb conversions).';
COMMENT ON FUNCTION liveupdate._is_app_id(text) IS 'True for a reverse-domain app id such as com.example.app.';
COMMENT ON FUNCTION liveupdate._is_semver(text) IS 'True for a strict semver version such as 1.4.2.';
COMMENT ON FUNCTION liveupdate._is_http_url(text) IS 'True for an absolute http(s) URL.';
COMMENT ON FUNCTION liveupdate._is_bundle_checksum(text) IS 'True for an empty, CRC32, SHA-256 or RSA-encrypted bundle checksum.';
COMMENT ON FUNCTION liveupdate._is_file_hash(text) IS 'True for a SHA-256 or RSA-encrypted manifest file hash.';
COMMENT ON FUNCTION liveupdate._canonical_bundle_checksum(text) IS 'The stored form of a bundle checksum (plain hex lowercased), NULL when it is none.';
COMMENT ON FUNCTION liveupdate._canonical_file_hash(text) IS 'The stored form of a manifest file hash (plain hex lowercased), NULL when it is none.';
COMMENT ON FUNCTION liveupdate._is_sha256_hex(text) IS 'True for a plain SHA-256 digest: 64 lowercase hex digits.';
COMMENT ON FUNCTION liveupdate._is_uuid(text) IS 'True for a UUID in any case, as devices send their ids.';
COMMENT ON FUNCTION liveupdate._is_session_key(text) IS 'True for an empty or "<iv>:<key>" base64 session key.';
COMMENT ON FUNCTION liveupdate._is_bundle_path(text) IS 'True for a relative file path inside a bundle (no .., absolute paths or backslashes).';
