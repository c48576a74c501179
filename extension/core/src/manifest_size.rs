//! `POST <updateUrl>/manifest_size` (protocol.md §2.6): the download size of the manifest entries a
//! device is missing, for `getBundleDownloadSize()` and `getLatest({includeBundleSize: true})`.

use serde_json::{Value, json};

use crate::answer::Refusal;
use crate::fields::schema_error;
use crate::request::UpdateRequest;

/// Most entries one request may ask about.
pub const MAX_ENTRIES: usize = 10_000;
/// Largest request body: a full manifest of [`MAX_ENTRIES`] entries with URLs.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// One manifest entry the device asks about.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub file_name: String,
    pub file_hash: String,
    pub download_url: Option<String>,
}

/// A validated size request: the usual update-check fields, the bundle, and the entries.
#[derive(Debug, Clone, PartialEq)]
pub struct SizeRequest {
    pub check: UpdateRequest,
    pub version: String,
    pub entries: Vec<Entry>,
}

impl SizeRequest {
    pub fn from_json(value: &Value) -> Result<SizeRequest, Refusal> {
        let check = UpdateRequest::from_json(value)?;
        let version = match value.get("version") {
            Some(Value::String(version)) if !version.is_empty() => version.clone(),
            _ => return Err(schema_error("version", "must be the bundle's version name")),
        };
        // Current plugins send `manifest`; `files` is accepted as well.
        let list = match value.get("manifest").or_else(|| value.get("files")) {
            Some(Value::Array(list)) if list.len() <= MAX_ENTRIES => list,
            Some(Value::Array(_)) => return Err(schema_error("manifest", "must have at most 10000 entries")),
            _ => return Err(schema_error("manifest", "must be an array of {file_name, file_hash}")),
        };
        let entries = list
            .iter()
            .map(|item| {
                let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
                match (text("file_name"), text("file_hash")) {
                    (Some(file_name), Some(file_hash)) => {
                        Ok(Entry { file_name, file_hash, download_url: text("download_url") })
                    }
                    _ => Err(schema_error("manifest", "entries need a file_name and a file_hash")),
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(SizeRequest { check, version, entries })
    }
}

/// The answer, given the stored size of each entry (`None`: not a file of that bundle with that
/// hash, reported as `size_unknown`).
pub fn response_body(entries: &[Entry], sizes: &[Option<i64>]) -> Value {
    let mut total = 0i64;
    let mut known = 0u64;
    let files: Vec<Value> = entries
        .iter()
        .zip(sizes)
        .map(|(entry, size)| {
            let mut file = json!({
                "file_name": entry.file_name,
                "file_hash": entry.file_hash,
                "download_url": entry.download_url,
            });
            match size {
                Some(size) => {
                    total += size;
                    known += 1;
                    file["size"] = json!(size);
                }
                None => file["error"] = json!("size_unknown"),
            }
            file
        })
        .collect();
    json!({
        "totalSize": total,
        "knownFiles": known,
        "unknownFiles": entries.len() as u64 - known,
        "files": files,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;
    use crate::answer::Code;

    fn body(extra: Value) -> Value {
        let mut body = json!({
            "platform": "android", "device_id": "8e1c1a7e-3d6b-4e1e-9e8e-0c5b1d2a3f40",
            "app_id": "com.example.app", "version_build": "1.0.0", "version_name": "builtin",
            "plugin_version": "8.51.14", "version": "1.0.2"
        });
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    }

    #[test]
    fn parses_and_answers() {
        let manifest = json!([{"file_name": "a.js", "file_hash": "aa", "download_url": "https://x/a"},
                              {"file_name": "b.js", "file_hash": "bb"}]);
        let req = SizeRequest::from_json(&body(json!({"manifest": manifest}))).unwrap();
        assert_eq!(req.entries.len(), 2);
        let answer = response_body(&req.entries, &[Some(120), None]);
        assert_eq!(answer["totalSize"], 120);
        assert_eq!((answer["knownFiles"].clone(), answer["unknownFiles"].clone()), (json!(1), json!(1)));
        assert_eq!(answer["files"][0]["size"], 120);
        assert_eq!(answer["files"][1]["error"], "size_unknown");
        let with_files =
            SizeRequest::from_json(&body(json!({"files": [{"file_name": "c", "file_hash": "cc"}]})));
        assert_eq!(with_files.unwrap().entries[0].file_name, "c");
    }

    #[test]
    fn refusals() {
        let code = |b: Value| SizeRequest::from_json(&b).unwrap_err().code;
        assert_eq!(code(body(json!({}))), Code::InvalidJsonBody, "no manifest");
        assert_eq!(code(body(json!({"manifest": [{"file_name": 1}]}))), Code::InvalidJsonBody);
        assert_eq!(code(body(json!({"version": "", "manifest": []}))), Code::InvalidJsonBody);
        assert_eq!(code(json!({"app_id": "com.example.app"})), Code::MissingDeviceId);
    }
}
