//! The failure guard (sql/guard.sql): the statistics it judges a bundle's failure rate by.

use liveupdate_core::guard;
use pgrx::prelude::*;

/// Wilson score lower bound of the failure rate; NULL when there is nothing to judge.
#[pg_extern(immutable, strict, parallel_safe, name = "_wilson_lower_bound")]
pub fn wilson_lower_bound(failures: i64, attempts: i64, confidence: f64) -> Option<f64> {
    guard::wilson_lower_bound(u64::try_from(failures).ok()?, u64::try_from(attempts).ok()?, confidence)
}
