//! Progressive rollouts: a channel's second bundle goes to a share of its devices, in basis points
//! (1/100 of a percent). Each device gets a fixed bucket in 0..10000 from its id and the rollout,
//! so membership needs no per-device state, raising the share only adds devices, lowering it only
//! removes those above the new line, and a new rollout draws a new, independent sample.

use sha2::{Digest, Sha256};

pub const FULL: u32 = 10_000;

/// The device's bucket in 0..10000 for rollout `rollout_id`. The device id is lowercased, as
/// devices send UUIDs in either case.
pub fn bucket(device_id: &str, rollout_id: i64) -> u32 {
    let digest = Sha256::digest(format!("{rollout_id}:{}", device_id.to_ascii_lowercase()).as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % u64::from(FULL)) as u32
}

/// Whether the device is inside a rollout of `basis_points`.
pub fn includes(device_id: &str, rollout_id: i64, basis_points: u32) -> bool {
    bucket(device_id, rollout_id) < basis_points.min(FULL)
}

/// Whether a channel's running rollout serves the device its bundle now: the rollout is not
/// paused and the device is inside its share. (A device already running the rollout's bundle
/// keeps it regardless; that is the caller's other reason, protocol.md §3.2.)
pub fn selects(device_id: &str, rollout_id: i64, basis_points: u32, paused: bool) -> bool {
    !paused && includes(device_id, rollout_id, basis_points)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(i: u32) -> String {
        format!("{:08x}-0000-4000-8000-{:012x}", i, u64::from(i) * 7919)
    }

    #[test]
    fn shares_are_close_to_the_target_and_stable() {
        let devices: Vec<String> = (0..100_000).map(device).collect();
        for basis_points in [100, 500, 2_500, 5_000, 9_000] {
            let inside = devices.iter().filter(|d| includes(d, 42, basis_points)).count();
            let share = inside as f64 / 1_000.0; // percent
            let target = f64::from(basis_points) / 100.0;
            assert!((share - target).abs() <= 1.0, "{basis_points} bp: {share}%");
        }
        // Raising only adds, lowering only removes.
        for d in &devices {
            if includes(d, 42, 1_000) {
                assert!(includes(d, 42, 2_000));
            }
        }
        assert_eq!(
            bucket("ABCDEF00-0000-4000-8000-000000000000", 1),
            bucket("abcdef00-0000-4000-8000-000000000000", 1)
        );
        let same =
            devices.iter().take(1_000).filter(|d| includes(d, 1, 5_000) == includes(d, 2, 5_000)).count();
        assert!((400..600).contains(&same), "rollouts draw independent samples: {same}");
        assert!(!includes(&devices[0], 1, 0) && includes(&devices[0], 1, FULL));
    }

    #[test]
    fn a_paused_rollout_selects_nobody() {
        let d = device(7);
        assert!(selects(&d, 3, FULL, false));
        assert!(!selects(&d, 3, FULL, true));
        assert!(!selects(&d, 3, 0, false));
    }
}
