//! What every handler shares.

use std::sync::Arc;

use crate::body_budget::BodyBudget;
use crate::config::Config;
use crate::db::Database;
use crate::device_log::DeviceLog;
use crate::metrics::Metrics;
use crate::rate_limit::RateLimiter;
use crate::scratch::ScratchSpace;
use crate::served::ServedBytes;
use crate::storage::Storage;

pub struct State {
    pub config: Config,
    pub db: Arc<Database>,
    pub storage: Storage,
    /// Where uploads are unpacked.
    pub scratch: ScratchSpace,
    pub device_log: Arc<DeviceLog>,
    pub metrics: Arc<Metrics>,
    pub rate_limiter: RateLimiter,
    pub served: Arc<ServedBytes>,
    pub body_budget: BodyBudget,
}
