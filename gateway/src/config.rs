//! Gateway settings, read once from the environment at start-up.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::client_address::ForwardedBy;
use crate::storage::StorageConfig;

/// Everything the gateway can be told; each field names its environment variable.
#[derive(Debug, Clone)]
pub struct Config {
    /// `LIVEUPDATE_LISTEN`, default `127.0.0.1:8080`.
    pub listen: SocketAddr,
    /// `LIVEUPDATE_DATABASE_URL`, a libpq-style URL or key=value string.
    pub database_url: String,
    /// `LIVEUPDATE_DB_POOL_SIZE`: connections kept open to PostgreSQL (default 16).
    pub db_pool_size: usize,
    /// `LIVEUPDATE_DB_TIMEOUT_MS`: wait for a pooled connection, connect, and statement timeout (default 5000).
    pub db_timeout: Duration,
    /// `LIVEUPDATE_MAX_CONNECTIONS`: concurrent HTTP connections accepted (default 10000).
    pub max_connections: usize,
    /// `LIVEUPDATE_MAX_CONNECTIONS_PER_ADDRESS`: concurrent HTTP connections accepted from one TCP
    /// peer address (default 256; behind a reverse proxy, where every connection comes from the
    /// proxy, the default is `max_connections`).
    pub max_connections_per_address: usize,
    /// `LIVEUPDATE_BODY_MEMORY_LIMIT_BYTES`: request-body bytes buffered in memory at once, all
    /// requests together (default 256 MiB); beyond it requests are answered 503.
    pub body_memory_limit: usize,
    /// `LIVEUPDATE_BODY_MEMORY_PER_ADDRESS_BYTES`: the share of it one client address may hold
    /// (default 32 MiB); beyond it requests are answered 429.
    pub body_memory_per_address: usize,
    /// `LIVEUPDATE_HEADER_TIMEOUT_MS`: time allowed to send request headers (default 10000).
    pub header_timeout: Duration,
    /// `LIVEUPDATE_BODY_TIMEOUT_MS`: time allowed to send a request body (default 15000).
    pub body_timeout: Duration,
    /// `LIVEUPDATE_DEVICE_FLUSH_MS`: how often device state is written (default 1000).
    pub device_flush_interval: Duration,
    /// `LIVEUPDATE_SHUTDOWN_GRACE_MS`: how long in-flight requests may finish on SIGTERM (default 10000).
    pub shutdown_grace: Duration,
    /// `LIVEUPDATE_PERIODIC_INTERVAL_MS`: how often the periodic work runs (default 30000, so the
    /// statistics are fresh within a minute): the
    /// database's `run_periodic` unless pg_cron runs it, and deleting the objects of purged bundles.
    pub periodic_interval: Duration,
    /// `LIVEUPDATE_CHANNEL_SELF_ADDRESS_LIMIT`: `/channel_self` requests per minute per client
    /// address and app (default 1000, as the reference backend).
    pub channel_self_address_limit: u32,
    /// `LIVEUPDATE_CLIENT_ADDRESS_HEADER`: behind reverse proxies, the header they append the
    /// client's address to (e.g. `x-forwarded-for`), with `LIVEUPDATE_TRUSTED_PROXY_HOPS` (default
    /// 1) the number of proxies that append to it. Unset: the peer address.
    pub forwarded_by: Option<ForwardedBy>,
    /// `LIVEUPDATE_AUTH_FAILURE_LIMIT`: failed management-API authentications per minute per
    /// client address before it is answered 429 (default 20).
    pub auth_failure_limit: u32,
    /// Where bundle objects live (see `StorageConfig`).
    pub storage: StorageConfig,
    /// `LIVEUPDATE_UPLOAD_DIR`: scratch space for archives being processed (default: the system
    /// temporary directory). Needs about twice the largest archive.
    pub upload_dir: PathBuf,
    /// `LIVEUPDATE_MAX_UPLOAD_BYTES`: largest archive, and largest unpacked bundle (default 1 GiB).
    pub max_upload_bytes: u64,
    /// `LIVEUPDATE_UPLOAD_TIMEOUT_MS`: time allowed to send an archive (default 600000).
    pub upload_timeout: Duration,
}

const MIB: u64 = 1024 * 1024;

/// The largest body any endpoint buffers in memory (`/updates/manifest_size`): a body-memory
/// limit below it would refuse valid requests.
pub const LARGEST_BUFFERED_BODY: usize = liveupdate_core::manifest_size::MAX_BODY_BYTES;

#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let number =
            |key: &str, default: u64| -> Result<u64, ConfigError> {
                match lookup(key) {
                    None => Ok(default),
                    Some(text) => text.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                        ConfigError(format!("{key} must be a positive integer, got {text:?}"))
                    }),
                }
            };
        let millis = |key: &str, default: u64| number(key, default).map(Duration::from_millis);
        let listen_text = lookup("LIVEUPDATE_LISTEN").unwrap_or_else(|| "127.0.0.1:8080".to_owned());
        let listen = listen_text
            .parse()
            .map_err(|_| ConfigError(format!("LIVEUPDATE_LISTEN must be host:port, got {listen_text:?}")))?;
        let database_url = lookup("LIVEUPDATE_DATABASE_URL")
            .ok_or_else(|| ConfigError("LIVEUPDATE_DATABASE_URL is required".to_owned()))?;
        let forwarded_by = forwarded_by(&lookup, &number)?;
        let max_connections = number("LIVEUPDATE_MAX_CONNECTIONS", 10_000)? as usize;
        // Behind a proxy every connection comes from the proxy: limiting its address would limit
        // everyone. The proxy is where per-client connection limits belong then.
        let default_per_address = if forwarded_by.is_some() { max_connections } else { 256 };
        let max_connections_per_address =
            number("LIVEUPDATE_MAX_CONNECTIONS_PER_ADDRESS", default_per_address as u64)? as usize;
        let body_memory_limit = number("LIVEUPDATE_BODY_MEMORY_LIMIT_BYTES", 256 * MIB)?;
        let body_memory_per_address = number("LIVEUPDATE_BODY_MEMORY_PER_ADDRESS_BYTES", 32 * MIB)?;
        for (key, value) in [
            ("LIVEUPDATE_BODY_MEMORY_LIMIT_BYTES", body_memory_limit),
            ("LIVEUPDATE_BODY_MEMORY_PER_ADDRESS_BYTES", body_memory_per_address),
        ] {
            if value < LARGEST_BUFFERED_BODY as u64 {
                return Err(ConfigError(format!(
                    "{key} must be at least {LARGEST_BUFFERED_BODY} (the largest request body), got {value}"
                )));
            }
        }
        let (body_memory_limit, body_memory_per_address) =
            (body_memory_limit as usize, body_memory_per_address as usize);
        Ok(Config {
            listen,
            database_url,
            db_pool_size: number("LIVEUPDATE_DB_POOL_SIZE", 16)? as usize,
            db_timeout: millis("LIVEUPDATE_DB_TIMEOUT_MS", 5000)?,
            max_connections,
            header_timeout: millis("LIVEUPDATE_HEADER_TIMEOUT_MS", 10_000)?,
            body_timeout: millis("LIVEUPDATE_BODY_TIMEOUT_MS", 15_000)?,
            device_flush_interval: millis("LIVEUPDATE_DEVICE_FLUSH_MS", 1000)?,
            shutdown_grace: millis("LIVEUPDATE_SHUTDOWN_GRACE_MS", 10_000)?,
            periodic_interval: millis("LIVEUPDATE_PERIODIC_INTERVAL_MS", 30_000)?
                .max(Duration::from_millis(100)),
            channel_self_address_limit: number(
                "LIVEUPDATE_CHANNEL_SELF_ADDRESS_LIMIT",
                u64::from(liveupdate_core::channel::PER_ADDRESS_APP.max),
            )?
            .min(u64::from(u32::MAX)) as u32,
            auth_failure_limit: number("LIVEUPDATE_AUTH_FAILURE_LIMIT", 20)?.min(u64::from(u32::MAX)) as u32,
            storage: storage_config(&lookup)?,
            upload_dir: lookup("LIVEUPDATE_UPLOAD_DIR").map(PathBuf::from).unwrap_or_else(std::env::temp_dir),
            max_upload_bytes: number("LIVEUPDATE_MAX_UPLOAD_BYTES", 1024 * 1024 * 1024)?,
            upload_timeout: millis("LIVEUPDATE_UPLOAD_TIMEOUT_MS", 600_000)?,
            forwarded_by,
            max_connections_per_address,
            body_memory_limit,
            body_memory_per_address,
        })
    }
}

/// `LIVEUPDATE_CLIENT_ADDRESS_HEADER` and `LIVEUPDATE_TRUSTED_PROXY_HOPS`.
fn forwarded_by(
    lookup: &impl Fn(&str) -> Option<String>,
    number: &impl Fn(&str, u64) -> Result<u64, ConfigError>,
) -> Result<Option<ForwardedBy>, ConfigError> {
    let Some(name) = lookup("LIVEUPDATE_CLIENT_ADDRESS_HEADER") else {
        return match lookup("LIVEUPDATE_TRUSTED_PROXY_HOPS") {
            None => Ok(None),
            Some(_) => Err(ConfigError(
                "LIVEUPDATE_TRUSTED_PROXY_HOPS needs LIVEUPDATE_CLIENT_ADDRESS_HEADER".to_owned(),
            )),
        };
    };
    let header = hyper::header::HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
        ConfigError(format!("LIVEUPDATE_CLIENT_ADDRESS_HEADER is not a header name: {name:?}"))
    })?;
    let trusted_hops = number("LIVEUPDATE_TRUSTED_PROXY_HOPS", 1)? as usize;
    Ok(Some(ForwardedBy { header, trusted_hops }))
}

/// `LIVEUPDATE_STORAGE`: `fs` (default) under `LIVEUPDATE_STORAGE_ROOT` (default
/// `/var/lib/liveupdate/objects`), or `s3` with `LIVEUPDATE_S3_ENDPOINT`, `LIVEUPDATE_S3_BUCKET`,
/// `LIVEUPDATE_S3_REGION` (default `us-east-1`), `LIVEUPDATE_S3_ACCESS_KEY_ID`,
/// `LIVEUPDATE_S3_SECRET_ACCESS_KEY` and `LIVEUPDATE_S3_VIRTUAL_HOST_STYLE` (`true`/`false`).
fn storage_config(lookup: &impl Fn(&str) -> Option<String>) -> Result<StorageConfig, ConfigError> {
    let required = |key: &str| {
        lookup(key).ok_or_else(|| ConfigError(format!("{key} is required with LIVEUPDATE_STORAGE=s3")))
    };
    match lookup("LIVEUPDATE_STORAGE").as_deref().unwrap_or("fs") {
        "fs" => Ok(StorageConfig::Filesystem {
            root: lookup("LIVEUPDATE_STORAGE_ROOT")
                .unwrap_or_else(|| "/var/lib/liveupdate/objects".to_owned())
                .into(),
        }),
        "s3" => Ok(StorageConfig::S3 {
            endpoint: required("LIVEUPDATE_S3_ENDPOINT")?,
            bucket: required("LIVEUPDATE_S3_BUCKET")?,
            region: lookup("LIVEUPDATE_S3_REGION").unwrap_or_else(|| "us-east-1".to_owned()),
            access_key_id: required("LIVEUPDATE_S3_ACCESS_KEY_ID")?,
            secret_access_key: required("LIVEUPDATE_S3_SECRET_ACCESS_KEY")?,
            virtual_host_style: match lookup("LIVEUPDATE_S3_VIRTUAL_HOST_STYLE").as_deref() {
                None | Some("false") => false,
                Some("true") => true,
                Some(other) => {
                    return Err(ConfigError(format!(
                        "LIVEUPDATE_S3_VIRTUAL_HOST_STYLE must be true or false, got {other:?}"
                    )));
                }
            },
        }),
        other => Err(ConfigError(format!("LIVEUPDATE_STORAGE must be fs or s3, got {other:?}"))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let only_db = |key: &str| (key == "LIVEUPDATE_DATABASE_URL").then(|| "host=/tmp".to_owned());
        let config = Config::from_lookup(only_db).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.db_pool_size, 16);
        assert!(Config::from_lookup(|_| None).is_err());
        let bad = |key: &str| match key {
            "LIVEUPDATE_DATABASE_URL" => Some("x".to_owned()),
            "LIVEUPDATE_DB_POOL_SIZE" => Some("0".to_owned()),
            _ => None,
        };
        assert!(Config::from_lookup(bad).unwrap_err().0.contains("LIVEUPDATE_DB_POOL_SIZE"));
    }

    fn with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let pairs: Vec<(String, String)> =
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(move |key| {
            if key == "LIVEUPDATE_DATABASE_URL" {
                return Some("host=/tmp".to_owned());
            }
            pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn forwarding_header_and_trusted_hops() {
        assert_eq!(with(&[]).unwrap().forwarded_by, None);
        let one = with(&[("LIVEUPDATE_CLIENT_ADDRESS_HEADER", "X-Forwarded-For")]).unwrap();
        let one = one.forwarded_by.unwrap();
        assert_eq!((one.header.as_str(), one.trusted_hops), ("x-forwarded-for", 1));
        let two = with(&[
            ("LIVEUPDATE_CLIENT_ADDRESS_HEADER", "x-forwarded-for"),
            ("LIVEUPDATE_TRUSTED_PROXY_HOPS", "2"),
        ])
        .unwrap();
        assert_eq!(two.forwarded_by.unwrap().trusted_hops, 2);
        let orphan = with(&[("LIVEUPDATE_TRUSTED_PROXY_HOPS", "2")]).unwrap_err();
        assert!(orphan.0.contains("LIVEUPDATE_CLIENT_ADDRESS_HEADER"), "{orphan}");
    }

    #[test]
    fn connection_and_body_memory_limits() {
        let direct = with(&[]).unwrap();
        assert_eq!(direct.max_connections_per_address, 256);
        assert_eq!((direct.body_memory_limit, direct.body_memory_per_address), (256 << 20, 32 << 20));
        let proxied = with(&[("LIVEUPDATE_CLIENT_ADDRESS_HEADER", "x-forwarded-for")]).unwrap();
        assert_eq!(proxied.max_connections_per_address, 10_000, "the proxy is one address");
        let too_small = with(&[("LIVEUPDATE_BODY_MEMORY_PER_ADDRESS_BYTES", "1000")]).unwrap_err();
        assert!(too_small.0.contains(&format!("at least {LARGEST_BUFFERED_BODY}")), "{too_small}");
    }
}
