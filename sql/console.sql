-- What the web console (/console) reads beyond the other management operations: an overview of
-- the caller's apps, the devices on each bundle of a channel (a rollout's live share), a bundle's
-- file list, an app's raw events, and a dry run of an update check. Like every api_* operation:
-- JSON object in, JSON out, SECURITY INVOKER, so row-level security and the rank checks decide.

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
