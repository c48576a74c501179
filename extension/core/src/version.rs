//! Version strings as devices and release engineers write them.
//!
//! Native versions (`version_build`) come from app stores and are often not semver (`"1"`, `"2.1"`,
//! `"builtin"`), so they are coerced the way the reference backend does. Bundle names and plugin
//! versions must already be semver. Ordering always follows semver precedence: build metadata is
//! ignored and a prerelease sorts before its release.

use std::cmp::Ordering;

pub use semver::Version;

/// Longest version string accepted anywhere; real ones are a few dozen characters.
pub const MAX_VERSION_LEN: usize = 128;

/// Why a version string was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionError {
    pub input: String,
}

impl std::fmt::Display for VersionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "'{}' is not a semver version (expected MAJOR.MINOR.PATCH)", self.input)
    }
}

/// Parses a strict semver string (bundle names, `min_update_version`, plugin versions).
pub fn parse_strict(input: &str) -> Result<Version, VersionError> {
    if input.len() > MAX_VERSION_LEN {
        return Err(VersionError { input: truncated(input) });
    }
    Version::parse(input).map_err(|_| VersionError { input: input.to_owned() })
}

/// Coerces a native `version_build` into semver: `"1"` → `1.0.0`, `"1.2"` → `1.2.0`,
/// `"builtin"`/`"unknown"` → `0.0.0`; prerelease and build metadata are kept.
pub fn coerce_native(input: &str) -> Result<Version, VersionError> {
    if input == "builtin" || input == "unknown" {
        return Ok(Version::new(0, 0, 0));
    }
    if let Ok(version) = parse_strict(input) {
        return Ok(version);
    }
    let refused = || VersionError { input: truncated(input) };
    if input.len() > MAX_VERSION_LEN {
        return Err(refused());
    }
    let core_end = input.find(['-', '+']).unwrap_or(input.len());
    let (core, suffix) = input.split_at(core_end);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 2 {
        // Three parts that failed strict parsing (or four and more) cannot be mended.
        return Err(refused());
    }
    let mut padded = parts.join(".");
    for _ in parts.len()..3 {
        padded.push_str(".0");
    }
    padded.push_str(suffix);
    // The coerced version travels on as text and is parsed again: it must be one parse_strict
    // accepts, so the padding may not take it past the length limit.
    if padded.len() > MAX_VERSION_LEN {
        return Err(refused());
    }
    Version::parse(&padded).map_err(|_| refused())
}

/// Compares by semver precedence (build metadata ignored).
pub fn precedence(a: &Version, b: &Version) -> Ordering {
    a.cmp_precedence(b)
}

fn truncated(input: &str) -> String {
    input.chars().take(MAX_VERSION_LEN).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn coerces_short_and_named_versions() {
        assert_eq!(coerce_native("1").unwrap(), Version::new(1, 0, 0));
        assert_eq!(coerce_native("1.2").unwrap(), Version::new(1, 2, 0));
        assert_eq!(coerce_native("builtin").unwrap(), Version::new(0, 0, 0));
        assert_eq!(coerce_native("unknown").unwrap(), Version::new(0, 0, 0));
        assert_eq!(coerce_native("1.2-beta.1").unwrap().to_string(), "1.2.0-beta.1");
        assert_eq!(coerce_native("3+build.7").unwrap().to_string(), "3.0.0+build.7");
        assert_eq!(coerce_native("1.2.3-rc.1+b").unwrap().to_string(), "1.2.3-rc.1+b");
    }

    #[test]
    fn refuses_what_cannot_be_mended() {
        for bad in ["1.2.3.4", "", "a.b", "1..2", "v1.2.3", "1.2.3-", "-1", "1.x"] {
            assert!(coerce_native(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(coerce_native(&"9".repeat(400)).is_err());
        assert!(coerce_native("99999999999999999999999.0.0").is_err());
    }

    /// Caught by the update_check and stats fuzz targets' round-trip check: a coerced version is sent on
    /// as text (to the extension, into stored rows) and read again, so it must stay within the
    /// length the parsers accept; padding "1-<126 characters>" made it 132 long.
    #[test]
    fn coerced_versions_parse_again() {
        for input in ["1", "1.2-beta.1", "3+build.7", &format!("1-{}", "a".repeat(122))] {
            let coerced = coerce_native(input).unwrap();
            assert_eq!(coerce_native(&coerced.to_string()), Ok(coerced.clone()), "{input}");
            assert_eq!(parse_strict(&coerced.to_string()), Ok(coerced), "{input}");
        }
        for input in [format!("1-{}", "a".repeat(126)), format!("1.2+{}", "b".repeat(124))] {
            assert!(coerce_native(&input).is_err(), "{input} coerces to over {MAX_VERSION_LEN} characters");
        }
    }

    #[test]
    fn precedence_ignores_build_metadata() {
        let a = parse_strict("1.0.0+a").unwrap();
        let b = parse_strict("1.0.0+b").unwrap();
        assert_eq!(precedence(&a, &b), Ordering::Equal);
        let pre = parse_strict("1.0.0-rc.1").unwrap();
        assert_eq!(precedence(&pre, &a), Ordering::Less);
    }
}
