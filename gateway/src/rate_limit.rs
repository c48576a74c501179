//! Fixed-window request counters for `/channel_self` (protocol.md §6.5) and for failed
//! management-API authentications, kept in memory: a limit
//! is a transport concern, and writing a counter to the database per request would cost more than
//! the request itself.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use liveupdate_core::channel::RateLimit;

/// Above this many counters, expired windows are swept (at most once a second).
const SWEEP_ABOVE: usize = 100_000;
/// Above this many live counters the table is cleared: failing open beats unbounded memory.
const HARD_LIMIT: usize = 1_000_000;

#[derive(Default)]
pub struct RateLimiter {
    state: Mutex<Counters>,
}

#[derive(Default)]
struct Counters {
    /// key → (window start, requests counted, window length)
    windows: HashMap<String, (Instant, u32, Duration)>,
    last_sweep: Option<Instant>,
}

impl RateLimiter {
    /// Counts one request under `key`. `Err(wait)` when the limit is exceeded, with the time until
    /// the window resets.
    pub fn hit(&self, key: String, limit: RateLimit, now: Instant) -> Result<(), Duration> {
        let window = Duration::from_secs(limit.window_seconds);
        // A poisoned lock only means a panic elsewhere mid-update; the counters are still usable.
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if state.windows.len() > SWEEP_ABOVE
            && state.last_sweep.is_none_or(|last| now.duration_since(last) >= Duration::from_secs(1))
        {
            state.windows.retain(|_, (started, _, length)| now.duration_since(*started) < *length);
            state.last_sweep = Some(now);
            if state.windows.len() > HARD_LIMIT {
                state.windows.clear();
            }
        }
        let entry = state.windows.entry(key).or_insert((now, 0, window));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0, window);
        }
        if entry.1 >= limit.max {
            return Err(window.saturating_sub(now.duration_since(entry.0)));
        }
        entry.1 += 1;
        Ok(())
    }

    /// Whether `key` has used up `limit` in its current window, without counting a request:
    /// for limits on failures, counted only once the outcome is known. `Some(wait)` when it has.
    pub fn exceeded(&self, key: &str, limit: RateLimit, now: Instant) -> Option<Duration> {
        let state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (started, count, window) = state.windows.get(key)?;
        let elapsed = now.duration_since(*started);
        (elapsed < *window && *count >= limit.max).then(|| window.saturating_sub(elapsed))
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

    #[test]
    fn exceeded_looks_without_counting() {
        let limiter = RateLimiter::default();
        let limit = RateLimit { max: 2, window_seconds: 60 };
        let start = Instant::now();
        assert_eq!(limiter.exceeded("k", limit, start), None);
        limiter.hit("k".into(), limit, start).unwrap();
        assert_eq!(limiter.exceeded("k", limit, start), None, "looking does not count");
        limiter.hit("k".into(), limit, start).unwrap();
        assert_eq!(
            limiter.exceeded("k", limit, start + Duration::from_secs(20)),
            Some(Duration::from_secs(40))
        );
        assert_eq!(limiter.exceeded("k", limit, start + Duration::from_secs(60)), None, "window over");
    }

    #[test]
    fn expired_windows_are_swept() {
        let limiter = RateLimiter::default();
        let limit = RateLimit { max: 1, window_seconds: 1 };
        let start = Instant::now();
        for i in 0..=SWEEP_ABOVE {
            limiter.hit(format!("k{i}"), limit, start).unwrap();
        }
        limiter.hit("late".into(), limit, start + Duration::from_secs(2)).unwrap();
        let live = limiter.state.lock().unwrap().windows.len();
        assert_eq!(live, 1, "only the counter of the current window is left");
    }
}
