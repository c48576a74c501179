//! `liveupdate.channel_self(operation, request)`: the four verbs of `/channel_self` (protocol.md
//! §6) for both plugin generations. Returns the body to send back.

use liveupdate_core::answer::{Code, Refusal};
use liveupdate_core::channel::{ChannelRequest, Operation};
use liveupdate_core::policy::{AutoUpdateLimit, ChannelRules};
use pgrx::JsonB;
use pgrx::prelude::*;
use pgrx::spi::{SpiClient, SpiHeapTupleData, SpiResult, SpiTupleTable};
use serde::Serialize;
use serde_json::{Value, json};

use crate::plans::{INT8, TEXT, with_plan};
use crate::{json_text, overrides};

const APP_SQL: &str = "SELECT id FROM liveupdate.apps WHERE app_id = $1";
/// The columns [`read_channel`] reads, of the channel aliased `c`. Which channels a device may
/// see, choose or get is decided in Rust by the core crate's `ChannelRules`, not in these queries.
const CHANNEL_COLUMNS: &str = "c.id, c.name, c.public, c.allow_device_self_set, c.ios, c.android, \
    c.electron, c.allow_emulator, c.allow_device, c.allow_dev, c.allow_prod, c.disable_auto_update::text, \
    c.disable_auto_update_under_native";

fn channel_named_sql() -> String {
    format!("SELECT {CHANNEL_COLUMNS} FROM liveupdate.channels AS c WHERE c.app_id = $1 AND c.name = $2")
}

/// Public channels first by name: the device gets the first that serves its platform.
fn public_channels_sql() -> String {
    format!(
        "SELECT {CHANNEL_COLUMNS} FROM liveupdate.channels AS c WHERE c.app_id = $1 AND c.public ORDER BY c.name, c.id"
    )
}

fn override_sql() -> String {
    format!(
        "SELECT {CHANNEL_COLUMNS} FROM liveupdate.device_overrides AS o \
         JOIN liveupdate.channels AS c ON c.id = o.channel_id WHERE o.app_id = $1 AND o.device_id = $2::uuid"
    )
}

fn all_channels_sql() -> String {
    format!(
        "SELECT {CHANNEL_COLUMNS} FROM liveupdate.channels AS c WHERE c.app_id = $1 ORDER BY c.name, c.id"
    )
}

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

/// An entry of the `list` answer (protocol.md §6.4).
#[derive(Serialize)]
struct ListedChannel {
    id: i64,
    name: String,
    public: bool,
    allow_self_set: bool,
}

/// A channel as the verbs need it: its key and its rules.
struct Channel {
    id: i64,
    rules: ChannelRules,
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
        if current.as_ref().is_some_and(|c| !c.rules.allow_device_self_set) {
            return Ok(Refusal::new(Code::CannotOverride).to_json());
        }
        let public = public_channel(client, app_pk, req)?;
        if public.is_some_and(|p| p.id == channel.id) {
            // Back to the default: an override would only pin what the device gets anyway.
            overrides::remove(client, app_pk, &device_of(req))?;
            return Ok(json!({"status": "ok"}));
        }
    }
    if !channel.rules.allow_device_self_set {
        let code = if channel.rules.public {
            Code::PublicChannelSelfSetNotAllowed
        } else {
            Code::ChannelSelfSetNotAllowed
        };
        return Ok(Refusal::new(code).with("channel", channel.rules.name).to_json());
    }
    if !req.server_keeps_channel() {
        // Current plugins keep the choice on the device and send it as defaultChannel.
        return Ok(json!({"status": "ok", "allowSet": true}));
    }
    overrides::write(client, app_pk, &device_of(req), channel.id)?;
    Ok(json!({"status": "ok"}))
}

fn get(client: &mut SpiClient<'_>, app_pk: i64, req: &ChannelRequest) -> SpiResult<Value> {
    if req.server_keeps_channel() {
        if let Some(current) = override_of(client, app_pk, req)? {
            let allow_set = current.rules.allow_device_self_set;
            return Ok(json!({"channel": current.rules.name, "status": "override", "allowSet": allow_set}));
        }
        // A named channel that does not exist is not replaced by the public one: /updates gives
        // such a device no_channel (it never falls back), so this answer must not name a channel.
        if let Some(name) = &req.default_channel {
            return Ok(match channel_named(client, app_pk, name)? {
                Some(channel) => json!({"channel": channel.rules.name, "status": "default"}),
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
        Some(public) => Ok(json!({"channel": public.rules.name, "status": "default"})),
        None => Ok(Refusal::new(Code::ChannelNotFound).with("app_id", req.app_id.clone()).to_json()),
    }
}

fn list(client: &mut SpiClient<'_>, app_pk: i64, req: &ChannelRequest) -> SpiResult<Value> {
    with_plan(client, "channel_all", all_channels_sql, &[INT8], |plan| {
        let mut channels = Vec::new();
        for row in client.select(plan, None, &[app_pk.into()])? {
            let channel = read_channel(&row)?;
            if !channel.rules.offered_to(req.platform, req.is_emulator, req.is_prod) {
                continue;
            }
            channels.push(ListedChannel {
                id: channel.id,
                public: channel.rules.public,
                allow_self_set: channel.rules.allow_device_self_set,
                name: channel.rules.name,
            });
        }
        // A struct of numbers, strings and booleans always serialises.
        Ok(serde_json::to_value(channels).expect("plain data serialises"))
    })
}

fn unset(client: &mut SpiClient<'_>, app_pk: i64, req: &ChannelRequest) -> SpiResult<Value> {
    if !req.server_keeps_channel() {
        return Ok(json!({"status": "ok"}));
    }
    match override_of(client, app_pk, req)? {
        Some(current) if current.rules.allow_device_self_set => {
            overrides::remove(client, app_pk, &device_of(req))?;
            Ok(json!({"status": "ok"}))
        }
        _ => Ok(Refusal::new(Code::CannotOverride).to_json()),
    }
}

fn read_channel(row: &SpiHeapTupleData<'_>) -> SpiResult<Channel> {
    Ok(Channel { id: row.get::<i64>(1)?.unwrap_or_default(), rules: read_rules(row, 2, false)? })
}

/// A channel's rules from a row holding `name, public, allow_device_self_set, ios, android,
/// electron, allow_emulator, allow_device, allow_dev, allow_prod, disable_auto_update::text,
/// disable_auto_update_under_native` from ordinal `first` on (the update check's lookup reads the
/// same columns).
pub(crate) fn read_rules(
    row: &SpiHeapTupleData<'_>,
    first: usize,
    via_override: bool,
) -> SpiResult<ChannelRules> {
    let flag = |offset: usize| row.get::<bool>(first + offset).map(|v| v.unwrap_or(false));
    let limit_text = row.get::<String>(first + 10)?.unwrap_or_default();
    Ok(ChannelRules {
        name: row.get::<String>(first)?.unwrap_or_default(),
        via_override,
        public: flag(1)?,
        allow_device_self_set: flag(2)?,
        ios: flag(3)?,
        android: flag(4)?,
        electron: flag(5)?,
        allow_emulator: flag(6)?,
        allow_device: flag(7)?,
        allow_dev: flag(8)?,
        allow_prod: flag(9)?,
        // The column is an enum with exactly these labels.
        auto_update_limit: AutoUpdateLimit::parse(&limit_text).unwrap_or(AutoUpdateLimit::Major),
        block_under_native: flag(11)?,
    })
}

fn first_channel(rows: SpiTupleTable<'_>) -> SpiResult<Option<Channel>> {
    rows.into_iter().next().map(|row| read_channel(&row)).transpose()
}

/// The device the request names (always present except for `list`).
fn device_of(req: &ChannelRequest) -> String {
    req.device_id.clone().unwrap_or_default()
}

fn channel_named(client: &SpiClient<'_>, app_pk: i64, name: &str) -> SpiResult<Option<Channel>> {
    with_plan(client, "channel_named", channel_named_sql, &[INT8, TEXT], |plan| {
        first_channel(client.select(plan, Some(1), &[app_pk.into(), name.into()])?)
    })
}

/// The public channel a device of this platform gets by default.
fn public_channel(client: &SpiClient<'_>, app_pk: i64, req: &ChannelRequest) -> SpiResult<Option<Channel>> {
    with_plan(client, "channel_public", public_channels_sql, &[INT8], |plan| {
        for row in client.select(plan, None, &[app_pk.into()])? {
            let channel = read_channel(&row)?;
            if channel.rules.serves_platform(req.platform) {
                return Ok(Some(channel));
            }
        }
        Ok(None)
    })
}

fn override_of(client: &SpiClient<'_>, app_pk: i64, req: &ChannelRequest) -> SpiResult<Option<Channel>> {
    with_plan(client, "channel_override", override_sql, &[INT8, TEXT], |plan| {
        first_channel(client.select(plan, Some(1), &[app_pk.into(), device_of(req).as_str().into()])?)
    })
}
