//! `POST <updateUrl>/manifest_size` (protocol.md §2.6): the download size of the manifest entries a
//! device is missing, for `getBundleDownloadSize()` and `getLatest({includeBundleSize: true})`.

use serde_json::{Value, json};

use crate::answer::Refusal;
use crate::fields::{FieldSpec, TEXT, check_schema, optional, required, schema_error};
use crate::request::UpdateRequest;

/// Largest request body. The number of entries has no limit of its own: a device may ask about
/// every file of the largest bundle (20,000 files, each entry with its URL about 250 bytes), and
/// this bound keeps room for long paths.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// One manifest entry of the request.
pub const ENTRY_SCHEMA: &[FieldSpec] =
    &[required("file_name", TEXT), required("file_hash", TEXT), optional("download_url", TEXT)];

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
        let Some(Value::Array(list)) = value.get("manifest").or_else(|| value.get("files")) else {
            return Err(schema_error("manifest", "must be an array of {file_name, file_hash}"));
        };
        let entries = list
            .iter()
            .map(|item| {
                let Some(fields) = item.as_object() else {
                    return Err(schema_error("manifest", "entries need a file_name and a file_hash"));
                };
                check_schema(fields, ENTRY_SCHEMA)
                    .map_err(|_| schema_error("manifest", "entries need a file_name and a file_hash"))?;
                let text = |key: &str| fields.get(key).and_then(Value::as_str).map(str::to_owned);
                Ok(Entry {
                    file_name: text("file_name").unwrap_or_default(),
                    file_hash: text("file_hash").unwrap_or_default(),
                    download_url: text("download_url"),
                })
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
        let nul = json!({"manifest": [{"file_name": "a\u{0}.js", "file_hash": "aa"}]});
        assert_eq!(code(body(nul)), Code::InvalidJsonBody, "not storable");
    }

    #[test]
    fn every_file_of_the_largest_bundle_can_be_asked_about() {
        let manifest: Vec<Value> = (0..20_000)
            .map(|i| {
                json!({"file_name": format!("assets/chunk-{i:05}.js"), "file_hash": format!("{i:064x}"),
                       "download_url": format!("https://updates.example.com/files/{i:064x}")})
            })
            .collect();
        let body = body(json!({"manifest": manifest}));
        assert!(serde_json::to_vec(&body).unwrap().len() <= MAX_BODY_BYTES);
        assert_eq!(SizeRequest::from_json(&body).unwrap().entries.len(), 20_000);
    }
}
