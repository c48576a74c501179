//! `liveupdate`: the management API from a terminal or CI.
//!
//! The server URL and API key come from `--server`/`--api-key`, else `LIVEUPDATE_SERVER`/
//! `LIVEUPDATE_API_KEY`, else the config file (`--config`, default
//! `$XDG_CONFIG_HOME/liveupdate/config.json` or `~/.config/liveupdate/config.json`:
//! `{"server": "...", "api_key": "..."}`). Output is for humans unless `--json`. Exit codes: 0 done,
//! 1 refused by the server, 2 bad usage, 3 server unavailable, 4 local problem.

mod archive;
mod client;
mod confirm;
mod encrypt;
mod keys;
mod progress;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use client::{CliError, Client};
use liveupdate_api::op;
use liveupdate_api::requests::*;
use serde_json::{Value, json};

#[derive(Parser)]
#[command(
    name = "liveupdate",
    version,
    about = "Publish live updates and manage apps on a liveupdate server"
)]
struct Cli {
    /// Server base URL, e.g. https://updates.example.com
    #[arg(long, env = "LIVEUPDATE_SERVER", global = true)]
    server: Option<String>,
    /// API key (lu_...)
    #[arg(long, env = "LIVEUPDATE_API_KEY", global = true, hide_env_values = true)]
    api_key: Option<String>,
    /// Config file with {"server", "api_key"}
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Print the server's JSON answers instead of text
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apps
    #[command(subcommand)]
    App(AppCommand),
    /// Channels
    #[command(subcommand)]
    Channel(ChannelCommand),
    /// Bundles
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// Devices
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Signing keys on this machine
    #[command(subcommand)]
    Key(KeyCommand),
    /// An app's statistics per UTC day (or hour): active devices, gets, installs, failures,
    /// bandwidth, storage, per bundle and per channel
    Stats {
        app_id: String,
        /// First UTC day, YYYY-MM-DD (default: six days ago; today with --hourly)
        #[arg(long)]
        from: Option<String>,
        /// Last UTC day, inclusive (default: today)
        #[arg(long)]
        to: Option<String>,
        /// Per hour instead of per day
        #[arg(long)]
        hourly: bool,
    },
}

#[derive(Subcommand)]
enum KeyCommand {
    /// Generate an ed25519 signing key: the private key (PKCS#8 PEM, mode 0600) goes to --out,
    /// the public key (base64) is printed, ready for `app signing-key add`
    Generate {
        #[arg(long)]
        out: PathBuf,
        /// An RSA-2048 key for the plugin's encryption instead (public half in <out>.pub)
        #[arg(long)]
        rsa: bool,
    },
}

#[derive(Subcommand)]
enum AppCommand {
    /// List the apps the key can see
    List,
    /// Create an app
    Create {
        app_id: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Change an app's settings
    Set {
        app_id: String,
        #[arg(long)]
        name: Option<String>,
        /// Accept only bundles signed by one of the app's signing keys (admin rights)
        #[arg(long)]
        require_signature: Option<bool>,
    },
    /// Signing keys allowed to sign the app's bundles
    #[command(subcommand)]
    SigningKey(SigningKeyCommand),
    /// Delete an app and everything of it: channels, bundles and their stored files, devices,
    /// statistics (admin rights). Asks to type the app id, unless --yes
    Delete {
        app_id: String,
        /// Do not ask (needed without a terminal)
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand)]
enum SigningKeyCommand {
    /// Register a public key (base64, from `key generate`) under a name
    Add { app_id: String, name: String, public_key: String },
    /// List the app's signing keys
    List { app_id: String },
    /// Stop accepting a key
    Revoke { app_id: String, name: String },
}

/// Channel flags; unset ones are left as they are (or at their defaults on create).
#[derive(Args)]
struct ChannelFlags {
    /// Bundle version to deploy, or "builtin"
    #[arg(long)]
    bundle: Option<String>,
    #[arg(long)]
    public: Option<bool>,
    #[arg(long)]
    ios: Option<bool>,
    #[arg(long)]
    android: Option<bool>,
    #[arg(long)]
    electron: Option<bool>,
    #[arg(long)]
    allow_device_self_set: Option<bool>,
    #[arg(long)]
    allow_emulator: Option<bool>,
    #[arg(long)]
    allow_device: Option<bool>,
    #[arg(long)]
    allow_dev: Option<bool>,
    #[arg(long)]
    allow_prod: Option<bool>,
    /// major, minor, patch, version_number or none
    #[arg(long)]
    disable_auto_update: Option<String>,
    #[arg(long)]
    disable_auto_update_under_native: Option<bool>,
}

impl ChannelFlags {
    fn into_create(self, app_id: String, name: String) -> Result<CreateChannelRequest, CliError> {
        Ok(CreateChannelRequest {
            app_id,
            name,
            bundle: self.bundle,
            public: self.public,
            ios: self.ios,
            android: self.android,
            electron: self.electron,
            allow_device_self_set: self.allow_device_self_set,
            allow_emulator: self.allow_emulator,
            allow_device: self.allow_device,
            allow_dev: self.allow_dev,
            allow_prod: self.allow_prod,
            disable_auto_update: optional_choice("disable-auto-update", self.disable_auto_update)?,
            disable_auto_update_under_native: self.disable_auto_update_under_native,
        })
    }

    fn into_update(self, app_id: String, channel: String) -> Result<UpdateChannelRequest, CliError> {
        Ok(UpdateChannelRequest {
            app_id,
            channel,
            name: None,
            bundle: self.bundle.map(Some),
            public: self.public,
            ios: self.ios,
            android: self.android,
            electron: self.electron,
            allow_device_self_set: self.allow_device_self_set,
            allow_emulator: self.allow_emulator,
            allow_device: self.allow_device,
            allow_dev: self.allow_dev,
            allow_prod: self.allow_prod,
            disable_auto_update: optional_choice("disable-auto-update", self.disable_auto_update)?,
            disable_auto_update_under_native: self.disable_auto_update_under_native,
        })
    }
}

/// One of an API enum's values, as the API spells it (`none`, `version_number`, `rollback`...).
fn choice<T: serde::de::DeserializeOwned>(option: &str, value: &str) -> Result<T, CliError> {
    serde_json::from_value(Value::from(value))
        .map_err(|_| CliError::Usage(format!("{option}: \"{value}\" is not one of the values it takes")))
}

fn optional_choice<T: serde::de::DeserializeOwned>(
    option: &str,
    value: Option<String>,
) -> Result<Option<T>, CliError> {
    value.map(|value| choice(option, &value)).transpose()
}

/// A share of devices in percent as basis points (two decimals at most).
fn basis_points(percent: f64) -> Result<u32, CliError> {
    if (0.0..=100.0).contains(&percent) {
        Ok((percent * 100.0).round() as u32)
    } else {
        Err(CliError::Usage(format!("--percent: {percent} is not between 0 and 100")))
    }
}

#[derive(Subcommand)]
enum ChannelCommand {
    /// List an app's channels
    List { app_id: String },
    /// Create a channel
    Create {
        app_id: String,
        name: String,
        #[command(flatten)]
        flags: ChannelFlags,
    },
    /// Change a channel's flags, or deploy a bundle with --bundle
    Set {
        app_id: String,
        name: String,
        #[command(flatten)]
        flags: ChannelFlags,
    },
    /// Move a channel back to the bundle it had before its current one (or builtin)
    Rollback { app_id: String, name: String },
    /// A channel's deployments, newest first
    History { app_id: String, name: String },
    /// The failure guard: show its settings and decisions, or change settings with the flags
    Guard {
        app_id: String,
        name: String,
        #[command(flatten)]
        settings: GuardSettings,
    },
    /// A progressive rollout: start <bundle> --percent P, set --percent P, pause, resume, promote, abandon
    Rollout {
        app_id: String,
        name: String,
        /// start, set, pause, resume, promote or abandon
        action: String,
        /// The rollout's bundle (start)
        bundle: Option<String>,
        /// Share of devices in percent, two decimals at most (start, set)
        #[arg(long)]
        percent: Option<f64>,
    },
}

#[derive(Args)]
struct GuardSettings {
    /// When the deployed bundle fails: rollback, alert or off
    #[arg(long)]
    deploy_action: Option<String>,
    /// When a rollout's bundle fails: pause, rollback, alert or off
    #[arg(long)]
    rollout_action: Option<String>,
    /// Failing share of devices that is too many, in percent
    #[arg(long)]
    max_failure_percent: Option<f64>,
    /// Confidence of the Wilson bound, in percent (e.g. 95)
    #[arg(long)]
    confidence_percent: Option<f64>,
    #[arg(long)]
    min_attempts: Option<u32>,
    #[arg(long)]
    min_failures: Option<u32>,
    #[arg(long)]
    window_minutes: Option<u32>,
    #[arg(long)]
    watch_minutes: Option<u32>,
    #[arg(long)]
    cooldown_minutes: Option<u32>,
}

impl GuardSettings {
    /// The settings given, as the API's request; None when none was.
    fn into_request(
        self,
        app_id: String,
        channel: String,
    ) -> Result<Option<SetChannelGuardRequest>, CliError> {
        let request = SetChannelGuardRequest {
            app_id,
            channel,
            deploy_action: optional_choice("deploy-action", self.deploy_action)?,
            rollout_action: optional_choice("rollout-action", self.rollout_action)?,
            max_failure_rate: self.max_failure_percent.map(|percent| percent / 100.0),
            confidence: self.confidence_percent.map(|percent| percent / 100.0),
            min_attempts: self.min_attempts,
            min_failures: self.min_failures,
            window_minutes: self.window_minutes,
            watch_minutes: self.watch_minutes,
            cooldown_minutes: self.cooldown_minutes,
        };
        // Beyond the path's app_id and channel, the request holds only the settings given.
        let fields = serde_json::to_value(&request).ok().and_then(|value| value.as_object().map(|f| f.len()));
        Ok(fields.is_some_and(|count| count > 2).then_some(request))
    }
}

#[derive(Subcommand)]
enum BundleCommand {
    /// Upload a build (a directory with index.html, or a zip) as a new bundle
    Upload {
        app_id: String,
        version: String,
        /// Build directory or .zip
        source: PathBuf,
        /// Deploy to this channel in the same step
        #[arg(long)]
        channel: Option<String>,
        #[arg(long)]
        comment: Option<String>,
        #[arg(long)]
        link: Option<String>,
        #[arg(long)]
        min_update_version: Option<String>,
        /// Send the archive as is instead of zstd-compressed
        #[arg(long)]
        no_zstd: bool,
        /// Sign with this ed25519 private key (PKCS#8 PEM, from `key generate`)
        #[arg(long, requires = "signer")]
        sign: Option<PathBuf>,
        /// The name the app knows the signing key by
        #[arg(long, requires = "sign")]
        signer: Option<String>,
        /// Encrypt for devices configured with this RSA private key's public half (PKCS#1 PEM,
        /// from `key generate --rsa`); the server never sees the private key
        #[arg(long)]
        encrypt: Option<PathBuf>,
    },
    /// List an app's bundles, newest first
    List {
        app_id: String,
        #[arg(long)]
        include_deleted: bool,
    },
    /// Soft-delete a bundle (never offered again; its version stays taken)
    Delete { app_id: String, version: String },
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// List an app's devices
    List {
        app_id: String,
        #[arg(long)]
        channel: Option<String>,
        #[arg(long)]
        platform: Option<String>,
    },
    /// Assign a device to a channel
    Set { app_id: String, device_id: String, channel: String },
    /// Remove a device's channel assignment
    Unset { app_id: String, device_id: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&CliError::Local(format!("cannot start: {error}"))),
    };
    let json_output = cli.json;
    match runtime.block_on(run(cli)) {
        Ok(answer) => {
            if json_output {
                println!("{}", serde_json::to_string_pretty(&answer.json).unwrap_or_default());
            } else {
                println!("{}", answer.text);
            }
            ExitCode::SUCCESS
        }
        Err(error) => fail(&error),
    }
}

fn fail(error: &CliError) -> ExitCode {
    eprintln!("liveupdate: {error}");
    ExitCode::from(error.exit_code())
}

/// What a command printed: its JSON answer, and the text for humans.
struct Answer {
    json: Value,
    text: String,
}

/// Server and key: flags, then environment (clap reads both), then the config file.
fn connect(cli: &Cli) -> Result<Client, CliError> {
    let file = config_file(cli.config.as_ref())?;
    let from_file =
        |name: &str| file.as_ref().and_then(|f| f.get(name)).and_then(Value::as_str).map(str::to_owned);
    let server = cli.server.clone().or_else(|| from_file("server")).ok_or_else(|| {
        CliError::Local("no server: pass --server, set LIVEUPDATE_SERVER or add it to the config file".into())
    })?;
    let api_key = cli.api_key.clone().or_else(|| from_file("api_key")).ok_or_else(|| {
        CliError::Local(
            "no API key: pass --api-key, set LIVEUPDATE_API_KEY or add it to the config file".into(),
        )
    })?;
    Client::new(&server, &api_key)
}

fn config_file(explicit: Option<&PathBuf>) -> Result<Option<Value>, CliError> {
    let default = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config")))
        .map(|dir| dir.join("liveupdate/config.json"));
    let Some(path) = explicit.cloned().or(default) else { return Ok(None) };
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| CliError::Local(format!("{} is not valid JSON: {e}", path.display()))),
        Err(_) if explicit.is_none() => Ok(None),
        Err(e) => Err(CliError::Local(format!("cannot read {}: {e}", path.display()))),
    }
}

async fn run(cli: Cli) -> Result<Answer, CliError> {
    if let Command::Key(command) = &cli.command {
        return key(command);
    }
    let client = connect(&cli)?;
    match cli.command {
        Command::App(command) => app(&client, command).await,
        Command::Channel(command) => channel(&client, command).await,
        Command::Bundle(command) => bundle(&client, command, cli.json).await,
        Command::Device(command) => device(&client, command).await,
        Command::Stats { app_id, from, to, hourly } => app_stats(&client, app_id, from, to, hourly).await,
        Command::Key(_) => unreachable!("handled before connecting"),
    }
}

/// Key generation: local, no server.
fn key(command: &KeyCommand) -> Result<Answer, CliError> {
    let KeyCommand::Generate { out, rsa } = command;
    if *rsa {
        let (public_pem, key_id) = keys::generate_rsa(out)?;
        let json = json!({"public_key": public_pem, "key_id": key_id, "private_key_file": out});
        let text = format!(
            "private key written to {} (keep it secret)\npublic key for the app's capacitor config (publicKey), also in {}:\n{public_pem}key_id: {key_id}",
            out.display(),
            out.with_extension("pub").display()
        );
        return Ok(Answer { json, text });
    }
    let public_key = keys::generate(out)?;
    let json = json!({"public_key": public_key, "private_key_file": out});
    Ok(Answer { json, text: format!("private key written to {}\npublic key: {public_key}", out.display()) })
}

/// An app's statistics over a range of days (or hours).
async fn app_stats(
    client: &Client,
    app_id: String,
    from: Option<String>,
    to: Option<String>,
    hourly: bool,
) -> Result<Answer, CliError> {
    let (week_ago, today) = stats::default_range(6);
    let request = AppStatsRequest {
        app_id,
        from: from.unwrap_or(if hourly { today.clone() } else { week_ago }),
        to: to.unwrap_or(today),
        granularity: Some(if hourly { Granularity::Hour } else { Granularity::Day }),
    };
    let json = client.send::<op::AppStats>(&request).await?;
    let text = stats::render(&json);
    Ok(Answer { json, text })
}

/// `app ...`: apps and their signing keys.
async fn app(client: &Client, command: AppCommand) -> Result<Answer, CliError> {
    match command {
        AppCommand::List => {
            let json = client.send::<op::ListApps>(&NoInput {}).await?;
            let text = rows(&json["apps"], |app| format!("{}  {}", field(app, "app_id"), field(app, "name")));
            Ok(Answer { json, text })
        }
        AppCommand::Create { app_id, name } => {
            let request = CreateAppRequest {
                app_id,
                name,
                organization_id: None,
                expose_metadata: None,
                allow_custom_id: None,
                bundle_retention_days: None,
            };
            let json = client.send::<op::CreateApp>(&request).await?;
            let text = format!("created app {}", field(&json, "app_id"));
            Ok(Answer { json, text })
        }
        AppCommand::Set { app_id, name, require_signature } => {
            let request = UpdateAppRequest {
                app_id,
                name,
                expose_metadata: None,
                allow_custom_id: None,
                bundle_retention_days: None,
                require_signature,
            };
            let json = client.send::<op::UpdateApp>(&request).await?;
            let text = format!(
                "app {} (signed bundles required: {})",
                field(&json, "app_id"),
                json["require_signature"]
            );
            Ok(Answer { json, text })
        }
        AppCommand::Delete { app_id, yes } => {
            if !yes {
                confirm::typed(
                    &format!(
                        "This deletes {app_id} with its channels, bundles, devices and statistics; it cannot be undone.\nType the app id to confirm: "
                    ),
                    &app_id,
                )?;
            }
            let json = client.send::<op::DeleteApp>(&AppRef { app_id: app_id.clone() }).await?;
            Ok(Answer { json, text: format!("deleted app {app_id}") })
        }
        AppCommand::SigningKey(SigningKeyCommand::Add { app_id, name, public_key }) => {
            let request = AddSigningKeyRequest { app_id: app_id.clone(), name: name.clone(), public_key };
            let json = client.send::<op::AddSigningKey>(&request).await?;
            Ok(Answer { json, text: format!("signing key {name} added to {app_id}") })
        }
        AppCommand::SigningKey(SigningKeyCommand::List { app_id }) => {
            let json = client.send::<op::ListSigningKeys>(&AppRef { app_id }).await?;
            let text = rows(&json["signing_keys"], |key| {
                let revoked = if key["revoked_at"].is_null() { "" } else { "  (revoked)" };
                format!("{}  {}{revoked}", field(key, "name"), field(key, "public_key"))
            });
            Ok(Answer { json, text })
        }
        AppCommand::SigningKey(SigningKeyCommand::Revoke { app_id, name }) => {
            let json =
                client.send::<op::RevokeSigningKey>(&SigningKeyRef { app_id, name: name.clone() }).await?;
            Ok(Answer { json, text: format!("signing key {name} revoked") })
        }
    }
}
/// `channel ...`: channels, deployments, rollouts and the failure guard.
async fn channel(client: &Client, command: ChannelCommand) -> Result<Answer, CliError> {
    match command {
        ChannelCommand::List { app_id } => {
            let json = client.send::<op::ListChannels>(&AppRef { app_id }).await?;
            let text = rows(&json["channels"], |channel| {
                let public = if channel["public"] == true { "  public" } else { "" };
                format!("{}  → {}{public}", field(channel, "name"), field(channel, "bundle"))
            });
            Ok(Answer { json, text })
        }
        ChannelCommand::Create { app_id, name, flags } => {
            let json = client.send::<op::CreateChannel>(&flags.into_create(app_id, name)?).await?;
            let text = format!("created channel {} → {}", field(&json, "name"), field(&json, "bundle"));
            Ok(Answer { json, text })
        }
        ChannelCommand::Set { app_id, name, flags } => {
            let json = client.send::<op::UpdateChannel>(&flags.into_update(app_id, name)?).await?;
            let text = format!("channel {} → {}", field(&json, "name"), field(&json, "bundle"));
            Ok(Answer { json, text })
        }
        ChannelCommand::Rollback { app_id, name } => {
            let json = client.send::<op::RollbackChannel>(&ChannelRef { app_id, channel: name }).await?;
            let text = format!("channel {} rolled back → {}", field(&json, "name"), field(&json, "bundle"));
            Ok(Answer { json, text })
        }
        ChannelCommand::Rollout { app_id, name, action, bundle, percent } => {
            let request = RolloutRequest {
                app_id,
                channel: name,
                action: choice("action", &action)?,
                bundle,
                basis_points: percent.map(basis_points).transpose()?,
            };
            let json = client.send::<op::Rollout>(&request).await?;
            let text = match json["rollout"].as_object() {
                Some(rollout) => format!(
                    "channel {}: {} for {}% of devices{}, {} for the rest",
                    field(&json, "name"),
                    rollout["bundle"].as_str().unwrap_or("?"),
                    rollout["basis_points"].as_f64().unwrap_or(0.0) / 100.0,
                    if rollout["paused"] == true { " (paused)" } else { "" },
                    field(&json, "bundle")
                ),
                None => format!("channel {} → {} (no rollout)", field(&json, "name"), field(&json, "bundle")),
            };
            Ok(Answer { json, text })
        }
        ChannelCommand::History { app_id, name } => {
            let request = ChannelRecords { app_id, channel: name, limit: None };
            let json = client.send::<op::ChannelHistory>(&request).await?;
            let text = rows(&json["deploys"], |deploy| {
                let signed =
                    deploy["to_signed_by"].as_str().map(|s| format!(" (signed by {s})")).unwrap_or_default();
                format!(
                    "{}  {} → {}{signed}  by {}",
                    field(deploy, "deployed_at"),
                    deploy["from"].as_str().unwrap_or("?"),
                    deploy["to"].as_str().unwrap_or("?"),
                    field(deploy, "deployed_by")
                )
            });
            Ok(Answer { json, text })
        }
        ChannelCommand::Guard { app_id, name, settings } => {
            let json = match settings.into_request(app_id.clone(), name.clone())? {
                Some(request) => client.send::<op::SetChannelGuard>(&request).await?,
                None => {
                    let request = ChannelRecords { app_id, channel: name, limit: None };
                    client.send::<op::ChannelGuard>(&request).await?
                }
            };
            let text = stats::render_guard(&json);
            Ok(Answer { json, text })
        }
    }
}
/// `bundle ...`: uploads (progress on stderr unless `quiet`), listing, deletion.
async fn bundle(client: &Client, command: BundleCommand, quiet: bool) -> Result<Answer, CliError> {
    match command {
        BundleCommand::Upload {
            app_id,
            version,
            source,
            channel,
            comment,
            link,
            min_update_version,
            no_zstd,
            sign,
            signer,
            encrypt,
        } => {
            let (zip, _zip_temp, plain_checksum) = archive::zip_of(&source)?;
            let encrypted = match &encrypt {
                Some(key_file) => Some(encrypt::encrypt_bundle(&zip, &encrypt::read_private_key(key_file)?)?),
                None => None,
            };
            // The checksum the server registers: computed by it for plain bundles, ours otherwise.
            let checksum = encrypted.as_ref().map_or(plain_checksum, |e| e.checksum.clone());
            let signature = match &sign {
                Some(key_file) => Some(keys::sign(key_file, &app_id, &version, &checksum)?),
                None => None,
            };
            let upload_source = encrypted.as_ref().map_or(zip.as_path(), |e| e.transport.0.as_path());
            // Ciphertext does not compress: encrypted uploads go as they are.
            let compressed =
                if no_zstd || encrypted.is_some() { None } else { Some(archive::zstd_of(upload_source)?) };
            let body = compressed.as_ref().map_or(upload_source, |temp| temp.0.as_path());
            let request = UploadArchiveRequest {
                app_id: app_id.clone(),
                version,
                channel,
                comment,
                link,
                min_update_version,
                signature,
                signer,
                session_key: encrypted.as_ref().map(|e| e.session_key.clone()),
                checksum: encrypted.as_ref().map(|e| e.checksum.clone()),
                key_id: encrypted.as_ref().map(|e| e.key_id.clone()),
                sha256: Some(archive::sha256_of(upload_source)?),
            };
            let json = client.upload(&request, body, compressed.is_some(), quiet).await?;
            if json["checksum"] != checksum.as_str() {
                return Err(CliError::Unavailable(format!(
                    "the server registered checksum {} for an archive whose SHA-256 is {checksum}",
                    json["checksum"]
                )));
            }
            let channels = json["channels"].as_array().map(|c| c.len()).unwrap_or(0);
            let text = format!(
                "uploaded {} {} ({} files, checksum {}){}",
                app_id,
                field(&json, "version"),
                json["manifest_count"],
                &checksum[..12],
                if channels > 0 { format!(", deployed to {}", json["channels"]) } else { String::new() }
            );
            Ok(Answer { json, text })
        }
        BundleCommand::List { app_id, include_deleted } => {
            let mut all = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let request = ListBundlesRequest {
                    app_id: app_id.clone(),
                    include_deleted: Some(include_deleted),
                    cursor: cursor.clone(),
                    limit: Some(1000),
                };
                let page = client.send::<op::ListBundles>(&request).await?;
                all.extend(page["bundles"].as_array().cloned().unwrap_or_default());
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = Some(next.to_owned()),
                    None => break,
                }
            }
            let json = json!({"bundles": all});
            let text = rows(&json["bundles"], |bundle| {
                let deleted = if bundle["deleted_at"].is_null() { "" } else { "  (deleted)" };
                let channels =
                    bundle["channels"].as_array().filter(|c| !c.is_empty()).map(|c| format!("  on {c:?}"));
                format!(
                    "{}  {}{}{deleted}",
                    field(bundle, "version"),
                    field(bundle, "created_at"),
                    channels.unwrap_or_default()
                )
            });
            Ok(Answer { json, text })
        }
        BundleCommand::Delete { app_id, version } => {
            let request = BundleRef { app_id: app_id.clone(), version: version.clone() };
            let json = client.send::<op::DeleteBundle>(&request).await?;
            Ok(Answer { json, text: format!("deleted {app_id} {version}") })
        }
    }
}
/// `device ...`: devices and their channel assignments.
async fn device(client: &Client, command: DeviceCommand) -> Result<Answer, CliError> {
    match command {
        DeviceCommand::List { app_id, channel, platform } => {
            let request =
                ListDevicesRequest { app_id, channel, platform, limit: Some(1000), ..Default::default() };
            let json = client.send::<op::ListDevices>(&request).await?;
            let text = rows(&json["devices"], |device| {
                format!(
                    "{}  {}  {}",
                    field(device, "device_id"),
                    field(device, "platform"),
                    field(device, "version")
                )
            });
            Ok(Answer { json, text })
        }
        DeviceCommand::Set { app_id, device_id, channel } => {
            let request =
                SetDeviceChannelRequest { app_id, device_id: device_id.clone(), channel: channel.clone() };
            let json = client.send::<op::SetDeviceChannel>(&request).await?;
            Ok(Answer { json, text: format!("device {device_id} → {channel}") })
        }
        DeviceCommand::Unset { app_id, device_id } => {
            let json = client.send::<op::RemoveDeviceChannel>(&DeviceRef { app_id, device_id }).await?;
            let text =
                if json["removed"] == true { "assignment removed" } else { "the device had no assignment" };
            Ok(Answer { json, text: text.to_owned() })
        }
    }
}

fn field<'a>(value: &'a Value, name: &str) -> &'a str {
    value.get(name).and_then(Value::as_str).unwrap_or("")
}

fn rows(list: &Value, line: impl Fn(&Value) -> String) -> String {
    match list.as_array() {
        Some(items) if !items.is_empty() => items.iter().map(line).collect::<Vec<_>>().join("\n"),
        _ => "(none)".to_owned(),
    }
}
