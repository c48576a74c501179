//! Prints the management API's OpenAPI document:
//! `cargo run -p liveupdate-api --bin openapi > gateway/src/openapi.json`.

#[allow(clippy::unwrap_used, reason = "a JSON value always serializes")]
fn main() {
    println!("{}", serde_json::to_string_pretty(&liveupdate_api::openapi::document()).unwrap());
}
