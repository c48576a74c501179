//! `POST /stats`: any body gets an answer or a batch, never a panic. A batch is handed to the
//! database as text, so it must be UTF-8; and each valid event's stored row (`to_json`) must carry
//! the event whole: read back as an event, it validates to the same event.
#![no_main]

use libfuzzer_sys::fuzz_target;
use liveupdate_core::stats::{self, ParsedStats, StatsEvent};
use liveupdate_fuzz::holds_nul;
use serde_json::Value;

fuzz_target!(|body: &[u8]| {
    let ParsedStats::Batch(batch) = stats::parse_body(body) else { return };
    assert!(std::str::from_utf8(body).is_ok(), "a batch the gateway cannot pass on as text");
    if batch.single {
        assert!(matches!(batch.events.as_slice(), [Ok(_)]), "a single event answered as a batch");
    }
    for event in batch.events.iter().flatten() {
        let row = event.to_json();
        assert!(!holds_nul(&row), "a stored row holds a NUL: {row}");
        let text = row.to_string();
        assert_eq!(serde_json::from_str::<Value>(&text).ok().as_ref(), Some(&row), "row JSON round trip");
        let again = StatsEvent::from_json(&as_event(&batch.app_id, row));
        let mut expected = event.clone();
        if expected.version_name.is_empty() {
            expected.version_name = "unknown".to_owned();
        }
        assert_eq!(again, Ok(expected), "the stored row does not validate to the same event");
    }
});

/// A stored row as the event object it came from: the row names two fields differently, fills
/// in a missing action, and leaves out the batch's app id.
fn as_event(app_id: &str, row: Value) -> Value {
    let Value::Object(mut fields) = row else { unreachable!("to_json answers an object") };
    for (stored, sent) in [("device_time_ms", "timestamp"), ("default_channel", "defaultChannel")] {
        if let Some(value) = fields.remove(stored) {
            fields.insert(sent.to_owned(), value);
        }
    }
    // An event without an action is stored as "unknown", which is not an action a device sends.
    if fields.get("action").and_then(Value::as_str) == Some("unknown") {
        fields.remove("action");
    }
    fields.insert("app_id".to_owned(), app_id.into());
    Value::Object(fields)
}
