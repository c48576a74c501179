-- The SQL API for DBAs: apps, channels, bundles, device overrides.
-- Errors use specific SQLSTATEs: 22023 bad input, P0002 not found, 23505 duplicate, 55000 wrong state.
-- Every function pins search_path; arguments are always bound, never spliced into SQL.

-- Looks an app up by its reverse-domain id; raises P0002 when it does not exist.
CREATE FUNCTION liveupdate._app_pk(app_id text) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found bigint;
BEGIN
    SELECT a.id INTO found FROM liveupdate.apps AS a WHERE a.app_id = _app_pk.app_id;
    IF found IS NULL THEN
        RAISE EXCEPTION 'app "%" does not exist', app_id USING ERRCODE = 'P0002';
    END IF;
    RETURN found;
END
$$;

-- Looks a channel up by app and name; raises P0002 when it does not exist.
CREATE FUNCTION liveupdate._channel_pk(app_pk bigint, channel text) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found bigint;
BEGIN
    SELECT c.id INTO found FROM liveupdate.channels AS c WHERE c.app_id = app_pk AND c.name = channel;
    IF found IS NULL THEN
        RAISE EXCEPTION 'channel "%" does not exist', channel USING ERRCODE = 'P0002';
    END IF;
    RETURN found;
END
$$;

-- Parses a device id the way the plugin sends it (any case); raises 22023 otherwise.
CREATE FUNCTION liveupdate._device_uuid(device_id text) RETURNS uuid
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF device_id IS NULL OR NOT liveupdate._is_uuid(device_id) THEN
        RAISE EXCEPTION 'device id "%" is not a UUID', device_id USING ERRCODE = '22023';
    END IF;
    RETURN lower(device_id)::uuid;
END
$$;

-- Maps the protocol's disable_auto_update text to the enum; NULL stays NULL, anything else is 22023.
CREATE FUNCTION liveupdate._auto_update_limit(value text) RETURNS liveupdate.auto_update_limit
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF value IS NULL THEN
        RETURN NULL;
    END IF;
    IF value NOT IN ('major', 'minor', 'patch', 'version_number', 'none') THEN
        RAISE EXCEPTION 'disable_auto_update must be one of major, minor, patch, version_number, none (got "%")', value
            USING ERRCODE = '22023';
    END IF;
    RETURN value::liveupdate.auto_update_limit;
END
$$;

-- The id of a bundle that can be deployed (exists, not deleted); NULL name means builtin (NULL).
CREATE FUNCTION liveupdate._live_bundle_pk(app_pk bigint, bundle text) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found record;
BEGIN
    IF bundle IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT b.id, b.deleted_at INTO found FROM liveupdate.bundles AS b WHERE b.app_id = app_pk AND b.name = bundle;
    IF found.id IS NULL THEN
        RAISE EXCEPTION 'bundle "%" does not exist', bundle USING ERRCODE = 'P0002';
    END IF;
    IF found.deleted_at IS NOT NULL THEN
        RAISE EXCEPTION 'bundle "%" is deleted', bundle USING ERRCODE = '55000';
    END IF;
    RETURN found.id;
END
$$;

CREATE FUNCTION liveupdate.create_organization(name text) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_id bigint;
BEGIN
    IF name IS NULL OR length(name) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'organization name must be 1 to 200 characters' USING ERRCODE = '22023';
    END IF;
    INSERT INTO liveupdate.organizations (name) VALUES (create_organization.name) RETURNING id INTO new_id;
    RETURN new_id;
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'organization "%" already exists', name USING ERRCODE = '23505';
END
$$;
COMMENT ON FUNCTION liveupdate.create_organization(text) IS 'Creates an organization and returns its id. 23505 if the name is taken.';

CREATE FUNCTION liveupdate.create_app(
    organization_id bigint,
    app_id text,
    name text DEFAULT NULL,
    expose_metadata boolean DEFAULT false,
    allow_custom_id boolean DEFAULT true,
    bundle_retention_days integer DEFAULT 0
) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    new_id bigint;
BEGIN
    IF app_id IS NULL OR NOT liveupdate._is_app_id(app_id) THEN
        RAISE EXCEPTION 'app id "%" is not a reverse-domain id such as com.example.app', app_id USING ERRCODE = '22023';
    END IF;
    PERFORM liveupdate._require_organization_rank(liveupdate._organization_pk(organization_id), 3);
    IF coalesce(length(name), 1) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'app name must be 1 to 200 characters' USING ERRCODE = '22023';
    END IF;
    IF bundle_retention_days IS NULL OR bundle_retention_days < 0 THEN
        RAISE EXCEPTION 'bundle_retention_days must be 0 (forever) or more' USING ERRCODE = '22023';
    END IF;
    INSERT INTO liveupdate.apps (organization_id, app_id, name, expose_metadata, allow_custom_id, bundle_retention_days)
    VALUES (organization_id, app_id, coalesce(name, app_id), coalesce(expose_metadata, false),
            coalesce(allow_custom_id, true), bundle_retention_days)
    RETURNING id INTO new_id;
    RETURN new_id;
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'app "%" already exists', app_id USING ERRCODE = '23505';
END
$$;
COMMENT ON FUNCTION liveupdate.create_app(bigint, text, text, boolean, boolean, integer) IS
    'Creates an app in an organization and returns its id. app_id is the plugin''s reverse-domain appId.';

CREATE FUNCTION liveupdate.update_app(
    app_id text,
    name text DEFAULT NULL,
    expose_metadata boolean DEFAULT NULL,
    allow_custom_id boolean DEFAULT NULL,
    bundle_retention_days integer DEFAULT NULL,
    require_signature boolean DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(app_id);
BEGIN
    PERFORM liveupdate._require_app_rank(app_pk, 3);
    IF length(name) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'app name must be 1 to 200 characters' USING ERRCODE = '22023';
    END IF;
    IF bundle_retention_days < 0 THEN
        RAISE EXCEPTION 'bundle_retention_days must be 0 (forever) or more' USING ERRCODE = '22023';
    END IF;
    UPDATE liveupdate.apps AS a
    SET name = coalesce(update_app.name, a.name),
        expose_metadata = coalesce(update_app.expose_metadata, a.expose_metadata),
        allow_custom_id = coalesce(update_app.allow_custom_id, a.allow_custom_id),
        bundle_retention_days = coalesce(update_app.bundle_retention_days, a.bundle_retention_days),
        require_signature = coalesce(update_app.require_signature, a.require_signature),
        updated_at = now()
    WHERE a.id = app_pk;
END
$$;
COMMENT ON FUNCTION liveupdate.update_app(text, text, boolean, boolean, integer, boolean) IS
    'Changes an app''s settings; NULL arguments leave the setting as it is. require_signature needs admin rights.';

CREATE FUNCTION liveupdate.create_channel(
    app_id text,
    name text,
    bundle text DEFAULT NULL,
    public boolean DEFAULT false,
    ios boolean DEFAULT true,
    android boolean DEFAULT true,
    electron boolean DEFAULT true,
    allow_device_self_set boolean DEFAULT false,
    allow_emulator boolean DEFAULT true,
    allow_device boolean DEFAULT true,
    allow_dev boolean DEFAULT true,
    allow_prod boolean DEFAULT true,
    disable_auto_update text DEFAULT 'major',
    disable_auto_update_under_native boolean DEFAULT true
) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(app_id);
    bundle_pk bigint := liveupdate._live_bundle_pk(app_pk, bundle);
    constraint_hit text;
    new_id bigint;
BEGIN
    PERFORM liveupdate._require_app_rank(app_pk, 3);
    IF name IS NULL OR length(name) NOT BETWEEN 1 AND 128 THEN
        RAISE EXCEPTION 'channel name must be 1 to 128 characters' USING ERRCODE = '22023';
    END IF;
    INSERT INTO liveupdate.channels (app_id, name, bundle_id, public, ios, android, electron,
        allow_device_self_set, allow_emulator, allow_device, allow_dev, allow_prod,
        disable_auto_update, disable_auto_update_under_native)
    VALUES (app_pk, name, bundle_pk, public, ios, android, electron,
        allow_device_self_set, allow_emulator, allow_device, allow_dev, allow_prod,
        liveupdate._auto_update_limit(disable_auto_update), disable_auto_update_under_native)
    RETURNING id INTO new_id;
    RETURN new_id;
EXCEPTION
    WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS constraint_hit = CONSTRAINT_NAME;
        IF constraint_hit LIKE 'channels_public_%' THEN
            RAISE EXCEPTION 'app "%" already has a public channel for one of these platforms', app_id USING ERRCODE = '23505';
        END IF;
        RAISE EXCEPTION 'channel "%" already exists', name USING ERRCODE = '23505';
    WHEN not_null_violation THEN
        RAISE EXCEPTION 'channel flags must not be NULL' USING ERRCODE = '22023';
END
$$;
COMMENT ON FUNCTION liveupdate.create_channel(text, text, text, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean, text, boolean) IS
    'Creates a channel. bundle NULL means builtin. At most one public channel per platform per app (23505).';

CREATE FUNCTION liveupdate.update_channel(
    app_id text,
    name text,
    public boolean DEFAULT NULL,
    ios boolean DEFAULT NULL,
    android boolean DEFAULT NULL,
    electron boolean DEFAULT NULL,
    allow_device_self_set boolean DEFAULT NULL,
    allow_emulator boolean DEFAULT NULL,
    allow_device boolean DEFAULT NULL,
    allow_dev boolean DEFAULT NULL,
    allow_prod boolean DEFAULT NULL,
    disable_auto_update text DEFAULT NULL,
    disable_auto_update_under_native boolean DEFAULT NULL,
    new_name text DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(app_id);
    channel_pk bigint := liveupdate._channel_pk(app_pk, name);
    constraint_hit text;
BEGIN
    PERFORM liveupdate._require_app_rank(app_pk, 3);
    IF length(new_name) NOT BETWEEN 1 AND 128 THEN
        RAISE EXCEPTION 'channel name must be 1 to 128 characters' USING ERRCODE = '22023';
    END IF;
    UPDATE liveupdate.channels AS c
    SET name = coalesce(new_name, c.name),
        public = coalesce(update_channel.public, c.public),
        ios = coalesce(update_channel.ios, c.ios),
        android = coalesce(update_channel.android, c.android),
        electron = coalesce(update_channel.electron, c.electron),
        allow_device_self_set = coalesce(update_channel.allow_device_self_set, c.allow_device_self_set),
        allow_emulator = coalesce(update_channel.allow_emulator, c.allow_emulator),
        allow_device = coalesce(update_channel.allow_device, c.allow_device),
        allow_dev = coalesce(update_channel.allow_dev, c.allow_dev),
        allow_prod = coalesce(update_channel.allow_prod, c.allow_prod),
        disable_auto_update = coalesce(liveupdate._auto_update_limit(update_channel.disable_auto_update), c.disable_auto_update),
        disable_auto_update_under_native = coalesce(update_channel.disable_auto_update_under_native, c.disable_auto_update_under_native),
        updated_at = now()
    WHERE c.id = channel_pk;
EXCEPTION
    WHEN unique_violation THEN
        GET STACKED DIAGNOSTICS constraint_hit = CONSTRAINT_NAME;
        IF constraint_hit LIKE 'channels_public_%' THEN
            RAISE EXCEPTION 'app "%" already has a public channel for one of these platforms', app_id USING ERRCODE = '23505';
        END IF;
        RAISE EXCEPTION 'channel "%" already exists', new_name USING ERRCODE = '23505';
END
$$;
COMMENT ON FUNCTION liveupdate.update_channel(text, text, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean, boolean, text, boolean, text) IS
    'Changes a channel''s flags (and name with new_name); NULL arguments leave the setting as it is.';

CREATE FUNCTION liveupdate.set_channel_bundle(app_id text, channel text, bundle text) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(app_id);
    channel_pk bigint := liveupdate._channel_pk(app_pk, channel);
    new_bundle bigint;
BEGIN
    PERFORM liveupdate._require_app_rank(app_pk, 3);
    new_bundle := liveupdate._live_bundle_pk(app_pk, bundle);
    UPDATE liveupdate.channels AS c
    SET bundle_id = new_bundle,
        -- clock time, not transaction time: it is compared with failures reported in between.
        bundle_changed_at = CASE WHEN c.bundle_id IS DISTINCT FROM new_bundle THEN clock_timestamp() ELSE c.bundle_changed_at END,
        updated_at = now()
    WHERE c.id = channel_pk;
END
$$;
COMMENT ON FUNCTION liveupdate.set_channel_bundle(text, text, text) IS
    'Points a channel at a bundle by name, or at the builtin bundle when bundle is NULL. Devices follow at their next check.';

CREATE FUNCTION liveupdate.delete_channel(app_id text, name text) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(app_id);
    channel_pk bigint := liveupdate._channel_pk(app_pk, name);
BEGIN
    PERFORM liveupdate._require_app_rank(app_pk, 3);
    DELETE FROM liveupdate.channels WHERE id = channel_pk;
END
$$;
COMMENT ON FUNCTION liveupdate.delete_channel(text, text) IS
    'Deletes a channel and the device assignments to it. Its devices fall back to the public channel at their next check.';

-- The limits of a bundle's link and comment (also CHECKs on bundles), with clear messages.
CREATE FUNCTION liveupdate._check_bundle_texts(link text, comment text) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF length(link) > 2048 THEN
        RAISE EXCEPTION 'link must be at most 2048 characters' USING ERRCODE = '22023';
    END IF;
    IF length(comment) > 4096 THEN
        RAISE EXCEPTION 'comment must be at most 4096 characters' USING ERRCODE = '22023';
    END IF;
END
$$;

-- The fields of a new bundle, checked the same whether it is registered directly or an archive
-- upload asks before sending its body (api_check_upload).
CREATE FUNCTION liveupdate._check_new_bundle(version text, min_update_version text, link text, comment text)
RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF version IS NULL OR NOT liveupdate._is_semver(version) THEN
        RAISE EXCEPTION 'bundle name "%" is not a semver version such as 1.4.2', version USING ERRCODE = '22023';
    END IF;
    IF min_update_version IS NOT NULL AND NOT liveupdate._is_semver(min_update_version) THEN
        RAISE EXCEPTION 'min_update_version "%" is not a semver version', min_update_version USING ERRCODE = '22023';
    END IF;
    PERFORM liveupdate._check_bundle_texts(link, comment);
END
$$;

CREATE FUNCTION liveupdate.register_bundle(
    app_id text,
    name text,
    external_url text DEFAULT NULL,
    checksum text DEFAULT '',
    session_key text DEFAULT '',
    key_id text DEFAULT NULL,
    min_update_version text DEFAULT NULL,
    link text DEFAULT NULL,
    comment text DEFAULT NULL,
    manifest jsonb DEFAULT NULL,
    storage_key text DEFAULT NULL,
    signature text DEFAULT NULL,
    signer text DEFAULT NULL,
    archive_bytes bigint DEFAULT NULL
) RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(app_id);
    new_id bigint;
    bad_file text;
BEGIN
    PERFORM liveupdate._require_app_rank(app_pk, 2);
    PERFORM liveupdate._check_new_bundle(name, min_update_version, link, comment);
    IF external_url IS NOT NULL AND NOT liveupdate._is_http_url(external_url) THEN
        RAISE EXCEPTION 'external_url must be an absolute http(s) URL' USING ERRCODE = '22023';
    END IF;
    IF manifest IS NOT NULL AND jsonb_typeof(manifest) <> 'array' THEN
        RAISE EXCEPTION 'manifest must be a JSON array of {file_name, file_hash, download_url, file_size}' USING ERRCODE = '22023';
    END IF;
    IF external_url IS NOT NULL AND storage_key IS NOT NULL THEN
        RAISE EXCEPTION 'a bundle has an external_url or a storage_key, not both' USING ERRCODE = '22023';
    END IF;
    IF storage_key IS NOT NULL AND NOT liveupdate._is_bundle_path(storage_key) THEN
        RAISE EXCEPTION 'storage_key must be a relative object key' USING ERRCODE = '22023';
    END IF;
    IF external_url IS NULL AND storage_key IS NULL AND coalesce(jsonb_array_length(manifest), 0) = 0 THEN
        RAISE EXCEPTION 'a bundle needs an external_url, a stored zip or a non-empty manifest' USING ERRCODE = '22023';
    END IF;
    IF liveupdate._canonical_bundle_checksum(coalesce(checksum, '')) IS NULL THEN
        RAISE EXCEPTION 'checksum must be a SHA-256 hex digest, an RSA-encrypted digest (512 hex or base64), a legacy CRC32, or empty'
            USING ERRCODE = '22023';
    END IF;
    IF NOT liveupdate._is_session_key(coalesce(session_key, '')) THEN
        RAISE EXCEPTION 'session_key must be "<iv base64>:<encrypted key base64>" or empty' USING ERRCODE = '22023';
    END IF;
    IF archive_bytes < 0 THEN
        RAISE EXCEPTION 'archive_bytes must not be negative' USING ERRCODE = '22023';
    END IF;
    IF length(key_id) > 20 THEN
        RAISE EXCEPTION 'key_id must be at most 20 characters (the start of the public key)' USING ERRCODE = '22023';
    END IF;
    -- Each entry is downloaded from its absolute download_url or from the stored object storage_key.
    SELECT f.file_name INTO bad_file
    FROM jsonb_to_recordset(coalesce(manifest, '[]')) AS f(file_name text, file_hash text, download_url text, storage_key text)
    WHERE f.file_name IS NULL OR NOT liveupdate._is_bundle_path(f.file_name)
       OR f.file_hash IS NULL OR liveupdate._canonical_file_hash(f.file_hash) IS NULL
       OR (f.download_url IS NULL) = (f.storage_key IS NULL)
       OR NOT coalesce(liveupdate._is_http_url(f.download_url), liveupdate._is_bundle_path(f.storage_key))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'manifest entry "%" needs a relative file_name (no .., no leading /), a SHA-256 file_hash and either an absolute http(s) download_url or a storage_key',
            coalesce(bad_file, '(no file_name)') USING ERRCODE = '22023';
    END IF;
    -- Devices compare plain checksums case-sensitively: they are stored lowercase, whatever the case given.
    checksum := liveupdate._canonical_bundle_checksum(coalesce(checksum, ''));
    -- The signature is checked by the bundles' insert trigger (integrity.sql), for every writer.
    -- The count is known up front: the files below are inserted all or none, and must be
    -- (integrity.sql). Uploaders may insert bundles but not update them.
    INSERT INTO liveupdate.bundles (app_id, name, checksum, session_key, key_id, external_url, storage_key,
        min_update_version, link, comment, manifest_count, signature, signed_by, archive_bytes)
    VALUES (app_pk, name, coalesce(checksum, ''), coalesce(session_key, ''), nullif(key_id, ''),
        external_url, register_bundle.storage_key, min_update_version, nullif(link, ''), nullif(comment, ''),
        coalesce(jsonb_array_length(manifest), 0), register_bundle.signature, signer, register_bundle.archive_bytes)
    RETURNING id INTO new_id;

    IF manifest IS NOT NULL THEN
        INSERT INTO liveupdate.bundle_files (bundle_id, file_name, file_hash, file_size, download_url, storage_key)
        SELECT new_id, f.file_name,
               liveupdate._canonical_file_hash(f.file_hash),
               f.file_size, f.download_url, f.storage_key
        FROM jsonb_to_recordset(manifest) AS f(file_name text, file_hash text, file_size bigint, download_url text,
                                               storage_key text);
    END IF;
    RETURN new_id;
EXCEPTION
    WHEN unique_violation THEN
        RAISE EXCEPTION 'bundle "%" already exists (or a manifest path is listed twice); bundle names are never reused', name
            USING ERRCODE = '23505';
    WHEN check_violation OR not_null_violation OR invalid_text_representation THEN
        RAISE EXCEPTION 'invalid bundle: %', SQLERRM USING ERRCODE = '22023';
END
$$;
COMMENT ON FUNCTION liveupdate.register_bundle(text, text, text, text, text, text, text, text, text, jsonb, text, text, text, bigint) IS
    'Registers a bundle whose zip is at external_url or in storage (storage_key), and/or described by a manifest of {file_name, file_hash, file_size, download_url or storage_key}, optionally signed (signature by the app''s key named signer; required when the app says so), with the stored zip''s size (archive_bytes) for statistics. Returns its id.';

CREATE FUNCTION liveupdate.delete_bundle(app_id text, name text) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(app_id);
    bundle_pk bigint := liveupdate._live_bundle_pk(app_pk, name);
BEGIN
    PERFORM liveupdate._require_app_rank(app_pk, 3);
    IF bundle_pk IS NULL THEN
        RAISE EXCEPTION 'bundle name must not be NULL' USING ERRCODE = '22023';
    END IF;
    -- Refused (55000) while a channel serves it: the bundles' update trigger (integrity.sql).
    UPDATE liveupdate.bundles SET deleted_at = now() WHERE id = bundle_pk;
END
$$;
CREATE FUNCTION liveupdate.update_bundle(app_id text, name text, link text DEFAULT NULL, comment text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(app_id);
    bundle_pk bigint;
BEGIN
    PERFORM liveupdate._require_app_rank(app_pk, 3);
    SELECT b.id INTO bundle_pk FROM liveupdate.bundles AS b WHERE b.app_id = app_pk AND b.name = update_bundle.name;
    IF bundle_pk IS NULL THEN
        RAISE EXCEPTION 'bundle "%" does not exist', name USING ERRCODE = 'P0002';
    END IF;
    PERFORM liveupdate._check_bundle_texts(link, comment);
    -- '' clears a field, NULL leaves it.
    UPDATE liveupdate.bundles AS b
    SET link = CASE WHEN update_bundle.link IS NULL THEN b.link ELSE nullif(update_bundle.link, '') END,
        comment = CASE WHEN update_bundle.comment IS NULL THEN b.comment ELSE nullif(update_bundle.comment, '') END
    WHERE b.id = bundle_pk;
END
$$;
COMMENT ON FUNCTION liveupdate.update_bundle(text, text, text, text) IS
    'Changes a bundle''s link and comment (the metadata the plugin shows); NULL leaves a field,  clears it.';

COMMENT ON FUNCTION liveupdate.delete_bundle(text, text) IS
    'Soft-deletes a bundle: it is never offered again and its name stays reserved. 55000 while a channel points at it.';

CREATE FUNCTION liveupdate.set_device_override(app_id text, device_id text, channel text) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(app_id);
    device uuid := liveupdate._device_uuid(device_id);
    channel_pk bigint := liveupdate._channel_pk(app_pk, channel);
BEGIN
    PERFORM liveupdate._require_app_rank(app_pk, 3);
    -- The write itself is the extension's (overrides.rs), shared with /channel_self.
    PERFORM liveupdate._write_device_override(app_pk, device, channel_pk);
END
$$;
COMMENT ON FUNCTION liveupdate.set_device_override(text, text, text) IS
    'Assigns a device to a channel, whatever the channel''s public/self-set/platform flags; replaces an earlier assignment.';

CREATE FUNCTION liveupdate.remove_device_override(app_id text, device_id text) RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(app_id);
    device uuid := liveupdate._device_uuid(device_id);
BEGIN
    PERFORM liveupdate._require_app_rank(app_pk, 3);
    RETURN liveupdate._remove_device_override(app_pk, device);
END
$$;
COMMENT ON FUNCTION liveupdate.remove_device_override(text, text) IS
    'Removes a device''s channel assignment; returns false when it had none.';

-- SECURITY DEFINER: the gateway's login role calls it without any table rights.
CREATE FUNCTION liveupdate.record_device_checks(checks jsonb) RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    written integer;
BEGIN
    IF jsonb_typeof(checks) IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'checks must be a JSON array of normalised update requests' USING ERRCODE = '22023';
    END IF;
    -- The latest check of each device wins; a batch may hold several checks of one device, and
    -- checks of unknown apps or with malformed ids are skipped (devices are not created for them).
    INSERT INTO liveupdate.devices AS d (app_id, device_id, platform, plugin_version, version_build,
        version_name, version_code, version_os, is_prod, is_emulator, install_source, custom_id,
        default_channel, key_id, first_seen_at, last_seen_at)
    SELECT DISTINCT ON (a.id, lower(r.device_id))
           a.id, lower(r.device_id)::uuid, r.platform, r.plugin_version, r.version_build,
           r.version_name, left(r.version_code, 64), left(r.version_os, 64), coalesce(r.is_prod, true),
           coalesce(r.is_emulator, false), left(r.install_source, 64),
           CASE WHEN a.allow_custom_id THEN nullif(left(btrim(r.custom_id), 36), '') END,
           left(r."defaultChannel", 128), left(r.key_id, 20),
           coalesce(r.seen_at, now()), coalesce(r.seen_at, now())
    FROM jsonb_to_recordset(checks) AS r(app_id text, device_id text, platform text, plugin_version text,
         version_build text, version_name text, version_code text, version_os text, is_prod boolean,
         is_emulator boolean, install_source text, custom_id text, "defaultChannel" text, key_id text,
         seen_at timestamptz)
    JOIN liveupdate.apps AS a ON a.app_id = r.app_id
    WHERE liveupdate._is_uuid(r.device_id)
      AND r.platform IS NOT NULL AND r.plugin_version IS NOT NULL
      AND r.version_build IS NOT NULL AND r.version_name IS NOT NULL
      -- Most checks repeat what is already known: skip the write (and its index updates) unless
      -- something changed or the last write is over 10 minutes old, the resolution of last_seen_at.
      AND NOT EXISTS (
          SELECT 1 FROM liveupdate.devices AS known
          WHERE known.app_id = a.id AND known.device_id = lower(r.device_id)::uuid
            AND known.last_seen_at > coalesce(r.seen_at, now()) - interval '10 minutes'
            AND (known.platform, known.plugin_version, known.version_build, known.version_name,
                 known.version_code, known.version_os, known.is_prod, known.is_emulator,
                 known.install_source, known.custom_id, known.default_channel, known.key_id)
                IS NOT DISTINCT FROM
                (r.platform, r.plugin_version, r.version_build, r.version_name,
                 left(r.version_code, 64), left(r.version_os, 64), coalesce(r.is_prod, true),
                 coalesce(r.is_emulator, false), left(r.install_source, 64),
                 CASE WHEN a.allow_custom_id THEN nullif(left(btrim(r.custom_id), 36), '') END,
                 left(r."defaultChannel", 128), left(r.key_id, 20)))
    ORDER BY a.id, lower(r.device_id), r.seen_at DESC NULLS LAST
    ON CONFLICT ON CONSTRAINT devices_pkey DO UPDATE
    SET platform = excluded.platform, plugin_version = excluded.plugin_version,
        version_build = excluded.version_build, version_name = excluded.version_name,
        version_code = excluded.version_code, version_os = excluded.version_os,
        is_prod = excluded.is_prod, is_emulator = excluded.is_emulator,
        install_source = excluded.install_source, custom_id = excluded.custom_id,
        default_channel = excluded.default_channel, key_id = excluded.key_id,
        last_seen_at = excluded.last_seen_at
    WHERE d.last_seen_at <= excluded.last_seen_at;
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;
COMMENT ON FUNCTION liveupdate.record_device_checks(jsonb) IS
    'Upserts the last known state of devices from a batch of normalised update checks (each with an optional seen_at). The gateway calls it about once a second, so update checks never wait on a write. A check that changes nothing is not written if the device was seen in the last 10 minutes (the resolution of last_seen_at). Returns the rows written.';
