//! The automatic failure guard's statistics: is a release failing more often than allowed, with
//! enough evidence? The failure rate is judged by the lower bound of its Wilson score interval, so
//! a handful of early failures among few attempts does not trip the guard, while a clearly bad
//! release does as soon as the evidence is strong enough.

/// The lower bound of the Wilson score interval for `failures` out of `attempts` at two-sided
/// `confidence` (0 < confidence < 1). None when there is nothing to judge or the confidence is
/// out of range.
pub fn wilson_lower_bound(failures: u64, attempts: u64, confidence: f64) -> Option<f64> {
    if attempts == 0 || failures > attempts || !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let z = standard_normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    let n = attempts as f64;
    let rate = failures as f64 / n;
    let z2 = z * z;
    let centre = rate + z2 / (2.0 * n);
    let spread = z * (rate * (1.0 - rate) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((centre - spread) / (1.0 + z2 / n)).max(0.0))
}

/// A channel's limit for one target: how many devices must have tried it and failed before the
/// guard acts, and the failure rate (compared with the Wilson lower bound) that is too high.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub min_attempts: u64,
    pub min_failures: u64,
    pub max_failure_rate: f64,
}

impl Limit {
    /// Whether `failures` of `attempts` devices, whose failure rate is at least `lower_bound`,
    /// cross this limit.
    pub fn crossed_by(&self, attempts: u64, failures: u64, lower_bound: f64) -> bool {
        attempts >= self.min_attempts && failures >= self.min_failures && lower_bound > self.max_failure_rate
    }
}

/// What the guard judges on a channel: its deployed bundle, or its running rollout's bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Deploy,
    Rollout,
}

impl Target {
    pub fn parse(text: &str) -> Option<Target> {
        match text {
            "deploy" => Some(Target::Deploy),
            "rollout" => Some(Target::Rollout),
            _ => None,
        }
    }
}

/// What the guard does about a target that crossed its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Record the decision only.
    Alert,
    PauseRollout,
    /// End the rollout without promoting it: its devices return to the channel's bundle.
    AbandonRollout,
    /// Move the channel back to the bundle deployed before the failing one.
    RollBack,
}

impl Step {
    /// The step for the channel's `action` setting (`alert`, `pause` or `rollback`) on `target`;
    /// None for `off` or an unknown setting.
    pub fn for_action(target: Target, action: &str) -> Option<Step> {
        match (action, target) {
            ("alert", _) => Some(Step::Alert),
            ("pause", _) => Some(Step::PauseRollout),
            ("rollback", Target::Rollout) => Some(Step::AbandonRollout),
            ("rollback", Target::Deploy) => Some(Step::RollBack),
            _ => None,
        }
    }
}

/// The channel as it is when the guard acts, locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelNow {
    pub bundle_id: Option<i64>,
    pub rollout_id: Option<i64>,
    pub rollout_paused: bool,
}

/// Whether the channel still serves what was judged: a decision about a bundle or a rollout the
/// channel has moved away from since (or a paused rollout) is not taken.
pub fn still_serves(
    target: Target,
    judged_bundle: i64,
    judged_rollout: Option<i64>,
    now: &ChannelNow,
) -> bool {
    match target {
        Target::Deploy => now.bundle_id == Some(judged_bundle),
        Target::Rollout => {
            now.rollout_id.is_some() && now.rollout_id == judged_rollout && !now.rollout_paused
        }
    }
}

/// The standard normal quantile (inverse CDF) for 0 < p < 1, by Acklam's rational approximation
/// (relative error below 1.2e-9, far finer than any configured confidence needs).
fn standard_normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] =
        [7.784_695_709_041_462e-3, 3.224_671_290_700_398e-1, 2.445_134_137_142_996, 3.754_408_661_907_416];
    const LOW: f64 = 0.024_25;
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn quantiles_match_the_tables() {
        for (p, z) in
            [(0.975, 1.959_964), (0.995, 2.575_829), (0.95, 1.644_854), (0.5, 0.0), (0.01, -2.326_348)]
        {
            assert!((standard_normal_quantile(p) - z).abs() < 1e-5, "p={p}");
        }
    }

    #[test]
    fn limits_need_attempts_failures_and_a_high_bound() {
        let limit = Limit { min_attempts: 50, min_failures: 10, max_failure_rate: 0.2 };
        assert!(limit.crossed_by(50, 30, 0.45));
        assert!(!limit.crossed_by(49, 30, 0.45), "too few attempts");
        assert!(!limit.crossed_by(50, 9, 0.45), "too few failures");
        assert!(!limit.crossed_by(50, 30, 0.2), "the bound must exceed the limit");
    }

    #[test]
    fn steps_follow_the_channel_setting_and_the_target() {
        assert_eq!(Step::for_action(Target::Deploy, "rollback"), Some(Step::RollBack));
        assert_eq!(Step::for_action(Target::Rollout, "rollback"), Some(Step::AbandonRollout));
        assert_eq!(Step::for_action(Target::Rollout, "pause"), Some(Step::PauseRollout));
        assert_eq!(Step::for_action(Target::Deploy, "alert"), Some(Step::Alert));
        assert_eq!(Step::for_action(Target::Deploy, "off"), None);
    }

    #[test]
    fn decisions_about_what_the_channel_no_longer_serves_are_not_taken() {
        let now = ChannelNow { bundle_id: Some(7), rollout_id: Some(3), rollout_paused: false };
        assert!(still_serves(Target::Deploy, 7, None, &now));
        assert!(!still_serves(Target::Deploy, 8, None, &now));
        assert!(still_serves(Target::Rollout, 9, Some(3), &now));
        assert!(!still_serves(Target::Rollout, 9, Some(4), &now));
        assert!(!still_serves(Target::Rollout, 9, Some(3), &ChannelNow { rollout_paused: true, ..now }));
    }

    #[test]
    fn wilson_bound_matches_a_worked_example() {
        // 10 failures of 100 at 95%: the Wilson interval is [0.0552, 0.1744].
        let bound = wilson_lower_bound(10, 100, 0.95).unwrap();
        assert!((bound - 0.055_2).abs() < 1e-4, "{bound}");
    }

    #[test]
    fn the_bound_needs_evidence() {
        // 2 of 4 failed: a 50% rate, but the bound stays low.
        assert!(wilson_lower_bound(2, 4, 0.95).unwrap() < 0.16);
        // 500 of 1000 failed: the bound is close to the rate.
        assert!(wilson_lower_bound(500, 1000, 0.95).unwrap() > 0.46);
        assert_eq!(wilson_lower_bound(0, 50, 0.95), Some(0.0));
    }

    #[test]
    fn higher_confidence_means_a_lower_bound() {
        let at_90 = wilson_lower_bound(30, 100, 0.90).unwrap();
        let at_99 = wilson_lower_bound(30, 100, 0.99).unwrap();
        assert!(at_99 < at_90);
    }

    #[test]
    fn nonsense_is_refused() {
        assert_eq!(wilson_lower_bound(1, 0, 0.95), None);
        assert_eq!(wilson_lower_bound(5, 4, 0.95), None);
        assert_eq!(wilson_lower_bound(1, 4, 1.0), None);
        assert_eq!(wilson_lower_bound(1, 4, f64::NAN), None);
    }
}
