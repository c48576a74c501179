-- pg_liveupdate 0.2.0 → 0.3.0. Run by ALTER EXTENSION pg_liveupdate UPDATE.
--
-- Every change to the schema or to the SQL API since 0.2.0 has its step here, in the order the
-- changes landed, so that an upgraded database equals a fresh 0.3.0 install (tests/tests/upgrade.rs
-- compares the two, from every frozen release in sql/versions).

-- 1. Event partitions carry their own indexes (sql/events.sql, _index_event_partition), so that a
--    pg_dump of the database restores: the indexes on device_events itself belonged to the
--    extension, and a restore created each partition's copy twice. Each existing partition gets
--    its own indexes, then the parent's go (and with them the copies they had made).

CREATE FUNCTION liveupdate._index_event_partition(partition_name text) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format('CREATE INDEX %I ON liveupdate.%I (app_id, device_id, received_at)',
        partition_name || '_device_idx', partition_name);
    EXECUTE format('CREATE INDEX %I ON liveupdate.%I USING brin (received_at)',
        partition_name || '_received_brin', partition_name);
END
$$;
REVOKE EXECUTE ON FUNCTION liveupdate._index_event_partition(text) FROM PUBLIC;

SELECT liveupdate._index_event_partition(c.relname)
FROM pg_catalog.pg_inherits AS i
JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid
WHERE i.inhparent = 'liveupdate.device_events'::regclass;

DROP INDEX liveupdate.device_events_device_idx;
DROP INDEX liveupdate.device_events_received_brin;

CREATE OR REPLACE FUNCTION liveupdate.ensure_event_partitions(days_ahead integer DEFAULT 3) RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    first_day date := (now() AT TIME ZONE 'UTC')::date;
    day date;
    created integer := 0;
    partition_name text;
BEGIN
    IF days_ahead IS NULL OR days_ahead NOT BETWEEN 0 AND 366 THEN
        RAISE EXCEPTION 'days_ahead must be between 0 and 366' USING ERRCODE = '22023';
    END IF;
    -- Concurrent callers (gateways, cron, the stats path) create each partition once.
    PERFORM pg_advisory_xact_lock(hashtext('liveupdate.device_events partitions'));
    FOR day IN SELECT generate_series(first_day, first_day + days_ahead, interval '1 day')::date LOOP
        partition_name := 'device_events_p' || to_char(day, 'YYYYMMDD');
        IF to_regclass('liveupdate.' || partition_name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE liveupdate.%I PARTITION OF liveupdate.device_events FOR VALUES FROM (%L) TO (%L)',
                partition_name, day::text || ' 00:00:00+00', (day + 1)::text || ' 00:00:00+00');
            PERFORM liveupdate._index_event_partition(partition_name);
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END
$$;

-- 2. The web console's reads (sql/console.sql): api_apps_overview, api_channel_devices, api_bundle_files,
-- api_list_events, api_preview_update.

-- Each app the caller can see, with its activity and health: devices seen since the start of the
-- UTC day and in the last 30 days (devices_last_seen_idx), its newest live bundle, and the
-- installs and failures of production builds in the last 24 hours (stats_versions, so as fresh
-- as the last aggregation). `rights`: the caller's rank on the app (read, upload, write, admin).
CREATE FUNCTION liveupdate.api_apps_overview(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM liveupdate._input(input, '{}');
    RETURN jsonb_build_object('apps', coalesce((
        SELECT jsonb_agg(liveupdate._app_json(a) || jsonb_build_object(
            'rights', liveupdate._rank_name(liveupdate.caller_app_rank(a.id)),
            'active_today', (SELECT count(*) FROM liveupdate.devices AS d
                             WHERE d.app_id = a.id AND d.last_seen_at >= date_trunc('day', now(), 'UTC')),
            'active_30_days', (SELECT count(*) FROM liveupdate.devices AS d
                               WHERE d.app_id = a.id AND d.last_seen_at >= now() - interval '30 days'),
            'newest_bundle', (SELECT jsonb_build_object('version', b.name, 'created_at', b.created_at)
                              FROM liveupdate.bundles AS b WHERE b.app_id = a.id AND b.deleted_at IS NULL
                              ORDER BY b.id DESC LIMIT 1),
            'last_day', (SELECT jsonb_build_object('installs', coalesce(sum(v.installs), 0),
                                                   'fails', coalesce(sum(v.fails), 0),
                                                   'failure_rate', round(sum(v.fails)::numeric
                                                       / nullif(sum(v.installs) + sum(v.fails), 0), 4))
                         FROM liveupdate.stats_versions AS v
                         WHERE v.app_id = a.id AND v.hour >= date_trunc('hour', now()) - interval '23 hours'))
            ORDER BY a.app_id)
        FROM liveupdate.apps AS a), '[]'));
END
$$;
COMMENT ON FUNCTION liveupdate.api_apps_overview(jsonb) IS
    'Management API: every app the caller can see with the caller''s rights on it, devices active today (UTC) and in the last 30 days, its newest live bundle, and installs, failures and failure rate of the last 24 hours. {} → {apps}.';

-- The devices of a channel seen since `since` (default: the rollout's start, else 24 hours ago),
-- by the bundle they run: what a progressive rollout actually reached. A device belongs to the
-- channel as resolve.sql decides and the statistics count (stats_versions.channel): by its
-- override, else the channel its defaultChannel names when it may select it
-- (_channel_selectable_by_name), else, when it names none, its platform's public channel.
CREATE FUNCTION liveupdate.api_channel_devices(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, channel, since}');
    app_pk bigint := liveupdate._app_pk(liveupdate._required_text(fields, 'app_id'));
    channel liveupdate.channels;
    since timestamptz;
    counts jsonb;
    total bigint;
BEGIN
    SELECT * INTO channel FROM liveupdate.channels AS c
    WHERE c.id = liveupdate._channel_pk(app_pk, liveupdate._required_text(fields, 'channel'));
    BEGIN
        since := liveupdate._text_field(fields, 'since')::timestamptz;
    EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format OR invalid_text_representation THEN
        RAISE EXCEPTION 'field "since" must be an ISO 8601 timestamp' USING ERRCODE = '22023';
    END;
    since := coalesce(since, CASE WHEN channel.rollout_id IS NOT NULL THEN channel.rollout_started_at END,
                      now() - interval '1 day');
    SELECT coalesce(jsonb_agg(jsonb_build_object('version', per.version_name, 'devices', per.devices)
                              ORDER BY per.devices DESC, per.version_name), '[]'),
           coalesce(sum(per.devices), 0)
    INTO counts, total
    FROM (SELECT d.version_name, count(*) AS devices
          FROM liveupdate.devices AS d
          LEFT JOIN liveupdate.device_overrides AS o ON o.app_id = d.app_id AND o.device_id = d.device_id
          LEFT JOIN liveupdate.channels AS named ON named.app_id = app_pk AND named.name = d.default_channel
              AND liveupdate._channel_selectable_by_name(named.public, named.allow_device_self_set, named.ios,
                                                         named.android, named.electron, d.platform)
          LEFT JOIN (SELECT platform.name, (SELECT p.id FROM liveupdate.channels AS p
                                            WHERE p.app_id = app_pk AND p.public AND CASE platform.name
                                                WHEN 'ios' THEN p.ios WHEN 'android' THEN p.android ELSE p.electron END
                                            ORDER BY p.id LIMIT 1) AS id
                     FROM (VALUES ('ios'), ('android'), ('electron')) AS platform(name)) AS public
              ON public.name = d.platform AND coalesce(d.default_channel, '') = ''
          WHERE d.app_id = app_pk AND d.last_seen_at >= since
            AND coalesce(o.channel_id, named.id, public.id) = channel.id
          GROUP BY d.version_name) AS per;
    RETURN jsonb_build_object('channel', channel.name, 'since', since, 'devices', total,
        'bundles', (SELECT coalesce(jsonb_agg(b || jsonb_build_object('share',
                               round((b ->> 'devices')::numeric / nullif(total, 0), 4))), '[]')
                    FROM jsonb_array_elements(counts) AS b));
END
$$;
COMMENT ON FUNCTION liveupdate.api_channel_devices(jsonb) IS
    'Management API: devices of a channel (override, else defaultChannel, else platform''s public channel) seen since `since` (default the rollout''s start, else 24 hours ago), by the bundle they run, with each bundle''s share. {app_id, channel, since?} → {channel, since, devices, bundles}.';

-- A bundle's files, as devices download them (manifest order).
CREATE FUNCTION liveupdate.api_bundle_files(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, version}');
    app_pk bigint := liveupdate._app_pk(liveupdate._required_text(fields, 'app_id'));
    bundle_pk bigint;
BEGIN
    SELECT b.id INTO bundle_pk FROM liveupdate.bundles AS b
    WHERE b.app_id = app_pk AND b.name = liveupdate._required_text(fields, 'version');
    IF bundle_pk IS NULL THEN
        RAISE EXCEPTION 'bundle "%" does not exist', fields ->> 'version' USING ERRCODE = 'P0002';
    END IF;
    RETURN jsonb_build_object('files', coalesce((
        SELECT jsonb_agg(jsonb_build_object('file_name', f.file_name, 'file_hash', f.file_hash,
                                            'download_url', f.download_url) ORDER BY f.file_name)
        FROM liveupdate.bundle_files AS f WHERE f.bundle_id = bundle_pk), '[]'));
END
$$;
COMMENT ON FUNCTION liveupdate.api_bundle_files(jsonb) IS
    'Management API: a bundle''s manifest, by file name. {app_id, version} → {files: [{file_name, file_hash, download_url}]}.';

-- An app's raw events, newest first, filtered by action, device, bundle and time of receipt
-- (from inclusive, to exclusive). The cursor is the last row's (received_at, device_id, action,
-- version_name, ctid), so a page never repeats one nor skips one: a device can report the same
-- event twice in one batch (same received_at), and only the row's place in its partition (which
-- holds one day, append-only) tells such twins apart. A cursor without the ctid (0.3.0 before it)
-- reads as the lowest one.
CREATE FUNCTION liveupdate.api_list_events(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, action, device_id, version, from, to, cursor, limit}');
    app_pk bigint := liveupdate._app_pk(liveupdate._required_text(fields, 'app_id'));
    want_action text := liveupdate._text_field(fields, 'action');
    want_device uuid := CASE WHEN fields ? 'device_id'
                             THEN liveupdate._device_uuid(liveupdate._text_field(fields, 'device_id')) END;
    want_version text := liveupdate._text_field(fields, 'version');
    range_from timestamptz;
    range_to timestamptz;
    cursor_text text;
    after jsonb;
    page_size integer := liveupdate._page_limit(fields);
    rows jsonb;
BEGIN
    BEGIN
        range_from := liveupdate._text_field(fields, 'from')::timestamptz;
        range_to := liveupdate._text_field(fields, 'to')::timestamptz;
    EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format OR invalid_text_representation THEN
        RAISE EXCEPTION 'fields "from" and "to" must be ISO 8601 timestamps' USING ERRCODE = '22023';
    END;
    IF fields ? 'cursor' THEN
        BEGIN
            cursor_text := translate(liveupdate._text_field(fields, 'cursor'), '-_', '+/');
            after := convert_from(decode(rpad(cursor_text, (length(cursor_text) + 3) / 4 * 4, '='), 'base64'), 'UTF8')::jsonb;
            PERFORM (after ->> 0)::timestamptz, (after ->> 1)::uuid, (after ->> 4)::tid;
        EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION 'field "cursor" is not a cursor this operation gave' USING ERRCODE = '22023';
        END;
    END IF;
    SELECT jsonb_agg(to_jsonb(e) ORDER BY e.received_at DESC, e.device_id DESC, e.action DESC, e.version_name DESC,
                     e.ctid DESC)
    INTO rows
    FROM (SELECT ev.received_at, ev.device_id, ev.action, ev.version_name, ev.old_version_name, ev.platform,
                 ev.plugin_version, ev.is_prod, ev.is_emulator, ev.device_time, ev.metadata, ev.ctid
          FROM liveupdate.device_events AS ev
          WHERE ev.app_id = app_pk
            AND (want_action IS NULL OR ev.action = want_action)
            AND (want_device IS NULL OR ev.device_id = want_device)
            AND (want_version IS NULL OR ev.version_name = want_version)
            AND (range_from IS NULL OR ev.received_at >= range_from)
            AND (range_to IS NULL OR ev.received_at < range_to)
            AND (after IS NULL OR (ev.received_at, ev.device_id, ev.action, ev.version_name, ev.ctid)
                 < ((after ->> 0)::timestamptz, (after ->> 1)::uuid, after ->> 2, after ->> 3,
                    coalesce((after ->> 4)::tid, '(0,0)')))
          ORDER BY ev.received_at DESC, ev.device_id DESC, ev.action DESC, ev.version_name DESC, ev.ctid DESC
          LIMIT page_size + 1) AS e;
    rows := coalesce(rows, '[]');
    RETURN jsonb_build_object(
        'events', (SELECT coalesce(jsonb_agg(r - 'ctid' ORDER BY n), '[]')
                   FROM jsonb_array_elements(rows) WITH ORDINALITY AS x(r, n) WHERE n <= page_size),
        'next_cursor', CASE WHEN jsonb_array_length(rows) > page_size THEN
            -- URL-safe base64 without padding or line breaks, so it goes into a query string as it is.
            translate(encode(convert_to(jsonb_build_array(rows -> (page_size - 1) -> 'received_at',
                                                          rows -> (page_size - 1) -> 'device_id',
                                                          rows -> (page_size - 1) -> 'action',
                                                          rows -> (page_size - 1) -> 'version_name',
                                                          rows -> (page_size - 1) -> 'ctid')::text, 'UTF8'),
                             'base64'), E'+/=\n', '-_') END);
END
$$;
COMMENT ON FUNCTION liveupdate.api_list_events(jsonb) IS
    'Management API: an app''s device events, newest first. {app_id, action?, device_id?, version?, from?, to? (timestamps; from inclusive, to exclusive), cursor?, limit? (1-1000, default 100)} → {events, next_cursor}.';

-- What POST /updates would answer a device, and why, without recording anything (resolve_update
-- is read-only; the gateway records device state only on the real path). `request` is the
-- plugin's body (app_id given by the path). The answer and `why` come from one lookup in Rust
-- (_explain_update, extension/src/explain.rs): the channel the device falls to and how (override,
-- its defaultChannel, the platform's public channel, or none) and, when that channel runs a
-- rollout, the device's bucket and whether it is inside.
CREATE FUNCTION liveupdate.api_preview_update(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, request}');
    app_id text := liveupdate._required_text(fields, 'app_id');
    app_pk bigint := liveupdate._app_pk(app_id);
    request jsonb := fields -> 'request';
BEGIN
    IF jsonb_typeof(request) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'field "request" must be the update check''s JSON object' USING ERRCODE = '22023';
    END IF;
    IF request ? 'app_id' AND request ->> 'app_id' IS DISTINCT FROM app_id THEN
        RAISE EXCEPTION '"app_id" is given by the path' USING ERRCODE = '22023';
    END IF;
    request := request || jsonb_build_object('app_id', app_id);
    RETURN jsonb_build_object('request', request) || liveupdate._explain_update(request);
END
$$;
COMMENT ON FUNCTION liveupdate.api_preview_update(jsonb) IS
    'Management API: the answer POST /updates would give a device and why (channel and how it was chosen, rollout bucket), recording nothing (read rights). {app_id, request: update check body} → {request, answer, why}.';
-- Bundles show the size of their stored zip (archive_bytes), for the console's bundle list.
CREATE OR REPLACE FUNCTION liveupdate._bundle_json(b liveupdate.bundles) RETURNS jsonb
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

-- As privileges.sql does at install: nothing new is callable by PUBLIC.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA liveupdate FROM PUBLIC;

-- Issue 13: channel eligibility and the override write have one home, in Rust -------------------
-- /channel_self, the SQL API and (through it) the management API write overrides through the
-- extension's overrides.rs; the wrappers below keep the rights checks and name lookups.
CREATE FUNCTION liveupdate._write_device_override(app_pk bigint, device_id uuid, channel_pk bigint)
RETURNS void STRICT VOLATILE PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c AS 'MODULE_PATHNAME', 'write_device_override_wrapper';
CREATE FUNCTION liveupdate._remove_device_override(app_pk bigint, device_id uuid)
RETURNS boolean STRICT VOLATILE PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c AS 'MODULE_PATHNAME', 'remove_device_override_wrapper';
REVOKE EXECUTE ON FUNCTION liveupdate._write_device_override(bigint, uuid, bigint),
    liveupdate._remove_device_override(bigint, uuid) FROM PUBLIC;
CREATE OR REPLACE FUNCTION liveupdate.set_device_override(app_id text, device_id text, channel text) RETURNS void
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
CREATE OR REPLACE FUNCTION liveupdate.remove_device_override(app_id text, device_id text) RETURNS boolean
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

-- Issue 13: input checks have one definition, the core crate's (validators.rs) -----------------
-- SHA-256 digests follow the protocol: stored and compared lowercase; uploaders' plain digests in
-- any case are stored in that form by _canonical_*. Stored data needs no change: the tables'
-- CHECKs have used the same lowercase-only definition since 0.1.0.
CREATE FUNCTION liveupdate._canonical_bundle_checksum(value text) RETURNS text
IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'canonical_bundle_checksum_wrapper';
CREATE FUNCTION liveupdate._canonical_file_hash(value text) RETURNS text
IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'canonical_file_hash_wrapper';
CREATE FUNCTION liveupdate._is_sha256_hex(value text) RETURNS boolean
IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'is_sha256_hex_wrapper';
CREATE FUNCTION liveupdate._is_uuid(value text) RETURNS boolean
IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'is_uuid_wrapper';
REVOKE EXECUTE ON FUNCTION liveupdate._canonical_bundle_checksum(text), liveupdate._canonical_file_hash(text),
    liveupdate._is_sha256_hex(text), liveupdate._is_uuid(text) FROM PUBLIC;
COMMENT ON FUNCTION liveupdate._canonical_bundle_checksum(text) IS 'The stored form of a bundle checksum (plain hex lowercased), NULL when it is none.';
COMMENT ON FUNCTION liveupdate._canonical_file_hash(text) IS 'The stored form of a manifest file hash (plain hex lowercased), NULL when it is none.';
COMMENT ON FUNCTION liveupdate._is_sha256_hex(text) IS 'True for a plain SHA-256 digest: 64 lowercase hex digits.';
COMMENT ON FUNCTION liveupdate._is_uuid(text) IS 'True for a UUID in any case, as devices send their ids.';
CREATE OR REPLACE FUNCTION liveupdate._device_uuid(device_id text) RETURNS uuid
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
CREATE OR REPLACE FUNCTION liveupdate.register_bundle(
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
CREATE OR REPLACE FUNCTION liveupdate.record_device_checks(checks jsonb) RETURNS integer
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
CREATE OR REPLACE FUNCTION liveupdate._presented_key_hash() RETURNS bytea
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hashed text := nullif(current_setting('liveupdate.api_key_sha256', true), '');
    plain text := coalesce(
        nullif(current_setting('liveupdate.api_key', true), ''),
        nullif(current_setting('request.headers', true), '')::jsonb ->> 'x-api-key');
BEGIN
    IF hashed IS NOT NULL THEN
        -- A malformed hash matches no key (key_hash is always 32 bytes).
        RETURN CASE WHEN liveupdate._is_sha256_hex(hashed) THEN decode(hashed, 'hex') ELSE '\x'::bytea END;
    END IF;
    RETURN sha256(convert_to(plain, 'UTF8'));
END
$$;
CREATE OR REPLACE FUNCTION liveupdate._caller_user() RETURNS uuid
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    subject text := nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub';
BEGIN
    IF subject IS NULL OR NOT liveupdate._is_uuid(subject) THEN
        RETURN NULL;
    END IF;
    RETURN subject::uuid;
END
$$;
CREATE OR REPLACE FUNCTION liveupdate.authenticate_key(key_sha256 text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key liveupdate.api_keys;
BEGIN
    IF liveupdate._is_sha256_hex(key_sha256) THEN
        SELECT * INTO key FROM liveupdate.api_keys AS k
        WHERE k.key_hash = decode(key_sha256, 'hex')
          AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now());
    END IF;
    IF key.id IS NULL THEN
        RAISE EXCEPTION 'invalid API key' USING ERRCODE = '28000';
    END IF;
    UPDATE liveupdate.api_keys SET last_used_at = now()
    WHERE id = key.id AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');
    RETURN jsonb_build_object('organization_id', key.organization_id, 'key_id', key.id, 'mode', key.mode,
        'app_ids', to_jsonb(key.app_ids));
END
$$;
CREATE OR REPLACE FUNCTION liveupdate.api_check_upload(input jsonb) RETURNS jsonb
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

-- Issue 13: the bookkeeping triggers are Rust #[pg_trigger] functions (triggers.rs) ---------------
CREATE OR REPLACE FUNCTION liveupdate._record_deploy() RETURNS trigger
LANGUAGE c VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'record_deploy_wrapper';
CREATE OR REPLACE FUNCTION liveupdate._create_channel_guard() RETURNS trigger
LANGUAGE c VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'create_channel_guard_wrapper';
CREATE OR REPLACE FUNCTION liveupdate._keep_used_objects() RETURNS trigger
LANGUAGE c VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'keep_used_objects_wrapper';

-- Issue 13: the rollups' and the failure guard's orchestration in Rust (rollups.rs, guard.rs) -----
-- aggregate_stats and _aggregate_chunk keep their signatures and settings; the chunk's statements
-- moved to sql/rollups/. run_guard returns the decisions _run_guard recorded; whether figures cross
-- a limit is _guard_limit_crossed (the core crate's rule).
CREATE OR REPLACE FUNCTION liveupdate._aggregate_chunk(from_time timestamptz, to_time timestamptz) RETURNS bigint
LANGUAGE c VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
SET work_mem = '128MB'
AS 'MODULE_PATHNAME', 'aggregate_chunk_wrapper';
CREATE OR REPLACE FUNCTION liveupdate.aggregate_stats() RETURNS jsonb
LANGUAGE c VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET TimeZone = 'UTC'
AS 'MODULE_PATHNAME', 'aggregate_stats_wrapper';
CREATE FUNCTION liveupdate._guard_limit_crossed(attempts bigint, failures bigint, lower_bound double precision,
    min_attempts integer, min_failures integer, max_failure_rate double precision) RETURNS boolean
IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'guard_limit_crossed_wrapper';
CREATE FUNCTION liveupdate._run_guard() RETURNS bigint[]
STRICT VOLATILE PARALLEL UNSAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c AS 'MODULE_PATHNAME', 'run_guard_wrapper';
CREATE OR REPLACE FUNCTION liveupdate._guard_verdicts(now_at timestamptz)
RETURNS TABLE (channel_id bigint, target text, bundle_id bigint, rollout_id bigint, action text,
               attempts bigint, failures bigint, lower_bound double precision, max_failure_rate double precision,
               confidence double precision, counted_since timestamptz, crossed boolean)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH targets AS (
        SELECT c.id AS channel_id, c.app_id, 'deploy'::text AS target, c.bundle_id, NULL::bigint AS rollout_id,
               g.deploy_action AS action,
               greatest(c.bundle_changed_at, now_at - make_interval(mins => g.window_minutes)) AS since,
               g.max_failure_rate, g.confidence, g.min_attempts, g.min_failures
        FROM liveupdate.channels AS c JOIN liveupdate.channel_guards AS g ON g.channel_id = c.id
        WHERE c.bundle_id IS NOT NULL AND g.deploy_action <> 'off'
          AND c.bundle_changed_at > now_at - make_interval(mins => g.watch_minutes)
        UNION ALL
        SELECT c.id, c.app_id, 'rollout', c.rollout_bundle_id, c.rollout_id, g.rollout_action,
               greatest(c.rollout_started_at, now_at - make_interval(mins => g.window_minutes)),
               g.max_failure_rate, g.confidence, g.min_attempts, g.min_failures
        FROM liveupdate.channels AS c JOIN liveupdate.channel_guards AS g ON g.channel_id = c.id
        WHERE c.rollout_bundle_id IS NOT NULL AND NOT c.rollout_paused AND c.rollout_basis_points > 0
          AND g.rollout_action <> 'off'
    ), reports AS (
        -- Devices, not events: a device that installs the bundle and then reports it failing is
        -- one attempt and one failure.
        SELECT t.channel_id, t.target,
               count(DISTINCT e.device_id) AS attempts,
               count(DISTINCT e.device_id) FILTER (WHERE liveupdate._is_failure_action(e.action)) AS failures
        FROM targets AS t
        JOIN liveupdate.device_events AS e
          ON e.app_id = t.app_id AND e.bundle_id = t.bundle_id AND e.received_at >= t.since
        WHERE e.received_at >= (SELECT min(x.since) FROM targets AS x)
          AND liveupdate._counts_for_versions(e.is_prod, e.is_emulator)
          AND (e.action = 'set' OR liveupdate._is_failure_action(e.action))
        GROUP BY t.channel_id, t.target
    )
    SELECT t.channel_id, t.target, t.bundle_id, t.rollout_id, t.action, r.attempts, r.failures, b.bound,
           t.max_failure_rate, t.confidence, t.since,
           liveupdate._guard_limit_crossed(r.attempts, r.failures, b.bound, t.min_attempts, t.min_failures,
                                           t.max_failure_rate)
    FROM targets AS t
    JOIN reports AS r ON r.channel_id = t.channel_id AND r.target = t.target
    CROSS JOIN LATERAL (SELECT coalesce(liveupdate._wilson_lower_bound(r.failures, r.attempts, t.confidence), 0) AS bound) AS b
$$;
CREATE FUNCTION liveupdate._guard_roll_back(app_id text, channel text, OUT restored text, OUT refusal text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    BEGIN
        PERFORM set_config('liveupdate.deploy_reason', 'guard', true);
        restored := liveupdate.rollback_channel(app_id, channel);
    EXCEPTION WHEN object_not_in_prerequisite_state OR SQLSTATE 'LU001' THEN
        refusal := SQLERRM;
    END;
    PERFORM set_config('liveupdate.deploy_reason', '', true);
END
$$;
CREATE OR REPLACE FUNCTION liveupdate.run_guard() RETURNS SETOF liveupdate.guard_events
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    decisions bigint[] := liveupdate._run_guard();
BEGIN
    RETURN QUERY SELECT e.* FROM liveupdate.guard_events AS e WHERE e.id = ANY (decisions)
        ORDER BY array_position(decisions, e.id);
END
$$;
REVOKE EXECUTE ON FUNCTION liveupdate._guard_limit_crossed(bigint, bigint, double precision, integer, integer, double precision),
    liveupdate._run_guard(), liveupdate._guard_roll_back(text, text) FROM PUBLIC;

-- Issue 13 (typed operations): the management functions' comments list every field their
-- _input accepts (a test in extension/api compares them).
COMMENT ON FUNCTION liveupdate.api_update_app(jsonb) IS
    'Management API: changes an app''s settings (require_signature: admin rights). {app_id, name?, expose_metadata?, allow_custom_id?, bundle_retention_days?, require_signature?} → app.';
COMMENT ON FUNCTION liveupdate.api_create_channel(jsonb) IS
    'Management API: creates a channel with any of its flags and a bundle ("builtin" by default). {app_id, name, bundle?, public?, ios?, android?, electron?, allow_device_self_set?, allow_emulator?, allow_device?, allow_dev?, allow_prod?, disable_auto_update?, disable_auto_update_under_native?} → channel.';
COMMENT ON FUNCTION liveupdate.api_update_channel(jsonb) IS
    'Management API: changes a channel''s flags, name and deployed bundle. {app_id, channel, name?, bundle?, public?, ios?, android?, electron?, allow_device_self_set?, allow_emulator?, allow_device?, allow_dev?, allow_prod?, disable_auto_update?, disable_auto_update_under_native?} → channel.';
COMMENT ON FUNCTION liveupdate.api_register_bundle(jsonb) IS
    'Management API: registers a bundle by external URL and/or manifest (upload rights). {app_id, version, external_url?, checksum?, session_key?, key_id?, min_update_version?, link?, comment?, manifest?, signature?, signer?} → bundle.';
COMMENT ON FUNCTION liveupdate.api_check_upload(jsonb) IS
    'Management API: before an archive upload, checks upload rights, the fields, the version (semver, unused) and, with channel, write rights and the channel. {app_id, version, channel?, min_update_version?, link?, comment?, signature?, signer?, session_key?, checksum?, key_id?} → {ok}.';
COMMENT ON FUNCTION liveupdate.api_register_upload(jsonb) IS
    'Management API: registers an archive the gateway stored and optionally deploys it to channel, in one transaction: api_check_upload''s fields and the gateway''s (zip storage_key, archive_bytes, checksum, manifest of {file_name, file_hash, file_size, storage_key}). {app_id, version, storage_key, archive_bytes?, checksum?, min_update_version?, link?, comment?, manifest, channel?, signature?, signer?, session_key?, key_id?} → bundle.';

-- Issue 13 (typed operations): adding a signing key answers the key as stored (with created_at
-- and revoked_at), as listing does, not an echo of the request.
CREATE OR REPLACE FUNCTION liveupdate.api_add_signing_key(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, name, public_key}');
BEGIN
    PERFORM liveupdate.add_signing_key(liveupdate._required_text(fields, 'app_id'),
        liveupdate._required_text(fields, 'name'), liveupdate._required_text(fields, 'public_key'));
    -- The key as stored and as api_list_signing_keys shows it.
    RETURN (SELECT jsonb_build_object('name', k.name, 'public_key', encode(k.public_key, 'base64'),
            'created_at', k.created_at, 'revoked_at', k.revoked_at)
        FROM liveupdate.signing_keys AS k
        WHERE k.app_id = liveupdate._app_pk(fields ->> 'app_id') AND k.name = fields ->> 'name');
END
$$;

-- Issue 13: a device's channel is chosen by one rule, the core crate's -----------------------------
-- resolve_update applies it in Rust to resolve.sql's candidates (embedded in the library: no step
-- here); the statistics' channel attribution (sql/rollups/versions.sql, also embedded) and
-- api_channel_devices call it as _channel_selectable_by_name: a named channel counts only when the
-- device may select it, and the public channel only when the device names none, as /updates
-- decides. api_preview_update takes its answer and `why` from one Rust lookup (_explain_update)
-- instead of restating the choice in SQL. (Both functions are new in 0.3.0: step 2 creates them as
-- they are now, as it does api_list_events, whose cursor tells twin events apart by ctid.)
CREATE FUNCTION liveupdate._channel_selectable_by_name(public boolean, allow_device_self_set boolean,
    ios boolean, android boolean, electron boolean, platform text) RETURNS boolean
IMMUTABLE STRICT PARALLEL SAFE LANGUAGE c AS 'MODULE_PATHNAME', 'channel_selectable_by_name_wrapper';
CREATE FUNCTION liveupdate._explain_update(request jsonb) RETURNS jsonb
STABLE STRICT PARALLEL SAFE
SET search_path TO pg_catalog, pg_temp
LANGUAGE c AS 'MODULE_PATHNAME', 'explain_update_wrapper';
REVOKE EXECUTE ON FUNCTION liveupdate._channel_selectable_by_name(boolean, boolean, boolean, boolean, boolean, text),
    liveupdate._explain_update(jsonb) FROM PUBLIC;

-- A periodic run takes the event partitions' lock before it reads device_events: taken after the
-- rollups' reads, a run and the first POST /stats into a day without its partition deadlocked.
CREATE OR REPLACE FUNCTION liveupdate.run_periodic() RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    started timestamptz := clock_timestamp();
    keep_days integer := coalesce(nullif(current_setting('liveupdate.event_retention_days', true), ''), '90')::integer;
    summary jsonb;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('liveupdate.run_periodic')) THEN
        RETURN jsonb_build_object('skipped', true);
    END IF;
    -- The event partitions' lock before anything reads device_events, in the order the stats path
    -- takes them (ensure_event_partitions: this lock, then the table for a new partition). Taken
    -- later, after the rollups' reads, a run and the first POST /stats into a day without its
    -- partition each waited for the other (deadlock).
    PERFORM pg_advisory_xact_lock(hashtext('liveupdate.device_events partitions'));
    -- Rollups next: their safe bound must be taken before this transaction does anything else.
    summary := jsonb_build_object('stats', liveupdate.aggregate_stats());
    summary := summary || jsonb_build_object(
        'partitions_created', liveupdate.ensure_event_partitions(3),
        'partitions_dropped', (SELECT coalesce(jsonb_agg(p), '[]') FROM liveupdate.drop_event_partitions(keep_days) AS p));
    summary := summary || jsonb_build_object('guard', (
        SELECT coalesce(jsonb_agg(jsonb_build_object('channel_id', g.channel_id, 'target', g.target,
                                                     'version', g.version_name, 'action', g.action,
                                                     'outcome', g.outcome)), '[]')
        FROM liveupdate.run_guard() AS g));
    summary := summary || jsonb_build_object('bundles', liveupdate.purge_bundles());
    INSERT INTO liveupdate.periodic_runs (started_at, finished_at, runner, summary)
    VALUES (started, clock_timestamp(),
            -- pg_cron's background workers have no application_name, but their own backend type.
            coalesce(nullif(current_setting('application_name'), ''),
                     (SELECT a.backend_type FROM pg_stat_activity AS a
                      WHERE a.pid = pg_backend_pid() AND a.backend_type <> 'client backend'),
                     session_user),
            summary);
    DELETE FROM liveupdate.periodic_runs AS r WHERE r.started_at < started - interval '7 days';
    RETURN summary;
END
$$;


-- A plain pg_restore (outside replica mode) is told how to restore at the first bundle, instead
-- of meeting whichever rule the table order breaks first.
CREATE OR REPLACE FUNCTION liveupdate._bundle_insert_rules() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- pg_restore outside replica mode: bundles arrive before their files and signing keys, so the
    -- rules below would refuse rows that were checked when first written. Say how to restore.
    IF current_setting('application_name') = 'pg_restore' THEN
        RAISE EXCEPTION 'liveupdate''s tables are restored with their rules off (replica mode)' USING ERRCODE = '55000',
            HINT = 'PGOPTIONS=''-c session_replication_role=replica'' pg_restore ... (README, Backups): the tables '
                   'arrive one at a time, and their rows were checked when first written.';
    END IF;
    IF NEW.deleted_at IS NOT NULL OR NEW.purged_at IS NOT NULL THEN
        RAISE EXCEPTION 'a new bundle cannot be deleted or purged already' USING ERRCODE = '22023';
    END IF;
    PERFORM liveupdate._check_bundle_signature(NEW.app_id, NEW.name, NEW.checksum, NEW.signature, NEW.signed_by);
    RETURN NEW;
END
$$;
