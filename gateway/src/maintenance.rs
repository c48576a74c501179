//! The periodic work: every `LIVEUPDATE_PERIODIC_INTERVAL_MS`, the database's `run_periodic`
//! (rollups, partitions, failure guard, bundle cleanup), unless a pg_cron job in the database runs
//! it; and, always, what only the gateway knows or may do: the bytes `/files` served, deleting
//! the stored objects of purged bundles, and removing the partial objects of writes that died.
//! Runs never overlap, across gateways and pg_cron alike: the database takes an advisory
//! lock, and each run is one transaction, so a restart mid-run leaves nothing half-done.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::db::Database;
use crate::served::ServedBytes;
use crate::storage::{PARTIAL_MAX_IDLE, Storage};

/// Objects deleted per transaction; several batches per run until the queue is empty.
const DELETION_BATCH: i32 = 500;

pub async fn run(
    db: Arc<Database>,
    storage: Storage,
    served: Arc<ServedBytes>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return,
        }
        record_served_bytes(&db, &served).await;
        run_periodic_unless_cron_does(&db).await;
        delete_purged_objects(&db, &storage).await;
        remove_abandoned_partials(&storage).await;
    }
}

/// At start (the first tick is immediate) and then periodically, so a gateway that runs for
/// months still cleans up after writes cut short by a crash of another one sharing the storage.
async fn remove_abandoned_partials(storage: &Storage) {
    match storage.remove_abandoned_partials(PARTIAL_MAX_IDLE).await {
        Ok(0) => {}
        Ok(removed) => tracing::info!(removed, "removed the partial objects of writes that died"),
        Err(error) => tracing::warn!(%error, "cannot remove abandoned partial objects; will retry"),
    }
}

async fn record_served_bytes(db: &Database, served: &ServedBytes) {
    let counts = served.take();
    if counts.is_empty() {
        return;
    }
    if let Err(error) = db.record_served_bytes(&counts).await {
        tracing::warn!(%error, "cannot record the bytes served; will retry");
        served.restore(counts);
    }
}

async fn run_periodic_unless_cron_does(db: &Database) {
    match db.periodic_scheduled_by_cron().await {
        Ok(true) => {}
        Ok(false) => match db.run_periodic().await {
            Ok(summary) => {
                // An operator wants to hear about a release the guard stopped, not only find it.
                if summary["guard"].as_array().is_some_and(|decisions| !decisions.is_empty()) {
                    tracing::warn!(decisions = %summary["guard"], "the failure guard acted");
                }
                tracing::debug!(%summary, "periodic work done");
            }
            Err(error) => tracing::warn!(%error, "periodic work failed; will retry"),
        },
        Err(error) => {
            tracing::warn!(%error, "cannot tell whether pg_cron runs the periodic work; will retry")
        }
    }
}

async fn delete_purged_objects(db: &Database, storage: &Storage) {
    loop {
        let outcome = db
            .delete_queued_objects(DELETION_BATCH, |keys| async move {
                let mut deleted = Vec::with_capacity(keys.len());
                for key in keys {
                    match storage.delete(&key).await {
                        Ok(()) => deleted.push(key),
                        Err(error) => {
                            tracing::warn!(%error, key, "could not delete a purged object; will retry")
                        }
                    }
                }
                deleted
            })
            .await;
        match outcome {
            Ok((claimed, deleted)) => {
                if deleted > 0 {
                    tracing::info!(deleted, "deleted the stored objects of purged bundles");
                }
                if claimed < DELETION_BATCH as usize || deleted < claimed {
                    return;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot delete the objects of purged bundles; will retry");
                return;
            }
        }
    }
}
