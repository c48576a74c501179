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
