//! What `/metrics` exports, through the `prometheus-client` crate (OpenMetrics text format):
//! responses and their durations by endpoint and status, the database pool, device-state
//! batching, and request-body memory.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    endpoint: &'static str,
    status: u16,
}

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Values only known when scraped: read from the parts that own them.
pub struct Snapshot {
    pub device_checks_pending: usize,
    pub body_memory_bytes: usize,
    pub pool: deadpool_postgres::Status,
}

type DurationFamily = Family<Outcome, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Registry,
    responses: Family<Outcome, Counter>,
    durations: DurationFamily,
    pub database_errors: Counter,
    pub device_checks_written: Counter,
    pub device_checks_dropped: Counter,
    /// Device states the database refused (data it cannot store); the other rows of their batch
    /// were written.
    pub device_checks_refused: Counter,
    pub device_flush_failures: Counter,
    device_checks_pending: Gauge,
    body_memory_bytes: Gauge,
    pool_size: Gauge,
    pool_available: Gauge,
    pool_waiting: Gauge,
    pool_max_size: Gauge,
}

/// 0.25 ms to about 8 s, doubling: update checks take about a millisecond, uploads seconds.
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut metrics = Metrics {
            registry: Registry::default(),
            responses: Family::default(),
            durations: Family::new_with_constructor(duration_histogram),
            database_errors: Counter::default(),
            device_checks_written: Counter::default(),
            device_checks_dropped: Counter::default(),
            device_checks_refused: Counter::default(),
            device_flush_failures: Counter::default(),
            device_checks_pending: Gauge::default(),
            body_memory_bytes: Gauge::default(),
            pool_size: Gauge::default(),
            pool_available: Gauge::default(),
            pool_waiting: Gauge::default(),
            pool_max_size: Gauge::default(),
        };
        // Counters get their `_total` suffix from the encoder; names are those of earlier releases.
        let registry = &mut metrics.registry;
        registry.register(
            "liveupdate_http_responses",
            "Requests answered, by endpoint and status",
            metrics.responses.clone(),
        );
        registry.register(
            "liveupdate_http_request_duration_seconds",
            "Time from routing a request to its response head, by endpoint and status",
            metrics.durations.clone(),
        );
        let counters = [
            ("liveupdate_database_errors", "Database calls that failed", &metrics.database_errors),
            ("liveupdate_device_checks_written", "Device states written", &metrics.device_checks_written),
            (
                "liveupdate_device_checks_dropped",
                "Device states dropped because the pending batch was full",
                &metrics.device_checks_dropped,
            ),
            (
                "liveupdate_device_checks_refused",
                "Device states the database refused to store",
                &metrics.device_checks_refused,
            ),
            (
                "liveupdate_device_flush_failures",
                "Device-state batches that failed",
                &metrics.device_flush_failures,
            ),
        ];
        for (name, help, counter) in counters {
            registry.register(name, help, counter.clone());
        }
        let gauges = [
            (
                "liveupdate_device_checks_pending",
                "Device states waiting for the next batch",
                &metrics.device_checks_pending,
            ),
            (
                "liveupdate_body_memory_bytes",
                "Request-body bytes held in memory now",
                &metrics.body_memory_bytes,
            ),
            ("liveupdate_db_pool_size", "Database connections open", &metrics.pool_size),
            ("liveupdate_db_pool_available", "Open database connections idle", &metrics.pool_available),
            (
                "liveupdate_db_pool_waiting",
                "Requests waiting for a database connection",
                &metrics.pool_waiting,
            ),
            (
                "liveupdate_db_pool_max_size",
                "Most database connections the pool opens",
                &metrics.pool_max_size,
            ),
        ];
        for (name, help, gauge) in gauges {
            registry.register(name, help, gauge.clone());
        }
        metrics
    }
}

impl Metrics {
    /// Counts a response and its duration.
    pub fn record_response(&self, endpoint: &'static str, status: u16, elapsed: Duration) {
        let outcome = Outcome { endpoint, status };
        self.responses.get_or_create(&outcome).inc();
        self.durations.get_or_create(&outcome).observe(elapsed.as_secs_f64());
    }

    /// The text for `/metrics`, with the gauges set from `snapshot`.
    pub fn render(&self, snapshot: &Snapshot) -> String {
        let gauge = |value: usize| i64::try_from(value).unwrap_or(i64::MAX);
        self.device_checks_pending.set(gauge(snapshot.device_checks_pending));
        self.body_memory_bytes.set(gauge(snapshot.body_memory_bytes));
        self.pool_size.set(gauge(snapshot.pool.size));
        self.pool_available.set(gauge(snapshot.pool.available));
        self.pool_waiting.set(gauge(snapshot.pool.waiting));
        self.pool_max_size.set(gauge(snapshot.pool.max_size));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    fn snapshot() -> Snapshot {
        Snapshot {
            device_checks_pending: 3,
            body_memory_bytes: 4096,
            pool: deadpool_postgres::Status { max_size: 8, size: 2, available: 1, waiting: 5 },
        }
    }

    #[test]
    fn counters_keep_their_names_and_durations_have_buckets() {
        let metrics = Metrics::default();
        metrics.record_response("updates", 200, Duration::from_micros(700));
        metrics.record_response("updates", 200, Duration::from_millis(3));
        metrics.device_checks_refused.inc();
        let text = metrics.render(&snapshot());
        for line in [
            "liveupdate_http_responses_total{endpoint=\"updates\",status=\"200\"} 2",
            "liveupdate_http_request_duration_seconds_count{endpoint=\"updates\",status=\"200\"} 2",
            "liveupdate_http_request_duration_seconds_bucket{le=\"0.001\",endpoint=\"updates\",status=\"200\"} 1",
            "liveupdate_device_checks_refused_total 1",
            "liveupdate_database_errors_total 0",
            "liveupdate_device_checks_pending 3",
            "liveupdate_body_memory_bytes 4096",
            "liveupdate_db_pool_size 2",
            "liveupdate_db_pool_waiting 5",
            "liveupdate_db_pool_max_size 8",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing from\n{text}");
        }
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
