//! Device state from update checks, written in batches so no check waits on a write.
//!
//! Each check replaces the pending entry of its device; a flusher writes the pending set about once
//! a second with one `record_device_checks` call. A crash loses at most that last interval, which
//! the next check of each device repairs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use liveupdate_core::request::UpdateRequest;
use serde_json::Value;
use tokio::sync::watch;

use crate::db::{Database, DbError};
use crate::metrics::Metrics;

/// Most devices held between two flushes; beyond it new devices wait for their next check.
pub const MAX_PENDING_DEVICES: usize = 200_000;

#[derive(Default)]
pub struct DeviceLog {
    pending: Mutex<HashMap<(String, String), Value>>,
}

impl DeviceLog {
    fn lock(&self) -> MutexGuard<'_, HashMap<(String, String), Value>> {
        // A poisoned lock only means a panic elsewhere mid-insert; the map itself is intact.
        self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Remembers the device's latest state; false when the buffer is full and it was dropped.
    pub fn record(&self, request: &UpdateRequest) -> bool {
        let key = (request.app_id.clone(), request.device_id.clone());
        // Built before taking the lock, which every update check contends for.
        let state = request.to_json();
        let mut pending = self.lock();
        if pending.len() >= MAX_PENDING_DEVICES && !pending.contains_key(&key) {
            return false;
        }
        pending.insert(key, state);
        true
    }

    fn take(&self) -> HashMap<(String, String), Value> {
        std::mem::take(&mut *self.lock())
    }

    /// Puts back a batch that could not be written, unless a newer check replaced an entry.
    fn restore(&self, batch: HashMap<(String, String), Value>) {
        let mut pending = self.lock();
        for (key, value) in batch {
            if pending.len() >= MAX_PENDING_DEVICES {
                break;
            }
            pending.entry(key).or_insert(value);
        }
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes everything pending. When the database is unreachable the batch is kept for the next
    /// attempt; when it refuses the batch, the rows it accepts are written and the ones it refuses
    /// are dropped, so one bad row never holds back every other device.
    pub async fn flush(&self, db: &Database, metrics: &Metrics) {
        let batch = self.take();
        if batch.is_empty() {
            return;
        }
        let rows: Vec<&Value> = batch.values().collect();
        match write_separating_refused(db, &rows).await {
            Ok(Written { rows, refused }) => {
                metrics.device_checks_written.inc_by(rows);
                if refused > 0 {
                    metrics.device_checks_refused.inc_by(refused);
                }
            }
            Err(error) => {
                metrics.device_flush_failures.inc();
                tracing::warn!(%error, devices = batch.len(), "device state flush failed; will retry");
                self.restore(batch);
            }
        }
    }
}

struct Written {
    rows: u64,
    refused: u64,
}

/// Writes `rows` in one call; if the database refuses the call for what it holds (bad input or a
/// constraint), halves it and tries each half, down to the single rows it refuses. Any other
/// failure is returned as is and the caller keeps the whole batch: the halves already written are
/// written again then, which is harmless.
async fn write_separating_refused(db: &Database, rows: &[&Value]) -> Result<Written, DbError> {
    let mut pending = vec![rows];
    let mut done = Written { rows: 0, refused: 0 };
    while let Some(rows) = pending.pop() {
        match db.record_device_checks(rows).await {
            Ok(written) => done.rows += u64::try_from(written).unwrap_or(0),
            Err(error @ (DbError::Unavailable(_) | DbError::Failed(_))) => return Err(error),
            Err(error) if rows.len() == 1 => {
                let device = rows[0].get("device_id").cloned().unwrap_or_default();
                tracing::warn!(%error, %device, "device state refused by the database; dropped");
                done.refused += 1;
            }
            Err(DbError::Refused { .. }) => {
                let (first, second) = rows.split_at(rows.len() / 2);
                pending.push(first);
                pending.push(second);
            }
        }
    }
    Ok(done)
}

/// Flushes on a timer until `stop` turns true, then once more.
pub async fn run_flusher(
    log: Arc<DeviceLog>,
    db: Arc<Database>,
    metrics: Arc<Metrics>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => log.flush(&db, &metrics).await,
            _ = stop.changed() => break,
        }
    }
    log.flush(&db, &metrics).await;
}
