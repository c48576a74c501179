//! `PUT /v1/apps/{app_id}/bundles/{version}/archive`: a bundle's zip, streamed to disk while it
//! arrives (optionally `Content-Encoding: zstd`), checked the way the plugin unpacks it, split
//! into content-addressed objects (with a brotli variant where it pays), then registered in one
//! database transaction. Nothing is visible before that commit; objects a failed upload stored
//! are deleted unless another bundle uses them.
//!
//! Memory stays flat whatever the archive's size: every step streams between files.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::CONTENT_ENCODING;
use hyper::{Request, StatusCode};
use liveupdate_core::archive::{self, ArchiveError, Bounds, EntryHeader};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db::DbError;
use crate::state::State;

/// Brotli variants are kept when they save more than this many bytes (as Capgo's CLI decides).
const BROTLI_MIN_SAVING: u64 = 10;
/// Files smaller than this are not worth a brotli attempt.
const BROTLI_MIN_SIZE: u64 = 512;

/// Why an upload was refused or failed: status, stable code, message.
#[derive(Debug)]
pub struct UploadError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl UploadError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> UploadError {
        UploadError { status, code, message: message.into() }
    }

    fn internal(what: &str, error: impl std::fmt::Display) -> UploadError {
        tracing::warn!(%error, what, "upload failed");
        UploadError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unknown_error",
            "The upload could not be processed",
        )
    }
}

impl From<ArchiveError> for UploadError {
    fn from(error: ArchiveError) -> UploadError {
        let status = if error.code() == "archive_too_large" {
            StatusCode::PAYLOAD_TOO_LARGE
        } else {
            StatusCode::BAD_REQUEST
        };
        UploadError::new(status, error.code(), error.message())
    }
}

/// A file of the bundle, unpacked and hashed, ready to store.
struct UnpackedFile {
    /// Path inside the bundle.
    path: String,
    sha256: String,
    size: u64,
    local: PathBuf,
    /// The brotli variant, when it pays.
    brotli: Option<(PathBuf, u64)>,
}

impl UnpackedFile {
    fn storage_key(&self) -> String {
        match self.brotli {
            Some(_) => format!("files/{}.br", self.sha256),
            None => format!("files/{}", self.sha256),
        }
    }

    fn stored_path(&self) -> &Path {
        self.brotli.as_ref().map_or(&self.local, |(path, _)| path)
    }

    /// The manifest entry: `.br` names a brotli object, which the plugin decodes (protocol.md §4.2).
    fn manifest_entry(&self) -> Value {
        let (name, size) = match &self.brotli {
            Some((_, size)) => (format!("{}.br", self.path), *size),
            None => (self.path.clone(), self.size),
        };
        json!({"file_name": name, "file_hash": self.sha256, "file_size": size, "storage_key": self.storage_key()})
    }
}

/// What the archive became.
struct Unpacked {
    checksum: String,
    archive: PathBuf,
    files: Vec<UnpackedFile>,
}

/// A scratch directory removed with everything in it when dropped, whatever happened.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

static NEXT_UPLOAD: AtomicU64 = AtomicU64::new(0);

/// Receives, checks, stores and registers one archive. `fields` holds app_id, version and the
/// optional channel, comment, link and min_update_version.
pub async fn receive(
    state: &State,
    request: Request<Incoming>,
    key_hash: &str,
    fields: serde_json::Map<String, Value>,
) -> Result<Value, UploadError> {
    // Everything the database can judge is judged before a byte of the archive is read.
    let check = Value::Object(fields.clone());
    state.db.management_call(key_hash, "api_check_upload", &check).await.map_err(refused)?;

    let zstd = match request.headers().get(CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("?").trim()) {
        None | Some("identity") => false,
        Some("zstd") => true,
        Some(other) => {
            return Err(UploadError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_encoding",
                format!("Content-Encoding {other:?} is not supported; send the zip as is or zstd-compressed"),
            ));
        }
    };
    let dir = state.config.upload_dir.join(format!(
        "upload-{}-{}",
        std::process::id(),
        NEXT_UPLOAD.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).map_err(|e| UploadError::internal("scratch directory", e))?;
    let scratch = Scratch(dir);
    let body_path = scratch.0.join("body");
    receive_body(state, request, &body_path).await?;

    let bounds = Bounds { max_total_bytes: state.config.max_upload_bytes, ..Bounds::default() };
    let max_archive = state.config.max_upload_bytes;
    let work = scratch.0.clone();
    let unpacked = tokio::task::spawn_blocking(move || unpack(&work, &body_path, zstd, max_archive, bounds))
        .await
        .map_err(|e| UploadError::internal("unpack task", e))??;

    let mut created = Vec::new();
    let result = store_and_register(state, key_hash, &fields, &unpacked, &mut created).await;
    if result.is_err() && !created.is_empty() {
        collect_orphans(state, created).await;
    }
    drop(scratch);
    result
}

/// Streams the request body to `path`, within the size limit and the upload timeout.
async fn receive_body(state: &State, request: Request<Incoming>, path: &Path) -> Result<(), UploadError> {
    let limit = state.config.max_upload_bytes;
    let too_large = || {
        UploadError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "archive_too_large",
            format!("the upload is over {limit} bytes"),
        )
    };
    let declared = request
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    let mut file =
        tokio::fs::File::create(path).await.map_err(|e| UploadError::internal("scratch file", e))?;
    let mut body = request.into_body();
    let mut received: u64 = 0;
    let deadline = tokio::time::Instant::now() + state.config.upload_timeout;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => {
                return Err(UploadError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "request_timeout",
                    "The upload took too long",
                ));
            }
            Ok(None) => break,
            Ok(Some(Err(_))) => {
                return Err(UploadError::new(
                    StatusCode::BAD_REQUEST,
                    "incomplete_upload",
                    "The upload was interrupted before the whole body arrived",
                ));
            }
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            received += data.len() as u64;
            if received > limit {
                return Err(too_large());
            }
            tokio::io::AsyncWriteExt::write_all(&mut file, &data)
                .await
                .map_err(|e| UploadError::internal("scratch write", e))?;
        }
    }
    tokio::io::AsyncWriteExt::flush(&mut file)
        .await
        .map_err(|e| UploadError::internal("scratch flush", e))?;
    Ok(())
}

/// Decodes (zstd), hashes and unpacks the archive into `dir`. Blocking: run off the runtime.
fn unpack(
    dir: &Path,
    body: &Path,
    zstd: bool,
    max_archive: u64,
    bounds: Bounds,
) -> Result<Unpacked, UploadError> {
    let io = |what: &'static str| move |e: std::io::Error| UploadError::internal(what, e);
    let archive_path = dir.join("archive.zip");
    let checksum = if zstd {
        let mut decoder = zstd::stream::read::Decoder::new(File::open(body).map_err(io("open body"))?)
            .map_err(io("zstd decoder"))?
            .take(max_archive + 1);
        let mut out =
            HashingWriter::new(BufWriter::new(File::create(&archive_path).map_err(io("archive file"))?));
        let copied = std::io::copy(&mut decoder, &mut out).map_err(|e| {
            UploadError::new(
                StatusCode::BAD_REQUEST,
                "invalid_encoding",
                format!("the zstd body does not decode: {e}"),
            )
        })?;
        if copied > max_archive {
            return Err(UploadError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "archive_too_large",
                format!("the archive is over {max_archive} bytes"),
            ));
        }
        out.finish().map_err(io("archive flush"))?.0
    } else {
        std::fs::rename(body, &archive_path).map_err(io("archive rename"))?;
        let mut reader = BufReader::new(File::open(&archive_path).map_err(io("open archive"))?);
        let mut hashing = HashingWriter::new(std::io::sink());
        std::io::copy(&mut reader, &mut hashing).map_err(io("hash archive"))?;
        hashing.finish().map_err(io("hash archive"))?.0
    };

    let file = File::open(&archive_path).map_err(io("open archive"))?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| UploadError::from(ArchiveError::NotAZip(e.to_string())))?;
    let mut headers = Vec::with_capacity(zip.len());
    for index in 0..zip.len() {
        let entry =
            zip.by_index_raw(index).map_err(|e| UploadError::from(ArchiveError::NotAZip(e.to_string())))?;
        headers.push(EntryHeader {
            name: entry.name().to_owned(),
            is_dir: entry.is_dir(),
            is_symlink: entry.is_symlink(),
            compressed_size: entry.compressed_size(),
            size: entry.size(),
        });
    }
    let plan = archive::plan(&headers, bounds)?;
    let mut files = Vec::with_capacity(plan.len());
    for (number, (index, path)) in plan.into_iter().enumerate() {
        let corrupt = || UploadError::from(ArchiveError::CorruptEntry(headers[index].name.clone()));
        let mut entry = zip.by_index(index).map_err(|_| corrupt())?;
        let local = dir.join(format!("f{number}"));
        let mut out = HashingWriter::new(BufWriter::new(File::create(&local).map_err(io("unpacked file"))?));
        // Never trust the declared size: inflate at most one byte more than it, then compare.
        let declared = headers[index].size;
        let copied = std::io::copy(&mut (&mut entry).take(declared + 1), &mut out).map_err(|_| corrupt())?;
        if copied != declared {
            return Err(corrupt());
        }
        let (sha256, size) = out.finish().map_err(io("unpacked flush"))?;
        let brotli =
            brotli_variant(&local, size, &dir.join(format!("f{number}.br"))).map_err(io("brotli"))?;
        files.push(UnpackedFile { path, sha256, size, local, brotli });
    }
    Ok(Unpacked { checksum, archive: archive_path, files })
}

/// Compresses `source` to `target` with brotli; keeps it only when it saves enough.
fn brotli_variant(source: &Path, size: u64, target: &Path) -> std::io::Result<Option<(PathBuf, u64)>> {
    if size < BROTLI_MIN_SIZE {
        return Ok(None);
    }
    {
        let mut input = BufReader::new(File::open(source)?);
        // Quality 5, 1 MiB window: a fraction of the best ratio's CPU, and bounded memory.
        let mut output =
            brotli::CompressorWriter::new(BufWriter::new(File::create(target)?), 64 * 1024, 5, 20);
        std::io::copy(&mut input, &mut output)?;
        output.flush()?;
    }
    let compressed = std::fs::metadata(target)?.len();
    if compressed + BROTLI_MIN_SAVING < size {
        Ok(Some((target.to_owned(), compressed)))
    } else {
        std::fs::remove_file(target)?;
        Ok(None)
    }
}

/// Stores every object not stored yet (recording what it created), then registers the bundle.
async fn store_and_register(
    state: &State,
    key_hash: &str,
    fields: &serde_json::Map<String, Value>,
    unpacked: &Unpacked,
    created: &mut Vec<String>,
) -> Result<Value, UploadError> {
    let zip_key = format!("zips/{}.zip", unpacked.checksum);
    let mut objects: Vec<(String, &Path)> = vec![(zip_key.clone(), unpacked.archive.as_path())];
    objects.extend(unpacked.files.iter().map(|file| (file.storage_key(), file.stored_path())));
    for (key, path) in &objects {
        let stored = state.storage.stat(key).await.map_err(|e| UploadError::internal("storage stat", e))?;
        if stored.is_none() && !created.contains(key) {
            state.storage.put_file(key, path).await.map_err(|e| UploadError::internal("storage write", e))?;
            created.push(key.clone());
        }
    }
    let mut input = fields.clone();
    input.insert("storage_key".into(), Value::String(zip_key));
    input.insert("checksum".into(), Value::String(unpacked.checksum.clone()));
    input.insert("manifest".into(), unpacked.files.iter().map(UnpackedFile::manifest_entry).collect());
    state.db.management_call(key_hash, "api_register_upload", &Value::Object(input)).await.map_err(refused)
}

/// Deletes the objects a failed upload created that no bundle uses (another upload may share them).
async fn collect_orphans(state: &State, created: Vec<String>) {
    match state.db.unreferenced_objects(&created).await {
        Ok(orphans) => {
            for key in orphans {
                if let Err(error) = state.storage.delete(&key).await {
                    tracing::warn!(%error, key, "could not delete an orphaned object");
                }
            }
        }
        Err(error) => tracing::warn!(%error, "could not check objects of a failed upload"),
    }
}

/// The extension's refusals keep their SQLSTATE mapping; anything else is a 5xx.
fn refused(error: DbError) -> UploadError {
    match error {
        DbError::Refused { code, message } => {
            let (status, name) = crate::management::refusal_status(&code);
            UploadError { status, code: name, message }
        }
        DbError::Unavailable(detail) => {
            tracing::warn!(detail, "database unavailable during an upload");
            UploadError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unavailable",
                "The database is unavailable, retry later",
            )
        }
        DbError::Failed(detail) => UploadError::internal("database", detail),
    }
}

/// Hashes (SHA-256) and counts what passes through on its way to `inner`.
struct HashingWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter { inner, hasher: Sha256::new(), written: 0 }
    }

    /// Flushes and answers (lowercase hex SHA-256, bytes written).
    fn finish(mut self) -> std::io::Result<(String, u64)> {
        self.inner.flush()?;
        let digest = self.hasher.finalize();
        Ok((digest.iter().map(|byte| format!("{byte:02x}")).collect(), self.written))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        self.written += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
