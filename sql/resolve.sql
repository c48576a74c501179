-- The one lookup behind every update check: the app, and the channel the device resolves to with
-- that channel's bundle. Prepared once per backend and platform; `__PLATFORM__` is replaced by the
-- platform's column name (ios, android or electron) so each plan can use its partial index.
--   $1 app_id, $2 device_id (a UUID, as text), $3 requested channel name ('' for none),
--   $4 the version the device runs (version_name, builtin already replaced by version_build)
-- Candidates in priority order (`via`): 1 the device override (any flags), 2 the channel named by
-- the device, 3 the platform's public channel (only when the device names none: there is no
-- fallback). A candidate whose bundle was deleted is skipped. Whether the device may select the
-- channel it names is the core crate's rule (ChannelRules::selectable_by_name), applied by the
-- caller (extension/src/resolve.rs) to these rows, at most two, in this order. A channel's
-- progressive rollout, when the device falls inside it, replaces the channel's bundle; a device
-- already running the rollout's bundle stays on it while the rollout lasts, paused or narrowed
-- (protocol.md §3.2): pausing selects nobody new, and only ending it moves devices back.
-- The library runs this against every schema it can meet until ALTER EXTENSION UPDATE (a package
-- upgrade replaces the library first): it may use only objects every release had.
-- failed_on_device: the device reported this bundle broken since the channel last changed bundle.
-- No row: unknown app. A row with NULL channel_id: no channel.
SELECT app.id,
       app.expose_metadata,
       pick.via,
       pick.channel_id,
       pick.name,
       pick.public,
       pick.allow_device_self_set,
       pick.ios,
       pick.android,
       pick.electron,
       pick.allow_emulator,
       pick.allow_device,
       pick.allow_dev,
       pick.allow_prod,
       pick.disable_auto_update::text,
       pick.disable_auto_update_under_native,
       pick.bundle_id,
       pick.bundle_name,
       pick.checksum,
       pick.session_key,
       pick.key_id,
       pick.external_url,
       pick.storage_key,
       pick.min_update_version,
       pick.link,
       pick.comment,
       pick.manifest_count,
       EXISTS (SELECT 1 FROM liveupdate.device_failed_bundles AS f
               WHERE f.app_id = app.id AND f.device_id = $2::uuid AND f.bundle_id = pick.bundle_id
                 AND f.failed_at > pick.bundle_changed_at) AS failed_on_device
FROM liveupdate.apps AS app
LEFT JOIN LATERAL (
    SELECT candidate.priority AS via,
           c.id AS channel_id, c.name, c.public, c.allow_device_self_set, c.ios, c.android, c.electron,
           c.allow_emulator, c.allow_device, c.allow_dev, c.allow_prod, c.disable_auto_update,
           c.disable_auto_update_under_native,
           b.id AS bundle_id, b.name AS bundle_name, b.checksum, b.session_key, b.key_id,
           b.external_url, b.storage_key, b.min_update_version, b.link, b.comment, b.manifest_count,
           c.bundle_changed_at
    FROM (
        SELECT 1 AS priority, o.channel_id
        FROM liveupdate.device_overrides AS o
        WHERE o.app_id = app.id AND o.device_id = $2::uuid
        UNION ALL
        SELECT 2, named.id
        FROM liveupdate.channels AS named
        WHERE $3 <> '' AND named.app_id = app.id AND named.name = $3
        UNION ALL
        SELECT 3, pub.id
        FROM liveupdate.channels AS pub
        WHERE $3 = '' AND pub.app_id = app.id AND pub.public AND pub.__PLATFORM__
    ) AS candidate
    JOIN liveupdate.channels AS c ON c.id = candidate.channel_id
    -- A running progressive rollout serves its bundle to the devices whose bucket is under its
    -- share, and to those already on it. (The name lookup only for devices outside the share.)
    LEFT JOIN liveupdate.bundles AS b ON b.id = CASE
        WHEN c.rollout_bundle_id IS NULL THEN c.bundle_id
        WHEN NOT c.rollout_paused AND c.rollout_basis_points > 0
             AND liveupdate._rollout_bucket($2, c.rollout_id) < c.rollout_basis_points
        THEN c.rollout_bundle_id
        WHEN $4 = (SELECT r.name FROM liveupdate.bundles AS r WHERE r.id = c.rollout_bundle_id)
        THEN c.rollout_bundle_id
        ELSE c.bundle_id END
    WHERE b.id IS NULL OR b.deleted_at IS NULL
    ORDER BY candidate.priority
) AS pick ON true
WHERE app.app_id = $1
