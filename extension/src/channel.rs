//! `liveupdate.channel_self(operation, request)`: the four verbs of `/channel_self` (protocol.md
//! §6) for both plugin generations. Returns the body to send back.

use liveupdate_core::answer::{Code, Refusal};
use liveupdate_core::channel::{ChannelRequest, Operation};
use pgrx::JsonB;
use pgrx::prelude::*;
use pgrx::spi::{SpiClient, SpiResult, SpiTupleTable};
use serde_json::{Value, json};

use crate::json_text;
use crate::plans::{BOOL, INT8, TEXT, with_plan, with_write_plan};

const APP_SQL: &str = "SELECT id FROM liveupdate.apps WHERE app_id = $1";
const CHANNEL_SQL: &str = "SELECT id, name, public, allow_device_self_set \
    FROM liveupdate.channels WHERE app_id = $1 AND name = $2";
const PUBLIC_CHANNEL_SQL: &str = "SELECT id, name, public, allow_device_self_set \
    FROM liveupdate.channels WHERE app_id = $1 AND public \
    AND CASE $2 WHEN 'ios' THEN ios WHEN 'android' THEN android ELSE electron END \
    ORDER BY name, id LIMIT 1";
const OVERRIDE_SQL: &str = "SELECT c.id, c.name, c.public, c.allow_device_self_set \
    FROM liveupdate.device_overrides AS o JOIN liveupdate.channels AS c ON c.id = o.channel_id \
    WHERE o.app_id = $1 AND o.device_id = $2::uuid";
const SET_OVERRIDE_SQL: &str = "INSERT INTO liveupdate.device_overrides (app_id, device_id, channel_id) \
    VALUES ($1, $2::uuid, $3) ON CONFLICT ON CONSTRAINT device_overrides_pkey \
    DO UPDATE SET channel_id = excluded.channel_id, created_at = now()";
const DELETE_OVERRIDE_SQL: &str =
    "DELETE FROM liveupdate.device_overrides WHERE app_id = $1 AND device_id = $2::uuid";
const LIST_SQL: &str = "SELECT id, name, public, allow_device_self_set FROM liveupdate.channels \
    WHERE app_id = $1 AND (public OR allow_device_self_set) \
    AND CASE $2 WHEN 'ios' THEN ios WHEN 'android' THEN android ELSE electron END \
    AND CASE WHEN $3 THEN allow_emulator ELSE allow_device END \
    AND CASE WHEN $4 THEN allow_prod ELSE allow_dev END \
    ORDER BY name, id";

/// Answers a `/channel_self` request. `operation` is `set` (POST), `get` (PUT), `list` (GET) or
/// `unset` (DELETE); `request` is the body, or the query string as a JSON object.
#[pg_extern(volatile, strict, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
fn channel_self(operation: &str, request: JsonB) -> JsonB {
    JsonB(answer(operation, &request.0))
}

/// [`channel_self`] for the gateway, JSON text in and out (see `json_text`).
#[pg_extern(volatile, strict, parallel_unsafe, security_definer, name = "_channel_self_text")]
#[search_path(pg_catalog, pg_temp)]
fn channel_self_text(operation: &str, request: &str) -> String {
    json_text::answer_text(request, |value| answer(operation, value))
}

fn answer(operation: &str, value: &Value) -> Value {
    let Some(operation) = Operation::parse(operation) else {
        pgrx::error!("liveupdate: channel_self operation must be set, get, list or unset, not {operation:?}");
    };
    let request = match ChannelRequest::from_json(operation, value) {
        Ok(request) => request,
        Err(refusal) => return refusal.to_json(),
    };
    Spi::connect_mut(|client| respond(client, &request))
        .unwrap_or_else(|e| pgrx::error!("liveupdate: channel request failed: {e}"))
}

/// A channel as the verbs need it. Platform and build flags are not checked here: `/updates`
/// applies them to the channel the device then asks for.
struct Channel {
    id: i64,
    name: String,
    public: bool,
    self_set: bool,
}

fn respond(client: &mut SpiClient<'_>, req: &ChannelRequest) -> SpiResult<Value> {
    let app = with_plan(
        client,
        "channel_app",
        || APP_SQL.to_owned(),
        &[TEXT],
        |plan| {
            let rows = client.select(plan, Some(1), &[req.app_id.as_str().into()])?;
            if rows.is_empty() { Ok(None) } else { rows.first().get::<i64>(1) }
        },
    )?;
    let Some(app_pk) = app else {
        return Ok(Refusal::new(Code::OnPremiseApp).to_json());
    };
    match req.operation {
        Operation::Set => set(client, app_pk, req),
        Operation::Get => get(client, app_pk, req),
        Operation::List => list(client, app_pk, req),
        Operation::Unset => unset(client, app_pk, req),
    }
}

fn set(client: &mut SpiClient<'_>, app_pk: i64, req: &ChannelRequest) -> SpiResult<Value> {
    let Some(name) = &req.channel else {
        return Ok(Refusal::new(Code::MissingChannel).to_json());
    };
    let Some(channel) = channel_named(client, app_pk, name)? else {
        return Ok(Refusal::new(Code::ChannelNotFound)
            .with("channel", name.clone())
            .with("app_id", req.app_id.clone())
            .to_json());
    };
    if req.server_keeps_channel() {
        let current = override_of(client, app_pk, req)?;
        if current.as_ref().is_some_and(|c| !c.self_set) {
            return Ok(Refusal::new(Code::CannotOverride).to_json());
        }
        let public = public_channel(client, app_pk, req)?;
        if public.is_some_and(|p| p.id == channel.id) {
            // Back to the default: an override would only pin what the device gets anyway.
            delete_override(client, app_pk, req)?;
            return Ok(json!({"status": "ok"}));
        }
    }
    if !channel.self_set {
        let code = if channel.public {
            Code::PublicChannelSelfSetNotAllowed
        } else {
            Code::ChannelSelfSetNotAllowed
        };
        return Ok(Refusal::new(code).with("channel", channel.name).to_json());
    }
    if !req.server_keeps_channel() {
        // Current plugins keep the choice on the device and send it as defaultChannel.
        return Ok(json!({"status": "ok", "allowSet": true}));
    }
    let device = req.device_id.clone().unwrap_or_default();
    with_write_plan(
        client,
        "channel_set_override",
        SET_OVERRIDE_SQL,
        &[INT8, TEXT, INT8],
        |client, plan| client.update(plan, None, &[app_pk.into(), device.as_str().into(), channel.id.into()]),
    )?;
    Ok(json!({"status": "ok"}))
}

fn get(client: &mut SpiClient<'_>, app_pk: i64, req: &ChannelRequest) -> SpiResult<Value> {
    if req.server_keeps_channel() {
        if let Some(current) = override_of(client, app_pk, req)? {
            return Ok(json!({"channel": current.name, "status": "override", "allowSet": current.self_set}));
        }
        // A named channel that does not exist is not replaced by the public one: /updates gives
        // such a device no_channel (it never falls back), so this answer must not name a channel.
        if let Some(name) = &req.default_channel {
            return Ok(match channel_named(client, app_pk, name)? {
                Some(channel) => json!({"channel": channel.name, "status": "default"}),
                None => Refusal::new(Code::ChannelNotFound)
                    .with("channel", name.clone())
                    .with("app_id", req.app_id.clone())
                    .to_json(),
            });
        }
    } else {
        if let Some(channel) = &req.channel {
            return Ok(json!({"channel": channel, "status": "override", "allowSet": true}));
        }
        if let Some(name) = &req.default_channel {
            return Ok(json!({"channel": name, "status": "default"}));
        }
    }
    // The reference backend answers "production" here whatever the app has; plugins from 8.47.9
    // save the answer as their channel, so only a channel /updates accepts is named.
    match public_channel(client, app_pk, req)? {
        Some(public) => Ok(json!({"channel": public.name, "status": "default"})),
        None => Ok(Refusal::new(Code::ChannelNotFound).with("app_id", req.app_id.clone()).to_json()),
    }
}

fn list(client: &mut SpiClient<'_>, app_pk: i64, req: &ChannelRequest) -> SpiResult<Value> {
    with_plan(
        client,
        "channel_list",
        || LIST_SQL.to_owned(),
        &[INT8, TEXT, BOOL, BOOL],
        |plan| {
            let args =
                [app_pk.into(), req.platform.as_str().into(), req.is_emulator.into(), req.is_prod.into()];
            let mut channels = Vec::new();
            for row in client.select(plan, None, &args)? {
                channels.push(json!({
                    "id": row.get::<i64>(1)?,
                    "name": row.get::<String>(2)?,
                    "public": row.get::<bool>(3)?,
                    "allow_self_set": row.get::<bool>(4)?,
                }));
            }
            Ok(Value::Array(channels))
        },
    )
}

fn unset(client: &mut SpiClient<'_>, app_pk: i64, req: &ChannelRequest) -> SpiResult<Value> {
    if !req.server_keeps_channel() {
        return Ok(json!({"status": "ok"}));
    }
    match override_of(client, app_pk, req)? {
        Some(current) if current.self_set => {
            delete_override(client, app_pk, req)?;
            Ok(json!({"status": "ok"}))
        }
        _ => Ok(Refusal::new(Code::CannotOverride).to_json()),
    }
}

fn read_channel(rows: SpiTupleTable<'_>) -> SpiResult<Option<Channel>> {
    if rows.is_empty() {
        return Ok(None);
    }
    let row = rows.first();
    Ok(Some(Channel {
        id: row.get::<i64>(1)?.unwrap_or_default(),
        name: row.get::<String>(2)?.unwrap_or_default(),
        public: row.get::<bool>(3)?.unwrap_or(false),
        self_set: row.get::<bool>(4)?.unwrap_or(false),
    }))
}

fn channel_named(client: &SpiClient<'_>, app_pk: i64, name: &str) -> SpiResult<Option<Channel>> {
    with_plan(
        client,
        "channel_named",
        || CHANNEL_SQL.to_owned(),
        &[INT8, TEXT],
        |plan| read_channel(client.select(plan, Some(1), &[app_pk.into(), name.into()])?),
    )
}

fn public_channel(client: &SpiClient<'_>, app_pk: i64, req: &ChannelRequest) -> SpiResult<Option<Channel>> {
    with_plan(
        client,
        "channel_public",
        || PUBLIC_CHANNEL_SQL.to_owned(),
        &[INT8, TEXT],
        |plan| {
            let rows = client.select(plan, Some(1), &[app_pk.into(), req.platform.as_str().into()])?;
            read_channel(rows)
        },
    )
}

fn override_of(client: &SpiClient<'_>, app_pk: i64, req: &ChannelRequest) -> SpiResult<Option<Channel>> {
    let device = req.device_id.clone().unwrap_or_default();
    with_plan(
        client,
        "channel_override",
        || OVERRIDE_SQL.to_owned(),
        &[INT8, TEXT],
        |plan| {
            let rows = client.select(plan, Some(1), &[app_pk.into(), device.as_str().into()])?;
            read_channel(rows)
        },
    )
}

fn delete_override(client: &mut SpiClient<'_>, app_pk: i64, req: &ChannelRequest) -> SpiResult<()> {
    let device = req.device_id.clone().unwrap_or_default();
    with_write_plan(
        client,
        "channel_delete_override",
        DELETE_OVERRIDE_SQL,
        &[INT8, TEXT],
        |client, plan| client.update(plan, None, &[app_pk.into(), device.as_str().into()]),
    )?;
    Ok(())
}
