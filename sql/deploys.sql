-- Deploy history and rollback: every change of a channel's bundle is recorded by a trigger (from,
-- to, when, by whom), whichever path made it (DBA API, management API, PostgREST, plain UPDATE);
-- rollback_channel moves a channel back to the bundle it had before its current one.

CREATE TABLE liveupdate.deploy_history (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id          bigint NOT NULL REFERENCES liveupdate.apps (id) ON DELETE CASCADE,
    channel_id      bigint NOT NULL REFERENCES liveupdate.channels (id) ON DELETE CASCADE,
    from_bundle_id  bigint REFERENCES liveupdate.bundles (id) ON DELETE SET NULL,
    to_bundle_id    bigint REFERENCES liveupdate.bundles (id) ON DELETE SET NULL,
    deployed_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    deployed_by     text NOT NULL,
    reason          text NOT NULL DEFAULT 'deploy' CHECK (reason IN ('created', 'deploy', 'rollback', 'guard'))
);
CREATE INDEX deploy_history_channel_idx ON liveupdate.deploy_history (channel_id, id DESC);
COMMENT ON TABLE liveupdate.deploy_history IS 'Every change of a channel''s bundle, written by a trigger on channels.';
COMMENT ON COLUMN liveupdate.deploy_history.from_bundle_id IS 'The bundle before the change; NULL for builtin (or a bundle since removed).';
COMMENT ON COLUMN liveupdate.deploy_history.to_bundle_id IS 'The bundle after the change; NULL for builtin.';
COMMENT ON COLUMN liveupdate.deploy_history.deployed_at IS 'When the change was made (clock time).';
COMMENT ON COLUMN liveupdate.deploy_history.reason IS 'created (the channel''s first bundle), deploy, rollback when rollback_channel made the change, guard when the failure guard rolled the channel back.';
COMMENT ON COLUMN liveupdate.deploy_history.deployed_by IS 'Who made it: key:<api key id>, user:<JWT sub>, role:<database role>, or guard (the failure guard).';
SELECT pg_catalog.pg_extension_config_dump('liveupdate.deploy_history', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.deploy_history_id_seq', '');

ALTER TABLE liveupdate.deploy_history ENABLE ROW LEVEL SECURITY;
CREATE POLICY deploy_history_read ON liveupdate.deploy_history FOR SELECT
    USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(1))::bigint[]));

-- Who is calling, for the record. SECURITY DEFINER: it reads the presented key's id.
CREATE FUNCTION liveupdate._caller_description() RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key_id bigint := (liveupdate._caller_key()).id;
    subject uuid := liveupdate._caller_user();
BEGIN
    IF key_id IS NOT NULL THEN
        RETURN 'key:' || key_id;
    ELSIF subject IS NOT NULL THEN
        RETURN 'user:' || subject;
    END IF;
    RETURN 'role:' || session_user;
END
$$;

-- Rust (triggers.rs). SECURITY DEFINER: callers may change channels but not write history themselves.
CREATE FUNCTION liveupdate._record_deploy() RETURNS trigger
LANGUAGE c VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'record_deploy_wrapper';
CREATE TRIGGER channels_deploy_history AFTER INSERT OR UPDATE OF bundle_id ON liveupdate.channels
    FOR EACH ROW EXECUTE FUNCTION liveupdate._record_deploy();

-- Moves a channel back to the bundle it had before its current one was deployed (builtin when it
-- had none); repeated, it walks further back, as rollbacks themselves are not deployments to
-- return to. Refused (55000) when that bundle was deleted or there is nothing to go back to.
CREATE FUNCTION liveupdate.rollback_channel(app_id text, channel text) RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(app_id);
    channel_pk bigint := liveupdate._channel_pk(app_pk, channel);
    last_deploy liveupdate.deploy_history;
    previous liveupdate.bundles;
BEGIN
    PERFORM liveupdate._require_app_rank(app_pk, 3);
    -- The latest real deployment of what the channel runs now.
    SELECT * INTO last_deploy FROM liveupdate.deploy_history AS h
    WHERE h.channel_id = channel_pk AND h.reason <> 'rollback'
      AND h.to_bundle_id IS NOT DISTINCT FROM (SELECT c.bundle_id FROM liveupdate.channels AS c WHERE c.id = channel_pk)
      AND h.from_bundle_id IS DISTINCT FROM h.to_bundle_id
    ORDER BY h.id DESC LIMIT 1;
    IF last_deploy.id IS NULL OR (last_deploy.from_bundle_id IS NULL AND last_deploy.to_bundle_id IS NULL) THEN
        RAISE EXCEPTION 'channel "%" has no earlier deployment to go back to', channel USING ERRCODE = '55000';
    END IF;
    IF last_deploy.from_bundle_id IS NOT NULL THEN
        SELECT * INTO previous FROM liveupdate.bundles AS b WHERE b.id = last_deploy.from_bundle_id;
    END IF;
    -- The failure guard sets its own reason before calling.
    PERFORM set_config('liveupdate.deploy_reason',
                       coalesce(nullif(current_setting('liveupdate.deploy_reason', true), ''), 'rollback'), true);
    PERFORM liveupdate.set_channel_bundle(app_id, channel, previous.name);
    PERFORM set_config('liveupdate.deploy_reason', '', true);
    RETURN coalesce(previous.name, 'builtin');
END
$$;
COMMENT ON FUNCTION liveupdate.rollback_channel(text, text) IS
    'Points a channel back at the bundle it had before its current deployment (or builtin), and answers it. 55000 when there is none or it was deleted.';

CREATE FUNCTION liveupdate.api_rollback_channel(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, channel}');
    app_id text := liveupdate._required_text(fields, 'app_id');
    channel text := liveupdate._required_text(fields, 'channel');
BEGIN
    PERFORM liveupdate.rollback_channel(app_id, channel);
    RETURN liveupdate.api_get_channel(jsonb_build_object('app_id', app_id, 'channel', channel));
END
$$;
COMMENT ON FUNCTION liveupdate.api_rollback_channel(jsonb) IS
    'Management API: rolls a channel back to its previous bundle (write rights). {app_id, channel} → channel.';

CREATE FUNCTION liveupdate.api_channel_history(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, channel, limit}');
    channel_pk bigint := liveupdate._channel_pk(liveupdate._app_pk(liveupdate._required_text(fields, 'app_id')),
                                                liveupdate._required_text(fields, 'channel'));
BEGIN
    RETURN jsonb_build_object('deploys', coalesce((
        SELECT jsonb_agg(jsonb_build_object(
            'from', coalesce(f.name, CASE WHEN h.from_bundle_id IS NULL AND h.reason <> 'created' THEN 'builtin' END),
            'to', coalesce(t.name, CASE WHEN h.to_bundle_id IS NULL THEN 'builtin' END),
            'to_signed_by', t.signed_by, 'reason', h.reason,
            'deployed_at', h.deployed_at, 'deployed_by', h.deployed_by) ORDER BY h.id DESC)
        FROM (SELECT * FROM liveupdate.deploy_history AS d WHERE d.channel_id = channel_pk
              ORDER BY d.id DESC LIMIT liveupdate._page_limit(fields)) AS h
        LEFT JOIN liveupdate.bundles AS f ON f.id = h.from_bundle_id
        LEFT JOIN liveupdate.bundles AS t ON t.id = h.to_bundle_id), '[]'));
END
$$;
COMMENT ON FUNCTION liveupdate.api_channel_history(jsonb) IS
    'Management API: a channel''s deployments, newest first, with the signer of each deployed bundle. {app_id, channel, limit?} → {deploys}.';
