-- Deployment migration 1: install the extension. Safe to apply twice.
-- (Grants to Supabase roles and the gateway's login role arrive with the management API.)
CREATE EXTENSION IF NOT EXISTS pg_liveupdate;
