-- The management API: one function per operation, JSON object in, JSON out, so that the gateway's
-- HTTP routes, PostgREST's /rpc and psql all call the same code. Each one checks its input (no
-- unknown fields, typed values), then calls the DBA API, whose rank checks and row-level security
-- decide what the caller may see and change. All are SECURITY INVOKER: they run with the caller's
-- rights. Errors are SQLSTATEs: 22023 bad input, P0002 not found (or not visible), 23505
-- duplicate, 55000 wrong state, 42501 not allowed.

-- The request object, checked to hold only the allowed fields.
CREATE FUNCTION liveupdate._input(input jsonb, allowed text[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    unknown text;
BEGIN
    IF input IS NULL THEN
        RETURN '{}';
    END IF;
    IF jsonb_typeof(input) <> 'object' THEN
        RAISE EXCEPTION 'the request must be a JSON object' USING ERRCODE = '22023';
    END IF;
    SELECT k INTO unknown FROM jsonb_object_keys(input) AS k WHERE k <> ALL (allowed) ORDER BY k LIMIT 1;
    IF unknown IS NOT NULL THEN
        RAISE EXCEPTION 'unknown field "%"; allowed: %', left(unknown, 64), array_to_string(allowed, ', ')
            USING ERRCODE = '22023';
    END IF;
    RETURN input;
END
$$;

-- A string field; NULL when absent or null.
CREATE FUNCTION liveupdate._text_field(input jsonb, field text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF jsonb_typeof(input -> field) IN ('string', 'null') OR NOT input ? field THEN
        RETURN input ->> field;
    END IF;
    RAISE EXCEPTION 'field "%" must be a string', field USING ERRCODE = '22023';
END
$$;

-- A boolean field: true/false, or "true"/"false" from a query string; NULL when absent or null.
CREATE FUNCTION liveupdate._bool_field(input jsonb, field text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT input ? field OR jsonb_typeof(input -> field) = 'null' THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(input -> field) = 'boolean' OR input ->> field IN ('true', 'false') THEN
        RETURN (input ->> field)::boolean;
    END IF;
    RAISE EXCEPTION 'field "%" must be true or false', field USING ERRCODE = '22023';
END
$$;

-- An integer field within [low, high]: a JSON integer, or digits from a query string.
CREATE FUNCTION liveupdate._int_field(input jsonb, field text, low bigint, high bigint) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    digits text := input ->> field;
BEGIN
    IF NOT input ? field OR jsonb_typeof(input -> field) = 'null' THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(input -> field) NOT IN ('number', 'string') OR digits !~ '^-?[0-9]{1,18}$'
       OR digits::bigint NOT BETWEEN low AND high THEN
        RAISE EXCEPTION 'field "%" must be an integer from % to %', field, low, high USING ERRCODE = '22023';
    END IF;
    RETURN digits::bigint;
END
$$;

-- A number strictly between 0 and 1 (a rate or a confidence); NULL when absent or null.
CREATE FUNCTION liveupdate._fraction_field(input jsonb, field text) RETURNS double precision
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT input ? field OR jsonb_typeof(input -> field) = 'null' THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(input -> field) <> 'number' OR (input ->> field)::numeric <= 0 OR (input ->> field)::numeric >= 1 THEN
        RAISE EXCEPTION 'field "%" must be a number between 0 and 1', field USING ERRCODE = '22023';
    END IF;
    RETURN (input ->> field)::double precision;
END
$$;

-- A required calendar date field, YYYY-MM-DD.
CREATE FUNCTION liveupdate._date_field(input jsonb, field text) RETURNS date
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    text_value text := liveupdate._text_field(input, field);
BEGIN
    IF text_value !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
        RAISE EXCEPTION 'field "%" must be a date, YYYY-MM-DD', field USING ERRCODE = '22023';
    END IF;
    RETURN text_value::date;
EXCEPTION
    WHEN datetime_field_overflow OR invalid_datetime_format THEN
        RAISE EXCEPTION 'field "%" must be a date, YYYY-MM-DD', field USING ERRCODE = '22023';
END
$$;

-- A required string field.
CREATE FUNCTION liveupdate._required_text(input jsonb, field text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    value text := liveupdate._text_field(input, field);
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION 'field "%" is required', field USING ERRCODE = '22023';
    END IF;
    RETURN value;
END
$$;

-- The page size of a list: `limit`, 1 to 1000, default 100.
CREATE FUNCTION liveupdate._page_limit(input jsonb) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT coalesce(liveupdate._int_field(input, 'limit', 1, 1000), 100)::integer $$;

-- The organization a new app or key belongs to: the one given, else the API key's, else the
-- user's only organization.
CREATE FUNCTION liveupdate._target_organization(input jsonb) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    given bigint := liveupdate._int_field(input, 'organization_id', 1, 9223372036854775807);
    visible bigint[];
BEGIN
    IF given IS NOT NULL THEN
        RETURN liveupdate._organization_pk(given);
    END IF;
    SELECT array_agg(o.id) INTO visible FROM liveupdate.organizations AS o;
    IF coalesce(array_length(visible, 1), 0) <> 1 THEN
        RAISE EXCEPTION 'field "organization_id" is required' USING ERRCODE = '22023';
    END IF;
    RETURN visible[1];
END
$$;

-- How each object is shown. One function per object, so every operation answers the same shape.
CREATE FUNCTION liveupdate._app_json(a liveupdate.apps) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object('app_id', a.app_id, 'name', a.name, 'organization_id', a.organization_id,
        'expose_metadata', a.expose_metadata, 'allow_custom_id', a.allow_custom_id,
        'bundle_retention_days', a.bundle_retention_days, 'require_signature', a.require_signature,
        'created_at', a.created_at, 'updated_at', a.updated_at)
$$;

CREATE FUNCTION liveupdate._channel_json(c liveupdate.channels) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object('name', c.name,
        'bundle', coalesce((SELECT b.name FROM liveupdate.bundles AS b WHERE b.id = c.bundle_id), 'builtin'),
        'public', c.public, 'ios', c.ios, 'android', c.android, 'electron', c.electron,
        'allow_device_self_set', c.allow_device_self_set, 'allow_emulator', c.allow_emulator,
        'allow_device', c.allow_device, 'allow_dev', c.allow_dev, 'allow_prod', c.allow_prod,
        'disable_auto_update', c.disable_auto_update,
        'disable_auto_update_under_native', c.disable_auto_update_under_native,
        'rollout', CASE WHEN c.rollout_bundle_id IS NOT NULL THEN jsonb_build_object(
            'bundle', (SELECT r.name FROM liveupdate.bundles AS r WHERE r.id = c.rollout_bundle_id),
            'basis_points', c.rollout_basis_points, 'paused', c.rollout_paused) END,
        'bundle_changed_at', c.bundle_changed_at, 'created_at', c.created_at, 'updated_at', c.updated_at)
$$;

CREATE FUNCTION liveupdate._bundle_json(b liveupdate.bundles) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object('version', b.name, 'checksum', b.checksum, 'encrypted', b.session_key <> '',
        'key_id', b.key_id, 'external_url', b.external_url, 'min_update_version', b.min_update_version,
        'link', b.link, 'comment', b.comment, 'manifest_count', b.manifest_count,
        'archive_bytes', b.archive_bytes, 'signed_by', b.signed_by, 'signature', b.signature,
        'channels', coalesce((SELECT jsonb_agg(c.name ORDER BY c.name) FROM liveupdate.channels AS c
                              WHERE c.bundle_id = b.id), '[]'),
        'created_at', b.created_at, 'deleted_at', b.deleted_at)
$$;

CREATE FUNCTION liveupdate._device_json(d liveupdate.devices) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object('device_id', d.device_id, 'platform', d.platform, 'plugin_version', d.plugin_version,
        'version_build', d.version_build, 'version', d.version_name, 'version_code', d.version_code,
        'version_os', d.version_os, 'is_prod', d.is_prod, 'is_emulator', d.is_emulator,
        'install_source', d.install_source, 'custom_id', d.custom_id, 'default_channel', d.default_channel,
        'channel_override', (SELECT c.name FROM liveupdate.device_overrides AS o
                             JOIN liveupdate.channels AS c ON c.id = o.channel_id
                             WHERE o.app_id = d.app_id AND o.device_id = d.device_id),
        'first_seen_at', d.first_seen_at, 'last_seen_at', d.last_seen_at)
$$;

-- Keys are listed column by column: callers may not read key_hash, so no whole-row reference.
CREATE FUNCTION liveupdate._key_listing(organization_pk bigint, only_key bigint DEFAULT NULL) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object('id', k.id, 'organization_id', k.organization_id,
        'name', k.name, 'prefix', k.key_prefix, 'mode', k.mode,
        -- NULL is every app; a key whose only app was deleted is limited to none (and revoked).
        'apps', CASE WHEN k.app_ids IS NOT NULL THEN coalesce(
            (SELECT jsonb_agg(a.app_id ORDER BY a.app_id) FROM liveupdate.apps AS a WHERE a.id = ANY (k.app_ids)), '[]') END,
        'expires_at', k.expires_at, 'last_used_at', k.last_used_at, 'created_at', k.created_at,
        'revoked_at', k.revoked_at) ORDER BY k.id), '[]')
    FROM liveupdate.api_keys AS k
    WHERE k.organization_id = organization_pk AND (only_key IS NULL OR k.id = only_key)
$$;

-- Apps ----------------------------------------------------------------------------------------

CREATE FUNCTION liveupdate.api_list_apps(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM liveupdate._input(input, '{}');
    RETURN jsonb_build_object('apps', coalesce(
        (SELECT jsonb_agg(liveupdate._app_json(a) ORDER BY a.app_id) FROM liveupdate.apps AS a), '[]'));
END
$$;

CREATE FUNCTION liveupdate.api_get_app(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(liveupdate._required_text(liveupdate._input(input, '{app_id}'), 'app_id'));
BEGIN
    RETURN (SELECT liveupdate._app_json(a) FROM liveupdate.apps AS a WHERE a.id = app_pk);
END
$$;

CREATE FUNCTION liveupdate.api_create_app(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input,
        '{organization_id, app_id, name, expose_metadata, allow_custom_id, bundle_retention_days}');
BEGIN
    PERFORM liveupdate.create_app(liveupdate._target_organization(fields),
        liveupdate._required_text(fields, 'app_id'),
        liveupdate._text_field(fields, 'name'),
        coalesce(liveupdate._bool_field(fields, 'expose_metadata'), false),
        coalesce(liveupdate._bool_field(fields, 'allow_custom_id'), true),
        coalesce(liveupdate._int_field(fields, 'bundle_retention_days', 0, 36500), 0)::integer);
    RETURN liveupdate.api_get_app(jsonb_build_object('app_id', fields -> 'app_id'));
END
$$;

CREATE FUNCTION liveupdate.api_update_app(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input,
        '{app_id, name, expose_metadata, allow_custom_id, bundle_retention_days, require_signature}');
    app_id text := liveupdate._required_text(fields, 'app_id');
BEGIN
    PERFORM liveupdate.update_app(app_id,
        liveupdate._text_field(fields, 'name'),
        liveupdate._bool_field(fields, 'expose_metadata'),
        liveupdate._bool_field(fields, 'allow_custom_id'),
        liveupdate._int_field(fields, 'bundle_retention_days', 0, 36500)::integer,
        liveupdate._bool_field(fields, 'require_signature'));
    RETURN liveupdate.api_get_app(jsonb_build_object('app_id', app_id));
END
$$;

-- Channels ------------------------------------------------------------------------------------

CREATE FUNCTION liveupdate.api_list_channels(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(liveupdate._required_text(liveupdate._input(input, '{app_id}'), 'app_id'));
BEGIN
    RETURN jsonb_build_object('channels', coalesce(
        (SELECT jsonb_agg(liveupdate._channel_json(c) ORDER BY c.name) FROM liveupdate.channels AS c
         WHERE c.app_id = app_pk), '[]'));
END
$$;

CREATE FUNCTION liveupdate.api_get_channel(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, channel}');
    channel_pk bigint := liveupdate._channel_pk(liveupdate._app_pk(liveupdate._required_text(fields, 'app_id')),
                                                liveupdate._required_text(fields, 'channel'));
BEGIN
    RETURN (SELECT liveupdate._channel_json(c) FROM liveupdate.channels AS c WHERE c.id = channel_pk);
END
$$;

-- "bundle" names a bundle version; "builtin" (or null) is the app's builtin bundle.
CREATE FUNCTION liveupdate._bundle_field(fields jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT nullif(liveupdate._text_field(fields, 'bundle'), 'builtin') $$;

CREATE FUNCTION liveupdate.api_create_channel(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input,
        '{app_id, name, bundle, public, ios, android, electron, allow_device_self_set, allow_emulator, allow_device, allow_dev, allow_prod, disable_auto_update, disable_auto_update_under_native}');
    app_id text := liveupdate._required_text(fields, 'app_id');
    name text := liveupdate._required_text(fields, 'name');
BEGIN
    PERFORM liveupdate.create_channel(app_id, name, liveupdate._bundle_field(fields),
        coalesce(liveupdate._bool_field(fields, 'public'), false),
        coalesce(liveupdate._bool_field(fields, 'ios'), true),
        coalesce(liveupdate._bool_field(fields, 'android'), true),
        coalesce(liveupdate._bool_field(fields, 'electron'), true),
        coalesce(liveupdate._bool_field(fields, 'allow_device_self_set'), false),
        coalesce(liveupdate._bool_field(fields, 'allow_emulator'), true),
        coalesce(liveupdate._bool_field(fields, 'allow_device'), true),
        coalesce(liveupdate._bool_field(fields, 'allow_dev'), true),
        coalesce(liveupdate._bool_field(fields, 'allow_prod'), true),
        coalesce(liveupdate._text_field(fields, 'disable_auto_update'), 'major'),
        coalesce(liveupdate._bool_field(fields, 'disable_auto_update_under_native'), true));
    RETURN liveupdate.api_get_channel(jsonb_build_object('app_id', app_id, 'channel', name));
END
$$;

-- Changes flags, the name (`name`) and the deployed bundle (`bundle`) of the channel `channel`.
CREATE FUNCTION liveupdate.api_update_channel(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input,
        '{app_id, channel, name, bundle, public, ios, android, electron, allow_device_self_set, allow_emulator, allow_device, allow_dev, allow_prod, disable_auto_update, disable_auto_update_under_native}');
    app_id text := liveupdate._required_text(fields, 'app_id');
    channel text := liveupdate._required_text(fields, 'channel');
BEGIN
    PERFORM liveupdate.update_channel(app_id, channel,
        liveupdate._bool_field(fields, 'public'),
        liveupdate._bool_field(fields, 'ios'),
        liveupdate._bool_field(fields, 'android'),
        liveupdate._bool_field(fields, 'electron'),
        liveupdate._bool_field(fields, 'allow_device_self_set'),
        liveupdate._bool_field(fields, 'allow_emulator'),
        liveupdate._bool_field(fields, 'allow_device'),
        liveupdate._bool_field(fields, 'allow_dev'),
        liveupdate._bool_field(fields, 'allow_prod'),
        liveupdate._text_field(fields, 'disable_auto_update'),
        liveupdate._bool_field(fields, 'disable_auto_update_under_native'),
        liveupdate._text_field(fields, 'name'));
    channel := coalesce(liveupdate._text_field(fields, 'name'), channel);
    IF fields ? 'bundle' THEN
        PERFORM liveupdate.set_channel_bundle(app_id, channel, liveupdate._bundle_field(fields));
    END IF;
    RETURN liveupdate.api_get_channel(jsonb_build_object('app_id', app_id, 'channel', channel));
END
$$;

CREATE FUNCTION liveupdate.api_delete_channel(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, channel}');
BEGIN
    PERFORM liveupdate.delete_channel(liveupdate._required_text(fields, 'app_id'),
                                      liveupdate._required_text(fields, 'channel'));
    RETURN jsonb_build_object('deleted', true);
END
$$;

-- Bundles -------------------------------------------------------------------------------------

-- Newest first; `cursor` is the `next_cursor` of the previous page.
CREATE FUNCTION liveupdate.api_list_bundles(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, include_deleted, cursor, limit}');
    app_pk bigint := liveupdate._app_pk(liveupdate._required_text(fields, 'app_id'));
    include_deleted boolean := coalesce(liveupdate._bool_field(fields, 'include_deleted'), false);
    after_id bigint := liveupdate._int_field(fields, 'cursor', 1, 9223372036854775807);
    page_size integer := liveupdate._page_limit(fields);
    page liveupdate.bundles[];
BEGIN
    page := ARRAY(SELECT b FROM liveupdate.bundles AS b
                  WHERE b.app_id = app_pk AND (include_deleted OR b.deleted_at IS NULL)
                    AND (after_id IS NULL OR b.id < after_id)
                  ORDER BY b.id DESC LIMIT page_size + 1);
    RETURN jsonb_build_object(
        'bundles', coalesce((SELECT jsonb_agg(liveupdate._bundle_json(b) ORDER BY b.id DESC)
                             FROM unnest(page[1:page_size]) AS b), '[]'),
        'next_cursor', CASE WHEN cardinality(page) > page_size THEN page[page_size].id::text END);
END
$$;

CREATE FUNCTION liveupdate.api_get_bundle(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, version}');
    app_pk bigint := liveupdate._app_pk(liveupdate._required_text(fields, 'app_id'));
    found jsonb;
BEGIN
    SELECT liveupdate._bundle_json(b) INTO found FROM liveupdate.bundles AS b
    WHERE b.app_id = app_pk AND b.name = liveupdate._required_text(fields, 'version');
    IF found IS NULL THEN
        RAISE EXCEPTION 'bundle "%" does not exist', fields ->> 'version' USING ERRCODE = 'P0002';
    END IF;
    RETURN found;
END
$$;

-- Registers a bundle hosted elsewhere (external_url) and/or described by a manifest.
CREATE FUNCTION liveupdate.api_register_bundle(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input,
        '{app_id, version, external_url, checksum, session_key, key_id, min_update_version, link, comment, manifest, signature, signer}');
    app_id text := liveupdate._required_text(fields, 'app_id');
    version text := liveupdate._required_text(fields, 'version');
BEGIN
    IF fields ? 'manifest' AND jsonb_typeof(fields -> 'manifest') NOT IN ('array', 'null') THEN
        RAISE EXCEPTION 'field "manifest" must be an array' USING ERRCODE = '22023';
    END IF;
    PERFORM liveupdate.register_bundle(app_id, version,
        liveupdate._text_field(fields, 'external_url'),
        coalesce(liveupdate._text_field(fields, 'checksum'), ''),
        coalesce(liveupdate._text_field(fields, 'session_key'), ''),
        liveupdate._text_field(fields, 'key_id'),
        liveupdate._text_field(fields, 'min_update_version'),
        liveupdate._text_field(fields, 'link'),
        liveupdate._text_field(fields, 'comment'),
        nullif(fields -> 'manifest', 'null'),
        signature => liveupdate._text_field(fields, 'signature'),
        signer => liveupdate._text_field(fields, 'signer'));
    RETURN liveupdate.api_get_bundle(jsonb_build_object('app_id', app_id, 'version', version));
END
$$;

CREATE FUNCTION liveupdate.api_update_bundle(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, version, link, comment}');
BEGIN
    PERFORM liveupdate.update_bundle(liveupdate._required_text(fields, 'app_id'),
        liveupdate._required_text(fields, 'version'),
        liveupdate._text_field(fields, 'link'), liveupdate._text_field(fields, 'comment'));
    RETURN liveupdate.api_get_bundle(fields - 'link' - 'comment');
END
$$;

CREATE FUNCTION liveupdate.api_delete_bundle(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, version}');
BEGIN
    PERFORM liveupdate.delete_bundle(liveupdate._required_text(fields, 'app_id'),
                                     liveupdate._required_text(fields, 'version'));
    RETURN jsonb_build_object('deleted', true);
END
$$;

-- Uploads -------------------------------------------------------------------------------------
-- The gateway receives, checks and stores an archive, then registers it; these two calls frame
-- that work. They are not HTTP routes of their own.

-- Before a byte is received: may the caller upload this version of this app?
CREATE FUNCTION liveupdate.api_check_upload(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input,
        '{app_id, version, channel, min_update_version, link, comment, signature, signer, session_key, checksum, key_id}');
    app_pk bigint := liveupdate._app_pk(liveupdate._required_text(fields, 'app_id'));
    version text := liveupdate._required_text(fields, 'version');
BEGIN
    PERFORM liveupdate._require_app_rank(app_pk, 2);
    PERFORM liveupdate._check_new_bundle(version, liveupdate._text_field(fields, 'min_update_version'),
        liveupdate._text_field(fields, 'link'), liveupdate._text_field(fields, 'comment'));
    IF EXISTS (SELECT 1 FROM liveupdate.bundles AS b WHERE b.app_id = app_pk AND b.name = version) THEN
        RAISE EXCEPTION 'bundle "%" already exists; bundle names are never reused', version USING ERRCODE = '23505';
    END IF;
    IF fields ? 'channel' THEN
        PERFORM liveupdate._require_app_rank(app_pk, 3);
        PERFORM liveupdate._channel_pk(app_pk, liveupdate._text_field(fields, 'channel'));
    END IF;
    -- An encrypted upload brings what the server cannot compute: the RSA-encrypted checksum.
    IF fields ? 'session_key' AND NOT (liveupdate._is_session_key(liveupdate._text_field(fields, 'session_key'))
            AND liveupdate._text_field(fields, 'session_key') <> ''
            AND liveupdate._is_bundle_checksum(coalesce(liveupdate._text_field(fields, 'checksum'), ''))
            -- The RSA-encrypted forms are the ones longer than a plain SHA-256.
            AND length(liveupdate._text_field(fields, 'checksum')) > 64) THEN
        RAISE EXCEPTION 'an encrypted upload needs session_key "<iv>:<key>" and its RSA-encrypted checksum'
            USING ERRCODE = '22023';
    END IF;
    IF NOT fields ? 'session_key' AND fields ? 'checksum' THEN
        RAISE EXCEPTION 'the checksum of a plain upload is computed by the server' USING ERRCODE = '22023';
    END IF;
    -- The signature itself can only be checked once the checksum is known; its absence now.
    PERFORM liveupdate._require_signature_if_needed(app_pk, fields ? 'signature');
    RETURN jsonb_build_object('ok', true);
END
$$;

-- Registers a stored archive: its zip object, its manifest of stored files, and optionally
-- deploys it to `channel`, all in one transaction.
CREATE FUNCTION liveupdate.api_register_upload(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input,
        '{app_id, version, storage_key, archive_bytes, checksum, min_update_version, link, comment, manifest, channel,
          signature, signer, session_key, key_id}');
    app_id text := liveupdate._required_text(fields, 'app_id');
    version text := liveupdate._required_text(fields, 'version');
BEGIN
    PERFORM liveupdate.register_bundle(app_id, version,
        checksum => coalesce(liveupdate._text_field(fields, 'checksum'), ''),
        session_key => coalesce(liveupdate._text_field(fields, 'session_key'), ''),
        key_id => liveupdate._text_field(fields, 'key_id'),
        min_update_version => liveupdate._text_field(fields, 'min_update_version'),
        link => liveupdate._text_field(fields, 'link'),
        comment => liveupdate._text_field(fields, 'comment'),
        manifest => fields -> 'manifest',
        storage_key => liveupdate._required_text(fields, 'storage_key'),
        signature => liveupdate._text_field(fields, 'signature'),
        signer => liveupdate._text_field(fields, 'signer'),
        archive_bytes => liveupdate._int_field(fields, 'archive_bytes', 0, 9223372036854775807));
    IF fields ? 'channel' THEN
        PERFORM liveupdate.set_channel_bundle(app_id, liveupdate._text_field(fields, 'channel'), version);
    END IF;
    RETURN liveupdate.api_get_bundle(jsonb_build_object('app_id', app_id, 'version', version));
END
$$;

-- Of the given object keys, those no bundle refers to, across every organization (objects are
-- shared by content). The gateway deletes them after a failed upload. SECURITY DEFINER: the
-- gateway cannot see other organizations' rows.
CREATE FUNCTION liveupdate.unreferenced_objects(keys text[]) RETURNS text[]
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(array_agg(k ORDER BY k), '{}') FROM unnest(keys) AS k
    WHERE NOT EXISTS (SELECT 1 FROM liveupdate.bundles AS b WHERE b.storage_key = k AND b.purged_at IS NULL)
      AND NOT EXISTS (SELECT 1 FROM liveupdate.bundle_files AS f WHERE f.storage_key = k)
$$;

-- Devices -------------------------------------------------------------------------------------

-- Devices of an app by device id, with optional exact-match filters; `cursor` is the
-- `next_cursor` of the previous page.
CREATE FUNCTION liveupdate.api_list_devices(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input,
        '{app_id, platform, version, plugin_version, custom_id, channel, is_prod, is_emulator, cursor, limit}');
    app_pk bigint := liveupdate._app_pk(liveupdate._required_text(fields, 'app_id'));
    after_device uuid := CASE WHEN fields ? 'cursor' THEN liveupdate._device_uuid(liveupdate._text_field(fields, 'cursor')) END;
    want_platform text := liveupdate._text_field(fields, 'platform');
    want_version text := liveupdate._text_field(fields, 'version');
    want_plugin text := liveupdate._text_field(fields, 'plugin_version');
    want_custom_id text := liveupdate._text_field(fields, 'custom_id');
    want_channel bigint := CASE WHEN fields ? 'channel'
                                THEN liveupdate._channel_pk(app_pk, liveupdate._text_field(fields, 'channel')) END;
    want_prod boolean := liveupdate._bool_field(fields, 'is_prod');
    want_emulator boolean := liveupdate._bool_field(fields, 'is_emulator');
    page_size integer := liveupdate._page_limit(fields);
    page liveupdate.devices[];
BEGIN
    page := ARRAY(SELECT d FROM liveupdate.devices AS d
                  WHERE d.app_id = app_pk
                    AND (after_device IS NULL OR d.device_id > after_device)
                    AND (want_platform IS NULL OR d.platform = want_platform)
                    AND (want_version IS NULL OR d.version_name = want_version)
                    AND (want_plugin IS NULL OR d.plugin_version = want_plugin)
                    AND (want_custom_id IS NULL OR d.custom_id = want_custom_id)
                    AND (want_prod IS NULL OR d.is_prod = want_prod)
                    AND (want_emulator IS NULL OR d.is_emulator = want_emulator)
                    AND (want_channel IS NULL OR EXISTS (
                        SELECT 1 FROM liveupdate.device_overrides AS o
                        WHERE o.app_id = d.app_id AND o.device_id = d.device_id AND o.channel_id = want_channel))
                  ORDER BY d.device_id LIMIT page_size + 1);
    RETURN jsonb_build_object(
        'devices', coalesce((SELECT jsonb_agg(liveupdate._device_json(d) ORDER BY d.device_id)
                             FROM unnest(page[1:page_size]) AS d), '[]'),
        'next_cursor', CASE WHEN cardinality(page) > page_size THEN page[page_size].device_id::text END);
END
$$;

CREATE FUNCTION liveupdate.api_get_device(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, device_id}');
    app_pk bigint := liveupdate._app_pk(liveupdate._required_text(fields, 'app_id'));
    device uuid := liveupdate._device_uuid(liveupdate._required_text(fields, 'device_id'));
    found jsonb;
BEGIN
    SELECT liveupdate._device_json(d) INTO found FROM liveupdate.devices AS d
    WHERE d.app_id = app_pk AND d.device_id = device;
    IF found IS NULL THEN
        RAISE EXCEPTION 'device % has not checked in', device USING ERRCODE = 'P0002';
    END IF;
    RETURN found;
END
$$;

-- Overrides may name devices that have not checked in yet (set before the first launch).
CREATE FUNCTION liveupdate.api_set_device_channel(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, device_id, channel}');
BEGIN
    PERFORM liveupdate.set_device_override(liveupdate._required_text(fields, 'app_id'),
        liveupdate._required_text(fields, 'device_id'), liveupdate._required_text(fields, 'channel'));
    RETURN jsonb_build_object('device_id', lower(fields ->> 'device_id'), 'channel', fields ->> 'channel');
END
$$;

CREATE FUNCTION liveupdate.api_remove_device_channel(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, device_id}');
BEGIN
    RETURN jsonb_build_object('removed', liveupdate.remove_device_override(
        liveupdate._required_text(fields, 'app_id'), liveupdate._required_text(fields, 'device_id')));
END
$$;

-- API keys ------------------------------------------------------------------------------------

CREATE FUNCTION liveupdate.api_list_keys(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    organization_pk bigint := liveupdate._target_organization(liveupdate._input(input, '{organization_id}'));
BEGIN
    PERFORM liveupdate._require_organization_rank(organization_pk, 4);
    RETURN jsonb_build_object('keys', liveupdate._key_listing(organization_pk));
END
$$;

-- Answers the key's listing plus `key`, the only time the key itself is shown.
CREATE FUNCTION liveupdate.api_create_key(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{organization_id, name, mode, apps, expires_at}');
    organization_pk bigint := liveupdate._target_organization(fields);
    apps text[];
    expires_at timestamptz;
    created record;
BEGIN
    IF fields ? 'apps' AND jsonb_typeof(fields -> 'apps') <> 'null' THEN
        IF jsonb_typeof(fields -> 'apps') <> 'array'
           OR EXISTS (SELECT 1 FROM jsonb_array_elements(fields -> 'apps') AS e WHERE jsonb_typeof(e) <> 'string') THEN
            RAISE EXCEPTION 'field "apps" must be an array of app ids' USING ERRCODE = '22023';
        END IF;
        apps := ARRAY(SELECT jsonb_array_elements_text(fields -> 'apps'));
    END IF;
    BEGIN
        expires_at := liveupdate._text_field(fields, 'expires_at')::timestamptz;
    EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format OR invalid_text_representation THEN
        RAISE EXCEPTION 'field "expires_at" must be an ISO 8601 timestamp' USING ERRCODE = '22023';
    END;
    SELECT * INTO created FROM liveupdate.create_api_key(organization_pk, liveupdate._required_text(fields, 'name'),
        liveupdate._required_text(fields, 'mode'), apps, expires_at);
    RETURN (liveupdate._key_listing(organization_pk, created.id) -> 0) || jsonb_build_object('key', created.key);
END
$$;

CREATE FUNCTION liveupdate.api_revoke_key(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key_id bigint := liveupdate._int_field(liveupdate._input(input, '{key_id}'), 'key_id', 1, 9223372036854775807);
BEGIN
    IF key_id IS NULL THEN
        RAISE EXCEPTION 'field "key_id" is required' USING ERRCODE = '22023';
    END IF;
    IF NOT liveupdate.revoke_api_key(key_id) THEN
        RAISE EXCEPTION 'API key % does not exist or is already revoked', key_id USING ERRCODE = 'P0002';
    END IF;
    RETURN jsonb_build_object('revoked', true);
END
$$;

-- The gateway's single entry point for management requests: runs one api_* operation with the
-- caller's API key (its SHA-256, hex) in force for this transaction only, so a pooled connection
-- never carries one key into the next request. SECURITY INVOKER like the operations: the gateway's
-- role is subject to row-level security, and the key decides what it sees.
CREATE FUNCTION liveupdate.management_call(key_sha256 text, operation text, input jsonb) RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    answer jsonb;
BEGIN
    IF operation !~ '^api_[a-z_]{1,60}$'
       OR to_regprocedure(format('liveupdate.%I(jsonb)', operation)) IS NULL THEN
        RAISE EXCEPTION 'unknown management operation "%"', left(operation, 64) USING ERRCODE = '22023';
    END IF;
    PERFORM set_config('liveupdate.api_key_sha256', coalesce(key_sha256, ''), true);
    EXECUTE format('SELECT liveupdate.%I($1)', operation) INTO answer USING input;
    RETURN answer::text;
END
$$;

COMMENT ON FUNCTION liveupdate.api_list_apps(jsonb) IS 'Management API: the apps the caller can see. {} → {apps}.';
COMMENT ON FUNCTION liveupdate.api_get_app(jsonb) IS 'Management API: one app. {app_id} → app.';
COMMENT ON FUNCTION liveupdate.api_create_app(jsonb) IS
    'Management API: creates an app (write rights on the organization). {app_id, name?, organization_id?, expose_metadata?, allow_custom_id?, bundle_retention_days?} → app.';
COMMENT ON FUNCTION liveupdate.api_update_app(jsonb) IS
    'Management API: changes an app''s settings (require_signature: admin rights). {app_id, name?, expose_metadata?, allow_custom_id?, bundle_retention_days?, require_signature?} → app.';
COMMENT ON FUNCTION liveupdate.api_list_channels(jsonb) IS 'Management API: an app''s channels. {app_id} → {channels}.';
COMMENT ON FUNCTION liveupdate.api_get_channel(jsonb) IS 'Management API: one channel. {app_id, channel} → channel.';
COMMENT ON FUNCTION liveupdate.api_create_channel(jsonb) IS
    'Management API: creates a channel with any of its flags and a bundle ("builtin" by default). {app_id, name, bundle?, public?, ios?, android?, electron?, allow_device_self_set?, allow_emulator?, allow_device?, allow_dev?, allow_prod?, disable_auto_update?, disable_auto_update_under_native?} → channel.';
COMMENT ON FUNCTION liveupdate.api_update_channel(jsonb) IS
    'Management API: changes a channel''s flags, name and deployed bundle. {app_id, channel, name?, bundle?, public?, ios?, android?, electron?, allow_device_self_set?, allow_emulator?, allow_device?, allow_dev?, allow_prod?, disable_auto_update?, disable_auto_update_under_native?} → channel.';
COMMENT ON FUNCTION liveupdate.api_delete_channel(jsonb) IS 'Management API: deletes a channel. {app_id, channel} → {deleted}.';
COMMENT ON FUNCTION liveupdate.api_list_bundles(jsonb) IS
    'Management API: an app''s bundles, newest first, by pages. {app_id, include_deleted?, cursor?, limit? (1-1000, 100)} → {bundles, next_cursor}.';
COMMENT ON FUNCTION liveupdate.api_get_bundle(jsonb) IS 'Management API: one bundle''s metadata. {app_id, version} → bundle.';
COMMENT ON FUNCTION liveupdate.api_register_bundle(jsonb) IS
    'Management API: registers a bundle by external URL and/or manifest (upload rights). {app_id, version, external_url?, checksum?, session_key?, key_id?, min_update_version?, link?, comment?, manifest?, signature?, signer?} → bundle.';
COMMENT ON FUNCTION liveupdate.api_update_bundle(jsonb) IS 'Management API: changes a bundle''s link and comment. {app_id, version, link?, comment?} → bundle.';
COMMENT ON FUNCTION liveupdate.api_delete_bundle(jsonb) IS 'Management API: soft-deletes a bundle. {app_id, version} → {deleted}.';
COMMENT ON FUNCTION liveupdate.api_list_devices(jsonb) IS
    'Management API: an app''s devices by device id, by pages, with exact-match filters. {app_id, platform?, version?, plugin_version?, custom_id?, channel?, is_prod?, is_emulator?, cursor?, limit? (1-1000, 100)} → {devices, next_cursor}.';
COMMENT ON FUNCTION liveupdate.api_get_device(jsonb) IS 'Management API: one device. {app_id, device_id} → device.';
COMMENT ON FUNCTION liveupdate.api_set_device_channel(jsonb) IS
    'Management API: assigns a device to a channel (an override). {app_id, device_id, channel} → {device_id, channel}.';
COMMENT ON FUNCTION liveupdate.api_remove_device_channel(jsonb) IS
    'Management API: removes a device''s channel assignment. {app_id, device_id} → {removed}.';
COMMENT ON FUNCTION liveupdate.api_list_keys(jsonb) IS
    'Management API: an organization''s API keys, without secrets (admin rights). {organization_id?} → {keys}.';
COMMENT ON FUNCTION liveupdate.api_create_key(jsonb) IS
    'Management API: creates an API key and shows it this once (admin rights). {name, mode, apps?, expires_at?, organization_id?} → key listing + key.';
COMMENT ON FUNCTION liveupdate.api_revoke_key(jsonb) IS 'Management API: revokes an API key (admin rights). {key_id} → {revoked}.';
COMMENT ON FUNCTION liveupdate.management_call(text, text, jsonb) IS
    'The gateway''s management entry point: runs api_<operation>(input) with the API key whose SHA-256 (hex) is given in force for this transaction.';
COMMENT ON FUNCTION liveupdate.api_check_upload(jsonb) IS
    'Management API: before an archive upload, checks upload rights, the fields, the version (semver, unused) and, with channel, write rights and the channel. {app_id, version, channel?, min_update_version?, link?, comment?, signature?, signer?, session_key?, checksum?, key_id?} → {ok}.';
COMMENT ON FUNCTION liveupdate.api_register_upload(jsonb) IS
    'Management API: registers an archive the gateway stored and optionally deploys it to channel, in one transaction: api_check_upload''s fields and the gateway''s (zip storage_key, archive_bytes, checksum, manifest of {file_name, file_hash, file_size, storage_key}). {app_id, version, storage_key, archive_bytes?, checksum?, min_update_version?, link?, comment?, manifest, channel?, signature?, signer?, session_key?, key_id?} → bundle.';
COMMENT ON FUNCTION liveupdate.unreferenced_objects(text[]) IS
    'The storage keys among those given that no bundle (not yet purged) or manifest entry refers to: safe to delete.';
