//! The web console at `/console`: static files embedded at build time (`build.rs`), talking to the
//! management API from the browser. Assets live under `/console/assets/<build version>/`, so they
//! are cached for a year and a new build never mixes with an old one; every other path under
//! `/console` is the single page (`index.html`, never cached), which routes deep links itself.
//! A strict Content-Security-Policy allows scripts, styles and requests from this origin only.

use std::io::Write as _;
use std::sync::OnceLock;

use hyper::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderMap,
    HeaderValue, VARY,
};
use hyper::{Method, Response};

use crate::response::{self, ApiError, Body};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));
}

/// The build version asset URLs carry.
pub const VERSION: &str = embedded::VERSION;

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; \
                   form-action 'none'; frame-ancestors 'none'";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// One embedded file, with its brotli form made on first use (it is served many times).
struct Asset {
    bytes: &'static [u8],
    brotli: OnceLock<Vec<u8>>,
}

fn assets() -> &'static Vec<(&'static str, Asset)> {
    static ASSETS: OnceLock<Vec<(&'static str, Asset)>> = OnceLock::new();
    ASSETS.get_or_init(|| {
        embedded::FILES
            .iter()
            .map(|(path, bytes)| (*path, Asset { bytes, brotli: OnceLock::new() }))
            .collect()
    })
}

fn asset(path: &str) -> Option<&'static Asset> {
    assets().iter().find(|(name, _)| *name == path).map(|(_, asset)| asset)
}

/// `index.html` with the build version in its asset URLs.
fn index_html() -> &'static Asset {
    static INDEX: OnceLock<Asset> = OnceLock::new();
    INDEX.get_or_init(|| {
        let template = asset("index.html").map(|a| a.bytes).unwrap_or_default();
        let page = String::from_utf8_lossy(template).replace("__VERSION__", VERSION);
        Asset { bytes: Vec::leak(page.into_bytes()), brotli: OnceLock::new() }
    })
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "text/plain; charset=utf-8",
    }
}

fn compressed(asset: &Asset) -> &[u8] {
    asset.brotli.get_or_init(|| {
        let mut out = Vec::new();
        {
            let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
            // Writing to a Vec cannot fail.
            let _ = writer.write_all(asset.bytes);
        }
        out
    })
}

fn accepts_brotli(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| coding.split(';').next().is_some_and(|name| name.trim() == "br"))
}

fn answer(
    asset: &Asset,
    path: &str,
    cache: &'static str,
    method: &Method,
    headers: &HeaderMap,
) -> Response<Body> {
    let brotli = accepts_brotli(headers) && asset.bytes.len() > 512;
    let bytes = if brotli { compressed(asset) } else { asset.bytes };
    let body = if method == Method::HEAD { Vec::new() } else { bytes.to_vec() };
    let mut response = Response::new(response::full(body));
    let set = response.headers_mut();
    set.insert(CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    set.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    set.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    set.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    set.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    set.insert(VARY, HeaderValue::from_static("accept-encoding"));
    if brotli {
        set.insert(CONTENT_ENCODING, HeaderValue::from_static("br"));
    }
    response
}

/// Serves `GET`/`HEAD` of a console path (the route table gives it no other method).
pub fn serve(method: &Method, path: &str, headers: &HeaderMap) -> Result<Response<Body>, ApiError> {
    if let Some(rest) = path.strip_prefix("/console/assets/") {
        let (version, file) = rest.split_once('/').unwrap_or((rest, ""));
        return match asset(file) {
            Some(found) if version == VERSION && file != "index.html" => {
                Ok(answer(found, file, IMMUTABLE, method, headers))
            }
            _ => Err(ApiError::not_found()),
        };
    }
    Ok(answer(index_html(), "index.html", "no-cache", method, headers))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    fn get(path: &str) -> Result<Response<Body>, ApiError> {
        serve(&Method::GET, path, &HeaderMap::new())
    }

    #[test]
    fn deep_links_get_the_page_and_assets_are_versioned() {
        for path in ["/console", "/console/", "/console/apps/com.example.app/devices"] {
            let page = get(path).unwrap();
            assert_eq!(page.headers()[CACHE_CONTROL], "no-cache");
            assert!(page.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap().contains("script-src 'self'"));
        }
        let index = String::from_utf8_lossy(index_html().bytes);
        assert!(index.contains(&format!("/console/assets/{VERSION}/")) && !index.contains("__VERSION__"));
        let script = get(&format!("/console/assets/{VERSION}/js/main.js")).unwrap();
        assert_eq!(script.headers()[CACHE_CONTROL], IMMUTABLE);
        assert_eq!(script.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
        assert_eq!(get("/console/assets/000000000000/js/main.js").unwrap_err().status, 404);
        assert_eq!(get(&format!("/console/assets/{VERSION}/nothing.js")).unwrap_err().status, 404);
    }

    #[test]
    fn brotli_only_when_accepted() {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip, deflate, br;q=0.9"));
        let path = format!("/console/assets/{VERSION}/vendor/uPlot.esm.js");
        let squeezed = serve(&Method::GET, &path, &headers).unwrap();
        assert_eq!(squeezed.headers()[CONTENT_ENCODING], "br");
        assert!(get(&path).unwrap().headers().get(CONTENT_ENCODING).is_none());
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip, brotli"));
        assert!(serve(&Method::GET, &path, &headers).unwrap().headers().get(CONTENT_ENCODING).is_none());
    }
}
