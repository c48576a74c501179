//! Bundle archives (`PUT /v1/apps/{app_id}/bundles/{version}/archive`): the gateway's zip reader
//! over any bytes, then the plugin's layout rules (`archive::plan`, and `plan_transport` for
//! encrypted uploads), then every planned entry inflated. Malformed archives are refused with a
//! 4xx and a stable code, never a panic or a 500; a planned entry inflates to its declared size.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use liveupdate_core::archive::{self, Bounds};
use liveupdate_core::integrity;
use liveupdate_gateway::upload::{UploadError, ZipReader};

/// Every code an archive can be refused with.
const ARCHIVE_CODES: &[&str] = &[
    "invalid_archive",
    "unsafe_path",
    "symlink_in_archive",
    "duplicate_path",
    "missing_index_html",
    "archive_too_large",
    "header_mismatch",
];

fuzz_target!(|bytes: &[u8]| {
    let mut zip = match ZipReader::new(Cursor::new(bytes), Cursor::new(bytes)) {
        Ok(zip) => zip,
        Err(error) => return assert_refused(&error),
    };
    let headers = zip.headers().to_vec();
    let planned =
        [archive::plan(&headers, Bounds::default()), archive::plan_transport(&headers, Bounds::default())];
    for plan in planned {
        let files = match plan {
            Ok(files) => files,
            Err(error) => return assert_refused(&UploadError::from(error)),
        };
        for (index, path) in files {
            // The manifest stores it; the database accepts bundle paths only.
            assert!(integrity::is_bundle_path(&path), "planned an unsafe target {path:?}");
            match zip.extract(index, std::io::sink()) {
                Ok((sha256, size)) => {
                    assert_eq!(size, headers[index].size, "an entry inflated past its declared size");
                    assert_eq!(sha256.len(), 64);
                }
                Err(error) => assert_refused(&error),
            }
        }
    }
});

fn assert_refused(error: &UploadError) {
    assert!(error.status.is_client_error(), "{} {}: {}", error.status, error.code, error.message);
    assert!(ARCHIVE_CODES.contains(&error.code), "unexpected code {}", error.code);
}
