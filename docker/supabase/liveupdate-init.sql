-- liveupdate in a Supabase database. Installed as
-- /docker-entrypoint-initdb.d/migrations/99-liveupdate.sql: supabase/postgres's entrypoint runs it
-- once, as supabase_admin, in the postgres database, on an empty data directory, after Supabase's
-- own migrations (its roles anon, authenticated and service_role exist by then). For an existing
-- installation run it by hand, once (README, Containers):
--   docker compose exec db psql -U supabase_admin -d postgres -f /docker-entrypoint-initdb.d/migrations/99-liveupdate.sql
-- Safe to run again, e.g. after an image upgrade: it then updates the extension and re-applies
-- the grants. Migration 5 schedules the pg_cron job liveupdate-periodic (Supabase's pg_cron serves
-- the postgres database).
\set ON_ERROR_STOP on
CREATE EXTENSION IF NOT EXISTS pg_liveupdate;
ALTER EXTENSION pg_liveupdate UPDATE;
-- migrations/ in order (one \i per file, written at image build).
\i /usr/share/liveupdate/migrations.sql
-- The gateway's role gets its password from the db service's environment (compose.liveupdate.yml).
\getenv gateway_password LIVEUPDATE_GATEWAY_PASSWORD
\if :{?gateway_password}
ALTER ROLE liveupdate_gateway PASSWORD :'gateway_password';
\else
\echo 'liveupdate: LIVEUPDATE_GATEWAY_PASSWORD is not set in the db service: the role liveupdate_gateway has no password yet'
\endif
-- Where devices download stored bundles (<url>/files/<key>), from the same environment.
\getenv public_url LIVEUPDATE_PUBLIC_URL
\if :{?public_url}
SELECT format('ALTER DATABASE %I SET liveupdate.public_url = %L', current_database(), :'public_url') \gexec
\endif
