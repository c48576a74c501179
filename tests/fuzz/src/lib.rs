//! Checks shared by the fuzz targets.

use serde_json::Value;

/// Whether any string or key in `value` holds U+0000, which PostgreSQL text and jsonb cannot
/// store: nothing a parser accepts may carry one.
pub fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(fields) => fields.iter().any(|(key, item)| key.contains('\0') || holds_nul(item)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}
