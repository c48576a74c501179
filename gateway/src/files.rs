//! `GET /files/<key>`: stored bundle objects for devices and CDNs. Objects are content-addressed
//! and never change, so every answer may be cached forever, and the key itself is the ETag.
//! Supports single byte ranges (206/416) for resumed downloads; `no-transform` keeps proxies from
//! re-encoding bytes the device checks by hash.

use futures_util::TryStreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG, HeaderMap, HeaderValue,
    IF_NONE_MATCH, RANGE,
};
use hyper::{Method, Response, StatusCode};

use crate::response::{self, ApiError, Body};
use crate::state::State;

const IMMUTABLE: &str = "public, max-age=31536000, immutable, no-transform";

/// True for the keys uploads create: `files/<sha256>`, `files/<sha256>.br`, `zips/<sha256>.zip`.
pub fn is_object_key(key: &str) -> bool {
    let hex64 =
        |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if let Some(name) = key.strip_prefix("files/") {
        return hex64(name.strip_suffix(".br").unwrap_or(name));
    }
    key.strip_prefix("zips/").and_then(|name| name.strip_suffix(".zip")).is_some_and(hex64)
}

/// A range that starts past the end of the object, or asks for its last zero bytes: answered 416.
#[derive(Debug, PartialEq, Eq)]
pub struct Unsatisfiable;

/// The byte range a `Range` header asks for, within an object of `size` bytes: `Ok(None)` for
/// the whole object (no header, or one this server does not honour, as RFC 9110 allows).
pub fn requested_range(
    header: Option<&str>,
    size: u64,
) -> Result<Option<std::ops::Range<u64>>, Unsatisfiable> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None); // several ranges: answer the whole object
    }
    let Some((first, last)) = spec.split_once('-') else { return Ok(None) };
    let (first, last) = (first.trim(), last.trim());
    let range = match (first.parse::<u64>(), last.parse::<u64>()) {
        (Ok(start), Ok(end)) if start <= end => start..end.saturating_add(1).min(size),
        (Ok(start), Err(_)) if last.is_empty() => start..size,
        // RFC 9110 §14.1.1: a suffix range of length zero selects nothing, so it is unsatisfiable.
        (Err(_), Ok(0)) if first.is_empty() => return Err(Unsatisfiable),
        (Err(_), Ok(suffix)) if first.is_empty() => size.saturating_sub(suffix)..size,
        _ => return Ok(None),
    };
    if range.start >= size { Err(Unsatisfiable) } else { Ok(Some(range)) }
}

/// Whether an `If-None-Match` value matches the entity tag `etag` (with its quotes): `*`, or a
/// list entry equal to it under the weak comparison RFC 9110 §13.1.2 prescribes for this header,
/// so `W/"x"` matches `"x"`.
pub fn none_match_hits(if_none_match: &str, etag: &str) -> bool {
    let mut rest = if_none_match;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return false;
        }
        if let Some(after) = rest.strip_prefix('*') {
            let after = after.trim_start_matches([' ', '\t']);
            return after.is_empty() || after.starts_with(','); // anything else is malformed
        }
        let tag = rest.strip_prefix("W/").unwrap_or(rest);
        // An entity tag is a quoted string without inner quotes (it may hold commas).
        let Some(end) = tag.strip_prefix('"').and_then(|inner| inner.find('"')) else { return false };
        if tag[..end + 2] == *etag {
            return true;
        }
        rest = &tag[end + 2..];
    }
}

pub async fn serve(
    state: &State,
    method: &Method,
    key: &str,
    headers: &HeaderMap,
) -> Result<Response<Body>, ApiError> {
    if !is_object_key(key) {
        return Err(ApiError::not_found());
    }
    let Some(info) = state.storage.stat(key).await.map_err(|error| storage_error(&error))? else {
        return Err(ApiError::not_found());
    };
    let etag = format!("\"{}\"", key.rsplit('/').next().unwrap_or(key));
    let mut response = Response::new(response::full(bytes::Bytes::new()));
    let answer_headers = response.headers_mut();
    answer_headers.insert(CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    answer_headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        answer_headers.insert(ETAG, value);
    }
    let content_type = if key.ends_with(".zip") { "application/zip" } else { "application/octet-stream" };
    answer_headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .any(|v| v.to_str().is_ok_and(|tags| none_match_hits(tags, &etag)))
    {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return Ok(response);
    }
    let range = match requested_range(headers.get(RANGE).and_then(|v| v.to_str().ok()), info.size) {
        Ok(range) => range,
        Err(Unsatisfiable) => {
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            if let Ok(value) = HeaderValue::from_str(&format!("bytes */{}", info.size)) {
                response.headers_mut().insert(CONTENT_RANGE, value);
            }
            return Ok(response);
        }
    };
    let body_range = range.clone().unwrap_or(0..info.size);
    if let Some(partial) = &range {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        let value = format!("bytes {}-{}/{}", partial.start, partial.end - 1, info.size);
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(CONTENT_RANGE, value);
        }
    }
    response.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(body_range.end - body_range.start));
    if *method == Method::HEAD || body_range.is_empty() {
        return Ok(response);
    }
    let stream = state.storage.read_range(key, body_range).await.map_err(|error| storage_error(&error))?;
    // Counted as it is sent: a download cut short counts what went out.
    let (served, key) = (state.served.clone(), key.to_owned());
    let frames = stream
        .inspect_ok(move |chunk| served.add(&key, chunk.len() as u64))
        .map_ok(Frame::data)
        .map_err(std::io::Error::other);
    *response.body_mut() = StreamBody::new(frames).boxed_unsync();
    Ok(response)
}

fn storage_error(error: &crate::storage::StorageError) -> ApiError {
    tracing::warn!(%error, "storage read failed");
    ApiError {
        retry_after_seconds: Some(5),
        ..ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_unavailable",
            "Storage is unavailable, retry later",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_keys() {
        let hash = "a".repeat(64);
        assert!(is_object_key(&format!("files/{hash}")));
        assert!(is_object_key(&format!("files/{hash}.br")));
        assert!(is_object_key(&format!("zips/{hash}.zip")));
        for bad in [
            format!("files/{}", "A".repeat(64)),
            format!("zips/{hash}"),
            "files/../x".into(),
            format!("other/{hash}"),
        ] {
            assert!(!is_object_key(&bad), "{bad}");
        }
    }

    #[test]
    fn ranges() {
        assert_eq!(requested_range(None, 100), Ok(None));
        assert_eq!(requested_range(Some("bytes=0-9"), 100), Ok(Some(0..10)));
        assert_eq!(requested_range(Some("bytes=90-"), 100), Ok(Some(90..100)));
        assert_eq!(requested_range(Some("bytes=-10"), 100), Ok(Some(90..100)));
        assert_eq!(requested_range(Some("bytes=50-500"), 100), Ok(Some(50..100)), "clamped to the end");
        assert_eq!(requested_range(Some("bytes=100-"), 100), Err(Unsatisfiable));
        assert_eq!(requested_range(Some("bytes=0-1,5-6"), 100), Ok(None));
        assert_eq!(requested_range(Some("bytes=9-1"), 100), Ok(None), "invalid: ignored");
        assert_eq!(requested_range(Some("items=0-1"), 100), Ok(None));
    }

    /// The defect: `bytes=-0` was ignored and the whole object sent with 200.
    #[test]
    fn an_empty_suffix_range_is_unsatisfiable() {
        assert_eq!(requested_range(Some("bytes=-0"), 100), Err(Unsatisfiable));
        assert_eq!(requested_range(Some("bytes=-0"), 0), Err(Unsatisfiable));
        assert_eq!(requested_range(Some("bytes=-1"), 100), Ok(Some(99..100)));
        assert_eq!(requested_range(Some("bytes=-500"), 100), Ok(Some(0..100)), "longer than the object");
    }

    /// The defect: a weak tag (`W/"x"`) did not match, so revalidating clients got 200.
    #[test]
    fn if_none_match_uses_weak_comparison() {
        let etag = "\"abc\"";
        for hit in ["\"abc\"", "W/\"abc\"", " W/\"abc\" ", "\"x\", W/\"abc\"", "\"x,y\",\"abc\"", "*", " * "]
        {
            assert!(none_match_hits(hit, etag), "{hit}");
        }
        for miss in ["\"abcd\"", "W/\"ab\"", "abc", "w/\"abc\"", "\"x\", \"y\"", "", "*x", "\"abc"] {
            assert!(!none_match_hits(miss, etag), "{miss}");
        }
    }
}
