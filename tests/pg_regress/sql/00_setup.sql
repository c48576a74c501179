CREATE EXTENSION pg_liveupdate;
SELECT extname, extversion IS NOT NULL AS has_version, n.nspname AS schema
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE extname = 'pg_liveupdate';
-- every data table is dumped by pg_dump
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) AS t(oid) JOIN pg_class c ON c.oid = t.oid
WHERE e.extname = 'pg_liveupdate' ORDER BY 1;
-- every public function states its volatility and has a comment
SELECT p.proname, p.provolatile, p.proparallel, obj_description(p.oid, 'pg_proc') IS NOT NULL AS documented
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'liveupdate' AND p.proname NOT LIKE '\_%' ORDER BY 1;
-- every table and column is documented
SELECT c.relname, a.attname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'liveupdate' AND c.relkind IN ('r', 'p') AND col_description(c.oid, a.attnum) IS NULL
  AND a.attname NOT IN ('id', 'app_id', 'organization_id', 'created_at', 'updated_at', 'bundle_id', 'channel_id', 'device_id')
ORDER BY 1, 2;
