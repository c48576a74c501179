-- Who may see and change what: organization members (Supabase Auth user ids, the JWT `sub`) and API
-- keys (stored only as SHA-256), both with a rank, and row-level security on every table driven by
-- one function, liveupdate.caller_rank. Superusers and the table owner bypass RLS (DBAs, and the
-- SECURITY DEFINER device entry points); console clients reach the tables through PostgREST.
--
-- Ranks: 1 read, 2 upload, 3 write, 4 admin. A key's mode maps read → 1, upload → 2, write → 3,
-- all → 4.

CREATE TYPE liveupdate.member_role AS ENUM ('read', 'upload', 'write', 'admin');
COMMENT ON TYPE liveupdate.member_role IS 'What a member may do in an organization: read < upload < write < admin.';
CREATE TYPE liveupdate.key_mode AS ENUM ('read', 'upload', 'write', 'all');
COMMENT ON TYPE liveupdate.key_mode IS 'What an API key may do: read < upload < write < all.';

CREATE TABLE liveupdate.organization_members (
    organization_id  bigint NOT NULL REFERENCES liveupdate.organizations (id) ON DELETE CASCADE,
    user_id          uuid NOT NULL,
    role             liveupdate.member_role NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX organization_members_user_idx ON liveupdate.organization_members (user_id);
COMMENT ON TABLE liveupdate.organization_members IS 'Users of an organization, by the user id Supabase Auth issues (the JWT sub).';
COMMENT ON COLUMN liveupdate.organization_members.user_id IS 'The JWT sub of the user.';
COMMENT ON COLUMN liveupdate.organization_members.role IS 'read, upload, write or admin.';

CREATE TABLE liveupdate.api_keys (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id  bigint NOT NULL REFERENCES liveupdate.organizations (id) ON DELETE CASCADE,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    key_hash         bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    key_prefix       text NOT NULL,
    mode             liveupdate.key_mode NOT NULL,
    app_ids          bigint[],
    expires_at       timestamptz,
    last_used_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    revoked_at       timestamptz
);
CREATE INDEX api_keys_organization_idx ON liveupdate.api_keys (organization_id);
COMMENT ON TABLE liveupdate.api_keys IS 'API keys for the management API and PostgREST; only the SHA-256 of a key is stored, the key itself is shown once by create_api_key.';
COMMENT ON COLUMN liveupdate.api_keys.name IS 'What the key is for.';
COMMENT ON COLUMN liveupdate.api_keys.key_hash IS 'SHA-256 of the key.';
COMMENT ON COLUMN liveupdate.api_keys.key_prefix IS 'The first characters of the key, to recognise it in listings.';
COMMENT ON COLUMN liveupdate.api_keys.mode IS 'read, upload, write or all.';
COMMENT ON COLUMN liveupdate.api_keys.app_ids IS 'Apps the key is limited to; NULL means every app of the organization.';
COMMENT ON COLUMN liveupdate.api_keys.expires_at IS 'After this the key is refused; NULL never expires.';
COMMENT ON COLUMN liveupdate.api_keys.last_used_at IS 'Last time the key authenticated a request (set by the management API).';
COMMENT ON COLUMN liveupdate.api_keys.revoked_at IS 'When the key was revoked; revoked keys are refused.';

SELECT pg_catalog.pg_extension_config_dump('liveupdate.organization_members', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.api_keys', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.api_keys_id_seq', '');

-- The caller's rank in an organization, for an app of it or (app_pk NULL) the organization itself.
-- An API key (the transaction setting liveupdate.api_key, or PostgREST's x-api-key request header)
-- wins over a JWT (PostgREST's request.jwt.claims). 0: no access. SECURITY DEFINER so that RLS
-- policies can consult members and keys, which callers cannot read themselves.
CREATE FUNCTION liveupdate.caller_rank(organization_pk bigint, app_pk bigint DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    presented text := coalesce(
        nullif(current_setting('liveupdate.api_key', true), ''),
        nullif(current_setting('request.headers', true), '')::jsonb ->> 'x-api-key');
    subject text := nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub';
    rank integer;
BEGIN
    IF presented IS NOT NULL THEN
        SELECT array_position(ARRAY['read', 'upload', 'write', 'all'], k.mode::text) INTO rank
        FROM liveupdate.api_keys AS k
        WHERE k.key_hash = sha256(convert_to(presented, 'UTF8'))
          AND k.organization_id = organization_pk
          AND k.revoked_at IS NULL
          AND (k.expires_at IS NULL OR k.expires_at > now())
          AND (k.app_ids IS NULL OR app_pk = ANY (k.app_ids));
        RETURN coalesce(rank, 0);
    END IF;
    IF subject IS NULL OR subject !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        RETURN 0;
    END IF;
    SELECT array_position(ARRAY['read', 'upload', 'write', 'admin'], m.role::text) INTO rank
    FROM liveupdate.organization_members AS m
    WHERE m.organization_id = organization_pk AND m.user_id = subject::uuid;
    RETURN coalesce(rank, 0);
END
$$;
COMMENT ON FUNCTION liveupdate.caller_rank(bigint, bigint) IS
    'The calling user''s or API key''s rank (0 none, 1 read, 2 upload, 3 write, 4 admin) in an organization, for one of its apps or the organization itself. Used by every RLS policy.';

-- The caller's rank for an app, by the app's id.
CREATE FUNCTION liveupdate.caller_app_rank(app_pk bigint) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce((SELECT liveupdate.caller_rank(a.organization_id, a.id) FROM liveupdate.apps AS a WHERE a.id = app_pk), 0)
$$;
COMMENT ON FUNCTION liveupdate.caller_app_rank(bigint) IS 'caller_rank for an app, looked up by the app''s id.';

CREATE FUNCTION liveupdate.add_member(organization_id bigint, user_id uuid, role text) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF role IS NULL OR role NOT IN ('read', 'upload', 'write', 'admin') THEN
        RAISE EXCEPTION 'role must be read, upload, write or admin' USING ERRCODE = '22023';
    END IF;
    INSERT INTO liveupdate.organization_members AS m (organization_id, user_id, role)
    VALUES (add_member.organization_id, add_member.user_id, add_member.role::liveupdate.member_role)
    ON CONFLICT ON CONSTRAINT organization_members_pkey DO UPDATE SET role = excluded.role;
EXCEPTION WHEN foreign_key_violation THEN
    RAISE EXCEPTION 'organization % does not exist', organization_id USING ERRCODE = 'P0002';
END
$$;
COMMENT ON FUNCTION liveupdate.add_member(bigint, uuid, text) IS 'Adds a user (JWT sub) to an organization with a role, or changes their role.';

CREATE FUNCTION liveupdate.create_api_key(
    organization_id bigint,
    name text,
    mode text,
    apps text[] DEFAULT NULL,
    expires_at timestamptz DEFAULT NULL
) RETURNS text
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- 244 random bits from two version-4 UUIDs; gen_random_uuid is core PostgreSQL.
    key text := 'lu_' || replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
    app_pks bigint[];
BEGIN
    IF mode IS NULL OR mode NOT IN ('read', 'upload', 'write', 'all') THEN
        RAISE EXCEPTION 'mode must be read, upload, write or all' USING ERRCODE = '22023';
    END IF;
    IF name IS NULL OR length(name) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'key name must be 1 to 200 characters' USING ERRCODE = '22023';
    END IF;
    IF expires_at IS NOT NULL AND expires_at <= now() THEN
        RAISE EXCEPTION 'expires_at must be in the future' USING ERRCODE = '22023';
    END IF;
    IF apps IS NOT NULL THEN
        SELECT array_agg(a.id ORDER BY a.id) INTO app_pks
        FROM liveupdate.apps AS a
        WHERE a.organization_id = create_api_key.organization_id AND a.app_id = ANY (apps);
        IF coalesce(array_length(app_pks, 1), 0) <> (SELECT count(DISTINCT x) FROM unnest(apps) AS x) THEN
            RAISE EXCEPTION 'every app of a limited key must belong to organization %', organization_id
                USING ERRCODE = '22023';
        END IF;
    END IF;
    INSERT INTO liveupdate.api_keys (organization_id, name, key_hash, key_prefix, mode, app_ids, expires_at)
    VALUES (organization_id, name, sha256(convert_to(key, 'UTF8')), left(key, 10),
            mode::liveupdate.key_mode, app_pks, expires_at);
    RETURN key;
EXCEPTION WHEN foreign_key_violation THEN
    RAISE EXCEPTION 'organization % does not exist', organization_id USING ERRCODE = 'P0002';
END
$$;
COMMENT ON FUNCTION liveupdate.create_api_key(bigint, text, text, text[], timestamptz) IS
    'Creates an API key (mode read, upload, write or all; optionally limited to some apps and with an expiry) and returns it. This is the only time the key is visible: only its SHA-256 is stored.';

CREATE FUNCTION liveupdate.revoke_api_key(key_id bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE liveupdate.api_keys SET revoked_at = now() WHERE id = key_id AND revoked_at IS NULL;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION liveupdate.revoke_api_key(bigint) IS 'Revokes an API key; false when it did not exist or was already revoked.';

-- Row-level security. Reading needs rank 1; changing apps, channels, bundles and overrides rank 3;
-- members and keys rank 4. Devices, events and counters are written only by the extension.
ALTER TABLE liveupdate.organizations ENABLE ROW LEVEL SECURITY;
CREATE POLICY organizations_read ON liveupdate.organizations FOR SELECT USING (liveupdate.caller_rank(id) >= 1);
CREATE POLICY organizations_admin ON liveupdate.organizations FOR UPDATE USING (liveupdate.caller_rank(id) >= 4);

ALTER TABLE liveupdate.apps ENABLE ROW LEVEL SECURITY;
CREATE POLICY apps_read ON liveupdate.apps FOR SELECT USING (liveupdate.caller_rank(organization_id, id) >= 1);
CREATE POLICY apps_write ON liveupdate.apps FOR UPDATE USING (liveupdate.caller_rank(organization_id, id) >= 3)
    WITH CHECK (liveupdate.caller_rank(organization_id, id) >= 3);
CREATE POLICY apps_create ON liveupdate.apps FOR INSERT WITH CHECK (liveupdate.caller_rank(organization_id) >= 4);
CREATE POLICY apps_delete ON liveupdate.apps FOR DELETE USING (liveupdate.caller_rank(organization_id, id) >= 4);

ALTER TABLE liveupdate.channels ENABLE ROW LEVEL SECURITY;
CREATE POLICY channels_read ON liveupdate.channels FOR SELECT USING (liveupdate.caller_app_rank(app_id) >= 1);
CREATE POLICY channels_write ON liveupdate.channels FOR ALL USING (liveupdate.caller_app_rank(app_id) >= 3)
    WITH CHECK (liveupdate.caller_app_rank(app_id) >= 3);

ALTER TABLE liveupdate.bundles ENABLE ROW LEVEL SECURITY;
CREATE POLICY bundles_read ON liveupdate.bundles FOR SELECT USING (liveupdate.caller_app_rank(app_id) >= 1);
CREATE POLICY bundles_write ON liveupdate.bundles FOR ALL USING (liveupdate.caller_app_rank(app_id) >= 3)
    WITH CHECK (liveupdate.caller_app_rank(app_id) >= 3);

ALTER TABLE liveupdate.bundle_files ENABLE ROW LEVEL SECURITY;
CREATE POLICY bundle_files_read ON liveupdate.bundle_files FOR SELECT
    USING (liveupdate.caller_app_rank((SELECT b.app_id FROM liveupdate.bundles AS b WHERE b.id = bundle_id)) >= 1);

ALTER TABLE liveupdate.device_overrides ENABLE ROW LEVEL SECURITY;
CREATE POLICY device_overrides_read ON liveupdate.device_overrides FOR SELECT USING (liveupdate.caller_app_rank(app_id) >= 1);
CREATE POLICY device_overrides_write ON liveupdate.device_overrides FOR ALL USING (liveupdate.caller_app_rank(app_id) >= 3)
    WITH CHECK (liveupdate.caller_app_rank(app_id) >= 3);

ALTER TABLE liveupdate.devices ENABLE ROW LEVEL SECURITY;
CREATE POLICY devices_read ON liveupdate.devices FOR SELECT USING (liveupdate.caller_app_rank(app_id) >= 1);

ALTER TABLE liveupdate.device_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY device_events_read ON liveupdate.device_events FOR SELECT USING (liveupdate.caller_app_rank(app_id) >= 1);

ALTER TABLE liveupdate.device_failed_bundles ENABLE ROW LEVEL SECURITY;
CREATE POLICY device_failed_bundles_read ON liveupdate.device_failed_bundles FOR SELECT USING (liveupdate.caller_app_rank(app_id) >= 1);

ALTER TABLE liveupdate.bundle_daily_counts ENABLE ROW LEVEL SECURITY;
CREATE POLICY bundle_daily_counts_read ON liveupdate.bundle_daily_counts FOR SELECT
    USING (liveupdate.caller_app_rank((SELECT b.app_id FROM liveupdate.bundles AS b WHERE b.id = bundle_id)) >= 1);

ALTER TABLE liveupdate.organization_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY organization_members_read ON liveupdate.organization_members FOR SELECT USING (liveupdate.caller_rank(organization_id) >= 1);
CREATE POLICY organization_members_admin ON liveupdate.organization_members FOR ALL USING (liveupdate.caller_rank(organization_id) >= 4)
    WITH CHECK (liveupdate.caller_rank(organization_id) >= 4);

ALTER TABLE liveupdate.api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY api_keys_admin ON liveupdate.api_keys FOR SELECT USING (liveupdate.caller_rank(organization_id) >= 4);

-- Views read through the caller's own rights, so the policies above apply to them too.
ALTER VIEW liveupdate.bundle_counts SET (security_invoker = true);
