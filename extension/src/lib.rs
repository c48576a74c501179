//! pg_liveupdate: liveupdate's rules inside PostgreSQL.
//!
//! The data model and the DBA API are SQL files under `sql/` (wired in below); the Rust functions
//! here are thin wrappers that look facts up through SPI and hand them to `liveupdate-core`.

use pgrx::prelude::*;

mod channel;
mod event_rules;
mod explain;
mod guard;
mod json_text;
mod manifest_size;
mod overrides;
mod plans;
mod resolve;
mod rollout;
mod rollups;
mod selection;
mod settings;
mod signing;
mod stats;
mod triggers;
mod validators;

pgrx::pg_module_magic!(name, version);

extension_sql_file!(
    "../sql/schema.sql",
    name = "schema",
    requires = [
        validators::is_app_id,
        validators::is_semver,
        validators::is_http_url,
        validators::is_bundle_checksum,
        validators::is_file_hash,
        validators::is_session_key,
        validators::is_bundle_path,
        validators::canonical_bundle_checksum,
        validators::canonical_file_hash,
        validators::is_sha256_hex,
        validators::is_uuid,
        rollout::rollout_bucket,
        selection::channel_selectable_by_name
    ]
);
extension_sql_file!(
    "../sql/api.sql",
    name = "api",
    requires = ["schema", overrides::write_device_override, overrides::remove_device_override]
);
extension_sql_file!("../sql/events.sql", name = "events", requires = ["schema"]);
extension_sql_file!("../sql/access.sql", name = "access", requires = ["events"]);
extension_sql_file!("../sql/manage.sql", name = "manage", requires = ["access", "api"]);
extension_sql_file!("../sql/deploys.sql", name = "deploys", requires = ["manage"]);
extension_sql_file!("../sql/rollouts.sql", name = "rollouts", requires = ["deploys"]);
extension_sql_file!(
    "../sql/signing.sql",
    name = "signing",
    requires = ["manage", signing::bundle_signature_valid, signing::decode_signing_key]
);
extension_sql_file!(
    "../sql/rollups.sql",
    name = "rollups",
    requires = [
        "signing",
        event_rules::is_failure_action,
        event_rules::reports_running_bundle,
        event_rules::is_download_action,
        event_rules::bundle_name_of
    ]
);
extension_sql_file!(
    "../sql/guard.sql",
    name = "guard",
    requires =
        ["rollups", event_rules::is_failure_action, guard::wilson_lower_bound, guard::guard_limit_crossed]
);
extension_sql_file!("../sql/cleanup.sql", name = "cleanup", requires = ["guard"]);
extension_sql_file!("../sql/periodic.sql", name = "periodic", requires = ["cleanup"]);
extension_sql_file!("../sql/integrity.sql", name = "integrity", requires = ["cleanup"]);
extension_sql_file!("../sql/delete_app.sql", name = "delete_app", requires = ["integrity"]);
extension_sql_file!(
    "../sql/console.sql",
    name = "console",
    requires = [
        "delete_app",
        resolve::resolve_update,
        explain::explain_update,
        selection::channel_selectable_by_name
    ]
);
extension_sql_file!("../sql/privileges.sql", name = "privileges", finalize);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    settings::register();
}

#[cfg(any(test, feature = "pg_test"))]
mod tests;

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
