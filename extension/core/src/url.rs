//! Percent-decoding for query strings and path segments.

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`, as in query strings; in a
/// path `+` is itself, e.g. semver build metadata). `None` for a broken escape or invalid UTF-8.
pub fn percent_decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit))?;
                // Two hex digits: valid UTF-8, and no sign for from_str_radix to accept.
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries_and_paths() {
        assert_eq!(percent_decode("a+b%20c", true).as_deref(), Some("a b c"));
        assert_eq!(percent_decode("1.0.0+build%2F7", false).as_deref(), Some("1.0.0+build/7"));
        assert_eq!(percent_decode("%e2%82%ac", false).as_deref(), Some("€"));
        assert_eq!(percent_decode("%zz", false), None);
        assert_eq!(percent_decode("%4", false), None);
        assert_eq!(percent_decode("%ff", false), None);
        // from_str_radix takes a sign: "%+5" was decoded as byte 5.
        assert_eq!(percent_decode("%+5", false), None);
        assert_eq!(percent_decode("a=%-1", true), None);
    }
}
