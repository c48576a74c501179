//! The `_..._text` entry points: JSON text in and out for the gateway, which skips the jsonb
//! conversions (parse on input, text for serde, parse of the result, text for the wire) that a
//! `jsonb` signature costs on every call.
//!
//! They are SECURITY DEFINER (with a pinned search_path): devices are not authenticated and their
//! requests concern every tenant, so the gateway's login role is granted EXECUTE on these and
//! nothing else — no table rights, no superuser (see migrations/).

use liveupdate_core::answer::{Code, Refusal};
use serde_json::Value;

/// Parses `input`, answers it with `answer`, and returns the answer as text; input that is not
/// JSON gets the protocol's `invalid_json_parse_body`.
pub fn answer_text(input: &str, answer: impl FnOnce(&Value) -> Value) -> String {
    match serde_json::from_str::<Value>(input) {
        Ok(value) => answer(&value),
        Err(e) => Refusal::new(Code::InvalidJsonParseBody).with_more_info("reason", e.to_string()).to_json(),
    }
    .to_string()
}
