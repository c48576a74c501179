-- Cleanup of bundles and their stored objects. Deleting a bundle only hides it (deleted_at);
-- after a grace period (liveupdate.deleted_bundle_grace, default 7 days) purge_bundles removes its
-- file list and queues the objects no other bundle uses for deletion. Storage belongs to the
-- gateway, so it deletes the queued objects itself (claim_storage_deletions, then
-- forget_storage_deletions, in one transaction). The bundle row stays: a name is never reused.
--
-- A new upload may reuse a queued object (content addressing): registering it takes the object
-- off the queue (a trigger), waiting for a deletion in progress; objects are claimed only a minute
-- after they were queued, so a registration already under way when one was queued has committed
-- and is seen; and the gateway checks an upload's objects again after registering, restoring any
-- deleted meanwhile.

CREATE INDEX bundles_storage_key_idx ON liveupdate.bundles (storage_key) WHERE storage_key IS NOT NULL;
CREATE INDEX bundle_files_storage_key_idx ON liveupdate.bundle_files (storage_key) WHERE storage_key IS NOT NULL;

CREATE TABLE liveupdate.storage_deletions (
    storage_key  text PRIMARY KEY,
    queued_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE liveupdate.storage_deletions IS 'Stored objects no bundle uses any more, waiting for the gateway to delete them.';
COMMENT ON COLUMN liveupdate.storage_deletions.storage_key IS 'The object''s key in the gateway''s storage.';
COMMENT ON COLUMN liveupdate.storage_deletions.queued_at IS 'When its last bundle was purged.';
SELECT pg_catalog.pg_extension_config_dump('liveupdate.storage_deletions', '');

-- Retention and purging; returns what it did. SECURITY DEFINER: run by the scheduler.
CREATE FUNCTION liveupdate.purge_bundles() RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    grace interval := coalesce(nullif(current_setting('liveupdate.deleted_bundle_grace', true), ''), '7 days')::interval;
    expired integer;
    purged_ids bigint[];
    keys text[];
    file_keys text[];
    queued integer;
BEGIN
    -- Retention (apps.bundle_retention_days): bundles older than that which no channel serves and
    -- no recent deployment replaced (so they stay available to roll back to) are deleted.
    UPDATE liveupdate.bundles AS b SET deleted_at = clock_timestamp()
    FROM liveupdate.apps AS a
    WHERE a.id = b.app_id AND a.bundle_retention_days > 0 AND b.deleted_at IS NULL
      AND b.created_at < clock_timestamp() - make_interval(days => a.bundle_retention_days)
      AND NOT EXISTS (SELECT 1 FROM liveupdate.channels AS c WHERE c.bundle_id = b.id OR c.rollout_bundle_id = b.id)
      AND NOT EXISTS (SELECT 1 FROM liveupdate.deploy_history AS h
                      WHERE h.from_bundle_id = b.id
                        AND h.deployed_at > clock_timestamp() - make_interval(days => a.bundle_retention_days));
    GET DIAGNOSTICS expired = ROW_COUNT;

    WITH purged AS (
        UPDATE liveupdate.bundles AS b SET purged_at = clock_timestamp()
        WHERE b.deleted_at < clock_timestamp() - grace AND b.purged_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM liveupdate.channels AS c WHERE c.bundle_id = b.id OR c.rollout_bundle_id = b.id)
        RETURNING b.id, b.storage_key
    )
    SELECT array_agg(p.id), coalesce(array_agg(p.storage_key) FILTER (WHERE p.storage_key IS NOT NULL), '{}')
    INTO purged_ids, keys FROM purged AS p;
    WITH removed AS (
        DELETE FROM liveupdate.bundle_files AS f WHERE f.bundle_id = ANY (purged_ids) RETURNING f.storage_key
    )
    SELECT coalesce(array_agg(DISTINCT r.storage_key) FILTER (WHERE r.storage_key IS NOT NULL), '{}')
    INTO file_keys FROM removed AS r;
    -- A separate statement: it must see the purge above.
    INSERT INTO liveupdate.storage_deletions (storage_key)
    SELECT k FROM unnest(liveupdate.unreferenced_objects(keys || file_keys)) AS k
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS queued = ROW_COUNT;
    RETURN jsonb_build_object('expired', expired, 'purged', coalesce(cardinality(purged_ids), 0),
                              'objects_queued', queued);
END
$$;
COMMENT ON FUNCTION liveupdate.purge_bundles() IS
    'Bundle retention and cleanup: deletes bundles past their app''s bundle_retention_days that no channel serves nor recently served; purges bundles deleted longer than liveupdate.deleted_bundle_grace ago (default 7 days) and queues their objects no other bundle uses for deletion by the gateway. Returns {expired, purged, objects_queued}.';

-- The gateway's side, in one transaction: claim (locks the rows; objects used again meanwhile are
-- dropped from the queue instead), delete the objects from storage, forget the deleted keys.
CREATE FUNCTION liveupdate.claim_storage_deletions(max_keys integer) RETURNS text[]
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    claimed text[];
    unused text[];
BEGIN
    -- Only objects queued a minute ago or more: a registration that began before one was queued
    -- (so its trigger did not wait for this claim) has committed by then, and is seen below.
    SELECT coalesce(array_agg(d.storage_key), '{}') INTO claimed
    FROM (SELECT q.storage_key FROM liveupdate.storage_deletions AS q
          WHERE q.queued_at < clock_timestamp() - interval '1 minute'
          ORDER BY q.queued_at LIMIT greatest(max_keys, 0) FOR UPDATE SKIP LOCKED) AS d;
    unused := liveupdate.unreferenced_objects(claimed);
    DELETE FROM liveupdate.storage_deletions AS q
    WHERE q.storage_key = ANY (claimed) AND NOT q.storage_key = ANY (unused);
    RETURN unused;
END
$$;
COMMENT ON FUNCTION liveupdate.claim_storage_deletions(integer) IS
    'For the gateway: up to max_keys objects queued at least a minute ago that are still unused, locked until the end of the transaction.';

-- For the gateway: takes objects it has deleted off the queue.
CREATE FUNCTION liveupdate.forget_storage_deletions(keys text[]) RETURNS integer
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    forgotten integer;
BEGIN
    DELETE FROM liveupdate.storage_deletions AS d WHERE d.storage_key = ANY (keys);
    GET DIAGNOSTICS forgotten = ROW_COUNT;
    RETURN forgotten;
END
$$;
COMMENT ON FUNCTION liveupdate.forget_storage_deletions(text[]) IS
    'For the gateway: takes objects it has deleted off the deletion queue; returns how many were queued.';

-- Objects a new bundle or manifest entry uses are no longer to be deleted: taking them off the
-- queue waits for a deletion in progress (its row lock). SECURITY DEFINER: uploaders may not see
-- the queue. Rust (triggers.rs).
CREATE FUNCTION liveupdate._keep_used_objects() RETURNS trigger
LANGUAGE c VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'keep_used_objects_wrapper';
CREATE TRIGGER bundles_keep_objects AFTER INSERT ON liveupdate.bundles
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION liveupdate._keep_used_objects();
CREATE TRIGGER bundle_files_keep_objects AFTER INSERT ON liveupdate.bundle_files
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION liveupdate._keep_used_objects();
