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

-- Who is calling. An API key wins over a JWT. The key arrives as the transaction setting
-- liveupdate.api_key_sha256 (hex; the gateway hashes keys itself so that the database, its logs
-- and its statistics never see one), liveupdate.api_key (psql), or PostgREST's x-api-key request
-- header. The JWT is PostgREST's request.jwt.claims; its sub is the user id.
CREATE FUNCTION liveupdate._presented_key_hash() RETURNS bytea
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    hashed text := nullif(current_setting('liveupdate.api_key_sha256', true), '');
    plain text := coalesce(
        nullif(current_setting('liveupdate.api_key', true), ''),
        nullif(current_setting('request.headers', true), '')::jsonb ->> 'x-api-key');
BEGIN
    IF hashed IS NOT NULL THEN
        -- A malformed hash matches no key (key_hash is always 32 bytes).
        RETURN CASE WHEN liveupdate._is_sha256_hex(hashed) THEN decode(hashed, 'hex') ELSE '\x'::bytea END;
    END IF;
    RETURN sha256(convert_to(plain, 'UTF8'));
END
$$;

CREATE FUNCTION liveupdate._caller_user() RETURNS uuid
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    subject text := nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub';
BEGIN
    IF subject IS NULL OR NOT liveupdate._is_uuid(subject) THEN
        RETURN NULL;
    END IF;
    RETURN subject::uuid;
END
$$;

-- The presented key's row, if it is live (not revoked, not expired).
CREATE FUNCTION liveupdate._caller_key() RETURNS liveupdate.api_keys
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT k FROM liveupdate.api_keys AS k
    WHERE k.key_hash = liveupdate._presented_key_hash()
      AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
$$;

CREATE FUNCTION liveupdate._key_rank(mode liveupdate.key_mode) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT array_position(ARRAY['read', 'upload', 'write', 'all']::liveupdate.key_mode[], mode) $$;

CREATE FUNCTION liveupdate._role_rank(role liveupdate.member_role) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT array_position(ARRAY['read', 'upload', 'write', 'admin']::liveupdate.member_role[], role) $$;

-- The caller's rank in an organization, for an app of it or (app_pk NULL) the organization itself:
-- 0 none, 1 read, 2 upload, 3 write, 4 admin. A key limited to some apps has no rank in the
-- organization itself. SECURITY DEFINER: callers cannot read members and keys themselves.
CREATE FUNCTION liveupdate.caller_rank(organization_pk bigint, app_pk bigint DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    presented bytea := liveupdate._presented_key_hash();
    key liveupdate.api_keys;
    subject uuid;
BEGIN
    IF presented IS NOT NULL THEN
        key := liveupdate._caller_key();
        IF key.organization_id IS DISTINCT FROM organization_pk
           OR (key.app_ids IS NOT NULL AND NOT coalesce(app_pk = ANY (key.app_ids), false)) THEN
            RETURN 0;
        END IF;
        RETURN liveupdate._key_rank(key.mode);
    END IF;
    subject := liveupdate._caller_user();
    RETURN coalesce((SELECT liveupdate._role_rank(m.role) FROM liveupdate.organization_members AS m
                     WHERE m.organization_id = organization_pk AND m.user_id = subject), 0);
END
$$;
COMMENT ON FUNCTION liveupdate.caller_rank(bigint, bigint) IS
    'The calling user''s or API key''s rank (0 none, 1 read, 2 upload, 3 write, 4 admin) in an organization, for one of its apps or the organization itself.';

-- The caller's rank for an app, by the app's id.
CREATE FUNCTION liveupdate.caller_app_rank(app_pk bigint) RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce((SELECT liveupdate.caller_rank(a.organization_id, a.id) FROM liveupdate.apps AS a WHERE a.id = app_pk), 0)
$$;
COMMENT ON FUNCTION liveupdate.caller_app_rank(bigint) IS 'caller_rank for an app, looked up by the app''s id.';

-- The apps (organizations) on which the caller has at least min_rank. Row-level security policies
-- call these once per statement, as `(SELECT ...)` init plans, instead of a rank lookup per row.
CREATE FUNCTION liveupdate.caller_app_ids(min_rank integer) RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key liveupdate.api_keys;
BEGIN
    IF liveupdate._presented_key_hash() IS NOT NULL THEN
        key := liveupdate._caller_key();
        IF key.id IS NULL OR liveupdate._key_rank(key.mode) < min_rank THEN
            RETURN '{}';
        END IF;
        RETURN ARRAY(SELECT a.id FROM liveupdate.apps AS a
                     WHERE a.organization_id = key.organization_id
                       AND (key.app_ids IS NULL OR a.id = ANY (key.app_ids)));
    END IF;
    RETURN ARRAY(SELECT a.id FROM liveupdate.organization_members AS m
                 JOIN liveupdate.apps AS a ON a.organization_id = m.organization_id
                 WHERE m.user_id = liveupdate._caller_user() AND liveupdate._role_rank(m.role) >= min_rank);
END
$$;
COMMENT ON FUNCTION liveupdate.caller_app_ids(integer) IS 'Ids of the apps on which the caller has at least the given rank.';

CREATE FUNCTION liveupdate.caller_organization_ids(min_rank integer) RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key liveupdate.api_keys;
BEGIN
    IF liveupdate._presented_key_hash() IS NOT NULL THEN
        key := liveupdate._caller_key();
        IF key.id IS NULL OR key.app_ids IS NOT NULL OR liveupdate._key_rank(key.mode) < min_rank THEN
            RETURN '{}';
        END IF;
        RETURN ARRAY[key.organization_id];
    END IF;
    RETURN ARRAY(SELECT m.organization_id FROM liveupdate.organization_members AS m
                 WHERE m.user_id = liveupdate._caller_user() AND liveupdate._role_rank(m.role) >= min_rank);
END
$$;
COMMENT ON FUNCTION liveupdate.caller_organization_ids(integer) IS
    'Ids of the organizations in which the caller has at least the given rank (app-limited keys have none).';

-- Superusers, BYPASSRLS roles (Supabase's service_role) and the tables' owner are not subject to
-- row-level security; the explicit rank checks below let them through too, so the DBA API keeps
-- working for them.
CREATE FUNCTION liveupdate._bypasses_rls() RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.rolsuper OR r.rolbypassrls
           OR pg_has_role(current_user, (SELECT c.relowner FROM pg_class AS c WHERE c.oid = 'liveupdate.apps'::regclass), 'USAGE')
    FROM pg_roles AS r WHERE r.rolname = current_user
$$;

CREATE FUNCTION liveupdate._rank_name(rank integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$ SELECT (ARRAY['read', 'upload', 'write', 'admin'])[rank] $$;

-- Raises 42501 unless the caller has at least `needed` on the app. Visibility is row-level
-- security's job (an invisible app is "does not exist"); this turns "visible but not yours to
-- change", which RLS would silently skip, into a clear error.
CREATE FUNCTION liveupdate._require_app_rank(app_pk bigint, needed integer) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT liveupdate._bypasses_rls() AND NOT app_pk = ANY (liveupdate.caller_app_ids(needed)) THEN
        RAISE EXCEPTION 'this needs % rights on the app', liveupdate._rank_name(needed) USING ERRCODE = '42501';
    END IF;
END
$$;

CREATE FUNCTION liveupdate._require_organization_rank(organization_pk bigint, needed integer) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT liveupdate._bypasses_rls() AND NOT organization_pk = ANY (liveupdate.caller_organization_ids(needed)) THEN
        RAISE EXCEPTION 'this needs % rights on the whole organization', liveupdate._rank_name(needed)
            USING ERRCODE = '42501';
    END IF;
END
$$;

-- Looks an organization up; one the caller cannot see does not exist for them.
CREATE FUNCTION liveupdate._organization_pk(organization_pk bigint) RETURNS bigint
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM liveupdate.organizations AS o WHERE o.id = organization_pk) THEN
        RAISE EXCEPTION 'organization % does not exist', organization_pk USING ERRCODE = 'P0002';
    END IF;
    RETURN organization_pk;
END
$$;

-- The gateway's authentication step, run on its own before each management request so that
-- last_used_at is recorded even when the request then fails. Takes the key's SHA-256 (hex);
-- answers {organization_id, key_id, mode, app_ids} or raises 28000 with the same message for an
-- unknown, revoked or expired key. last_used_at has one-minute resolution, which keeps a busy
-- key from rewriting its row on every request.
CREATE FUNCTION liveupdate.authenticate_key(key_sha256 text) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    key liveupdate.api_keys;
BEGIN
    IF liveupdate._is_sha256_hex(key_sha256) THEN
        SELECT * INTO key FROM liveupdate.api_keys AS k
        WHERE k.key_hash = decode(key_sha256, 'hex')
          AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now());
    END IF;
    IF key.id IS NULL THEN
        RAISE EXCEPTION 'invalid API key' USING ERRCODE = '28000';
    END IF;
    UPDATE liveupdate.api_keys SET last_used_at = now()
    WHERE id = key.id AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute');
    RETURN jsonb_build_object('organization_id', key.organization_id, 'key_id', key.id, 'mode', key.mode,
        'app_ids', to_jsonb(key.app_ids));
END
$$;
COMMENT ON FUNCTION liveupdate.authenticate_key(text) IS
    'Checks an API key given as its SHA-256 (hex) and records its use (one-minute resolution); 28000 "invalid API key" when unknown, revoked or expired.';

CREATE FUNCTION liveupdate.add_member(organization_id bigint, user_id uuid, role text) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM liveupdate._require_organization_rank(liveupdate._organization_pk(organization_id), 4);
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
    expires_at timestamptz DEFAULT NULL,
    OUT id bigint,
    OUT key text
)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pks bigint[];
BEGIN
    -- 244 random bits from two version-4 UUIDs; gen_random_uuid is core PostgreSQL.
    key := 'lu_' || replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
    PERFORM liveupdate._require_organization_rank(liveupdate._organization_pk(organization_id), 4);
    IF mode IS NULL OR mode NOT IN ('read', 'upload', 'write', 'all') THEN
        RAISE EXCEPTION 'mode must be read, upload, write or all' USING ERRCODE = '22023';
    END IF;
    IF name IS NULL OR length(name) NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'key name must be 1 to 200 characters' USING ERRCODE = '22023';
    END IF;
    IF expires_at IS NOT NULL AND expires_at <= now() THEN
        RAISE EXCEPTION 'expires_at must be in the future' USING ERRCODE = '22023';
    END IF;
    IF cardinality(apps) = 0 THEN
        RAISE EXCEPTION 'a limited key needs at least one app (NULL means every app)' USING ERRCODE = '22023';
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
    INSERT INTO liveupdate.api_keys AS k (organization_id, name, key_hash, key_prefix, mode, app_ids, expires_at)
    VALUES (organization_id, name, sha256(convert_to(key, 'UTF8')), left(key, 10),
            mode::liveupdate.key_mode, app_pks, expires_at)
    RETURNING k.id INTO create_api_key.id;
EXCEPTION WHEN foreign_key_violation THEN
    RAISE EXCEPTION 'organization % does not exist', organization_id USING ERRCODE = 'P0002';
END
$$;
COMMENT ON FUNCTION liveupdate.create_api_key(bigint, text, text, text[], timestamptz) IS
    'Creates an API key (mode read, upload, write or all; optionally limited to some apps and with an expiry) and returns its id and the key. This is the only time the key is visible: only its SHA-256 is stored.';

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

-- Row-level security. Reading needs rank 1; uploading bundles rank 2; changing apps, channels,
-- bundles and overrides rank 3; creating apps rank 3 in the organization; members and keys rank 4.
-- Devices, events and counters are written only by the extension's device entry points.
ALTER TABLE liveupdate.organizations ENABLE ROW LEVEL SECURITY;
-- An organization is visible to its members and to keys limited to some of its apps.
CREATE POLICY organizations_read ON liveupdate.organizations FOR SELECT
    USING (id = ANY ((SELECT liveupdate.caller_organization_ids(1))::bigint[])
           OR EXISTS (SELECT 1 FROM liveupdate.apps AS a WHERE a.organization_id = organizations.id));
CREATE POLICY organizations_admin ON liveupdate.organizations FOR UPDATE
    USING (id = ANY ((SELECT liveupdate.caller_organization_ids(4))::bigint[]));

ALTER TABLE liveupdate.apps ENABLE ROW LEVEL SECURITY;
-- The organization clause lets a new app be read back (INSERT ... RETURNING) by its creator.
CREATE POLICY apps_read ON liveupdate.apps FOR SELECT USING (id = ANY ((SELECT liveupdate.caller_app_ids(1))::bigint[])
    OR organization_id = ANY ((SELECT liveupdate.caller_organization_ids(1))::bigint[]));
CREATE POLICY apps_write ON liveupdate.apps FOR UPDATE USING (id = ANY ((SELECT liveupdate.caller_app_ids(3))::bigint[]))
    WITH CHECK (id = ANY ((SELECT liveupdate.caller_app_ids(3))::bigint[]));
CREATE POLICY apps_create ON liveupdate.apps FOR INSERT
    WITH CHECK (organization_id = ANY ((SELECT liveupdate.caller_organization_ids(3))::bigint[]));
-- Deleting an app takes admin rank on it, as delete_app checks (a key in mode all limited to it has it).
CREATE POLICY apps_delete ON liveupdate.apps FOR DELETE USING (id = ANY ((SELECT liveupdate.caller_app_ids(4))::bigint[]));

ALTER TABLE liveupdate.channels ENABLE ROW LEVEL SECURITY;
CREATE POLICY channels_read ON liveupdate.channels FOR SELECT USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(1))::bigint[]));
CREATE POLICY channels_write ON liveupdate.channels FOR ALL USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(3))::bigint[]))
    WITH CHECK (app_id = ANY ((SELECT liveupdate.caller_app_ids(3))::bigint[]));

ALTER TABLE liveupdate.bundles ENABLE ROW LEVEL SECURITY;
CREATE POLICY bundles_read ON liveupdate.bundles FOR SELECT USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(1))::bigint[]));
CREATE POLICY bundles_upload ON liveupdate.bundles FOR INSERT WITH CHECK (app_id = ANY ((SELECT liveupdate.caller_app_ids(2))::bigint[]));
CREATE POLICY bundles_write ON liveupdate.bundles FOR UPDATE USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(3))::bigint[]))
    WITH CHECK (app_id = ANY ((SELECT liveupdate.caller_app_ids(3))::bigint[]));
-- No DELETE policy: bundles are soft-deleted (deleted_at), and their names never reused (integrity.sql).

ALTER TABLE liveupdate.bundle_files ENABLE ROW LEVEL SECURITY;
CREATE POLICY bundle_files_read ON liveupdate.bundle_files FOR SELECT
    USING (EXISTS (SELECT 1 FROM liveupdate.bundles AS b
                   WHERE b.id = bundle_files.bundle_id AND b.app_id = ANY ((SELECT liveupdate.caller_app_ids(1))::bigint[])));
CREATE POLICY bundle_files_upload ON liveupdate.bundle_files FOR INSERT
    WITH CHECK (EXISTS (SELECT 1 FROM liveupdate.bundles AS b
                        WHERE b.id = bundle_files.bundle_id AND b.app_id = ANY ((SELECT liveupdate.caller_app_ids(2))::bigint[])));

ALTER TABLE liveupdate.device_overrides ENABLE ROW LEVEL SECURITY;
CREATE POLICY device_overrides_read ON liveupdate.device_overrides FOR SELECT
    USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(1))::bigint[]));
CREATE POLICY device_overrides_write ON liveupdate.device_overrides FOR ALL
    USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(3))::bigint[]))
    WITH CHECK (app_id = ANY ((SELECT liveupdate.caller_app_ids(3))::bigint[]));

ALTER TABLE liveupdate.devices ENABLE ROW LEVEL SECURITY;
CREATE POLICY devices_read ON liveupdate.devices FOR SELECT USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(1))::bigint[]));

ALTER TABLE liveupdate.device_events ENABLE ROW LEVEL SECURITY;
CREATE POLICY device_events_read ON liveupdate.device_events FOR SELECT
    USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(1))::bigint[]));

ALTER TABLE liveupdate.device_failed_bundles ENABLE ROW LEVEL SECURITY;
CREATE POLICY device_failed_bundles_read ON liveupdate.device_failed_bundles FOR SELECT
    USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(1))::bigint[]));

ALTER TABLE liveupdate.organization_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY organization_members_read ON liveupdate.organization_members FOR SELECT
    USING (organization_id = ANY ((SELECT liveupdate.caller_organization_ids(1))::bigint[]));
CREATE POLICY organization_members_admin ON liveupdate.organization_members FOR ALL
    USING (organization_id = ANY ((SELECT liveupdate.caller_organization_ids(4))::bigint[]))
    WITH CHECK (organization_id = ANY ((SELECT liveupdate.caller_organization_ids(4))::bigint[]));

ALTER TABLE liveupdate.api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY api_keys_admin ON liveupdate.api_keys FOR ALL
    USING (organization_id = ANY ((SELECT liveupdate.caller_organization_ids(4))::bigint[]))
    WITH CHECK (organization_id = ANY ((SELECT liveupdate.caller_organization_ids(4))::bigint[]));
