-- The extension's schema as the catalog holds it, normalised so that two databases can be compared
-- line by line: one row per fact (object, fact), in a stable order. Used by tests/tests/upgrade.rs to
-- check that an upgraded database equals a fresh install. Columns are compared by name, not by
-- position (ALTER TABLE ADD COLUMN appends, CREATE TABLE places: both serve the same queries).
WITH rels AS (
    SELECT c.oid, c.relname, c.relkind, c.relacl, c.relrowsecurity, c.relforcerowsecurity, c.reloptions,
           c.relispartition, c.relpartbound
    FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = 'liveupdate'
),
procs AS (
    SELECT p.oid, p.oid::regprocedure::text AS ident, p.prokind, p.proacl
    FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
    WHERE n.nspname = 'liveupdate'
),
facts(object, fact) AS (
    SELECT 'schema liveupdate', 'acl ' || coalesce(array_to_string(ARRAY(SELECT x::text FROM unnest(n.nspacl) AS x ORDER BY 1), ','), '-')
        || ' comment ' || coalesce(obj_description(n.oid, 'pg_namespace'), '-')
    FROM pg_namespace AS n WHERE n.nspname = 'liveupdate'
    UNION ALL
    SELECT 'relation ' || r.relname,
           format('kind %s rls %s/%s options %s', r.relkind, r.relrowsecurity, r.relforcerowsecurity, coalesce(r.reloptions::text, '-'))
           || CASE WHEN r.relkind = 'p' THEN ' partitioned by ' || pg_get_partkeydef(r.oid) ELSE '' END
           || CASE WHEN r.relpartbound IS NOT NULL THEN ' partition ' || pg_get_expr(r.relpartbound, r.oid) ELSE '' END
    FROM rels AS r
    UNION ALL
    SELECT 'relation ' || r.relname, 'acl ' || x::text
    FROM rels AS r, unnest(r.relacl) AS x
    UNION ALL
    SELECT 'relation ' || r.relname, 'comment ' || obj_description(r.oid, 'pg_class')
    FROM rels AS r WHERE obj_description(r.oid, 'pg_class') IS NOT NULL
    UNION ALL
    SELECT 'relation ' || r.relname,
           format('column %s %s%s default %s%s', a.attname, format_type(a.atttypid, a.atttypmod),
                  CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                  coalesce(pg_get_expr(d.adbin, d.adrelid), '-'),
                  CASE WHEN a.attgenerated <> '' THEN ' generated ' || a.attgenerated::text ELSE '' END)
    FROM rels AS r
    JOIN pg_attribute AS a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN pg_attrdef AS d ON d.adrelid = r.oid AND d.adnum = a.attnum
    UNION ALL
    SELECT 'relation ' || r.relname, format('column %s acl %s', a.attname, x::text)
    FROM rels AS r
    JOIN pg_attribute AS a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped, unnest(a.attacl) AS x
    UNION ALL
    SELECT 'relation ' || r.relname, format('column %s comment %s', a.attname, col_description(r.oid, a.attnum))
    FROM rels AS r
    JOIN pg_attribute AS a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE col_description(r.oid, a.attnum) IS NOT NULL
    UNION ALL
    SELECT 'relation ' || r.relname, format('constraint %s %s', co.conname, pg_get_constraintdef(co.oid))
    FROM rels AS r JOIN pg_constraint AS co ON co.conrelid = r.oid
    UNION ALL
    SELECT 'relation ' || r.relname, 'index ' || pg_get_indexdef(i.indexrelid)
    FROM rels AS r JOIN pg_index AS i ON i.indrelid = r.oid
    UNION ALL
    SELECT 'relation ' || r.relname, 'trigger ' || pg_get_triggerdef(t.oid)
    FROM rels AS r JOIN pg_trigger AS t ON t.tgrelid = r.oid AND NOT t.tgisinternal
    UNION ALL
    SELECT 'relation ' || r.relname,
           format('policy %s %s %s to %s using %s check %s', p.polname, p.polcmd,
                  CASE WHEN p.polpermissive THEN 'permissive' ELSE 'restrictive' END,
                  ARRAY(SELECT CASE WHEN role = 0 THEN 'public' ELSE role::regrole::text END FROM unnest(p.polroles) AS role ORDER BY 1)::text,
                  coalesce(pg_get_expr(p.polqual, p.polrelid), '-'), coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '-'))
    FROM rels AS r JOIN pg_policy AS p ON p.polrelid = r.oid
    UNION ALL
    SELECT 'relation ' || r.relname, 'view ' || pg_get_viewdef(r.oid)
    FROM rels AS r WHERE r.relkind IN ('v', 'm')
    UNION ALL
    SELECT 'relation ' || r.relname,
           format('sequence %s start %s increment %s min %s max %s cycle %s', format_type(s.seqtypid, NULL), s.seqstart,
                  s.seqincrement, s.seqmin, s.seqmax, s.seqcycle)
    FROM rels AS r JOIN pg_sequence AS s ON s.seqrelid = r.oid
    UNION ALL
    SELECT 'function ' || p.ident, 'definition ' || line
    FROM procs AS p, regexp_split_to_table(pg_get_functiondef(p.oid), E'\n') AS line
    WHERE p.prokind IN ('f', 'p')
    UNION ALL
    SELECT 'function ' || p.ident, 'acl ' || x::text
    FROM procs AS p, unnest(p.proacl) AS x
    UNION ALL
    SELECT 'function ' || p.ident, 'comment ' || obj_description(p.oid, 'pg_proc')
    FROM procs AS p WHERE obj_description(p.oid, 'pg_proc') IS NOT NULL
    UNION ALL
    SELECT 'type ' || t.typname,
           format('type %s %s', t.typtype, coalesce(
               (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum AS e WHERE e.enumtypid = t.oid),
               CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END, '-'))
    FROM pg_type AS t JOIN pg_namespace AS n ON n.oid = t.typnamespace
    WHERE n.nspname = 'liveupdate' AND t.typtype IN ('e', 'd')
    UNION ALL
    SELECT 'extension pg_liveupdate', 'member ' || pg_describe_object(d.classid, d.objid, d.objsubid)
    FROM pg_depend AS d JOIN pg_extension AS e ON e.oid = d.refobjid AND d.refclassid = 'pg_extension'::regclass
    WHERE e.extname = 'pg_liveupdate' AND d.deptype = 'e'
    UNION ALL
    SELECT 'extension pg_liveupdate', format('dumps %s where %s', cfg.relid::regclass, coalesce(nullif(cfg.cond, ''), '-'))
    FROM pg_extension AS e,
         unnest(e.extconfig, coalesce(e.extcondition, array_fill(''::text, ARRAY[cardinality(e.extconfig)]))) AS cfg(relid, cond)
    WHERE e.extname = 'pg_liveupdate'
)
SELECT object, fact FROM facts ORDER BY object, fact;
