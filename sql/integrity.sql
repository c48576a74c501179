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
