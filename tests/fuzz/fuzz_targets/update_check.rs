//! `POST /updates` and `POST /updates/manifest_size`: any body is refused with a protocol code or
//! parsed into a request whose JSON form (what the gateway hands to the extension, which parses it
//! again) is the same request and holds nothing PostgreSQL cannot store. Never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use liveupdate_core::manifest_size::SizeRequest;
use liveupdate_core::request::UpdateRequest;
use liveupdate_fuzz::holds_nul;
use serde_json::Value;

fuzz_target!(|body: &[u8]| {
    if let Ok(request) = UpdateRequest::from_body(body) {
        let json = request.to_json();
        assert!(!holds_nul(&json), "an accepted request holds a NUL: {json}");
        let again = UpdateRequest::from_json(&json);
        assert_eq!(again.as_ref(), Ok(&request), "to_json does not parse back to the same request");
    }
    // manifest_size reads the same body, plus the bundle and its manifest entries.
    if let Ok(value) = serde_json::from_slice::<Value>(body)
        && let Ok(size) = SizeRequest::from_json(&value)
    {
        let check = UpdateRequest::from_json(&value);
        assert_eq!(check.as_ref(), Ok(&size.check), "manifest_size and /updates disagree on the request");
    }
});
