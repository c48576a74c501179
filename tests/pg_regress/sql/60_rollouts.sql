-- Progressive rollouts: who is inside (100,000 device ids), stability when the share moves, and
-- what devices are answered through start, pause, resume, promote and abandon.
WITH devices AS (SELECT md5(i::text)::uuid::text AS id FROM generate_series(1, 100000) AS i),
     shares AS (SELECT bp, count(*) FILTER (WHERE liveupdate._rollout_bucket(id, 7) < bp) AS inside
                FROM devices, unnest(ARRAY[100, 1000, 2500, 5000, 9000]) AS bp GROUP BY bp)
SELECT bp AS basis_points, round(inside / 1000.0, 2) AS measured_percent,
       abs(inside / 1000.0 - bp / 100.0) <= 1 AS within_one_point
FROM shares ORDER BY bp;
-- case does not matter; another rollout draws another sample
SELECT liveupdate._rollout_bucket('ABCDEF00-0000-4000-8000-000000000001', 3) = liveupdate._rollout_bucket('abcdef00-0000-4000-8000-000000000001', 3) AS case_insensitive,
       (SELECT count(*) FROM generate_series(1, 10000) AS i
        WHERE (liveupdate._rollout_bucket(md5(i::text)::uuid::text, 1) < 5000) = (liveupdate._rollout_bucket(md5(i::text)::uuid::text, 2) < 5000)) BETWEEN 4700 AND 5300 AS independent;

SELECT liveupdate.create_app(liveupdate.create_organization('rollouts'), 'com.rollout.app') > 0 AS app;
SELECT liveupdate.register_bundle('com.rollout.app', v, external_url => 'https://cdn.example.com/' || v || '.zip') > 0 AS registered
FROM unnest(ARRAY['1.0.1', '1.0.2']) AS v;
SELECT liveupdate.create_channel('com.rollout.app', 'production', bundle => '1.0.1', public => true, disable_auto_update => 'none') > 0 AS channel;
-- What 2,000 devices are offered.
CREATE FUNCTION pg_temp.offered() RETURNS TABLE (version text, devices bigint) LANGUAGE sql AS $$
    SELECT liveupdate.resolve_update(jsonb_build_object('app_id', 'com.rollout.app', 'device_id', md5(i::text)::uuid,
               'platform', 'android', 'version_build', '1.0.0', 'version_name', 'builtin', 'plugin_version', '8.51.14')) ->> 'version',
           count(*)
    FROM generate_series(1, 2000) AS i GROUP BY 1 ORDER BY 1
$$;
SELECT liveupdate.start_rollout('com.rollout.app', 'production', '1.0.2', 2500);
SELECT * FROM pg_temp.offered();
SELECT liveupdate.set_rollout('com.rollout.app', 'production', paused => true);
SELECT * FROM pg_temp.offered();
SELECT liveupdate.set_rollout('com.rollout.app', 'production', paused => false, basis_points => 10000);
SELECT * FROM pg_temp.offered();
SELECT liveupdate.api_rollout('{"app_id": "com.rollout.app", "channel": "production", "action": "set", "basis_points": 0}') -> 'rollout';
SELECT * FROM pg_temp.offered();
SELECT liveupdate.delete_bundle('com.rollout.app', '1.0.2');
SELECT liveupdate.api_rollout('{"app_id": "com.rollout.app", "channel": "production", "action": "promote"}') - 'bundle_changed_at' - 'created_at' - 'updated_at';
SELECT * FROM pg_temp.offered();
SELECT d ->> 'from' AS "from", d ->> 'to' AS "to" FROM jsonb_array_elements(liveupdate.api_channel_history('{"app_id": "com.rollout.app", "channel": "production", "limit": 1}') -> 'deploys') AS d;
-- Moving the share, end to end through resolve_update: raising 10% → 20% only adds devices,
-- lowering back removes exactly those added.
CREATE FUNCTION pg_temp.on_rollout() RETURNS SETOF text LANGUAGE sql AS $$
    SELECT md5(i::text) FROM generate_series(1, 2000) AS i
    WHERE liveupdate.resolve_update(jsonb_build_object('app_id', 'com.rollout.app', 'device_id', md5(i::text)::uuid,
              'platform', 'android', 'version_build', '1.0.0', 'version_name', 'builtin', 'plugin_version', '8.51.14')) ->> 'version' = '1.0.3'
$$;
SELECT liveupdate.register_bundle('com.rollout.app', '1.0.3', external_url => 'https://cdn.example.com/1.0.3.zip') > 0 AS registered;
SELECT liveupdate.start_rollout('com.rollout.app', 'production', '1.0.3', 1000);
CREATE TEMP TABLE at_10 AS SELECT * FROM pg_temp.on_rollout() AS d;
SELECT liveupdate.set_rollout('com.rollout.app', 'production', 2000);
CREATE TEMP TABLE at_20 AS SELECT * FROM pg_temp.on_rollout() AS d;
SELECT liveupdate.set_rollout('com.rollout.app', 'production', 1000);
CREATE TEMP TABLE back_at_10 AS SELECT * FROM pg_temp.on_rollout() AS d;
SELECT (SELECT count(*) FROM at_10) AS at_10, (SELECT count(*) FROM at_20) AS at_20,
       (SELECT count(*) FROM at_10 WHERE d NOT IN (SELECT d FROM at_20)) AS dropped_when_raised,
       (SELECT count(*) FROM (SELECT d FROM at_10 EXCEPT SELECT d FROM back_at_10) x)
     + (SELECT count(*) FROM (SELECT d FROM back_at_10 EXCEPT SELECT d FROM at_10) y) AS changed_after_lowering;
SELECT liveupdate.end_rollout('com.rollout.app', 'production', false);
-- Pausing or narrowing a rollout keeps the devices already running its bundle on it (protocol.md
-- §3.2: the guard's default action, pause, is not a rollback) and selects nobody new; abandoning
-- moves them back. What 2,000 devices running builtin, and the same devices running 1.0.4, get.
CREATE FUNCTION pg_temp.answers(running text) RETURNS TABLE (answer text, devices bigint) LANGUAGE sql AS $$
    SELECT coalesce(r.body ->> 'version', r.body ->> 'kind'), count(*)
    FROM generate_series(1, 2000) AS i
    CROSS JOIN LATERAL (SELECT liveupdate.resolve_update(jsonb_build_object('app_id', 'com.rollout.app',
        'device_id', md5(i::text)::uuid, 'platform', 'android', 'version_build', '1.0.0',
        'version_name', running, 'plugin_version', '8.51.14')) AS body) AS r
    GROUP BY 1 ORDER BY 1
$$;
CREATE TEMP TABLE rollout_steps (position int, step text, running text, answer text, devices bigint);
SELECT liveupdate.register_bundle('com.rollout.app', '1.0.4', external_url => 'https://cdn.example.com/1.0.4.zip') > 0 AS registered;
SELECT liveupdate.start_rollout('com.rollout.app', 'production', '1.0.4', 5000);
INSERT INTO rollout_steps SELECT 1, 'at 50%', running, a.* FROM unnest(ARRAY['builtin', '1.0.4']) AS running, pg_temp.answers(running) AS a;
SELECT liveupdate.set_rollout('com.rollout.app', 'production', 1000);
INSERT INTO rollout_steps SELECT 2, 'narrowed to 10%', running, a.* FROM unnest(ARRAY['builtin', '1.0.4']) AS running, pg_temp.answers(running) AS a;
SELECT liveupdate.api_rollout('{"app_id": "com.rollout.app", "channel": "production", "action": "pause"}') -> 'rollout' AS paused;
INSERT INTO rollout_steps SELECT 3, 'paused', running, a.* FROM unnest(ARRAY['builtin', '1.0.4']) AS running, pg_temp.answers(running) AS a;
SELECT liveupdate.api_rollout('{"app_id": "com.rollout.app", "channel": "production", "action": "abandon"}') -> 'rollout' AS abandoned;
INSERT INTO rollout_steps SELECT 4, 'abandoned', running, a.* FROM unnest(ARRAY['builtin', '1.0.4']) AS running, pg_temp.answers(running) AS a;
SELECT step, running, answer, devices FROM rollout_steps ORDER BY position, running, answer;
-- bad input
SELECT liveupdate.api_rollout('{"app_id": "com.rollout.app", "channel": "production", "action": "pause"}');
SELECT liveupdate.start_rollout('com.rollout.app', 'production', '1.0.2', 100);
SELECT liveupdate.start_rollout('com.rollout.app', 'production', '1.0.1', 10001);
SELECT liveupdate.api_rollout('{"app_id": "com.rollout.app", "channel": "production", "action": "explode"}');
SELECT liveupdate.start_rollout('com.rollout.app', 'production', '1.0.1', 500);
SELECT liveupdate.api_rollout('{"app_id": "com.rollout.app", "channel": "production", "action": "abandon"}') -> 'rollout' AS rollout_after_abandon;
