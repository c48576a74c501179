//! Server settings read by the extension's functions.

use std::ffi::CString;

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

/// Base URL devices use to reach the gateway; download URLs of stored objects are built on it.
static PUBLIC_URL: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"http://127.0.0.1:8080"));

/// Base URL of stored objects when not the gateway's own `/files` (a CDN); empty means unset.
static FILES_URL: GucSetting<Option<CString>> = GucSetting::<Option<CString>>::new(None);

pub fn register() {
    GucRegistry::define_string_guc(
        c"liveupdate.files_url",
        c"Base URL of stored bundle objects, when a CDN serves them.",
        c"Download URLs of stored bundles and manifest files become <files_url>/<key> (keys look like zips/<sha256>.zip and files/<sha256>). Unset: <public_url>/files. Objects never change, so a CDN may cache them forever.",
        &FILES_URL,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_string_guc(
        c"liveupdate.public_url",
        c"Base URL at which devices reach the liveupdate gateway.",
        c"Download URLs of stored bundles and manifest files are <public_url>/files/<key>. Set it per database: ALTER DATABASE db SET liveupdate.public_url = 'https://updates.example.com'.",
        &PUBLIC_URL,
        GucContext::Userset,
        GucFlags::default(),
    );
}

/// The configured public URL, without a trailing slash.
pub fn public_url() -> String {
    PUBLIC_URL
        .get()
        .and_then(|url| url.into_string().ok())
        .map(|url| url.trim_end_matches('/').to_owned())
        .unwrap_or_default()
}

/// Where stored objects are downloaded from: `liveupdate.files_url`, else `<public_url>/files`.
pub fn files_base_url() -> String {
    FILES_URL
        .get()
        .and_then(|url| url.into_string().ok())
        .map(|url| url.trim_end_matches('/').to_owned())
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| format!("{}/files", public_url()))
}
