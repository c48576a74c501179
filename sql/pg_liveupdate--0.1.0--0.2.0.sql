-- pg_liveupdate 0.1.0 → 0.2.0. Run by ALTER EXTENSION pg_liveupdate UPDATE.
--
-- Every change to the schema or to the SQL API between the releases has its step here, so that an
-- upgraded database equals a fresh 0.2.0 install (tests/tests/upgrade.rs compares the two). Then
-- apply migrations/ again: 20261127000300_console_access.sql narrows what console clients may write.

-- 1. Rules that hold for every writer (sql/integrity.sql, new in 0.2.0).

-- Rules that hold for every writer: the SQL API, the management API, PostgREST clients writing the
-- tables directly under row-level security, service_role, and a superuser's plain UPDATE. The
-- functions elsewhere check the same things first only to answer with a precise message; here is
-- where the data refuses. (A superuser can still disable triggers on purpose.)
--
--   bundles       name, content (checksum, session key, key id, URL, storage key, manifest count)
--                 and signature never change after registration; rows are never deleted (except
--                 with their app), so a name stays reserved; deleted_at is set once, never
--                 cleared (only a DBA may move it), and not while a channel serves the bundle;
--                 purged_at is set once, on a deleted bundle, by purge_bundles; a new bundle is
--                 live, signed where the app requires it (LU001), and any signature it carries
--                 verifies with a live key of the app named signed_by (LU002).
--   bundle_files  inserted only with their bundle: never more rows than its manifest_count, and
--                 exactly that many when the registering transaction commits; never changed;
--                 removed only by the purge (or with their app).
--   channels      point only at live bundles, and, where the app requires signatures, at signed
--                 ones (LU001).
--   apps          require_signature changes need admin rank on the app; moving an app to another
--                 organization needs admin rank in both (42501). Superusers, BYPASSRLS roles and
--                 the owner have no rank: they pass, as everywhere else.

-- Who runs as the tables' owner: purge_bundles (SECURITY DEFINER), or a DBA who owns the schema.
CREATE FUNCTION liveupdate._runs_as_owner() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_has_role(current_user, (SELECT c.relowner FROM pg_class AS c WHERE c.oid = 'liveupdate.apps'::regclass), 'USAGE')
$$;

-- The channels serving a bundle (as their bundle or their rollout's), by name; NULL when none.
-- With the caller's rights: whoever may change a bundle sees every channel of its app.
CREATE FUNCTION liveupdate._channels_serving(bundle_pk bigint) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT string_agg(c.name, ', ' ORDER BY c.name) FROM liveupdate.channels AS c
    WHERE c.bundle_id = bundle_pk OR c.rollout_bundle_id = bundle_pk
$$;

-- Bundles ---------------------------------------------------------------------------------------

-- SECURITY DEFINER: the signature check reads the app's signing keys whoever inserts.
CREATE FUNCTION liveupdate._bundle_insert_rules() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.deleted_at IS NOT NULL OR NEW.purged_at IS NOT NULL THEN
        RAISE EXCEPTION 'a new bundle cannot be deleted or purged already' USING ERRCODE = '22023';
    END IF;
    PERFORM liveupdate._check_bundle_signature(NEW.app_id, NEW.name, NEW.checksum, NEW.signature, NEW.signed_by);
    RETURN NEW;
END
$$;
CREATE TRIGGER bundles_insert_rules BEFORE INSERT ON liveupdate.bundles
    FOR EACH ROW EXECUTE FUNCTION liveupdate._bundle_insert_rules();

-- Not SECURITY DEFINER: who may move a deletion time or set purged_at depends on the caller.
CREATE FUNCTION liveupdate._bundle_update_rules() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    serving text;
BEGIN
    -- Devices compare names, and trust what a name once pointed at: these never change.
    IF (NEW.id, NEW.app_id, NEW.name, NEW.checksum, NEW.session_key, NEW.key_id, NEW.external_url,
        NEW.storage_key, NEW.manifest_count, NEW.signature, NEW.signed_by)
       IS DISTINCT FROM
       (OLD.id, OLD.app_id, OLD.name, OLD.checksum, OLD.session_key, OLD.key_id, OLD.external_url,
        OLD.storage_key, OLD.manifest_count, OLD.signature, OLD.signed_by) THEN
        RAISE EXCEPTION 'bundle "%" cannot change its name, content or signature after registration; register a new version',
            OLD.name USING ERRCODE = '55000';
    END IF;
    IF OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN
        RAISE EXCEPTION 'bundle "%" is deleted; a deletion cannot be undone', OLD.name USING ERRCODE = '55000';
    END IF;
    -- The grace period before a purge counts from deleted_at; only a DBA may move it.
    IF OLD.deleted_at <> NEW.deleted_at AND NOT liveupdate._bypasses_rls() THEN
        RAISE EXCEPTION 'bundle "%" is already deleted', OLD.name USING ERRCODE = '55000';
    END IF;
    IF OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN
        serving := liveupdate._channels_serving(OLD.id);
        IF serving IS NOT NULL THEN
            RAISE EXCEPTION 'bundle "%" is deployed on channel(s) %; point them elsewhere first', OLD.name, serving
                USING ERRCODE = '55000';
        END IF;
    END IF;
    IF NEW.purged_at IS DISTINCT FROM OLD.purged_at
       AND (OLD.purged_at IS NOT NULL OR NEW.deleted_at IS NULL OR NOT liveupdate._runs_as_owner()) THEN
        RAISE EXCEPTION 'purged_at is set once, by purge_bundles, on a deleted bundle' USING ERRCODE = '55000';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER bundles_update_rules BEFORE UPDATE ON liveupdate.bundles
    FOR EACH ROW EXECUTE FUNCTION liveupdate._bundle_update_rules();

-- A bundle row goes only with its app (whose deletion removes it first): its name stays taken.
CREATE FUNCTION liveupdate._bundle_delete_rules() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kept text;
BEGIN
    SELECT r.name INTO kept FROM removed AS r WHERE EXISTS (SELECT 1 FROM liveupdate.apps AS a WHERE a.id = r.app_id)
    ORDER BY r.id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'bundle "%" cannot be removed: bundles are soft-deleted (delete_bundle) and their names never reused', kept
            USING ERRCODE = '55000';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER bundles_delete_rules AFTER DELETE ON liveupdate.bundles
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION liveupdate._bundle_delete_rules();

-- At commit, a bundle has exactly the manifest_count files it was registered with: resolution
-- trusts the count, and it closes the bundle to later additions (see below). Only bundles with a
-- manifest are checked; one without can get no files at all.
CREATE FUNCTION liveupdate._bundle_manifest_complete() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Gone again in the same transaction (its app was deleted): nothing to check.
    IF NOT EXISTS (SELECT 1 FROM liveupdate.bundles AS b WHERE b.id = NEW.id) THEN
        RETURN NULL;
    END IF;
    IF (SELECT count(*) FROM liveupdate.bundle_files AS f WHERE f.bundle_id = NEW.id) <> NEW.manifest_count THEN
        RAISE EXCEPTION 'bundle "%" was registered with % manifest files but has %', NEW.name, NEW.manifest_count,
            (SELECT count(*) FROM liveupdate.bundle_files AS f WHERE f.bundle_id = NEW.id) USING ERRCODE = '55000';
    END IF;
    RETURN NULL;
END
$$;
CREATE CONSTRAINT TRIGGER bundles_manifest_complete AFTER INSERT ON liveupdate.bundles
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (NEW.manifest_count > 0)
    EXECUTE FUNCTION liveupdate._bundle_manifest_complete();

-- Bundle files ----------------------------------------------------------------------------------

-- A registered bundle is complete (above), so a file added later would exceed its count: the
-- manifest devices download cannot grow after registration.
CREATE FUNCTION liveupdate._bundle_files_insert_rules() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    closed text;
BEGIN
    SELECT b.name INTO closed
    FROM (SELECT DISTINCT a.bundle_id FROM added AS a) AS t
    JOIN liveupdate.bundles AS b ON b.id = t.bundle_id
    WHERE b.deleted_at IS NOT NULL OR b.purged_at IS NOT NULL
       OR (SELECT count(*) FROM liveupdate.bundle_files AS f WHERE f.bundle_id = b.id) > b.manifest_count
    ORDER BY b.id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'bundle "%" is registered: its files come with it (manifest_count of them, in the same transaction)', closed
            USING ERRCODE = '55000';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER bundle_files_insert_rules AFTER INSERT ON liveupdate.bundle_files
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION liveupdate._bundle_files_insert_rules();

CREATE FUNCTION liveupdate._bundle_files_immutable() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'a bundle''s files never change after registration; register a new version' USING ERRCODE = '55000';
END
$$;
CREATE TRIGGER bundle_files_update_rules BEFORE UPDATE ON liveupdate.bundle_files
    FOR EACH ROW EXECUTE FUNCTION liveupdate._bundle_files_immutable();

-- Files leave with a purge (their bundle is purged) or with their bundle's app.
CREATE FUNCTION liveupdate._bundle_files_delete_rules() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    kept text;
BEGIN
    SELECT b.name INTO kept
    FROM (SELECT DISTINCT r.bundle_id FROM removed AS r) AS t
    JOIN liveupdate.bundles AS b ON b.id = t.bundle_id
    WHERE b.purged_at IS NULL
    ORDER BY b.id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'the files of bundle "%" are removed only when it is purged', kept USING ERRCODE = '55000';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER bundle_files_delete_rules AFTER DELETE ON liveupdate.bundle_files
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION liveupdate._bundle_files_delete_rules();

-- Channels --------------------------------------------------------------------------------------

-- SECURITY DEFINER: reads the bundle and the app whatever the caller sees.
CREATE FUNCTION liveupdate._channel_bundle_rules() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    served bigint;
    bundle liveupdate.bundles;
BEGIN
    FOREACH served IN ARRAY ARRAY[NEW.bundle_id, NEW.rollout_bundle_id] LOOP
        CONTINUE WHEN served IS NULL
            OR (TG_OP = 'UPDATE' AND (served = OLD.bundle_id OR served = OLD.rollout_bundle_id));
        SELECT * INTO bundle FROM liveupdate.bundles AS b WHERE b.id = served;
        CONTINUE WHEN bundle.id IS NULL;  -- the foreign key answers
        IF bundle.deleted_at IS NOT NULL THEN
            RAISE EXCEPTION 'bundle "%" is deleted', bundle.name USING ERRCODE = '55000';
        END IF;
        IF bundle.signed_by IS NULL
           AND (SELECT a.require_signature FROM liveupdate.apps AS a WHERE a.id = NEW.app_id) THEN
            RAISE EXCEPTION 'app requires signed bundles and bundle "%" is not signed', bundle.name USING ERRCODE = 'LU001';
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;
CREATE TRIGGER channels_bundle_rules BEFORE INSERT OR UPDATE OF bundle_id, rollout_bundle_id ON liveupdate.channels
    FOR EACH ROW EXECUTE FUNCTION liveupdate._channel_bundle_rules();

-- Apps ------------------------------------------------------------------------------------------

-- Not SECURITY DEFINER: the rank checks are about the caller.
CREATE FUNCTION liveupdate._app_update_rules() RETURNS trigger
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Who may publish is an administrator's decision: a write key must not switch signing off.
    IF NEW.require_signature IS DISTINCT FROM OLD.require_signature THEN
        PERFORM liveupdate._require_app_rank(OLD.id, 4);
    END IF;
    -- Moving an app hands it to another organization's members and keys: admins of both decide.
    IF NEW.organization_id IS DISTINCT FROM OLD.organization_id THEN
        PERFORM liveupdate._require_organization_rank(OLD.organization_id, 4);
        PERFORM liveupdate._require_organization_rank(NEW.organization_id, 4);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER apps_update_rules BEFORE UPDATE ON liveupdate.apps
    FOR EACH ROW EXECUTE FUNCTION liveupdate._app_update_rules();

-- 2. Deleting an app (sql/delete_app.sql, new in 0.2.0).

-- Deleting an app, whoever deletes the row (delete_app, DELETE /v1/apps/{app_id}, a PostgREST
-- DELETE by an admin, an organization's deletion, a DBA): its channels, bundles and their files,
-- devices, overrides, failures, deploy history, guard settings and decisions, signing keys and
-- statistics go with it (foreign keys); the trigger below does what foreign keys cannot.

-- SECURITY DEFINER: the queue, the events and other keys are not the caller's to write.
CREATE FUNCTION liveupdate._forget_app() RETURNS trigger
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- The stored objects of its bundles that no other app's bundle uses are queued for the
    -- gateway to delete. Before the rows go, so their keys are still known; the gateway checks
    -- again when it claims them, so an object an upload takes meanwhile stays.
    INSERT INTO liveupdate.storage_deletions (storage_key)
    SELECT used.storage_key
    FROM (SELECT b.storage_key FROM liveupdate.bundles AS b
          WHERE b.app_id = OLD.id AND b.storage_key IS NOT NULL AND b.purged_at IS NULL
          UNION
          SELECT f.storage_key FROM liveupdate.bundle_files AS f JOIN liveupdate.bundles AS b ON b.id = f.bundle_id
          WHERE b.app_id = OLD.id AND f.storage_key IS NOT NULL) AS used
    WHERE NOT EXISTS (SELECT 1 FROM liveupdate.bundles AS other
                      WHERE other.storage_key = used.storage_key AND other.app_id <> OLD.id AND other.purged_at IS NULL)
      AND NOT EXISTS (SELECT 1 FROM liveupdate.bundle_files AS f JOIN liveupdate.bundles AS other ON other.id = f.bundle_id
                      WHERE f.storage_key = used.storage_key AND other.app_id <> OLD.id)
    ON CONFLICT DO NOTHING;
    -- Events are partitioned by day and carry no foreign key.
    DELETE FROM liveupdate.device_events AS e WHERE e.app_id = OLD.id;
    -- Keys limited to some apps forget this one; a key limited to it alone would have nothing left
    -- (and an empty limit must not read as "every app"): it is revoked.
    UPDATE liveupdate.api_keys AS k
    SET app_ids = array_remove(k.app_ids, OLD.id),
        revoked_at = CASE WHEN array_remove(k.app_ids, OLD.id) = '{}' THEN coalesce(k.revoked_at, now())
                          ELSE k.revoked_at END
    WHERE OLD.id = ANY (k.app_ids);
    RETURN OLD;
END
$$;
CREATE TRIGGER apps_forget BEFORE DELETE ON liveupdate.apps
    FOR EACH ROW EXECUTE FUNCTION liveupdate._forget_app();

CREATE FUNCTION liveupdate.delete_app(app_id text) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(app_id);
BEGIN
    PERFORM liveupdate._require_app_rank(app_pk, 4);
    DELETE FROM liveupdate.apps AS a WHERE a.id = app_pk;
END
$$;
COMMENT ON FUNCTION liveupdate.delete_app(text) IS
    'Deletes an app and everything of it: channels, bundles, devices, overrides, events, statistics, guard rows, deploy history and signing keys; keys limited to it alone are revoked, others forget it; stored objects no other app uses are queued for deletion. Admin rights on the app.';

CREATE FUNCTION liveupdate.api_delete_app(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM liveupdate.delete_app(liveupdate._required_text(liveupdate._input(input, '{app_id}'), 'app_id'));
    RETURN jsonb_build_object('deleted', true);
END
$$;
COMMENT ON FUNCTION liveupdate.api_delete_app(jsonb) IS
    'Management API: deletes an app and everything of it (admin rights). {app_id} → {deleted}.';

-- 3. Functions whose checks moved into the triggers above, or changed.

CREATE OR REPLACE FUNCTION liveupdate.update_app(
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
    IF NOT liveupdate._is_bundle_checksum(coalesce(checksum, '')) AND coalesce(checksum, '') !~ '^[0-9A-Fa-f]{64}$' THEN
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
       OR f.file_hash IS NULL OR NOT liveupdate._is_file_hash(lower(f.file_hash)) AND NOT liveupdate._is_file_hash(f.file_hash)
       OR (f.download_url IS NULL) = (f.storage_key IS NULL)
       OR NOT coalesce(liveupdate._is_http_url(f.download_url), liveupdate._is_bundle_path(f.storage_key))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'manifest entry "%" needs a relative file_name (no .., no leading /), a SHA-256 file_hash and either an absolute http(s) download_url or a storage_key',
            coalesce(bad_file, '(no file_name)') USING ERRCODE = '22023';
    END IF;
    -- Plain SHA-256 checksums are compared case-sensitively by iOS: store them lowercase.
    IF checksum ~ '^[0-9A-Fa-f]{64}$' THEN
        checksum := lower(checksum);
    END IF;
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
               CASE WHEN f.file_hash ~ '^[0-9A-Fa-f]{64}$' THEN lower(f.file_hash) ELSE f.file_hash END,
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

CREATE OR REPLACE FUNCTION liveupdate.delete_bundle(app_id text, name text) RETURNS void
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

CREATE OR REPLACE FUNCTION liveupdate.run_guard() RETURNS SETOF liveupdate.guard_events
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    now_at timestamptz := clock_timestamp();
    verdict record;
    channel liveupdate.channels;
    app_text text;
    taken text;
    outcome text;
    recorded liveupdate.guard_events;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('liveupdate.run_guard')) THEN
        RETURN;
    END IF;
    FOR verdict IN
        SELECT v.* FROM liveupdate._guard_verdicts(now_at) AS v
        WHERE v.crossed
          AND NOT EXISTS (SELECT 1 FROM liveupdate.guard_events AS d JOIN liveupdate.channel_guards AS g
                                   ON g.channel_id = d.channel_id
                          WHERE d.channel_id = v.channel_id
                            AND d.decided_at > now_at - make_interval(mins => g.cooldown_minutes))
        ORDER BY v.channel_id, v.target
    LOOP
        -- The channel as it is now, locked: act only if it still serves what was judged.
        SELECT * INTO channel FROM liveupdate.channels AS c WHERE c.id = verdict.channel_id FOR UPDATE;
        CONTINUE WHEN verdict.target = 'deploy' AND channel.bundle_id IS DISTINCT FROM verdict.bundle_id;
        CONTINUE WHEN verdict.target = 'rollout'
            AND (channel.rollout_id IS DISTINCT FROM verdict.rollout_id OR channel.rollout_paused);
        SELECT a.app_id INTO app_text FROM liveupdate.apps AS a WHERE a.id = channel.app_id;
        taken := verdict.action;
        IF taken = 'alert' THEN
            outcome := 'alert only';
        ELSIF taken = 'pause' THEN
            PERFORM liveupdate.set_rollout(app_text, channel.name, paused => true);
            outcome := 'rollout paused';
        ELSIF verdict.target = 'rollout' THEN
            PERFORM liveupdate.end_rollout(app_text, channel.name, promote => false);
            outcome := 'rollout abandoned: its devices return to the channel''s bundle';
        ELSE
            BEGIN
                PERFORM set_config('liveupdate.deploy_reason', 'guard', true);
                outcome := 'rolled back to ' || liveupdate.rollback_channel(app_text, channel.name);
            -- 55000: nothing to go back to, or it was deleted; LU001: it is unsigned and the app
            -- now requires signatures (integrity.sql).
            EXCEPTION WHEN object_not_in_prerequisite_state OR SQLSTATE 'LU001' THEN
                taken := 'alert';
                outcome := 'could not roll back: ' || SQLERRM;
            END;
            PERFORM set_config('liveupdate.deploy_reason', '', true);
        END IF;
        INSERT INTO liveupdate.guard_events (app_id, channel_id, target, version_name, rollout_id, action, outcome,
                                             attempts, failures, lower_bound, max_failure_rate, confidence,
                                             counted_since)
        SELECT channel.app_id, channel.id, verdict.target, b.name, verdict.rollout_id, taken, outcome,
               verdict.attempts, verdict.failures, verdict.lower_bound, verdict.max_failure_rate, verdict.confidence,
               verdict.counted_since
        FROM liveupdate.bundles AS b WHERE b.id = verdict.bundle_id
        RETURNING * INTO recorded;
        RETURN NEXT recorded;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION liveupdate._key_listing(organization_pk bigint, only_key bigint DEFAULT NULL) RETURNS jsonb
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

-- 4. Row-level security: deleting an app takes admin rank on it; bundles are never deleted by clients.

DROP POLICY apps_delete ON liveupdate.apps;
CREATE POLICY apps_delete ON liveupdate.apps FOR DELETE USING (id = ANY ((SELECT liveupdate.caller_app_ids(4))::bigint[]));
DROP POLICY bundles_delete ON liveupdate.bundles;

-- 5. Documentation of what a paused or narrowed rollout does now.

COMMENT ON FUNCTION liveupdate.set_rollout(text, text, integer, boolean) IS
    'Changes a rollout''s share (raising only adds devices, lowering only stops offering it to those above the line) or pauses/resumes it (a paused rollout selects nobody new). Devices already running its bundle keep it either way; end_rollout moves them back.';
COMMENT ON COLUMN liveupdate.channels.rollout_paused IS 'A paused rollout selects no new device until resumed; devices already running its bundle keep it.';

-- 6. As at install (sql/privileges.sql): nothing new is callable by PUBLIC.

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA liveupdate FROM PUBLIC;
