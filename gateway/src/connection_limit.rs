//! Open connections per TCP peer address, so one address cannot hold every connection the
//! gateway accepts (12,000 idle connections from one address crowded out everyone else).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

pub struct ConnectionsPerAddress {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One open connection, counted until dropped.
pub struct OpenConnection {
    table: Arc<ConnectionsPerAddress>,
    address: IpAddr,
}

impl ConnectionsPerAddress {
    pub fn new(max: usize) -> Arc<ConnectionsPerAddress> {
        Arc::new(ConnectionsPerAddress { max, open: Mutex::default() })
    }

    /// Counts a new connection from `address`; `None` when it already has `max` open.
    pub fn open(self: &Arc<Self>, address: IpAddr) -> Option<OpenConnection> {
        let mut open = self.lock();
        let count = open.entry(address).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(OpenConnection { table: self.clone(), address })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        // A poisoned lock only means a panic elsewhere mid-update of a counter; keep counting.
        self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        let mut open = self.table.lock();
        if let Some(count) = open.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn each_address_has_its_own_cap() {
        let table = ConnectionsPerAddress::new(2);
        let (one, two) = (IpAddr::from([127, 0, 0, 1]), IpAddr::from([127, 0, 0, 2]));
        let first = table.open(one).unwrap();
        let _second = table.open(one).unwrap();
        assert!(table.open(one).is_none(), "the third from one address is refused");
        assert!(table.open(two).is_some(), "another address is not affected");
        drop(first);
        assert!(table.open(one).is_some(), "a closed connection frees its place");
    }

    #[test]
    fn idle_addresses_leave_no_entry() {
        let table = ConnectionsPerAddress::new(1);
        let address = IpAddr::from([127, 0, 0, 1]);
        drop(table.open(address).unwrap());
        assert!(table.lock().is_empty());
    }
}
