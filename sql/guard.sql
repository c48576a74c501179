-- The automatic failure guard: on every periodic run (run_periodic), for each channel's recent deployment
-- and each running rollout, the share of devices that tried the bundle and reported a failure is
-- judged by the lower bound of its Wilson score interval. When that bound exceeds the channel's
-- limit, with enough attempts and failures, and no decision was made on the channel within its
-- cooldown, the guard acts (pauses or abandons the rollout, rolls the channel back, or only
-- records an alert) and records what it did and why, in the same transaction: a decision is
-- never applied twice, whatever restarts around it.

CREATE TABLE liveupdate.channel_guards (
    channel_id        bigint PRIMARY KEY,
    app_id            bigint NOT NULL,
    deploy_action     text NOT NULL DEFAULT 'rollback' CHECK (deploy_action IN ('off', 'alert', 'rollback')),
    rollout_action    text NOT NULL DEFAULT 'pause' CHECK (rollout_action IN ('off', 'alert', 'pause', 'rollback')),
    max_failure_rate  double precision NOT NULL DEFAULT 0.2 CHECK (max_failure_rate > 0 AND max_failure_rate < 1),
    confidence        double precision NOT NULL DEFAULT 0.95 CHECK (confidence >= 0.5 AND confidence < 1),
    min_attempts      integer NOT NULL DEFAULT 50 CHECK (min_attempts BETWEEN 1 AND 1000000),
    min_failures      integer NOT NULL DEFAULT 10 CHECK (min_failures BETWEEN 1 AND 1000000),
    window_minutes    integer NOT NULL DEFAULT 60 CHECK (window_minutes BETWEEN 1 AND 10080),
    watch_minutes     integer NOT NULL DEFAULT 1440 CHECK (watch_minutes BETWEEN 1 AND 43200),
    cooldown_minutes  integer NOT NULL DEFAULT 60 CHECK (cooldown_minutes BETWEEN 0 AND 10080),
    FOREIGN KEY (app_id, channel_id) REFERENCES liveupdate.channels (app_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE liveupdate.channel_guards IS 'The failure guard''s settings, one row per channel (created with it, defaults below).';
COMMENT ON COLUMN liveupdate.channel_guards.deploy_action IS 'When the channel''s deployed bundle fails: rollback (to the bundle deployed before it), alert (record only) or off.';
COMMENT ON COLUMN liveupdate.channel_guards.rollout_action IS 'When the rollout''s bundle fails: pause, rollback (abandon the rollout: its devices return to the channel''s bundle), alert or off.';
COMMENT ON COLUMN liveupdate.channel_guards.max_failure_rate IS 'The share of devices failing that is too many, compared with the Wilson lower bound.';
COMMENT ON COLUMN liveupdate.channel_guards.confidence IS 'Two-sided confidence of the Wilson interval (0.95: z = 1.96).';
COMMENT ON COLUMN liveupdate.channel_guards.min_attempts IS 'Devices that must have tried the bundle (installed it or reported a failure) before judging.';
COMMENT ON COLUMN liveupdate.channel_guards.min_failures IS 'Devices that must have reported a failure before acting.';
COMMENT ON COLUMN liveupdate.channel_guards.window_minutes IS 'Reports of the last window_minutes count (and none from before the deployment or rollout).';
COMMENT ON COLUMN liveupdate.channel_guards.watch_minutes IS 'A deployment is watched for this long after it was made; rollouts for as long as they run.';
COMMENT ON COLUMN liveupdate.channel_guards.cooldown_minutes IS 'After a decision on the channel, none for this long.';
SELECT pg_catalog.pg_extension_config_dump('liveupdate.channel_guards', '');

CREATE TABLE liveupdate.guard_events (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id            bigint NOT NULL REFERENCES liveupdate.apps (id) ON DELETE CASCADE,
    channel_id        bigint NOT NULL REFERENCES liveupdate.channels (id) ON DELETE CASCADE,
    target            text NOT NULL CHECK (target IN ('deploy', 'rollout')),
    version_name      text NOT NULL,
    rollout_id        bigint,
    action            text NOT NULL CHECK (action IN ('alert', 'pause', 'rollback')),
    outcome           text NOT NULL,
    attempts          bigint NOT NULL,
    failures          bigint NOT NULL,
    lower_bound       double precision NOT NULL,
    max_failure_rate  double precision NOT NULL,
    confidence        double precision NOT NULL,
    counted_since     timestamptz NOT NULL,
    decided_at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX guard_events_channel_idx ON liveupdate.guard_events (channel_id, decided_at DESC);
COMMENT ON TABLE liveupdate.guard_events IS 'Every decision of the failure guard: what it judged (attempts, failures, Wilson lower bound against the limit, since when) and what it did.';
COMMENT ON COLUMN liveupdate.guard_events.outcome IS 'What happened, in words (rolled back to 1.2.0, rollout paused, alert only, or why an action could not be taken).';
COMMENT ON COLUMN liveupdate.guard_events.target IS 'deploy (the channel''s bundle) or rollout (its rollout bundle).';
COMMENT ON COLUMN liveupdate.guard_events.version_name IS 'The bundle judged.';
COMMENT ON COLUMN liveupdate.guard_events.rollout_id IS 'The rollout judged, for target rollout.';
COMMENT ON COLUMN liveupdate.guard_events.action IS 'What the guard did: alert (recorded only), pause or rollback.';
COMMENT ON COLUMN liveupdate.guard_events.attempts IS 'Devices that installed the bundle or reported it failing within the window.';
COMMENT ON COLUMN liveupdate.guard_events.failures IS 'Of those, devices that reported a failure.';
COMMENT ON COLUMN liveupdate.guard_events.lower_bound IS 'Wilson lower bound of failures/attempts at the confidence.';
COMMENT ON COLUMN liveupdate.guard_events.max_failure_rate IS 'The channel''s limit at the time.';
COMMENT ON COLUMN liveupdate.guard_events.confidence IS 'The confidence used.';
COMMENT ON COLUMN liveupdate.guard_events.counted_since IS 'Reports received since this time were counted.';
COMMENT ON COLUMN liveupdate.guard_events.decided_at IS 'When the guard decided.';
SELECT pg_catalog.pg_extension_config_dump('liveupdate.guard_events', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.guard_events_id_seq', '');

ALTER TABLE liveupdate.channel_guards ENABLE ROW LEVEL SECURITY;
CREATE POLICY channel_guards_read ON liveupdate.channel_guards FOR SELECT
    USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(1))::bigint[]));
CREATE POLICY channel_guards_write ON liveupdate.channel_guards FOR UPDATE
    USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(3))::bigint[]))
    WITH CHECK (app_id = ANY ((SELECT liveupdate.caller_app_ids(3))::bigint[]));
ALTER TABLE liveupdate.guard_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY guard_events_read ON liveupdate.guard_events FOR SELECT
    USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(1))::bigint[]));

-- Rust (triggers.rs). SECURITY DEFINER: whoever may create a channel gets its guard row with it.
CREATE FUNCTION liveupdate._create_channel_guard() RETURNS trigger
LANGUAGE c VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'create_channel_guard_wrapper';
CREATE TRIGGER channels_guard AFTER INSERT ON liveupdate.channels
    FOR EACH ROW EXECUTE FUNCTION liveupdate._create_channel_guard();

-- What the guard would judge now: one row per watched deployment or running rollout that has
-- reports, with its figures and whether they cross the limit.
CREATE FUNCTION liveupdate._guard_verdicts(now_at timestamptz)
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

-- The guard's rollback (extension/src/guard.rs runs the guard): rollback_channel, recorded in the
-- deploy history as the guard's. A refusal (55000: nothing to go back to, or it was deleted; LU001:
-- it is unsigned and the app now requires signatures, see integrity.sql) comes back as refusal
-- instead of failing the run: catching it takes a subtransaction, which this block provides.
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

-- Judges every watched deployment and running rollout and acts on those failing; returns the
-- decisions made. Never overlaps itself. The run is Rust (_run_guard, extension/src/guard.rs);
-- this returns the rows it recorded.
CREATE FUNCTION liveupdate.run_guard() RETURNS SETOF liveupdate.guard_events
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
COMMENT ON FUNCTION liveupdate.run_guard() IS
    'The failure guard: judges each watched deployment and running rollout by the Wilson lower bound of its device failure rate and acts (rollback, pause, alert) where it crosses the channel''s limit; returns the decisions, also kept in guard_events. run_periodic calls it on every run.';

-- Changes a channel's guard settings; NULL leaves a setting as it is.
CREATE FUNCTION liveupdate.set_channel_guard(app_id text, channel text, deploy_action text DEFAULT NULL,
    rollout_action text DEFAULT NULL, max_failure_rate double precision DEFAULT NULL,
    confidence double precision DEFAULT NULL, min_attempts integer DEFAULT NULL, min_failures integer DEFAULT NULL,
    window_minutes integer DEFAULT NULL, watch_minutes integer DEFAULT NULL, cooldown_minutes integer DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(app_id);
    channel_pk bigint := liveupdate._channel_pk(app_pk, channel);
BEGIN
    PERFORM liveupdate._require_app_rank(app_pk, 3);
    UPDATE liveupdate.channel_guards AS g
    SET deploy_action = coalesce(set_channel_guard.deploy_action, g.deploy_action),
        rollout_action = coalesce(set_channel_guard.rollout_action, g.rollout_action),
        max_failure_rate = coalesce(set_channel_guard.max_failure_rate, g.max_failure_rate),
        confidence = coalesce(set_channel_guard.confidence, g.confidence),
        min_attempts = coalesce(set_channel_guard.min_attempts, g.min_attempts),
        min_failures = coalesce(set_channel_guard.min_failures, g.min_failures),
        window_minutes = coalesce(set_channel_guard.window_minutes, g.window_minutes),
        watch_minutes = coalesce(set_channel_guard.watch_minutes, g.watch_minutes),
        cooldown_minutes = coalesce(set_channel_guard.cooldown_minutes, g.cooldown_minutes)
    WHERE g.channel_id = channel_pk;
EXCEPTION
    WHEN check_violation THEN
        RAISE EXCEPTION 'invalid guard setting: actions are off/alert/rollback (deploys) and off/alert/pause/rollback (rollouts); max_failure_rate is in (0, 1), confidence in [0.5, 1), min_attempts and min_failures at least 1, window_minutes 1..10080, watch_minutes 1..43200, cooldown_minutes 0..10080'
            USING ERRCODE = '22023';
END
$$;
COMMENT ON FUNCTION liveupdate.set_channel_guard(text, text, text, text, double precision, double precision, integer, integer, integer, integer, integer) IS
    'Changes a channel''s failure-guard settings (write rights); NULL keeps a setting. See channel_guards for their meaning.';

CREATE FUNCTION liveupdate.api_channel_guard(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, channel, limit}');
    channel_pk bigint := liveupdate._channel_pk(liveupdate._app_pk(liveupdate._required_text(fields, 'app_id')),
                                                liveupdate._required_text(fields, 'channel'));
BEGIN
    RETURN jsonb_build_object(
        'settings', (SELECT to_jsonb(g) - 'channel_id' - 'app_id' FROM liveupdate.channel_guards AS g
                     WHERE g.channel_id = channel_pk),
        'decisions', coalesce((
            SELECT jsonb_agg(to_jsonb(d) - 'app_id' - 'channel_id' ORDER BY d.id DESC)
            FROM (SELECT * FROM liveupdate.guard_events AS e WHERE e.channel_id = channel_pk
                  ORDER BY e.id DESC LIMIT liveupdate._page_limit(fields)) AS d), '[]'));
END
$$;
COMMENT ON FUNCTION liveupdate.api_channel_guard(jsonb) IS
    'Management API: a channel''s failure-guard settings and its latest decisions, newest first. {app_id, channel, limit?} → {settings, decisions}.';

CREATE FUNCTION liveupdate.api_set_channel_guard(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, channel, deploy_action, rollout_action, max_failure_rate,
        confidence, min_attempts, min_failures, window_minutes, watch_minutes, cooldown_minutes}');
BEGIN
    PERFORM liveupdate.set_channel_guard(liveupdate._required_text(fields, 'app_id'),
        liveupdate._required_text(fields, 'channel'),
        deploy_action => liveupdate._text_field(fields, 'deploy_action'),
        rollout_action => liveupdate._text_field(fields, 'rollout_action'),
        max_failure_rate => liveupdate._fraction_field(fields, 'max_failure_rate'),
        confidence => liveupdate._fraction_field(fields, 'confidence'),
        min_attempts => liveupdate._int_field(fields, 'min_attempts', 1, 1000000)::integer,
        min_failures => liveupdate._int_field(fields, 'min_failures', 1, 1000000)::integer,
        window_minutes => liveupdate._int_field(fields, 'window_minutes', 1, 10080)::integer,
        watch_minutes => liveupdate._int_field(fields, 'watch_minutes', 1, 43200)::integer,
        cooldown_minutes => liveupdate._int_field(fields, 'cooldown_minutes', 0, 10080)::integer);
    RETURN liveupdate.api_channel_guard(jsonb_build_object('app_id', fields -> 'app_id', 'channel', fields -> 'channel'));
END
$$;
COMMENT ON FUNCTION liveupdate.api_set_channel_guard(jsonb) IS
    'Management API: changes a channel''s failure-guard settings (write rights). {app_id, channel, deploy_action?, rollout_action?, max_failure_rate?, confidence?, min_attempts?, min_failures?, window_minutes?, watch_minutes?, cooldown_minutes?} → as api_channel_guard.';
