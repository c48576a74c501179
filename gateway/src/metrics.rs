//! Counters exported at `/metrics` in Prometheus text format.

use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use std::collections::BTreeMap;

#[derive(Default)]
pub struct Metrics {
    /// (endpoint, status) → requests answered.
    responses: Mutex<BTreeMap<(&'static str, u16), u64>>,
    pub database_errors: AtomicU64,
    pub device_checks_written: AtomicU64,
    pub device_checks_dropped: AtomicU64,
    /// Device states the database refused (data it cannot store); the other rows of their batch
    /// were written.
    pub device_checks_refused: AtomicU64,
    pub device_flush_failures: AtomicU64,
}

impl Metrics {
    pub fn count_response(&self, endpoint: &'static str, status: u16) {
        // A poisoned lock only means another thread panicked mid-increment; the map is still usable.
        let mut responses = self.responses.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *responses.entry((endpoint, status)).or_default() += 1;
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# TYPE liveupdate_http_responses_total counter\n");
        let responses = self.responses.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for ((endpoint, status), count) in responses.iter() {
            let _ = writeln!(
                out,
                "liveupdate_http_responses_total{{endpoint=\"{endpoint}\",status=\"{status}\"}} {count}"
            );
        }
        let counters = [
            ("liveupdate_database_errors_total", &self.database_errors),
            ("liveupdate_device_checks_written_total", &self.device_checks_written),
            ("liveupdate_device_checks_dropped_total", &self.device_checks_dropped),
            ("liveupdate_device_checks_refused_total", &self.device_checks_refused),
            ("liveupdate_device_flush_failures_total", &self.device_flush_failures),
        ];
        for (name, value) in counters {
            let _ = writeln!(out, "# TYPE {name} counter\n{name} {}", value.load(Ordering::Relaxed));
        }
        out
    }
}
