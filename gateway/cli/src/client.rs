//! The management API over HTTP, and what can go wrong with it, as exit codes.

use std::path::Path;

use futures_util::StreamExt;
use liveupdate_api::requests::UploadArchiveRequest;
use liveupdate_api::{Input, Method, Operation, Route, op};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::progress;

/// Why a command failed; each kind has its own exit code so scripts can tell them apart.
#[derive(Debug)]
pub enum CliError {
    /// The server refused the request (4xx): exit 1.
    Refused { status: u16, code: String, message: String },
    /// The server could not be reached or failed (5xx): exit 3.
    Unavailable(String),
    /// Something on this machine: missing file, bad archive, no configuration: exit 4.
    Local(String),
    /// Bad usage, or an irreversible command that was not confirmed: exit 2.
    Usage(String),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Refused { .. } => 1,
            CliError::Unavailable(_) => 3,
            CliError::Local(_) => 4,
            CliError::Usage(_) => 2,
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Refused { status, code, message } => write!(f, "refused ({status} {code}): {message}"),
            CliError::Unavailable(why) => write!(f, "server unavailable: {why}"),
            CliError::Local(why) | CliError::Usage(why) => f.write_str(why),
        }
    }
}

pub struct Client {
    http: reqwest::Client,
    server: String,
    api_key: String,
}

impl Client {
    pub fn new(server: &str, api_key: &str) -> Result<Client, CliError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("liveupdate-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| CliError::Local(format!("cannot set up HTTP: {e}")))?;
        Ok(Client { http, server: server.trim_end_matches('/').to_owned(), api_key: api_key.to_owned() })
    }

    /// Calls operation `O`: its method and path from the operations' table, the request's path
    /// fields in the path, the others in the query string or the JSON body. The answer must be
    /// an `O::Answer`; it is returned as the server sent it (for `--json`).
    pub async fn send<O: Operation>(&self, request: &O::Request) -> Result<Value, CliError> {
        let route = O::ROUTE;
        let (path, fields) = resolve(&route, request)?;
        let mut http =
            self.http.request(http_method(route.method), self.url(&path)).header("x-api-key", &self.api_key);
        match route.input {
            Input::Json if fields.is_empty() => {}
            Input::Json => {
                http =
                    http.header("content-type", "application/json").body(Value::Object(fields).to_string());
            }
            Input::Query | Input::QueryAndArchive => http = http.query(&query_pairs(fields)),
        }
        typed::<O>(answer(http.send().await).await?)
    }

    /// Streams `archive` to `PUT /v1/apps/{app}/bundles/{version}/archive`, zstd-compressed when
    /// `zstd`, showing progress on stderr unless `quiet` (see `progress`).
    pub async fn upload(
        &self,
        request: &UploadArchiveRequest,
        archive: &Path,
        zstd: bool,
        quiet: bool,
    ) -> Result<Value, CliError> {
        let (path, fields) = resolve(&<op::UploadBundleArchive as Operation>::ROUTE, request)?;
        let file = tokio::fs::File::open(archive)
            .await
            .map_err(|e| CliError::Local(format!("cannot read {}: {e}", archive.display())))?;
        let total = file.metadata().await.map(|m| m.len()).unwrap_or(0);
        let bar = progress::upload_bar(total, quiet);
        let sent = bar.clone();
        let chunks = futures_util::stream::unfold(file, |mut file| async move {
            let mut buffer = vec![0u8; 1024 * 1024];
            match tokio::io::AsyncReadExt::read(&mut file, &mut buffer).await {
                Ok(0) => None,
                Ok(read) => {
                    buffer.truncate(read);
                    Some((Ok::<_, std::io::Error>(buffer), file))
                }
                Err(error) => Some((Err(error), file)),
            }
        })
        .map(move |chunk| {
            if let Ok(bytes) = &chunk {
                sent.inc(bytes.len() as u64);
            }
            chunk
        });
        let mut request = self
            .http
            .put(self.url(&path))
            .header("x-api-key", &self.api_key)
            .header("content-type", "application/zip")
            .header("content-length", total)
            .query(&query_pairs(fields))
            .body(reqwest::Body::wrap_stream(chunks));
        if zstd {
            request = request.header("content-encoding", "zstd");
        }
        let result = answer(request.send().await).await;
        bar.finish();
        typed::<op::UploadBundleArchive>(result?)
    }

    /// `path` is a route's path with its fields filled in (`/v1/...`).
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.server, path)
    }
}

fn http_method(method: Method) -> reqwest::Method {
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Head => reqwest::Method::HEAD,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    }
}

/// The route's path with the request's path fields in it, percent-encoded, and the request's
/// other fields.
fn resolve(route: &Route, request: &impl Serialize) -> Result<(String, Map<String, Value>), CliError> {
    let Ok(Value::Object(mut fields)) = serde_json::to_value(request) else {
        return Err(CliError::Local(format!("{}: the request is not a JSON object", route.id)));
    };
    let mut path = String::new();
    for part in route.path.split('/').skip(1) {
        path.push('/');
        match part.strip_prefix('{').and_then(|name| name.strip_suffix('}')) {
            Some(name) => match fields.remove(name) {
                Some(Value::String(text)) => path.push_str(&segment(&text)),
                Some(other @ Value::Number(_)) => path.push_str(&other.to_string()),
                _ => return Err(CliError::Local(format!("{}: no {name} for the path", route.id))),
            },
            None => path.push_str(part),
        }
    }
    Ok((path, fields))
}

/// Query-string pairs of request fields: text as it is, other values as JSON.
fn query_pairs(fields: Map<String, Value>) -> Vec<(String, String)> {
    fields
        .into_iter()
        .filter(|(_, value)| !value.is_null())
        .map(|(name, value)| match value {
            Value::String(text) => (name, text),
            other => (name, other.to_string()),
        })
        .collect()
}

/// The answer, once it is known to be what the API describes for `O`.
fn typed<O: Operation>(json: Value) -> Result<Value, CliError> {
    match serde_json::from_value::<O::Answer>(json.clone()) {
        Ok(_) => Ok(json),
        Err(e) => Err(CliError::Unavailable(format!(
            "the server's answer to {} is not the documented one: {e}",
            O::ROUTE.id
        ))),
    }
}

/// Reads an answer: the JSON body of a 2xx, or the `{error, message}` of a refusal.
async fn answer(sent: Result<reqwest::Response, reqwest::Error>) -> Result<Value, CliError> {
    let response = sent.map_err(|e| CliError::Unavailable(e.to_string()))?;
    let status = response.status().as_u16();
    let text = response.text().await.map_err(|e| CliError::Unavailable(e.to_string()))?;
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if (200..300).contains(&status) {
        return Ok(body);
    }
    let field = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or("").to_owned();
    if status >= 500 {
        return Err(CliError::Unavailable(
            format!("{status} {} {}", field("error"), field("message")).trim().to_owned(),
        ));
    }
    Err(CliError::Refused { status, code: field("error"), message: field("message") })
}

/// A path segment, percent-encoded (channel names may hold spaces, versions `+`).
fn segment(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
