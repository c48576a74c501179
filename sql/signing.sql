-- Signed publishing: ed25519 public keys registered per app; an app with require_signature
-- accepts only bundles signed by one of its live keys (see liveupdate_core::signing for what is
-- signed). Errors: LU001 signature required, LU002 invalid signature (wrong key, other app's key,
-- revoked key, or bytes that do not verify).

CREATE TABLE liveupdate.signing_keys (
    app_id      bigint NOT NULL REFERENCES liveupdate.apps (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    public_key  bytea NOT NULL CHECK (length(public_key) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    PRIMARY KEY (app_id, name)
);
COMMENT ON TABLE liveupdate.signing_keys IS 'Ed25519 public keys allowed to sign an app''s bundles.';
COMMENT ON COLUMN liveupdate.signing_keys.name IS 'The signer name uploads give; kept after revocation so old signatures stay attributable.';
COMMENT ON COLUMN liveupdate.signing_keys.public_key IS 'The 32-byte ed25519 public key.';
COMMENT ON COLUMN liveupdate.signing_keys.revoked_at IS 'When the key stopped being accepted.';
SELECT pg_catalog.pg_extension_config_dump('liveupdate.signing_keys', '');

ALTER TABLE liveupdate.signing_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY signing_keys_read ON liveupdate.signing_keys FOR SELECT
    USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(1))::bigint[]));
-- Who may sign is decided by the app's administrators (keys in mode all, admin members).
CREATE POLICY signing_keys_admin ON liveupdate.signing_keys FOR ALL
    USING (app_id = ANY ((SELECT liveupdate.caller_app_ids(4))::bigint[]))
    WITH CHECK (app_id = ANY ((SELECT liveupdate.caller_app_ids(4))::bigint[]));

CREATE FUNCTION liveupdate.add_signing_key(app_id text, name text, public_key text) RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(app_id);
    key_bytes bytea := liveupdate._decode_signing_key(coalesce(public_key, ''));
BEGIN
    PERFORM liveupdate._require_app_rank(app_pk, 4);
    IF key_bytes IS NULL THEN
        RAISE EXCEPTION 'public_key must be an ed25519 public key: 32 bytes, base64' USING ERRCODE = '22023';
    END IF;
    IF name IS NULL OR length(name) NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION 'signing key name must be 1 to 100 characters' USING ERRCODE = '22023';
    END IF;
    INSERT INTO liveupdate.signing_keys (app_id, name, public_key) VALUES (app_pk, add_signing_key.name, key_bytes);
EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION 'signing key "%" already exists for this app; names are never reused', name USING ERRCODE = '23505';
END
$$;
COMMENT ON FUNCTION liveupdate.add_signing_key(text, text, text) IS
    'Registers an ed25519 public key (base64) under a name that uploads give as their signer. Admin rights on the app.';

CREATE FUNCTION liveupdate.revoke_signing_key(app_id text, name text) RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(app_id);
BEGIN
    PERFORM liveupdate._require_app_rank(app_pk, 4);
    UPDATE liveupdate.signing_keys AS k SET revoked_at = now()
    WHERE k.app_id = app_pk AND k.name = revoke_signing_key.name AND k.revoked_at IS NULL;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION liveupdate.revoke_signing_key(text, text) IS 'Stops accepting a signing key; false when it was not live.';

-- Raises LU001 when the app requires signed bundles and this one is not signed.
CREATE FUNCTION liveupdate._require_signature_if_needed(app_pk bigint, signed boolean) RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app liveupdate.apps;
BEGIN
    SELECT * INTO app FROM liveupdate.apps AS a WHERE a.id = app_pk;
    IF app.require_signature AND NOT signed THEN
        RAISE EXCEPTION 'app "%" requires signed bundles: sign with one of its keys', app.app_id USING ERRCODE = 'LU001';
    END IF;
END
$$;

-- Raises LU001/LU002 unless the bundle's signature is acceptable for the app: required and
-- missing, or given and not a live key's valid signature. Returns the signer to record.
CREATE FUNCTION liveupdate._check_bundle_signature(app_pk bigint, version text, checksum text,
                                                   signature text, signer text) RETURNS text
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app liveupdate.apps;
    key_bytes bytea;
BEGIN
    SELECT * INTO app FROM liveupdate.apps AS a WHERE a.id = app_pk;
    IF signature IS NULL AND signer IS NULL THEN
        PERFORM liveupdate._require_signature_if_needed(app_pk, false);
        RETURN NULL;
    END IF;
    SELECT k.public_key INTO key_bytes FROM liveupdate.signing_keys AS k
    WHERE k.app_id = app_pk AND k.name = signer AND k.revoked_at IS NULL;
    -- Encrypted bundles sign their RSA-encrypted checksum: the checksum as registered.
    IF key_bytes IS NULL OR signature IS NULL OR coalesce(checksum, '') = ''
       OR NOT liveupdate._bundle_signature_valid(key_bytes, app.app_id, version, checksum, signature) THEN
        RAISE EXCEPTION 'the signature does not verify with a live signing key of app "%" named "%"', app.app_id, signer
            USING ERRCODE = 'LU002';
    END IF;
    RETURN signer;
END
$$;

-- JSON operations for the management API.
CREATE FUNCTION liveupdate.api_list_signing_keys(input jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    app_pk bigint := liveupdate._app_pk(liveupdate._required_text(liveupdate._input(input, '{app_id}'), 'app_id'));
BEGIN
    RETURN jsonb_build_object('signing_keys', coalesce((
        SELECT jsonb_agg(jsonb_build_object('name', k.name, 'public_key', encode(k.public_key, 'base64'),
            'created_at', k.created_at, 'revoked_at', k.revoked_at) ORDER BY k.name)
        FROM liveupdate.signing_keys AS k WHERE k.app_id = app_pk), '[]'));
END
$$;
COMMENT ON FUNCTION liveupdate.api_list_signing_keys(jsonb) IS 'Management API: an app''s signing keys. {app_id} → {signing_keys}.';

CREATE FUNCTION liveupdate.api_add_signing_key(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, name, public_key}');
BEGIN
    PERFORM liveupdate.add_signing_key(liveupdate._required_text(fields, 'app_id'),
        liveupdate._required_text(fields, 'name'), liveupdate._required_text(fields, 'public_key'));
    -- The key as stored and as api_list_signing_keys shows it.
    RETURN (SELECT jsonb_build_object('name', k.name, 'public_key', encode(k.public_key, 'base64'),
            'created_at', k.created_at, 'revoked_at', k.revoked_at)
        FROM liveupdate.signing_keys AS k
        WHERE k.app_id = liveupdate._app_pk(fields ->> 'app_id') AND k.name = fields ->> 'name');
END
$$;
COMMENT ON FUNCTION liveupdate.api_add_signing_key(jsonb) IS
    'Management API: registers an ed25519 public key for signed uploads (admin rights). {app_id, name, public_key} → key.';

CREATE FUNCTION liveupdate.api_revoke_signing_key(input jsonb) RETURNS jsonb
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fields jsonb := liveupdate._input(input, '{app_id, name}');
BEGIN
    IF NOT liveupdate.revoke_signing_key(liveupdate._required_text(fields, 'app_id'), liveupdate._required_text(fields, 'name')) THEN
        RAISE EXCEPTION 'signing key "%" does not exist or is already revoked', fields ->> 'name' USING ERRCODE = 'P0002';
    END IF;
    RETURN jsonb_build_object('revoked', true);
END
$$;
COMMENT ON FUNCTION liveupdate.api_revoke_signing_key(jsonb) IS 'Management API: revokes a signing key (admin rights). {app_id, name} → {revoked}.';
