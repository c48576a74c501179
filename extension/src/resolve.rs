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
use pgrx::spi::{SpiClient, SpiHeapTupleData, SpiResult};
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
    let found = lookup(client, req)?;
    answer_found(client, req, found.as_ref())
}

pub(crate) fn answer_found(
    client: &SpiClient<'_>,
    req: &UpdateRequest,
    found: Option<&Found>,
) -> SpiResult<Value> {
    let Some(found) = found else {
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
pub(crate) struct Found {
    expose_metadata: bool,
    target: Option<Target>,
    bundle_pk: i64,
    /// The channel the device resolved to, and how; None when it has none.
    pub(crate) chosen: Option<(i64, Via)>,
}

/// How the device came to its channel: the lookup's candidate priority (`sql/resolve.sql`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    Override,
    DefaultChannel,
    Public,
}

impl Via {
    fn from_priority(priority: i32) -> Via {
        match priority {
            1 => Via::Override,
            2 => Via::DefaultChannel,
            _ => Via::Public,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Via::Override => "override",
            Via::DefaultChannel => "default_channel",
            Via::Public => "public",
        }
    }
}

pub(crate) fn lookup(client: &SpiClient<'_>, req: &UpdateRequest) -> SpiResult<Option<Found>> {
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
            None,
            &[
                req.app_id.as_str().into(),
                req.device_id.as_str().into(),
                requested.into(),
                req.version_name.as_str().into(),
            ],
        )?;
        // One row per candidate channel, in priority order (a row without one for an app that
        // has none); no row for an unknown app.
        let mut expose_metadata = None;
        for row in rows {
            let exposes = row.get::<bool>(2)?.unwrap_or(false);
            expose_metadata = Some(exposes);
            if let Some(found) = read_candidate(&row, req.platform, exposes)? {
                return Ok(Some(found));
            }
        }
        Ok(expose_metadata.map(|expose_metadata| Found {
            expose_metadata,
            target: None,
            bundle_pk: 0,
            chosen: None,
        }))
    })
}

/// The device's channel from one candidate row; None when the row has none or the device may
/// not select it: a channel it names must be open to devices and on for its platform.
fn read_candidate(
    row: &SpiHeapTupleData<'_>,
    platform: Platform,
    expose_metadata: bool,
) -> SpiResult<Option<Found>> {
    let Some(via) = row.get::<i32>(3)?.map(Via::from_priority) else { return Ok(None) };
    let channel = channel::read_rules(row, 5, via == Via::Override)?;
    if via == Via::DefaultChannel && !channel.selectable_by_name(platform) {
        return Ok(None);
    }
    let channel_pk = row.get::<i64>(4)?.unwrap_or_default();
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
        chosen: Some((channel_pk, via)),
    }))
}

fn read_bundle(row: &SpiHeapTupleData<'_>) -> SpiResult<BundleFacts> {
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
