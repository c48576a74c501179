//! `liveupdate.manifest_size(jsonb)`: sizes of the manifest files a device is missing
//! (`POST /updates/manifest_size`, protocol.md §2.6).

use std::collections::HashMap;

use liveupdate_core::answer::{Code, Refusal};
use liveupdate_core::manifest_size::{self, SizeRequest};
use pgrx::JsonB;
use pgrx::prelude::*;
use pgrx::spi::{SpiClient, SpiResult};
use serde_json::Value;

use crate::json_text;
use crate::plans::{TEXT, TEXT_ARRAY, with_plan};

const APP_SQL: &str = "SELECT id FROM liveupdate.apps WHERE app_id = $1";
const FILES_SQL: &str = "SELECT f.file_name, f.file_hash, f.file_size \
    FROM liveupdate.bundles AS b JOIN liveupdate.bundle_files AS f ON f.bundle_id = b.id \
    JOIN liveupdate.apps AS a ON a.id = b.app_id \
    WHERE a.app_id = $1 AND b.name = $2 AND f.file_name = ANY($3)";

/// Answers a manifest-size request: `{totalSize, knownFiles, unknownFiles, files}`; a file that is
/// not in the named bundle with the given hash, or has no recorded size, is `size_unknown`.
#[pg_extern(stable, strict, parallel_safe)]
#[search_path(pg_catalog, pg_temp)]
fn manifest_size(request: JsonB) -> JsonB {
    JsonB(answer(&request.0))
}

/// [`manifest_size`] for the gateway, JSON text in and out (see `json_text`).
#[pg_extern(stable, strict, parallel_safe, security_definer, name = "_manifest_size_text")]
#[search_path(pg_catalog, pg_temp)]
fn manifest_size_text(request: &str) -> String {
    json_text::answer_text(request, answer)
}

fn answer(value: &Value) -> Value {
    let request = match SizeRequest::from_json(value) {
        Ok(request) => request,
        Err(refusal) => return refusal.to_json(),
    };
    Spi::connect(|client| sizes(client, &request))
        .unwrap_or_else(|e| pgrx::error!("liveupdate: manifest size lookup failed: {e}"))
}

fn sizes(client: &SpiClient<'_>, request: &SizeRequest) -> SpiResult<Value> {
    let app_id = request.check.app_id.as_str();
    let app_known = with_plan(
        client,
        "manifest_size_app",
        || APP_SQL.to_owned(),
        &[TEXT],
        |plan| Ok(!client.select(plan, Some(1), &[app_id.into()])?.is_empty()),
    )?;
    if !app_known {
        return Ok(Refusal::new(Code::OnPremiseApp).to_json());
    }
    let names: Vec<String> = request.entries.iter().map(|e| e.file_name.clone()).collect();
    let stored = with_plan(
        client,
        "manifest_size_files",
        || FILES_SQL.to_owned(),
        &[TEXT, TEXT, TEXT_ARRAY],
        |plan| {
            let mut stored = HashMap::new();
            for row in
                client.select(plan, None, &[app_id.into(), request.version.as_str().into(), names.into()])?
            {
                if let (Some(name), Some(hash)) = (row.get::<String>(1)?, row.get::<String>(2)?) {
                    stored.insert(name, (hash, row.get::<i64>(3)?));
                }
            }
            Ok(stored)
        },
    )?;
    let sizes: Vec<Option<i64>> = request
        .entries
        .iter()
        .map(|entry| match stored.get(&entry.file_name) {
            Some((hash, size)) if hash.eq_ignore_ascii_case(&entry.file_hash) => *size,
            _ => None,
        })
        .collect();
    Ok(manifest_size::response_body(&request.entries, &sizes))
}
