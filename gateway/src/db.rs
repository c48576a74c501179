//! The gateway's only way to the database: a bounded pool and one prepared call per operation.

use std::str::FromStr;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use serde_json::Value;
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{Json, ToSql};

use crate::config::Config;

pub struct Database {
    pool: Pool,
}

/// Why a database call failed, as far as the client needs to know.
#[derive(Debug)]
pub enum DbError {
    /// No connection could be had, or the server went away: worth retrying.
    Unavailable(String),
    /// The call itself failed (a bug, or the extension is missing): not worth retrying as is.
    Failed(String),
    /// The extension refused the request (bad input, not found, not allowed, ...): `code` is the
    /// SQLSTATE and `message` the extension's own text, fit to show the client.
    Refused { code: String, message: String },
}

/// SQLSTATEs the extension raises for requests it refuses, as opposed to failures: class 22
/// (bad input), 23 (constraints), 28000 (authentication), 42501 (rights), 55000 (state), P0002
/// (not found) and its own LUxxx (signatures).
fn is_refusal(code: &str) -> bool {
    code.starts_with("22")
        || code.starts_with("23")
        || code.starts_with("LU")
        || matches!(code, "28000" | "42501" | "55000" | "P0002")
}

/// Whether a call that failed with SQLSTATE `code` (`None`: the connection itself failed, or a
/// value could not be converted) may have left its connection unusable, so that it must be closed
/// rather than handed to the next request: internal errors (class XX: a backend still running an
/// extension library replaced under it answers XX000 "unrecognized function API version" to every
/// call until its connection is closed), system errors (class 58) and a session being shut down
/// (57P). Closing one needlessly only costs a reconnect.
fn leaves_connection_broken(code: Option<&str>) -> bool {
    code.is_none_or(|code| code.starts_with("XX") || code.starts_with("58") || code.starts_with("57P"))
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::Unavailable(detail) => write!(f, "database unavailable: {detail}"),
            DbError::Failed(detail) => write!(f, "database call failed: {detail}"),
            DbError::Refused { code, message } => write!(f, "refused ({code}): {message}"),
        }
    }
}

impl From<deadpool_postgres::PoolError> for DbError {
    fn from(error: deadpool_postgres::PoolError) -> DbError {
        // Whatever keeps the pool from handing out a connection (timeouts, refused or failed
        // connects, a closed pool) is worth retrying later.
        DbError::Unavailable(error.to_string())
    }
}

impl From<tokio_postgres::Error> for DbError {
    fn from(error: tokio_postgres::Error) -> DbError {
        if let Some(refused) = error.as_db_error().filter(|e| is_refusal(e.code().code())) {
            return DbError::Refused {
                code: refused.code().code().to_owned(),
                message: refused.message().to_owned(),
            };
        }
        let transient = match error.code() {
            // Connection loss has no SQLSTATE; admin shutdown, crash recovery and overload are
            // classes 08, 57P and 53.
            None => true,
            Some(code) => {
                let code = code.code();
                code.starts_with("08")
                    || code.starts_with("57P")
                    || code.starts_with("53")
                    || *code == *SqlState::QUERY_CANCELED.code()
            }
        };
        if transient { DbError::Unavailable(error.to_string()) } else { DbError::Failed(error.to_string()) }
    }
}

impl Database {
    /// Builds the pool; connections are opened on first use, so the gateway starts even while the
    /// database is still coming up (`/ready` tells when it is reachable).
    pub fn new(config: &Config) -> Result<Database, String> {
        let mut pg = tokio_postgres::Config::from_str(&config.database_url)
            .map_err(|e| format!("LIVEUPDATE_DATABASE_URL is not a valid connection string: {e}"))?;
        pg.application_name("liveupdate-gateway");
        pg.connect_timeout(config.db_timeout);
        pg.options(format!("-c statement_timeout={}", config.db_timeout.as_millis()));
        let manager =
            Manager::from_config(pg, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(config.db_pool_size)
            .wait_timeout(Some(config.db_timeout))
            .create_timeout(Some(config.db_timeout))
            .recycle_timeout(Some(Duration::from_secs(1)))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| format!("cannot build the database pool: {e}"))?;
        Ok(Database { pool })
    }

    /// The pool's connections now, for `/metrics`.
    pub fn pool_status(&self) -> deadpool_postgres::Status {
        self.pool.status()
    }

    /// The answer body for a validated, normalised update check. Like every device endpoint it
    /// calls the extension's JSON-text entry point, which skips the jsonb conversions of the
    /// `jsonb` functions (about 10% of `resolve_update`'s cost).
    pub async fn resolve_update(&self, request: &Value) -> Result<Value, DbError> {
        self.answer("SELECT liveupdate._resolve_update_text($1::text)", &[&request.to_string()]).await
    }

    /// Stores a stats body through the extension and returns the answer body; a 2xx is only sent
    /// after this returns, i.e. after the commit.
    pub async fn record_stats(&self, body: &str) -> Result<Value, DbError> {
        self.answer("SELECT liveupdate._record_stats_text($1::text)", &[&body]).await
    }

    /// Sizes the manifest entries of a `/updates/manifest_size` request.
    pub async fn manifest_size(&self, request: &Value) -> Result<Value, DbError> {
        self.answer("SELECT liveupdate._manifest_size_text($1::text)", &[&request.to_string()]).await
    }

    /// Answers a `/channel_self` request.
    pub async fn channel_self(&self, operation: &str, request: &Value) -> Result<Value, DbError> {
        self.answer(
            "SELECT liveupdate._channel_self_text($1::text, $2::text)",
            &[&operation, &request.to_string()],
        )
        .await
    }

    /// Checks an API key, given as its SHA-256 (hex), and records its use; `Refused` 28000 when it
    /// is unknown, revoked or expired. Committed on its own, so the use is recorded even when the
    /// request then fails.
    pub async fn authenticate_key(&self, key_sha256: &str) -> Result<(), DbError> {
        self.with_connection(async |client| {
            let statement = client.prepare_cached("SELECT liveupdate.authenticate_key($1)").await?;
            client.query_one(&statement, &[&key_sha256]).await?;
            Ok(())
        })
        .await
    }

    /// Runs management operation `operation` (an `api_*` function) with the caller's key in force.
    pub async fn management_call(
        &self,
        key_sha256: &str,
        operation: &str,
        input: &Value,
    ) -> Result<Value, DbError> {
        self.answer("SELECT liveupdate.management_call($1, $2, $3)", &[&key_sha256, &operation, input]).await
    }

    /// Of `keys`, the storage objects no bundle refers to.
    pub async fn unreferenced_objects(&self, keys: &[String]) -> Result<Vec<String>, DbError> {
        self.with_connection(async |client| {
            let statement = client.prepare_cached("SELECT liveupdate.unreferenced_objects($1)").await?;
            client.query_one(&statement, &[&keys]).await?.try_get(0)
        })
        .await
    }

    /// Runs one of the extension's text entry points and parses the JSON body it answers.
    async fn answer(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Value, DbError> {
        let answer: String = self
            .with_connection(async |client| {
                let statement = client.prepare_cached(sql).await?;
                client.query_one(&statement, params).await?.try_get(0)
            })
            .await?;
        serde_json::from_str(&answer)
            .map_err(|e| DbError::Failed(format!("the extension answered with invalid JSON: {e}")))
    }

    /// Whether a pg_cron job in the database runs `run_periodic`.
    pub async fn periodic_scheduled_by_cron(&self) -> Result<bool, DbError> {
        self.with_connection(async |client| {
            client.query_one("SELECT liveupdate.periodic_scheduled_by_cron()", &[]).await?.try_get(0)
        })
        .await
    }

    /// `liveupdate.run_periodic()`: one transaction, allowed longer than a request (a backlog of
    /// events after downtime takes a while to aggregate).
    pub async fn run_periodic(&self) -> Result<Value, DbError> {
        self.with_connection(async |client| {
            let transaction = client.transaction().await?;
            transaction.batch_execute("SET LOCAL statement_timeout = '15min'").await?;
            let summary: Value =
                transaction.query_one("SELECT liveupdate.run_periodic()", &[]).await?.try_get(0)?;
            transaction.commit().await?;
            Ok(summary)
        })
        .await
    }

    /// `liveupdate.record_served_bytes`: bytes sent per object key since the last report.
    pub async fn record_served_bytes(
        &self,
        counts: &std::collections::HashMap<String, u64>,
    ) -> Result<(), DbError> {
        let counts = serde_json::to_value(counts).map_err(|e| DbError::Failed(e.to_string()))?;
        self.with_connection(async |client| {
            client.query_one("SELECT liveupdate.record_served_bytes($1)", &[&counts]).await?;
            Ok(())
        })
        .await
    }

    /// Claims up to `max` objects queued for deletion, has `delete` remove them from storage (it
    /// answers the keys it deleted), and takes those off the queue, in one transaction: the claim
    /// holds back a new bundle reusing an object until the deletion is over. Answers (claimed,
    /// deleted).
    pub async fn delete_queued_objects<F, Fut>(&self, max: i32, delete: F) -> Result<(usize, usize), DbError>
    where
        F: FnOnce(Vec<String>) -> Fut,
        Fut: std::future::Future<Output = Vec<String>>,
    {
        self.with_connection(async |client| {
            let transaction = client.transaction().await?;
            let claimed: Vec<String> = transaction
                .query_one("SELECT liveupdate.claim_storage_deletions($1)", &[&max])
                .await?
                .try_get(0)?;
            if claimed.is_empty() {
                return Ok((0, 0));
            }
            let count = claimed.len();
            let deleted = delete(claimed).await;
            transaction.query_one("SELECT liveupdate.forget_storage_deletions($1)", &[&deleted]).await?;
            transaction.commit().await?;
            Ok((count, deleted.len()))
        })
        .await
    }

    /// `liveupdate.record_device_checks`: writes a batch of device states, returns rows written.
    pub async fn record_device_checks(&self, checks: &[&Value]) -> Result<i32, DbError> {
        self.with_connection(async |client| {
            let statement =
                client.prepare_cached("SELECT liveupdate.record_device_checks($1::jsonb)").await?;
            client.query_one(&statement, &[&Json(checks)]).await?.try_get::<_, i32>(0)
        })
        .await
    }

    /// Whether the database answers and has the extension installed.
    pub async fn ping(&self) -> Result<(), DbError> {
        self.with_connection(async |client| {
            client.query_one("SELECT 'liveupdate.resolve_update(jsonb)'::regprocedure", &[]).await?;
            Ok(())
        })
        .await
    }

    /// Runs `work` on a pooled connection. After a failure that may have broken the connection
    /// (see `leaves_connection_broken`) it is closed instead of going back to the pool, so the
    /// next request gets a fresh one rather than the same failure.
    async fn with_connection<T>(
        &self,
        work: impl AsyncFnOnce(&mut Object) -> Result<T, tokio_postgres::Error>,
    ) -> Result<T, DbError> {
        let mut client = self.pool.get().await?;
        let result = work(&mut client).await;
        if let Err(error) = &result
            && leaves_connection_broken(error.code().map(SqlState::code))
        {
            tracing::warn!(%error, "closing a database connection after a failure that may have broken it");
            drop(Object::take(client));
        }
        Ok(result?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_closed_after_failures_that_may_have_broken_them() {
        for broken in [None, Some("XX000"), Some("XX001"), Some("58030"), Some("57P01"), Some("57P02")] {
            assert!(leaves_connection_broken(broken), "{broken:?}");
        }
        // Refusals, bad input, timeouts and conflicts leave the session as it was.
        for fine in ["22023", "P0002", "28000", "42501", "23505", "57014", "40001", "53300", "0A000"] {
            assert!(!leaves_connection_broken(Some(fine)), "{fine}");
        }
    }
}
