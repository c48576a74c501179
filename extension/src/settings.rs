//! Server settings read by the extension's functions.

use std::ffi::CString;

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

/// Base URL devices use to reach the gateway; download URLs of stored objects are built on it.
static PUBLIC_URL: GucSetting<Option<CString>> =
    GucSetting::<Option<CString>>::new(Some(c"http://127.0.0.1:8080"));

pub fn register() {
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
