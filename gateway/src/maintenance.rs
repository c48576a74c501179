//! Periodic database upkeep where the database has no scheduler of its own: event partitions are
//! created ahead of time and old ones dropped. Each run is one extension call.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::db::Database;

/// How often partitions are checked; the extension also creates today's on demand.
const PARTITION_INTERVAL: Duration = Duration::from_secs(600);

pub async fn run(db: Arc<Database>, retention_days: u32, mut stop: watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(PARTITION_INTERVAL);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return,
        }
        for (what, sql) in [
            ("create event partitions", "SELECT liveupdate.ensure_event_partitions(3)".to_owned()),
            (
                "drop old event partitions",
                format!("SELECT count(*) FROM liveupdate.drop_event_partitions({retention_days})"),
            ),
        ] {
            if let Err(error) = db.run_maintenance(&sql).await {
                tracing::warn!(%error, what, "maintenance failed; will retry");
            }
        }
    }
}
