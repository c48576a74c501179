-- The install grants nothing: a role without grants can neither call nor read anything.
CREATE ROLE liveupdate_nobody;
SET ROLE liveupdate_nobody;
SELECT liveupdate.resolve_update('{}');
SELECT * FROM liveupdate.apps;
RESET ROLE;
SELECT count(*) AS functions_executable_by_public
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'liveupdate' AND has_function_privilege('liveupdate_nobody', p.oid, 'EXECUTE');
DROP ROLE liveupdate_nobody;
