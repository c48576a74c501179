//! The committed OpenAPI document (`gateway/src/openapi.json`, served at `/v1/openapi.json`) is
//! the one the operations generate.

#[test]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
fn committed_openapi_is_generated() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../gateway/src/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap();
    let generated = serde_json::to_string_pretty(&liveupdate_api::openapi::document()).unwrap() + "\n";
    assert!(
        committed == generated,
        "gateway/src/openapi.json is not the generated document; regenerate it with\n  \
         cargo run -p liveupdate-api --bin openapi > gateway/src/openapi.json"
    );
}
