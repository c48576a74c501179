-- Progressive rollouts (see liveupdate_core::rollout for who is inside): a channel carries a second
-- bundle served to a share of its devices. Start, change the share, pause, resume, promote (the
-- rollout's bundle becomes the channel's, recorded in deploy history) or abandon.

CREATE SEQUENCE liveupdate.rollout_ids;
COMMENT ON SEQUENCE liveupdate.rollout_ids IS 'Ids of rollouts: each new rollout draws a new sample of devices.';
SELECT pg_catalog.pg_extension_config_dump('liveupdate.rollout_ids', '');

-- The channel's live rollout row; 55000 when it has none.
CREATE FUNCTION liveupdate._rollout_channel(app_id text, channel text) RETURNS liveupdate.channels
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(app_id);
    found liveupdate.channels;
BEGIN
    SELECT * INTO found FROM liveupdate.channels AS c WHERE c.id = liveupdate._channel_pk(app_pk, channel);
    PERFORM liveupdate._require_app_rank(app_pk, 3);
    IF found.rollout_bundle_id IS NULL THEN
        RAISE EXCEPTION 'channel "%" has no rollout', channel USING ERRCODE = '55000';
    END IF;
    RETURN found;
END
$$;

CREATE FUNCTION liveupdate.start_rollout(app_id text, channel text, bundle text, basis_points integer)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(app_id);
    channel_pk bigint := liveupdate._channel_pk(app_pk, channel);
    bundle_pk bigint := liveupdate._live_bundle_pk(app_pk, bundle);
BEGIN
    PERFORM liveupdate._require_app_rank(app_pk, 3);
    IF bundle_pk IS NULL THEN
        RAISE EXCEPTION 'a rollout needs a bundle' USING ERRCODE = '22023';
    END IF;
    IF basis_points IS NULL OR basis_points NOT BETWEEN 0 AND 10000 THEN
        RAISE EXCEPTION 'basis_points must be 0 to 10000 (100 = 1%%)' USING ERRCODE = '22023';
    END IF;
    IF bundle_pk = (SELECT c.bundle_id FROM liveupdate.channels AS c WHERE c.id = channel_pk) THEN
        RAISE EXCEPTION 'bundle "%" is already the channel''s bundle', bundle USING ERRCODE = '22023';
    END IF;
    UPDATE liveupdate.channels
    SET rollout_bundle_id = bundle_pk, rollout_id = nextval('liveupdate.rollout_ids'),
        rollout_basis_points = basis_points, rollout_paused = false, rollout_started_at = clock_timestamp(),
        updated_at = now()
    WHERE id = channel_pk;
END
$$;
COMMENT ON FUNCTION liveupdate.start_rollout(text, text, text, integer) IS
    'Starts (or restarts, with a new sample) a progressive rollout of a bundle to basis_points/10000 of the channel''s devices.';

CREATE FUNCTION liveupdate.set_rollout(app_id text, channel text, basis_points integer DEFAULT NULL,
                                       paused boolean DEFAULT NULL) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    current liveupdate.channels := liveupdate._rollout_channel(app_id, channel);
BEGIN
    IF basis_points NOT BETWEEN 0 AND 10000 THEN
        RAISE EXCEPTION 'basis_points must be 0 to 10000 (100 = 1%%)' USING ERRCODE = '22023';
    END IF;
    UPDATE liveupdate.channels AS c
    SET rollout_basis_points = coalesce(set_rollout.basis_points, c.rollout_basis_points),
        rollout_paused = coalesce(set_rollout.paused, c.rollout_paused), updated_at = now()
    WHERE c.id = current.id;
END
$$;
COMMENT ON FUNCTION liveupdate.set_rollout(text, text, integer, boolean) IS
    'Changes a rollout''s share (raising only adds devices, lowering only stops offering it to those above the line) or pauses/resumes it (a paused rollout selects nobody new). Devices already running its bundle keep it either way; end_rollout moves them back.';

CREATE FUNCTION liveupdate.end_rollout(app_id text, channel text, promote boolean) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    current liveupdate.channels := liveupdate._rollout_channel(app_id, channel);
BEGIN
    UPDATE liveupdate.channels
    SET rollout_bundle_id = NULL, rollout_id = NULL, rollout_basis_points = 0, rollout_paused = false,
        rollout_started_at = NULL, updated_at = now()
    WHERE id = current.id;
    IF promote THEN
        PERFORM liveupdate.set_channel_bundle(app_id, channel,
            (SELECT b.name FROM liveupdate.bundles AS b WHERE b.id = current.rollout_bundle_id));
    END IF;
END
$$;
COMMENT ON FUNCTION liveupdate.end_rollout(text, text, boolean) IS
    'Ends a rollout: promote makes its bundle the channel''s for every device (a deploy); otherwise it is abandoned.';

CREATE FUNCTION liveupdate.api_rollout(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, channel, action, bundle, basis_points}');
    app_id text := liveupdate._required_text(fields, 'app_id');
    channel text := liveupdate._required_text(fields, 'channel');
    basis_points integer := liveupdate._int_field(fields, 'basis_points', 0, 10000)::integer;
BEGIN
    CASE liveupdate._required_text(fields, 'action')
        WHEN 'start' THEN
            PERFORM liveupdate.start_rollout(app_id, channel, liveupdate._required_text(fields, 'bundle'),
                coalesce(basis_points, -1));
        WHEN 'set' THEN PERFORM liveupdate.set_rollout(app_id, channel, basis_points);
        WHEN 'pause' THEN PERFORM liveupdate.set_rollout(app_id, channel, paused => true);
        WHEN 'resume' THEN PERFORM liveupdate.set_rollout(app_id, channel, paused => false);
        WHEN 'promote' THEN PERFORM liveupdate.end_rollout(app_id, channel, true);
        WHEN 'abandon' THEN PERFORM liveupdate.end_rollout(app_id, channel, false);
        ELSE RAISE EXCEPTION 'action must be start, set, pause, resume, promote or abandon' USING ERRCODE = '22023';
    END CASE;
    RETURN liveupdate.api_get_channel(jsonb_build_object('app_id', app_id, 'channel', channel));
END
$$;
COMMENT ON FUNCTION liveupdate.api_rollout(jsonb) IS
    'Management API: a channel''s progressive rollout. {app_id, channel, action: start|set|pause|resume|promote|abandon, bundle?, basis_points?} → channel.';
