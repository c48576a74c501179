-- liveupdate's data model. Everything lives in schema `liveupdate` (the control file creates it).
-- Keys are chosen so that update resolution is index lookups only:
--   apps(app_id) → device_overrides(app, device) → channels(app, name) / channels(app) public partial
--   indexes → bundles(id). See resolve.sql.

CREATE TABLE liveupdate.organizations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE liveupdate.organizations IS 'Tenants: every app belongs to one organization.';
COMMENT ON COLUMN liveupdate.organizations.name IS 'Display name, unique.';

CREATE TABLE liveupdate.apps (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id       bigint NOT NULL REFERENCES liveupdate.organizations (id) ON DELETE CASCADE,
    app_id                text NOT NULL UNIQUE CHECK (liveupdate._is_app_id(app_id)),
    name                  text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    expose_metadata       boolean NOT NULL DEFAULT false,
    allow_custom_id       boolean NOT NULL DEFAULT true,
    bundle_retention_days integer NOT NULL DEFAULT 0 CHECK (bundle_retention_days >= 0),
    require_signature     boolean NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX apps_organization_idx ON liveupdate.apps (organization_id);
COMMENT ON TABLE liveupdate.apps IS 'Capacitor apps served by this server, keyed by the reverse-domain id the plugin sends.';
COMMENT ON COLUMN liveupdate.apps.app_id IS 'The plugin''s appId (reverse-domain, e.g. com.example.app); matched exactly.';
COMMENT ON COLUMN liveupdate.apps.name IS 'Display name.';
COMMENT ON COLUMN liveupdate.apps.expose_metadata IS 'Send each bundle''s link and comment to plugins that read them (5.35/6.35/7.35/8.35 and later).';
COMMENT ON COLUMN liveupdate.apps.allow_custom_id IS 'Store the custom_id devices report; when false it is dropped.';
COMMENT ON COLUMN liveupdate.apps.bundle_retention_days IS 'Days to keep bundles no channel points at before they are removed; 0 keeps them forever.';
COMMENT ON COLUMN liveupdate.apps.require_signature IS 'When true, every new bundle must be signed by one of the app''s signing_keys.';

CREATE TABLE liveupdate.bundles (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id              bigint NOT NULL REFERENCES liveupdate.apps (id) ON DELETE CASCADE,
    name                text NOT NULL CHECK (liveupdate._is_semver(name)),
    checksum            text NOT NULL DEFAULT '' CHECK (liveupdate._is_bundle_checksum(checksum)),
    session_key         text NOT NULL DEFAULT '' CHECK (liveupdate._is_session_key(session_key)),
    key_id              text CHECK (length(key_id) BETWEEN 1 AND 20),
    external_url        text CHECK (liveupdate._is_http_url(external_url)),
    storage_key         text CHECK (length(storage_key) BETWEEN 1 AND 1024),
    min_update_version  text CHECK (liveupdate._is_semver(min_update_version)),
    link                text CHECK (length(link) <= 2048),
    comment             text CHECK (length(comment) <= 4096),
    manifest_count      integer NOT NULL DEFAULT 0 CHECK (manifest_count >= 0),
    signature           text CHECK (length(signature) <= 200),
    signed_by           text CHECK (length(signed_by) <= 100),
    archive_bytes       bigint CHECK (archive_bytes >= 0),
    created_at          timestamptz NOT NULL DEFAULT now(),
    deleted_at          timestamptz,
    purged_at           timestamptz,
    -- A name is never reused, even after deletion: devices treat an equal name as "already installed".
    UNIQUE (app_id, name),
    UNIQUE (app_id, id)
);
COMMENT ON TABLE liveupdate.bundles IS 'Web bundles (zips and/or file manifests) that channels point at.';
COMMENT ON COLUMN liveupdate.bundles.name IS 'Semver version name; devices report it back as version_name. Unique per app forever.';
COMMENT ON COLUMN liveupdate.bundles.checksum IS 'Lowercase SHA-256 hex of the zip, its RSA-encrypted form (512 hex or base64), legacy CRC32, or empty when unknown.';
COMMENT ON COLUMN liveupdate.bundles.session_key IS '"<iv base64>:<RSA-encrypted AES key base64>" for encrypted bundles, empty otherwise.';
COMMENT ON COLUMN liveupdate.bundles.key_id IS 'First 20 characters of the public key the bundle was encrypted for; compared with the device''s key_id.';
COMMENT ON COLUMN liveupdate.bundles.external_url IS 'Absolute http(s) URL of the zip when it is hosted elsewhere.';
COMMENT ON COLUMN liveupdate.bundles.storage_key IS 'Object key of the zip in the gateway''s storage; served at <public_url>/files/<key>.';
COMMENT ON COLUMN liveupdate.bundles.min_update_version IS 'Lowest native version this bundle may be installed on, for channels limited by version_number.';
COMMENT ON COLUMN liveupdate.bundles.link IS 'Release-notes link shown to plugins when the app exposes metadata.';
COMMENT ON COLUMN liveupdate.bundles.comment IS 'Release comment shown to plugins when the app exposes metadata.';
COMMENT ON COLUMN liveupdate.bundles.signature IS 'Ed25519 signature (base64) of the bundle''s app, version and checksum, checked at registration.';
COMMENT ON COLUMN liveupdate.bundles.signed_by IS 'Name of the app''s signing key that made signature.';
COMMENT ON COLUMN liveupdate.bundles.manifest_count IS 'Number of rows in bundle_files, kept by register functions so resolution can skip the manifest lookup.';
COMMENT ON COLUMN liveupdate.bundles.deleted_at IS 'Soft-delete time; deleted bundles are never offered.';
COMMENT ON COLUMN liveupdate.bundles.purged_at IS 'When cleanup removed a deleted bundle''s files (after the grace period); the row stays so the name is never reused.';
COMMENT ON COLUMN liveupdate.bundles.archive_bytes IS 'Size of the stored zip, for bandwidth and storage statistics (NULL when unknown: an external_url).';

CREATE TABLE liveupdate.bundle_files (
    bundle_id     bigint NOT NULL REFERENCES liveupdate.bundles (id) ON DELETE CASCADE,
    file_name     text NOT NULL CHECK (liveupdate._is_bundle_path(file_name)),
    file_hash     text NOT NULL CHECK (liveupdate._is_file_hash(file_hash)),
    file_size     bigint CHECK (file_size >= 0),
    storage_key   text CHECK (length(storage_key) BETWEEN 1 AND 1024),
    download_url  text CHECK (liveupdate._is_http_url(download_url)),
    PRIMARY KEY (bundle_id, file_name),
    CHECK ((storage_key IS NULL) <> (download_url IS NULL))
);
COMMENT ON TABLE liveupdate.bundle_files IS 'The file manifest of a bundle, sent to plugins that support delta updates.';
COMMENT ON COLUMN liveupdate.bundle_files.file_name IS 'Relative path inside the bundle, with a .br suffix when the stored file is brotli-compressed.';
COMMENT ON COLUMN liveupdate.bundle_files.file_hash IS 'SHA-256 hex of the original file, or its RSA-encrypted form for encrypted bundles.';
COMMENT ON COLUMN liveupdate.bundle_files.file_size IS 'Size in bytes of the stored object, when known.';
COMMENT ON COLUMN liveupdate.bundle_files.storage_key IS 'Object key in the gateway''s storage (content-addressed).';
COMMENT ON COLUMN liveupdate.bundle_files.download_url IS 'Absolute URL when the file is hosted elsewhere.';

CREATE TYPE liveupdate.auto_update_limit AS ENUM ('major', 'minor', 'patch', 'version_number', 'none');
COMMENT ON TYPE liveupdate.auto_update_limit IS 'How far above the native version a channel may take a device (protocol: disable_auto_update).';

CREATE TABLE liveupdate.channels (
    id                                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    app_id                            bigint NOT NULL REFERENCES liveupdate.apps (id) ON DELETE CASCADE,
    name                              text NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    bundle_id                         bigint,
    public                            boolean NOT NULL DEFAULT false,
    ios                               boolean NOT NULL DEFAULT true,
    android                           boolean NOT NULL DEFAULT true,
    electron                          boolean NOT NULL DEFAULT true,
    allow_device_self_set             boolean NOT NULL DEFAULT false,
    allow_emulator                    boolean NOT NULL DEFAULT true,
    allow_device                      boolean NOT NULL DEFAULT true,
    allow_dev                         boolean NOT NULL DEFAULT true,
    allow_prod                        boolean NOT NULL DEFAULT true,
    disable_auto_update               liveupdate.auto_update_limit NOT NULL DEFAULT 'major',
    disable_auto_update_under_native  boolean NOT NULL DEFAULT true,
    bundle_changed_at                 timestamptz NOT NULL DEFAULT now(),
    rollout_bundle_id                 bigint,
    rollout_id                        bigint,
    rollout_basis_points              integer NOT NULL DEFAULT 0 CHECK (rollout_basis_points BETWEEN 0 AND 10000),
    rollout_paused                    boolean NOT NULL DEFAULT false,
    rollout_started_at                timestamptz,
    created_at                        timestamptz NOT NULL DEFAULT now(),
    updated_at                        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (app_id, name),
    UNIQUE (app_id, id),
    -- A channel can only point at a bundle of its own app.
    FOREIGN KEY (app_id, bundle_id) REFERENCES liveupdate.bundles (app_id, id),
    FOREIGN KEY (app_id, rollout_bundle_id) REFERENCES liveupdate.bundles (app_id, id),
    CHECK ((rollout_bundle_id IS NULL) = (rollout_id IS NULL))
);
-- At most one public channel per platform per app; these also serve the "public channel" lookup.
CREATE UNIQUE INDEX channels_public_ios_idx ON liveupdate.channels (app_id) WHERE public AND ios;
CREATE UNIQUE INDEX channels_public_android_idx ON liveupdate.channels (app_id) WHERE public AND android;
CREATE UNIQUE INDEX channels_public_electron_idx ON liveupdate.channels (app_id) WHERE public AND electron;
CREATE INDEX channels_bundle_idx ON liveupdate.channels (bundle_id) WHERE bundle_id IS NOT NULL;
COMMENT ON TABLE liveupdate.channels IS 'Release channels: what each group of devices should run. A NULL bundle means the builtin bundle.';
COMMENT ON COLUMN liveupdate.channels.rollout_bundle_id IS 'A progressive rollout''s bundle, served instead of bundle_id to rollout_basis_points of the devices; NULL without a rollout.';
COMMENT ON COLUMN liveupdate.channels.rollout_id IS 'Identifies the rollout: with the device id it fixes each device''s bucket (liveupdate_core::rollout).';
COMMENT ON COLUMN liveupdate.channels.rollout_basis_points IS 'Share of devices in the rollout, in 1/100 of a percent (0 to 10000).';
COMMENT ON COLUMN liveupdate.channels.rollout_paused IS 'A paused rollout selects no new device until resumed; devices already running its bundle keep it.';
COMMENT ON COLUMN liveupdate.channels.rollout_started_at IS 'When the rollout began: the failure guard counts its reports from then.';
COMMENT ON COLUMN liveupdate.channels.name IS 'Channel name, unique per app; devices ask for it as defaultChannel.';
COMMENT ON COLUMN liveupdate.channels.bundle_id IS 'The bundle devices on this channel get; NULL means revert to the builtin bundle.';
COMMENT ON COLUMN liveupdate.channels.bundle_changed_at IS 'When bundle_id last changed; failures devices reported before it no longer block the bundle.';
COMMENT ON COLUMN liveupdate.channels.public IS 'The default channel of its platforms for devices that ask for none (one per platform per app).';
COMMENT ON COLUMN liveupdate.channels.ios IS 'Serve iOS devices.';
COMMENT ON COLUMN liveupdate.channels.android IS 'Serve Android devices.';
COMMENT ON COLUMN liveupdate.channels.electron IS 'Serve Electron apps.';
COMMENT ON COLUMN liveupdate.channels.allow_device_self_set IS 'Devices may choose this channel themselves (setChannel / defaultChannel).';
COMMENT ON COLUMN liveupdate.channels.allow_emulator IS 'Serve emulators and simulators.';
COMMENT ON COLUMN liveupdate.channels.allow_device IS 'Serve physical devices.';
COMMENT ON COLUMN liveupdate.channels.allow_dev IS 'Serve development builds (is_prod = false).';
COMMENT ON COLUMN liveupdate.channels.allow_prod IS 'Serve production builds (is_prod = true).';
COMMENT ON COLUMN liveupdate.channels.disable_auto_update IS 'Version limit relative to the native version: major, minor, patch, version_number or none.';
COMMENT ON COLUMN liveupdate.channels.disable_auto_update_under_native IS 'Never offer a bundle older than the native version.';

CREATE TABLE liveupdate.device_overrides (
    app_id      bigint NOT NULL,
    device_id   uuid NOT NULL,
    channel_id  bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (app_id, device_id),
    FOREIGN KEY (app_id, channel_id) REFERENCES liveupdate.channels (app_id, id) ON DELETE CASCADE
);
CREATE INDEX device_overrides_channel_idx ON liveupdate.device_overrides (channel_id);
COMMENT ON TABLE liveupdate.device_overrides IS 'Per-device channel assignments; they win over the channel the device asks for, whatever the channel''s flags.';

CREATE TABLE liveupdate.devices (
    app_id           bigint NOT NULL REFERENCES liveupdate.apps (id) ON DELETE CASCADE,
    device_id        uuid NOT NULL,
    platform         text NOT NULL,
    plugin_version   text NOT NULL,
    version_build    text NOT NULL,
    version_name     text NOT NULL,
    version_code     text,
    version_os       text,
    is_prod          boolean NOT NULL,
    is_emulator      boolean NOT NULL,
    install_source   text,
    custom_id        text,
    default_channel  text,
    key_id           text,
    first_seen_at    timestamptz NOT NULL,
    last_seen_at     timestamptz NOT NULL,
    PRIMARY KEY (app_id, device_id)
);
CREATE INDEX devices_last_seen_idx ON liveupdate.devices (app_id, last_seen_at);
COMMENT ON TABLE liveupdate.devices IS 'Last known state of each device, written in batches off the update-check path.';
COMMENT ON COLUMN liveupdate.devices.platform IS 'ios, android or electron.';
COMMENT ON COLUMN liveupdate.devices.plugin_version IS 'Version of @capgo/capacitor-updater on the device.';
COMMENT ON COLUMN liveupdate.devices.version_code IS 'Native build number (Android versionCode, iOS CFBundleVersion).';
COMMENT ON COLUMN liveupdate.devices.version_os IS 'Operating system version.';
COMMENT ON COLUMN liveupdate.devices.is_prod IS 'The app is a production build (TestFlight reports false).';
COMMENT ON COLUMN liveupdate.devices.is_emulator IS 'The device is an emulator or simulator.';
COMMENT ON COLUMN liveupdate.devices.install_source IS 'Store the app was installed from (google_play, app_store, testflight, ...), lowercased.';
COMMENT ON COLUMN liveupdate.devices.key_id IS 'First 20 characters of the public key configured on the device.';
COMMENT ON COLUMN liveupdate.devices.first_seen_at IS 'Time of the first update check recorded.';
COMMENT ON COLUMN liveupdate.devices.version_name IS 'The bundle the device runs ("builtin" when it said so).';
COMMENT ON COLUMN liveupdate.devices.version_build IS 'Native version, coerced to semver.';
COMMENT ON COLUMN liveupdate.devices.default_channel IS 'The channel the device asked for (defaultChannel), if any.';
COMMENT ON COLUMN liveupdate.devices.custom_id IS 'custom_id reported by the device, kept only when the app allows it.';
COMMENT ON COLUMN liveupdate.devices.last_seen_at IS 'Time of the latest update check recorded, to 10 minutes: unchanged checks within 10 minutes are not written.';

-- pg_dump must carry the data of extension-owned tables.
SELECT pg_catalog.pg_extension_config_dump('liveupdate.organizations', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.apps', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.bundles', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.bundle_files', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.channels', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.device_overrides', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.devices', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.organizations_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.apps_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.bundles_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('liveupdate.channels_id_seq', '');
