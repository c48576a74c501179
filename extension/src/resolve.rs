//! `liveupdate.resolve_update(jsonb)`: one prepared lookup, then the core crate decides.
//!
//! Planning dominated earlier measurements (a plain SQL function is re-planned on every call), so
//! each statement is prepared once per backend and kept (`SPI_keepplan`), one plan per platform.

use liveupdate_core::answer::{Code, Refusal};
use liveupdate_core::fields::Platform;
use liveupdate_core::request::UpdateRequest;
use liveupdate_core::resolve::{self, BundleFacts, Decision, ManifestEntry, Target};
use liveupdate_core::version;
use pgrx::JsonB;
use pgrx::prelude::*;
use pgrx::spi::{SpiClient, SpiResult, SpiTupleTable};
use serde_json::Value;

use crate::channel;
use crate::json_text;
use crate::plans::{INT8, TEXT, with_plan};
use crate::settings;

const RESOLVE_SQL: &str = include_str!("../../sql/resolve.sql");
const MANIFEST_SQL: &str = "SELECT file_name, file_hash, download_url, storage_key \
                            FROM liveupdate.bundle_files WHERE bundle_id = $1 ORDER BY file_name";

/// Answers a plugin update check with the body to send back (protocol.md §2-3).
#[pg_extern(stable, strict, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
fn resolve_update(request: JsonB) -> JsonB {
    JsonB(answer(&request.0))
}

/// [`resolve_update`] for the gateway's hot path, JSON text in and out (see `json_text`).
#[pg_extern(stable, strict, parallel_safe, security_definer, name = "_resolve_update_text")]
#[search_path(pg_catalog, pg_temp)]
fn resolve_update_text(request: &str) -> String {
    json_text::answer_text(request, answer)
}

fn answer(body: &Value) -> Value {
    let req = match UpdateRequest::from_json(body) {
        Ok(req) => req,
        Err(refusal) => return refusal.to_json(),
    };
    Spi::connect(|client| answer_request(client, &req))
        .unwrap_or_else(|e| pgrx::error!("liveupdate: update lookup failed: {e}"))
}

fn answer_request(client: &SpiClient<'_>, req: &UpdateRequest) -> SpiResult<Value> {
    let Some(found) = lookup(client, req)? else {
        return Ok(Refusal::new(Code::OnPremiseApp).to_json());
    };
    let decision = resolve::decide(req, found.target.as_ref());
    Ok(match decision {
        Decision::Refuse(refusal) => refusal.to_json(),
        Decision::RevertToBuiltin => resolve::revert_to_builtin_body(),
        Decision::Offer(bundle) => {
            let files_url = settings::files_base_url();
            let manifest = if resolve::wants_manifest(req, bundle) {
                Some(load_manifest(client, found.bundle_pk, &files_url)?)
            } else {
                None
            };
            resolve::offer_body(req, bundle, &files_url, manifest, found.expose_metadata)
                .unwrap_or_else(|refusal| refusal.to_json())
        }
    })
}

/// What the lookup found for an existing app.
struct Found {
    expose_metadata: bool,
    target: Option<Target>,
    bundle_pk: i64,
}

fn lookup(client: &SpiClient<'_>, req: &UpdateRequest) -> SpiResult<Option<Found>> {
    // One plan per platform, so each can use its platform's partial index on public channels.
    let name = match req.platform {
        Platform::Ios => "resolve_ios",
        Platform::Android => "resolve_android",
        Platform::Electron => "resolve_electron",
    };
    let sql = || RESOLVE_SQL.replace("__PLATFORM__", req.platform.as_str());
    with_plan(client, name, sql, &[TEXT, TEXT, TEXT, TEXT], |plan| {
        let requested = req.default_channel.as_deref().unwrap_or("");
        let rows = client.select(
            plan,
            Some(1),
            &[
                req.app_id.as_str().into(),
                req.device_id.as_str().into(),
                requested.into(),
                req.version_name.as_str().into(),
            ],
        )?;
        if rows.is_empty() {
            return Ok(None);
        }
        read_found(&rows.first())
    })
}

fn read_found(row: &SpiTupleTable<'_>) -> SpiResult<Option<Found>> {
    let expose_metadata = row.get::<bool>(2)?.unwrap_or(false);
    let Some(via_override) = row.get::<bool>(3)? else {
        return Ok(Some(Found { expose_metadata, target: None, bundle_pk: 0 }));
    };
    let channel = channel::read_rules(row, 5, via_override)?;
    let bundle_pk = row.get::<i64>(17)?;
    let bundle = match bundle_pk {
        None => None,
        Some(_) => Some(read_bundle(row)?),
    };
    let failed_on_device = row.get::<bool>(28)?.unwrap_or(false);
    Ok(Some(Found {
        expose_metadata,
        target: Some(Target { channel, bundle, failed_on_device }),
        bundle_pk: bundle_pk.unwrap_or(0),
    }))
}

fn read_bundle(row: &SpiTupleTable<'_>) -> SpiResult<BundleFacts> {
    let name = row.get::<String>(18)?.unwrap_or_default();
    // Table CHECK constraints only admit semver names, so a failure here is data corruption.
    let parse = |text: &str| {
        version::parse_strict(text)
            .unwrap_or_else(|e| pgrx::error!("liveupdate: stored bundle version is invalid: {e}"))
    };
    Ok(BundleFacts {
        version: parse(&name),
        checksum: row.get::<String>(19)?.unwrap_or_default(),
        session_key: row.get::<String>(20)?.unwrap_or_default(),
        key_id: row.get::<String>(21)?,
        external_url: row.get::<String>(22)?,
        storage_key: row.get::<String>(23)?,
        min_update_version: row.get::<String>(24)?.map(|text| parse(&text)),
        link: row.get::<String>(25)?,
        comment: row.get::<String>(26)?,
        manifest_count: row.get::<i32>(27)?.map_or(0, i64::from),
    })
}

fn load_manifest(client: &SpiClient<'_>, bundle_pk: i64, files_url: &str) -> SpiResult<Vec<ManifestEntry>> {
    with_plan(
        client,
        "manifest",
        || MANIFEST_SQL.to_owned(),
        &[INT8],
        |plan| {
            let mut entries = Vec::new();
            for row in client.select(plan, None, &[bundle_pk.into()])? {
                let storage_key = row.get::<String>(4)?;
                let download_url = match row.get::<String>(3)? {
                    Some(url) => url,
                    None => resolve::storage_url(files_url, &storage_key.unwrap_or_default()),
                };
                entries.push(ManifestEntry {
                    file_name: row.get::<String>(1)?.unwrap_or_default(),
                    file_hash: row.get::<String>(2)?.unwrap_or_default(),
                    download_url,
                });
            }
            Ok(entries)
        },
    )
}
