//! The management API over HTTP, and what can go wrong with it, as exit codes.

use std::path::Path;

use futures_util::StreamExt;
use serde_json::Value;

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

    /// One JSON request to `/v1/<path>`; `query` pairs are percent-encoded.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Result<Value, CliError> {
        let mut request =
            self.http.request(method, self.url(path)).header("x-api-key", &self.api_key).query(query);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        answer(request.send().await).await
    }

    /// Streams `archive` to `PUT /v1/apps/{app}/bundles/{version}/archive`, zstd-compressed when
    /// `zstd`, showing progress on stderr unless `quiet` (see `progress`).
    pub async fn upload(
        &self,
        path: &str,
        query: &[(&str, String)],
        archive: &Path,
        zstd: bool,
        quiet: bool,
    ) -> Result<Value, CliError> {
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
            .put(self.url(path))
            .header("x-api-key", &self.api_key)
            .header("content-type", "application/zip")
            .header("content-length", total)
            .query(query)
            .body(reqwest::Body::wrap_stream(chunks));
        if zstd {
            request = request.header("content-encoding", "zstd");
        }
        let result = answer(request.send().await).await;
        bar.finish();
        result
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v1/{}", self.server, path)
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
pub fn segment(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
