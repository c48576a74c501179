//! `liveupdate-gateway`: configuration from the environment (see `config.rs`), logs as JSON lines
//! on stderr (`RUST_LOG` filters them), SIGTERM/SIGINT for a graceful stop.

use std::process::ExitCode;
use std::sync::Arc;

use liveupdate_gateway::body_budget::BodyBudget;
use liveupdate_gateway::config::Config;
use liveupdate_gateway::db::Database;
use liveupdate_gateway::device_log::{self, DeviceLog};
use liveupdate_gateway::metrics::Metrics;
use liveupdate_gateway::scratch::ScratchSpace;
use liveupdate_gateway::served::ServedBytes;
use liveupdate_gateway::state::State;
use liveupdate_gateway::storage::Storage;
use liveupdate_gateway::{maintenance, server};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    tracing_subscriber::fmt().json().with_env_filter(log_filter()).with_writer(std::io::stderr).init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            tracing::error!(%error, "invalid configuration");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "gateway stopped");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), String> {
    let db = Arc::new(Database::new(&config)?);
    let storage = Storage::new(&config.storage).map_err(|e| format!("cannot open {e}"))?;
    let (scratch, abandoned) = ScratchSpace::open(&config.upload_dir)
        .map_err(|e| format!("cannot use the upload directory {}: {e}", config.upload_dir.display()))?;
    if abandoned > 0 {
        tracing::info!(abandoned, "removed the scratch directories of gateways that stopped mid-upload");
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let metrics = Arc::new(Metrics::default());
    let device_log = Arc::new(DeviceLog::default());
    let (stop_background, flusher_stopped) = tokio::sync::watch::channel(false);
    let flusher_stopped_for_maintenance = flusher_stopped.clone();
    let flusher = tokio::spawn(device_log::run_flusher(
        device_log.clone(),
        db.clone(),
        metrics.clone(),
        config.device_flush_interval,
        flusher_stopped,
    ));
    let served = Arc::new(ServedBytes::default());
    let maintenance = tokio::spawn(maintenance::run(
        db.clone(),
        storage.clone(),
        served.clone(),
        config.periodic_interval,
        flusher_stopped_for_maintenance,
    ));
    tracing::info!(listen = %config.listen, pool = config.db_pool_size, "liveupdate gateway listening");
    let body_budget = BodyBudget::new(config.body_memory_limit, config.body_memory_per_address);
    let state = Arc::new(State {
        config,
        db,
        storage,
        scratch,
        device_log,
        metrics,
        rate_limiter: Default::default(),
        served,
        body_budget,
    });
    server::serve(listener, state, shutdown_signal()).await;
    let _ = stop_background.send(true);
    let _ = flusher.await;
    let _ = maintenance.await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(stream) => stream,
        Err(error) => {
            tracing::error!(%error, "cannot watch SIGTERM; stopping on Ctrl-C only");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = terminate.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// `RUST_LOG` (default `info`), except that the database driver never logs below `info`: at
/// `debug` it prints every statement's parameters, which carry request bodies and key hashes.
fn log_filter() -> EnvFilter {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    match "tokio_postgres=info".parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    }
}
