//! A memory budget for request bodies the gateway holds whole in memory (device requests,
//! management JSON): without one, slow clients each sending an unfinished large body make the
//! process grow without bound (400 unfinished 4 MiB bodies took it from 9 MB to 1.67 GB).
//!
//! Bytes are reserved before they are buffered and released when the buffer is dropped
//! ([`Reservation`]); all requests together may hold `limit` bytes and one client address
//! `per_address` of them. Archive uploads stream to disk and are not counted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use hyper::StatusCode;

use crate::response::ApiError;

pub struct BodyBudget {
    limit: usize,
    per_address: usize,
    usage: Mutex<Usage>,
}

#[derive(Default)]
struct Usage {
    total: usize,
    /// Only addresses holding bytes: an entry is removed when it falls to zero.
    by_address: HashMap<IpAddr, usize>,
}

/// Why bytes could not be reserved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exhausted {
    /// All requests together hold the whole budget: the server is busy, retry later (503).
    Global,
    /// This client address holds its whole share: it should wait for its own requests (429).
    Address,
}

impl From<Exhausted> for ApiError {
    fn from(exhausted: Exhausted) -> ApiError {
        let error = match exhausted {
            Exhausted::Global => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "body_memory_exhausted",
                "The server is busy receiving other requests, retry later",
            ),
            Exhausted::Address => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_pending_bodies",
                "Too many request bodies are being received from this address, retry later",
            ),
        };
        ApiError { retry_after_seconds: Some(5), ..error }
    }
}

/// Bytes reserved for one request's body by one client; given back when dropped.
#[must_use = "the bytes are released as soon as the reservation is dropped"]
pub struct Reservation<'a> {
    budget: &'a BodyBudget,
    address: IpAddr,
    bytes: usize,
}

impl BodyBudget {
    pub fn new(limit: usize, per_address: usize) -> BodyBudget {
        BodyBudget { limit, per_address, usage: Mutex::default() }
    }

    /// Reserves `bytes` for a body from `address`.
    pub fn reserve(&self, address: IpAddr, bytes: usize) -> Result<Reservation<'_>, Exhausted> {
        let mut reservation = Reservation { budget: self, address, bytes: 0 };
        reservation.grow_to(bytes)?;
        Ok(reservation)
    }

    /// Bytes reserved now, by all requests together.
    pub fn in_use(&self) -> usize {
        self.lock().total
    }

    /// Bytes reserved now by `address`.
    pub fn in_use_by(&self, address: IpAddr) -> usize {
        self.lock().by_address.get(&address).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Usage> {
        // A poisoned lock only means a panic elsewhere mid-update of two integers; keep counting.
        self.usage.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Reservation<'_> {
    /// Grows the reservation to `bytes` in all (never shrinks it). Unchanged when refused.
    pub fn grow_to(&mut self, bytes: usize) -> Result<(), Exhausted> {
        let Some(more) = bytes.checked_sub(self.bytes).filter(|more| *more > 0) else { return Ok(()) };
        let mut usage = self.budget.lock();
        let by_address = usage.by_address.get(&self.address).copied().unwrap_or(0);
        if usage.total.saturating_add(more) > self.budget.limit {
            return Err(Exhausted::Global);
        }
        if by_address.saturating_add(more) > self.budget.per_address {
            return Err(Exhausted::Address);
        }
        usage.total += more;
        usage.by_address.insert(self.address, by_address + more);
        self.bytes = bytes;
        Ok(())
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if self.bytes == 0 {
            return;
        }
        let mut usage = self.budget.lock();
        usage.total = usage.total.saturating_sub(self.bytes);
        if let Some(held) = usage.by_address.get_mut(&self.address) {
            *held = held.saturating_sub(self.bytes);
            if *held == 0 {
                usage.by_address.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn reservations_are_bounded_and_released_on_drop() {
        let budget = BodyBudget::new(100, 60);
        let first = budget.reserve(ip(1), 50).unwrap();
        assert_eq!(budget.reserve(ip(1), 11).err(), Some(Exhausted::Address), "over the address's share");
        let second = budget.reserve(ip(2), 50).unwrap();
        assert_eq!(budget.reserve(ip(3), 1).err(), Some(Exhausted::Global), "over the whole budget");
        assert_eq!((budget.in_use(), budget.in_use_by(ip(1))), (100, 50));
        drop(first);
        assert_eq!((budget.in_use(), budget.in_use_by(ip(1))), (50, 0));
        assert!(!budget.lock().by_address.contains_key(&ip(1)), "no entry is kept for idle addresses");
        drop(second);
        assert_eq!((budget.in_use(), budget.in_use_by(ip(2))), (0, 0));
    }

    #[test]
    fn growing_counts_only_the_difference_and_a_refusal_changes_nothing() {
        let budget = BodyBudget::new(100, 100);
        let mut reservation = budget.reserve(ip(1), 10).unwrap();
        reservation.grow_to(40).unwrap();
        reservation.grow_to(20).unwrap();
        assert_eq!(budget.in_use_by(ip(1)), 40, "never shrinks");
        assert_eq!(reservation.grow_to(101), Err(Exhausted::Global));
        assert_eq!((budget.in_use(), budget.in_use_by(ip(1))), (40, 40));
        drop(reservation);
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn refusals_map_to_retryable_answers() {
        let busy = ApiError::from(Exhausted::Global);
        assert_eq!(
            (busy.status.as_u16(), busy.code, busy.retry_after_seconds),
            (503, "body_memory_exhausted", Some(5))
        );
        let address = ApiError::from(Exhausted::Address);
        assert_eq!((address.status.as_u16(), address.code), (429, "too_many_pending_bodies"));
    }
}
