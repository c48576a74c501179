//! liveupdate's HTTP gateway: speaks the Capacitor updater plugin's protocol and hands every
//! decision to the `pg_liveupdate` extension. It parses, authenticates transport, streams bytes and
//! maps errors; it never re-implements a rule.

pub mod body_budget;
pub mod client_address;
pub mod config;
pub mod connection_limit;
pub mod console;
pub mod db;
pub mod device_log;
pub mod files;
pub mod handlers;
pub mod maintenance;
pub mod management;
pub mod metrics;
pub mod rate_limit;
pub mod response;
pub mod router;
pub mod scratch;
pub mod served;
pub mod server;
pub mod state;
pub mod storage;
pub mod upload;
