//! Fixed-window request counters for `/channel_self` (protocol.md §6.5), kept in memory: a limit
//! is a transport concern, and writing a counter to the database per request would cost more than
//! the request itself.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use liveupdate_core::channel::RateLimit;

/// Counters beyond this many trigger a sweep of expired windows, bounding memory.
const SWEEP_ABOVE: usize = 100_000;

#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// Counts one request under `key`. `Err(wait)` when the limit is exceeded, with the time until
    /// the window resets.
    pub fn hit(&self, key: String, limit: RateLimit, now: Instant) -> Result<(), Duration> {
        let window = Duration::from_secs(limit.window_seconds);
        // A poisoned lock only means a panic elsewhere mid-update; the counters are still usable.
        let mut windows = self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if windows.len() > SWEEP_ABOVE {
            windows.retain(|_, (started, _)| now.duration_since(*started) < Duration::from_secs(3600));
        }
        let entry = windows.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        if entry.1 >= limit.max {
            return Err(window.saturating_sub(now.duration_since(entry.0)));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn fixed_windows() {
        let limiter = RateLimiter::default();
        let limit = RateLimit { max: 2, window_seconds: 10 };
        let start = Instant::now();
        assert!(limiter.hit("k".into(), limit, start).is_ok());
        assert!(limiter.hit("k".into(), limit, start).is_ok());
        let wait = limiter.hit("k".into(), limit, start + Duration::from_secs(4)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(6));
        assert!(limiter.hit("other".into(), limit, start).is_ok(), "keys are independent");
        assert!(limiter.hit("k".into(), limit, start + Duration::from_secs(10)).is_ok(), "a new window");
    }
}
