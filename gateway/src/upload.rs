//! `PUT /v1/apps/{app_id}/bundles/{version}/archive`: a bundle's zip, streamed to disk while it
//! arrives (optionally `Content-Encoding: zstd`), checked the way the plugin unpacks it, split
//! into content-addressed objects (with a brotli variant where it pays), then registered in one
//! database transaction. Nothing is visible before that commit; objects a failed upload stored
//! are deleted unless another bundle uses them. An object found already stored is reused only
//! when intact (`Storage::check`), and replaced otherwise. A full disk, in the scratch directory
//! or in storage, is answered 507 `insufficient_storage` after the upload removed what it wrote.
//!
//! With `session_key` (and the RSA-encrypted `checksum`) the body is instead the CLI's transport
//! archive of an encrypted bundle (protocol.md §8): ciphertexts the server stores as they are.
//!
//! Memory stays flat whatever the archive's size: every step streams between files.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::CONTENT_ENCODING;
use hyper::{Request, StatusCode};
use liveupdate_core::archive::{self, ArchiveError, Bounds, EntryHeader};
use liveupdate_core::zip_headers;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db::DbError;
use crate::state::State;
use crate::storage::{self, StorageError, Stored};

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

    /// The disk (scratch or storage) is full: the operator must act, the uploader may retry later.
    fn no_space(what: &str) -> UploadError {
        tracing::warn!(what, "upload failed: no space left");
        UploadError::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "insufficient_storage",
            "The server has no space left for this upload; nothing of it was kept",
        )
    }

    fn io(what: &str, error: std::io::Error) -> UploadError {
        if storage::is_no_space(&error) {
            UploadError::no_space(what)
        } else {
            UploadError::internal(what, error)
        }
    }

    fn storage(what: &str, error: StorageError) -> UploadError {
        if error.is_full() { UploadError::no_space(what) } else { UploadError::internal(what, error) }
    }
}

/// How an upload ended without a bundle: refused or failed here, or by the database, whose errors
/// the management API maps like any other call's.
#[derive(Debug)]
pub enum UploadFailure {
    Upload(UploadError),
    Database(DbError),
}

impl From<UploadError> for UploadFailure {
    fn from(error: UploadError) -> UploadFailure {
        UploadFailure::Upload(error)
    }
}

impl From<DbError> for UploadFailure {
    fn from(error: DbError) -> UploadFailure {
        UploadFailure::Database(error)
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

/// An object to store: its key, and the local file with its bytes, their size and SHA-256.
struct LocalObject {
    key: String,
    path: PathBuf,
    size: u64,
    sha256: String,
}

/// One file of the bundle: an object, listed in the manifest.
struct StoredFile {
    /// The manifest's `file_name`: the path in the bundle, with `.br` when the object is brotli
    /// (the plugin decodes it, protocol.md §4.2).
    file_name: String,
    /// The manifest's `file_hash`: SHA-256 of the original bytes, or its RSA-encrypted form.
    file_hash: String,
    object: LocalObject,
}

impl StoredFile {
    fn manifest_entry(&self) -> Value {
        json!({"file_name": self.file_name, "file_hash": self.file_hash, "file_size": self.object.size,
               "storage_key": self.object.key})
    }
}

/// What the archive became.
struct Unpacked {
    /// The zip devices download, under its content address.
    archive: LocalObject,
    /// The checksum to register when the server computed it (plain bundles); encrypted bundles
    /// bring theirs, RSA-encrypted, from the uploader.
    checksum: Option<String>,
    files: Vec<StoredFile>,
}

impl Unpacked {
    /// Every object of the bundle, the zip first.
    fn objects(&self) -> impl Iterator<Item = &LocalObject> {
        std::iter::once(&self.archive).chain(self.files.iter().map(|file| &file.object))
    }
}

/// Receives, checks, stores and registers one archive. `fields` holds app_id, version and the
/// bundle's optional fields, and `sha256`, the uploader's SHA-256 of what it sends (the zip, or
/// the transport archive), which the received bytes must match.
pub async fn receive(
    state: &State,
    request: Request<Incoming>,
    key_hash: &str,
    mut fields: serde_json::Map<String, Value>,
) -> Result<Value, UploadFailure> {
    // A transfer check, not a bundle field.
    let expected_sha256 = match fields.remove("sha256") {
        None => None,
        Some(Value::String(hex)) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(hex.to_ascii_lowercase())
        }
        Some(_) => {
            return Err(UploadError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "sha256 must be 64 hex digits",
            )
            .into());
        }
    };
    // Everything the database can judge is judged before a byte of the archive is read.
    let check = Value::Object(fields.clone());
    state.db.management_call(key_hash, "api_check_upload", &check).await?;

    let zstd = match request.headers().get(CONTENT_ENCODING).map(|v| v.to_str().unwrap_or("?").trim()) {
        None | Some("identity") => false,
        Some("zstd") => true,
        Some(other) => {
            return Err(UploadError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_encoding",
                format!("Content-Encoding {other:?} is not supported; send the zip as is or zstd-compressed"),
            )
            .into());
        }
    };
    let scratch = state.scratch.create().map_err(|e| UploadError::io("scratch directory", e))?;
    let body_path = scratch.path().join("body");
    receive_body(state, request, &body_path).await?;

    let bounds = Bounds { max_total_bytes: state.config.max_upload_bytes, ..Bounds::default() };
    let max_archive = state.config.max_upload_bytes;
    let work = scratch.path().to_owned();
    // An encrypted bundle brings its session key (and its RSA-encrypted checksum).
    let encrypted = fields.contains_key("session_key");
    let unpacked = tokio::task::spawn_blocking(move || {
        unpack(&work, &body_path, zstd, encrypted, expected_sha256.as_deref(), max_archive, bounds)
    })
    .await
    .map_err(|e| UploadError::internal("unpack task", e))??;

    let mut created = Vec::new();
    let result = store_and_register(state, key_hash, &fields, &unpacked, &mut created).await;
    if result.is_err() && !created.is_empty() {
        collect_orphans(state, created, &unpacked).await;
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
    let mut file = tokio::fs::File::create(path).await.map_err(|e| UploadError::io("scratch file", e))?;
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
                .map_err(|e| UploadError::io("scratch write", e))?;
        }
    }
    tokio::io::AsyncWriteExt::flush(&mut file).await.map_err(|e| UploadError::io("scratch flush", e))?;
    Ok(())
}

/// Decodes (zstd), hashes and unpacks the archive into `dir`: a plain zip, or with `encrypted`
/// the CLI's transport archive of ciphertexts. Blocking: run off the runtime.
fn unpack(
    dir: &Path,
    body: &Path,
    zstd: bool,
    encrypted: bool,
    expected_sha256: Option<&str>,
    max_archive: u64,
    bounds: Bounds,
) -> Result<Unpacked, UploadError> {
    let archive_path = dir.join("archive.zip");
    let (sha256, size) = decode_body(body, &archive_path, zstd, max_archive)?;
    if expected_sha256.is_some_and(|expected| expected != sha256) {
        return Err(UploadError::new(
            StatusCode::BAD_REQUEST,
            "checksum_mismatch",
            format!("the received archive's SHA-256 is {sha256}, not the one sent with it"),
        ));
    }
    if encrypted {
        unpack_encrypted(dir, &archive_path, bounds)
    } else {
        let archive = LocalObject { key: format!("zips/{sha256}.zip"), path: archive_path, size, sha256 };
        unpack_plain(dir, archive, bounds)
    }
}

fn io(what: &'static str) -> impl Fn(std::io::Error) -> UploadError {
    move |e| UploadError::io(what, e)
}

/// Moves (or zstd-decodes) the body to `archive_path` and answers its SHA-256 and size.
fn decode_body(
    body: &Path,
    archive_path: &Path,
    zstd: bool,
    max_archive: u64,
) -> Result<(String, u64), UploadError> {
    if !zstd {
        std::fs::rename(body, archive_path).map_err(io("archive rename"))?;
        let mut reader = BufReader::new(File::open(archive_path).map_err(io("open archive"))?);
        let mut hashing = HashingWriter::new(std::io::sink());
        std::io::copy(&mut reader, &mut hashing).map_err(io("hash archive"))?;
        return hashing.finish().map_err(io("hash archive"));
    }
    let mut decoder = zstd::stream::read::Decoder::new(File::open(body).map_err(io("open body"))?)
        .map_err(io("zstd decoder"))?
        .take(max_archive + 1);
    let mut out = HashingWriter::new(BufWriter::new(File::create(archive_path).map_err(io("archive file"))?));
    let copied = std::io::copy(&mut decoder, &mut out).map_err(|e| {
        if storage::is_no_space(&e) {
            return UploadError::no_space("zstd decoding");
        }
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
    out.finish().map_err(io("archive flush"))
}

/// A zip being read: its entries' headers as the central directory declares them, each checked
/// against its local header, and their contents on demand. Generic over the reader so that the
/// same checks run on an uploaded file and on bytes in memory (the fuzz targets in tests/fuzz).
pub struct ZipReader<R> {
    zip: zip::ZipArchive<R>,
    headers: Vec<EntryHeader>,
}

impl<R: Read + Seek> ZipReader<R> {
    /// Reads the central directory through `reader`, and the local headers through `second`, a
    /// second reader of the same bytes (the zip crate keeps the first). Anything unreadable, or
    /// read two ways, is `invalid_archive`; a local header that disagrees, `header_mismatch`.
    pub fn new(reader: R, mut second: R) -> Result<ZipReader<R>, UploadError> {
        let not_a_zip = |e: zip::result::ZipError| UploadError::from(ArchiveError::NotAZip(e.to_string()));
        let mut zip = zip::ZipArchive::new(reader).map_err(not_a_zip)?;
        let central = zip_headers::checked_entries(&mut second, zip.central_directory_start(), zip.offset())?;
        // The zip crate keeps one entry per name; with names unique, it must have read what we did.
        if central.len() != zip.len() {
            return Err(ArchiveError::NotAZip("the central directory's entries are miscounted".into()).into());
        }
        let mut headers = Vec::with_capacity(zip.len());
        for (index, checked) in central.iter().enumerate() {
            let entry = zip.by_index_raw(index).map_err(not_a_zip)?;
            if entry.name_raw() != checked.name || entry.header_start() != checked.header_offset {
                return Err(ArchiveError::NotAZip("the central directory reads two ways".into()).into());
            }
            headers.push(EntryHeader {
                name: entry.name().to_owned(),
                is_dir: entry.is_dir(),
                is_symlink: entry.is_symlink(),
                compressed_size: entry.compressed_size(),
                size: entry.size(),
            });
        }
        Ok(ZipReader { zip, headers })
    }

    /// Every entry, in archive order, as declared.
    pub fn headers(&self) -> &[EntryHeader] {
        &self.headers
    }

    /// Inflates entry `index` into `out`, answering (SHA-256, size). Trusts nothing the archive
    /// declares: inflates at most one byte more than the declared size, then compares; checks the
    /// CRC-32; and the compressed stream must end exactly where the entry's compressed data does,
    /// as a streaming unzipper (Android's) reads on after the stream's end, to a data descriptor
    /// and the next local header: anything hidden in between would be unpacked by it and never
    /// seen here.
    pub fn extract(&mut self, index: usize, out: impl Write) -> Result<(String, u64), UploadError> {
        let header = self.headers.get(index).ok_or_else(|| {
            UploadError::from(ArchiveError::NotAZip(format!("the archive has no entry {index}")))
        })?;
        let corrupt = || UploadError::from(ArchiveError::CorruptEntry(header.name.clone()));
        let unpacking = |e: std::io::Error| {
            if storage::is_no_space(&e) { UploadError::no_space("unpacking") } else { corrupt() }
        };
        let raw = self.zip.by_index_raw(index).map_err(|_| corrupt())?;
        let (method, compressed_size, crc32) = (raw.compression(), raw.compressed_size(), raw.crc32());
        if raw.encrypted() {
            return Err(corrupt());
        }
        let mut out = HashingWriter::new(out);
        let declared = header.size;
        let mut raw = BufReader::new(raw);
        let (copied, consumed, crc) = match method {
            zip::CompressionMethod::Stored => {
                let mut data = Crc32Reader::new(&mut raw);
                let copied =
                    std::io::copy(&mut (&mut data).take(declared + 1), &mut out).map_err(unpacking)?;
                (copied, copied, data.crc32())
            }
            zip::CompressionMethod::Deflated => {
                let mut data = Crc32Reader::new(flate2::bufread::DeflateDecoder::new(&mut raw));
                let copied =
                    std::io::copy(&mut (&mut data).take(declared + 1), &mut out).map_err(unpacking)?;
                (copied, data.inner.total_in(), data.crc32())
            }
            _ => return Err(corrupt()),
        };
        if copied != declared || consumed != compressed_size || crc != crc32 {
            return Err(corrupt());
        }
        out.finish().map_err(io("unpacked flush"))
    }
}

fn open_zip(path: &Path) -> Result<ZipReader<BufReader<File>>, UploadError> {
    let open =
        || -> Result<_, UploadError> { Ok(BufReader::new(File::open(path).map_err(io("open archive"))?)) };
    ZipReader::new(open()?, open()?)
}

/// A new file for an unpacked entry.
fn create(path: &Path) -> Result<BufWriter<File>, UploadError> {
    Ok(BufWriter::new(File::create(path).map_err(io("unpacked file"))?))
}

/// Computes the CRC-32 of what is read through it.
struct Crc32Reader<R: Read> {
    inner: R,
    hasher: crc32fast::Hasher,
}

impl<R: Read> Crc32Reader<R> {
    fn new(inner: R) -> Self {
        Crc32Reader { inner, hasher: crc32fast::Hasher::new() }
    }

    fn crc32(&self) -> u32 {
        self.hasher.clone().finalize()
    }
}

impl<R: Read> Read for Crc32Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.hasher.update(&buf[..read]);
        Ok(read)
    }
}

/// A plain zip: checked as the plugin unpacks it; each file stored by its SHA-256, brotli where
/// it pays.
fn unpack_plain(dir: &Path, archive: LocalObject, bounds: Bounds) -> Result<Unpacked, UploadError> {
    let mut zip = open_zip(&archive.path)?;
    let plan = archive::plan(zip.headers(), bounds)?;
    let mut files = Vec::with_capacity(plan.len());
    for (number, (index, path)) in plan.into_iter().enumerate() {
        let local = dir.join(format!("f{number}"));
        let (file_hash, size) = zip.extract(index, create(&local)?)?;
        let brotli_path = dir.join(format!("f{number}.br"));
        files.push(match brotli_variant(&local, size, &brotli_path).map_err(io("brotli"))? {
            Some((brotli_sha256, brotli_size)) => StoredFile {
                file_name: format!("{path}.br"),
                object: LocalObject {
                    key: format!("files/{file_hash}.br"),
                    path: brotli_path,
                    size: brotli_size,
                    sha256: brotli_sha256,
                },
                file_hash,
            },
            None => StoredFile {
                file_name: path,
                object: LocalObject {
                    key: format!("files/{file_hash}"),
                    path: local,
                    size,
                    sha256: file_hash.clone(),
                },
                file_hash,
            },
        });
    }
    Ok(Unpacked { checksum: Some(archive.sha256.clone()), archive, files })
}

/// The CLI's transport archive of an encrypted bundle (protocol.md §8): `bundle.zip` (the
/// AES-encrypted zip), `manifest.json` (`[{file_name, file_hash}]`, hashes RSA-encrypted) and
/// `files/<file_name>` (each file, brotli'd where it paid, then encrypted). Every object is stored
/// by the SHA-256 of its ciphertext; nothing else may be in the archive.
fn unpack_encrypted(dir: &Path, transport: &Path, bounds: Bounds) -> Result<Unpacked, UploadError> {
    let invalid = |why: String| UploadError::from(ArchiveError::NotAZip(why));
    let mut zip = open_zip(transport)?;
    let plan = archive::plan_transport(zip.headers(), bounds)?;
    let position = |name: &str| plan.iter().find(|(_, path)| path == name).map(|(index, _)| *index);
    let manifest_index = position("manifest.json").ok_or_else(|| invalid("no manifest.json".into()))?;
    let zip_index = position("bundle.zip").ok_or_else(|| invalid("no bundle.zip".into()))?;
    if zip.headers()[manifest_index].size > 16 * 1024 * 1024 {
        return Err(invalid("manifest.json is over 16 MiB".into()));
    }
    let manifest_path = dir.join("manifest.json");
    zip.extract(manifest_index, create(&manifest_path)?)?;
    let manifest: Vec<Value> =
        serde_json::from_slice(&std::fs::read(&manifest_path).map_err(io("manifest"))?)
            .map_err(|e| invalid(format!("manifest.json is not a JSON array: {e}")))?;
    let archive_path = dir.join("bundle.zip");
    let (zip_sha256, zip_size) = zip.extract(zip_index, create(&archive_path)?)?;
    let archive = LocalObject {
        key: format!("zips/{zip_sha256}.zip"),
        path: archive_path,
        size: zip_size,
        sha256: zip_sha256,
    };
    if plan.len() != manifest.len() + 2 {
        return Err(invalid("the archive holds files the manifest does not list".into()));
    }
    let mut files = Vec::with_capacity(manifest.len());
    for (number, entry) in manifest.iter().enumerate() {
        let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_owned);
        let (Some(file_name), Some(file_hash)) = (text("file_name"), text("file_hash")) else {
            return Err(invalid(format!("manifest entry {number} needs file_name and file_hash")));
        };
        let index = position(&format!("files/{file_name}"))
            .ok_or_else(|| invalid(format!("manifest entry {file_name:?} has no files/{file_name}")))?;
        let local = dir.join(format!("e{number}"));
        let (object_sha256, size) = zip.extract(index, create(&local)?)?;
        files.push(StoredFile {
            file_name,
            file_hash,
            object: LocalObject {
                key: format!("files/{object_sha256}"),
                path: local,
                size,
                sha256: object_sha256,
            },
        });
    }
    Ok(Unpacked { archive, checksum: None, files })
}

/// Compresses `source` to `target` with brotli; keeps it only when it saves enough. Answers the
/// variant's SHA-256 and size.
fn brotli_variant(source: &Path, size: u64, target: &Path) -> std::io::Result<Option<(String, u64)>> {
    if size < archive::BROTLI_MIN_SIZE {
        return Ok(None);
    }
    let mut input = BufReader::new(File::open(source)?);
    // Quality 5, 1 MiB window: a fraction of the best ratio's CPU, and bounded memory.
    let mut output = brotli::CompressorWriter::new(
        HashingWriter::new(BufWriter::new(File::create(target)?)),
        64 * 1024,
        5,
        20,
    );
    std::io::copy(&mut input, &mut output)?;
    output.flush()?;
    let (sha256, compressed) = output.into_inner().finish()?;
    if archive::brotli_pays(size, compressed) {
        Ok(Some((sha256, compressed)))
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
) -> Result<Value, UploadFailure> {
    let mut seen = std::collections::HashSet::new();
    for object in unpacked.objects() {
        if !seen.insert(object.key.as_str()) {
            continue; // the same file twice in one bundle
        }
        let stored = state
            .storage
            .check(&object.key, object.size, &object.sha256)
            .await
            .map_err(|e| UploadError::storage("storage check", e))?;
        if let Stored::Damaged { size } = stored {
            tracing::warn!(key = object.key, size, expected = object.size, "replacing a damaged object");
        }
        if stored != Stored::Intact {
            // Recorded before writing: if the upload fails, its collection also deletes a damaged
            // object that no bundle uses.
            created.push(object.key.clone());
            state
                .storage
                .put_file(&object.key, &object.path)
                .await
                .map_err(|e| UploadError::storage("storage write", e))?;
        }
    }
    let written: Vec<&str> = created.iter().map(String::as_str).collect();
    state.storage.make_durable(&written).await.map_err(|e| UploadError::storage("storage sync", e))?;
    let mut input = fields.clone();
    input.insert("storage_key".into(), Value::String(unpacked.archive.key.clone()));
    input.insert("archive_bytes".into(), unpacked.archive.size.into());
    if let Some(checksum) = &unpacked.checksum {
        input.insert("checksum".into(), Value::String(checksum.clone()));
    }
    input.insert("manifest".into(), unpacked.files.iter().map(StoredFile::manifest_entry).collect());
    let registered = state
        .db
        .management_call(key_hash, "api_register_upload", &Value::Object(input))
        .await
        .map_err(UploadFailure::from)?;
    // An object this upload found already stored may have been deleted since, by cleanup or by a
    // failed upload's collection; now that the bundle refers to it, nothing deletes it any more.
    for object in unpacked.objects() {
        let key = object.key.as_str();
        let stored = state.storage.stat(key).await.map_err(|e| UploadError::storage("storage stat", e))?;
        if stored.is_none() {
            tracing::info!(key, "restoring an object deleted while the upload was registered");
            state
                .storage
                .put_file(key, &object.path)
                .await
                .map_err(|e| UploadError::storage("storage write", e))?;
        }
    }
    Ok(registered)
}

/// Deletes the objects a failed upload created that no bundle uses. Another upload may have found
/// one of them stored and be registering it: after deleting, look again and put back any object a
/// bundle now uses. That upload checks its objects after registering, so whichever looks last
/// sees the other's work, and a registered bundle never loses an object.
async fn collect_orphans(state: &State, created: Vec<String>, unpacked: &Unpacked) {
    let orphans = match state.db.unreferenced_objects(&created).await {
        Ok(orphans) => orphans,
        Err(error) => return tracing::warn!(%error, "could not check objects of a failed upload"),
    };
    for key in &orphans {
        if let Err(error) = state.storage.delete(key).await {
            tracing::warn!(%error, key, "could not delete an orphaned object");
        }
    }
    let still_unused = match state.db.unreferenced_objects(&orphans).await {
        Ok(unused) => unused,
        Err(error) => return tracing::warn!(%error, "could not check objects of a failed upload again"),
    };
    for object in unpacked.objects().filter(|object| orphans.contains(&object.key)) {
        let key = object.key.as_str();
        if !still_unused.iter().any(|unused| unused == key) {
            tracing::info!(key, "restoring an object another upload registered meanwhile");
            if let Err(error) = state.storage.put_file(key, &object.path).await {
                tracing::warn!(%error, key, "could not restore an object another upload registered");
            }
        }
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

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use std::io::Cursor;

    use super::*;

    /// A zip of one deflated entry written by hand, with `slack` after the deflate stream, inside
    /// what the headers declare as the entry's compressed data.
    fn deflated_zip(name: &str, content: &[u8], slack: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(content).unwrap();
        let mut data = encoder.finish().unwrap();
        data.extend_from_slice(slack);
        let crc = crc32fast::hash(content);
        let sizes = [data.len() as u32, content.len() as u32];
        let mut zip = Vec::new();
        zip.extend_from_slice(&[0x50, 0x4b, 3, 4, 20, 0, 0, 0, 8, 0, 0, 0, 0, 0]);
        zip.extend_from_slice(&crc.to_le_bytes());
        sizes.iter().for_each(|size| zip.extend_from_slice(&size.to_le_bytes()));
        zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
        zip.extend_from_slice(&[0, 0]);
        zip.extend_from_slice(name.as_bytes());
        zip.extend_from_slice(&data);
        let directory_start = zip.len() as u32;
        zip.extend_from_slice(&[0x50, 0x4b, 1, 2, 20, 3, 20, 0, 0, 0, 8, 0, 0, 0, 0, 0]);
        zip.extend_from_slice(&crc.to_le_bytes());
        sizes.iter().for_each(|size| zip.extend_from_slice(&size.to_le_bytes()));
        zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
        zip.extend_from_slice(&[0; 16]); // extra, comment, disk, attributes, local header at 0
        zip.extend_from_slice(name.as_bytes());
        let directory_length = zip.len() as u32 - directory_start;
        zip.extend_from_slice(&[0x50, 0x4b, 5, 6, 0, 0, 0, 0, 1, 0, 1, 0]);
        zip.extend_from_slice(&directory_length.to_le_bytes());
        zip.extend_from_slice(&directory_start.to_le_bytes());
        zip.extend_from_slice(&[0, 0]);
        zip
    }

    fn extract_first(zip: &[u8]) -> Result<(String, u64), UploadError> {
        ZipReader::new(Cursor::new(zip), Cursor::new(zip))?.extract(0, std::io::sink())
    }

    #[test]
    fn an_entry_inflates_from_exactly_its_compressed_data() {
        let content = b"<html>the page</html>".repeat(50);
        let (_, size) = extract_first(&deflated_zip("index.html", &content, b"")).unwrap();
        assert_eq!(size, content.len() as u64);
        // Hidden after the end of the stream: what a streaming unzipper would read next.
        let error = extract_first(&deflated_zip("index.html", &content, b"PK\x03\x04hidden")).unwrap_err();
        assert_eq!((error.status, error.code), (StatusCode::BAD_REQUEST, "invalid_archive"));
    }

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            writer.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn zip_reader_lists_and_inflates_entries_from_memory() {
        let bytes = zip_of(&[("index.html", b"<html>"), ("js/app.js", &[b'x'; 4000])]);
        let mut zip = ZipReader::new(Cursor::new(&bytes), Cursor::new(&bytes)).unwrap();
        let names: Vec<_> = zip.headers().iter().map(|h| (h.name.as_str(), h.size)).collect();
        assert_eq!(names, [("index.html", 6), ("js/app.js", 4000)]);
        let mut inflated = Vec::new();
        let (sha256, size) = zip.extract(1, &mut inflated).unwrap();
        assert_eq!((size, inflated.len()), (4000, 4000));
        let expected: String =
            Sha256::digest([b'x'; 4000]).iter().map(|byte| format!("{byte:02x}")).collect();
        assert_eq!(sha256, expected);
        assert_eq!(zip.extract(2, std::io::sink()).unwrap_err().code, "invalid_archive");
    }

    #[test]
    fn unreadable_archives_are_refused() {
        let bytes = b"not a zip".to_vec();
        let error = ZipReader::new(Cursor::new(&bytes), Cursor::new(&bytes)).err().unwrap();
        assert_eq!((error.status, error.code), (StatusCode::BAD_REQUEST, "invalid_archive"));
    }
}
