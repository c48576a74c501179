-- Run by _aggregate_chunk (extension/src/rollups.rs) for the chunk of events received from $1 on
-- (within one UTC day; the function runs with TimeZone UTC), over pg_temp.stats_chunk.
-- Per-version counters (protocol.md §5.5), production builds on real devices only, by the
-- device's effective channel, chosen as resolve.sql chooses it: its override, else the channel
-- it names when it may select it (_channel_selectable_by_name), else, when it names none, its
-- platform's public channel; '' when none.
WITH counted AS (
    SELECT c.* FROM pg_temp.stats_chunk AS c
    WHERE c.counts AND c.bundle_id IS NOT NULL
      AND (c.action = 'set' OR liveupdate._is_failure_action(c.action) OR liveupdate._is_download_action(c.action))
), contributions AS (
    SELECT k.app_id, k.device_id, k.platform, k.hour, k.bundle_id,
           liveupdate._is_download_action(k.action)::integer AS gets, (k.action = 'set')::integer AS installs,
           liveupdate._is_failure_action(k.action)::integer AS fails, 0 AS uninstalls
    FROM counted AS k
    UNION ALL
    SELECT k.app_id, k.device_id, k.platform, k.hour, o.id, 0, 0, 0, 1
    FROM counted AS k JOIN liveupdate.bundles AS o ON o.app_id = k.app_id AND o.name = k.old_version_name
    WHERE k.action = 'set' AND o.id <> k.bundle_id
), public_channels AS (
    SELECT p.app_id, f.platform, min(p.name) AS name
    FROM liveupdate.channels AS p
    CROSS JOIN (VALUES ('ios'), ('android'), ('electron')) AS f(platform)
    WHERE p.public AND p.app_id IN (SELECT DISTINCT k.app_id FROM counted AS k)
      AND CASE f.platform WHEN 'ios' THEN p.ios WHEN 'android' THEN p.android ELSE p.electron END
    GROUP BY p.app_id, f.platform
), device_channels AS (
    SELECT DISTINCT ON (x.app_id, x.device_id) x.app_id, x.device_id,
           coalesce(oc.name, dc.name, pc.name, '') AS channel
    FROM (SELECT DISTINCT t.app_id, t.device_id, t.platform FROM contributions AS t) AS x
    LEFT JOIN liveupdate.device_overrides AS o ON o.app_id = x.app_id AND o.device_id = x.device_id
    LEFT JOIN liveupdate.channels AS oc ON oc.id = o.channel_id
    LEFT JOIN liveupdate.devices AS d ON d.app_id = x.app_id AND d.device_id = x.device_id
    LEFT JOIN liveupdate.channels AS dc ON dc.app_id = x.app_id AND dc.name = d.default_channel
        AND liveupdate._channel_selectable_by_name(dc.public, dc.allow_device_self_set, dc.ios, dc.android,
                                                   dc.electron, x.platform)
    LEFT JOIN public_channels AS pc ON pc.app_id = x.app_id AND pc.platform = x.platform
        AND coalesce(d.default_channel, '') = ''
    ORDER BY x.app_id, x.device_id
)
INSERT INTO liveupdate.stats_versions AS v (app_id, hour, version_name, channel, gets, installs, fails,
                                           uninstalls, bandwidth_bytes)
SELECT t.app_id, t.hour, b.name, dch.channel, sum(t.gets), sum(t.installs), sum(t.fails), sum(t.uninstalls),
       sum(t.gets * coalesce(b.archive_bytes, 0))
FROM contributions AS t
JOIN liveupdate.bundles AS b ON b.id = t.bundle_id
JOIN device_channels AS dch ON dch.app_id = t.app_id AND dch.device_id = t.device_id
GROUP BY t.app_id, t.hour, b.name, dch.channel
ON CONFLICT ON CONSTRAINT stats_versions_pkey DO UPDATE
SET gets = v.gets + excluded.gets,
    installs = v.installs + excluded.installs,
    fails = v.fails + excluded.fails,
    uninstalls = v.uninstalls + excluded.uninstalls,
    bandwidth_bytes = v.bandwidth_bytes + excluded.bandwidth_bytes
