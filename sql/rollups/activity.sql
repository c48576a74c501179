-- Run by _aggregate_chunk (extension/src/rollups.rs) for the chunk of events received from $1 on
-- (within one UTC day; the function runs with TimeZone UTC), over pg_temp.stats_chunk.
-- Activity: devices not yet counted in their hour, day and month (chunks come in time order,
-- so a period later than the device's last counted one is new), and the events.
WITH device_hours AS (
    SELECT DISTINCT c.app_id, c.device_id, c.hour FROM pg_temp.stats_chunk AS c
), known AS (
    SELECT h.app_id, h.device_id, h.hour, a.last_hour, a.last_day, a.last_month
    FROM device_hours AS h
    LEFT JOIN liveupdate.stats_device_activity AS a ON a.app_id = h.app_id AND a.device_id = h.device_id
), remembered AS (
    INSERT INTO liveupdate.stats_device_activity AS a (app_id, device_id, last_hour, last_day, last_month)
    SELECT h.app_id, h.device_id, max(h.hour), $1::date, date_trunc('month', $1)::date
    FROM device_hours AS h GROUP BY h.app_id, h.device_id
    ON CONFLICT ON CONSTRAINT stats_device_activity_pkey DO UPDATE
    SET last_hour = greatest(a.last_hour, excluded.last_hour), last_day = greatest(a.last_day, excluded.last_day),
        last_month = greatest(a.last_month, excluded.last_month)
    -- Most devices report several times an hour: leave their row alone then.
    WHERE a.last_hour IS DISTINCT FROM greatest(a.last_hour, excluded.last_hour)
       OR a.last_day IS DISTINCT FROM greatest(a.last_day, excluded.last_day)
       OR a.last_month IS DISTINCT FROM greatest(a.last_month, excluded.last_month)
), devices AS (
    -- Per device: is it new today, and new this month?
    SELECT DISTINCT ON (k.app_id, k.device_id) k.app_id,
           k.last_day IS NULL OR k.last_day < $1::date AS new_today,
           k.last_month IS NULL OR k.last_month < date_trunc('month', $1)::date AS new_this_month
    FROM known AS k
), additions AS (
    SELECT k.app_id, 'hour' AS granularity, k.hour AS period_start, count(*) AS active_devices,
           0::bigint AS new_in_month, 0::bigint AS events
    FROM known AS k WHERE k.last_hour IS NULL OR k.hour > k.last_hour
    GROUP BY k.app_id, k.hour
    UNION ALL
    SELECT d.app_id, 'day', date_trunc('day', $1), count(*) FILTER (WHERE d.new_today), count(*) FILTER (WHERE d.new_this_month), 0
    FROM devices AS d GROUP BY d.app_id
    UNION ALL
    SELECT d.app_id, 'month', date_trunc('month', $1), count(*) FILTER (WHERE d.new_this_month), 0, 0
    FROM devices AS d GROUP BY d.app_id
    UNION ALL
    SELECT c.app_id, g.granularity,
           CASE g.granularity WHEN 'hour' THEN c.hour WHEN 'day' THEN date_trunc('day', $1) ELSE date_trunc('month', $1) END, 0, 0, count(*)
    FROM pg_temp.stats_chunk AS c CROSS JOIN (VALUES ('hour'), ('day'), ('month')) AS g(granularity)
    GROUP BY 1, 2, 3
)
INSERT INTO liveupdate.stats_activity AS a (app_id, granularity, period_start, active_devices, new_in_month, events)
SELECT d.app_id, d.granularity, d.period_start, sum(d.active_devices), sum(d.new_in_month), sum(d.events)
FROM additions AS d GROUP BY d.app_id, d.granularity, d.period_start
ON CONFLICT ON CONSTRAINT stats_activity_pkey DO UPDATE
SET active_devices = a.active_devices + excluded.active_devices,
    new_in_month = a.new_in_month + excluded.new_in_month,
    events = a.events + excluded.events
