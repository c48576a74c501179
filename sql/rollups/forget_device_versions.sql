-- Run by aggregate_stats (extension/src/rollups.rs) once the rollups reach $1: a device's next
-- event two days on would count as new anyway.
DELETE FROM liveupdate.stats_device_versions AS s WHERE s.last_day < $1::date - 2
