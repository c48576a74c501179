//! Bytes of stored objects sent by `/files`, per object key, until the periodic work hands them to
//! the extension (`record_served_bytes`), which adds them to the owning app's statistics: the
//! bandwidth actually served by this gateway (a CDN in front of it serves the rest unseen).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
pub struct ServedBytes {
    counts: Mutex<HashMap<String, u64>>,
}

impl ServedBytes {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, u64>> {
        // A poisoned lock only means a panic elsewhere mid-update; the counts are intact.
        self.counts.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn add(&self, key: &str, bytes: u64) {
        let mut counts = self.lock();
        match counts.get_mut(key) {
            Some(count) => *count += bytes,
            None => {
                counts.insert(key.to_owned(), bytes);
            }
        }
    }

    /// The counts so far, leaving none.
    pub fn take(&self) -> HashMap<String, u64> {
        std::mem::take(&mut *self.lock())
    }

    /// Puts back counts that could not be recorded.
    pub fn restore(&self, counts: HashMap<String, u64>) {
        for (key, bytes) in counts {
            self.add(&key, bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_and_survive_a_failed_report() {
        let served = ServedBytes::default();
        served.add("zips/a.zip", 10);
        served.add("zips/a.zip", 5);
        served.add("files/b", 1);
        let taken = served.take();
        assert_eq!(taken.get("zips/a.zip"), Some(&15));
        assert!(served.take().is_empty());
        served.add("zips/a.zip", 2);
        served.restore(taken);
        assert_eq!(served.take().get("zips/a.zip"), Some(&17));
    }
}
