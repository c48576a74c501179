//! Bundle objects in storage through OpenDAL: the local filesystem by default, any S3-class
//! service by configuration. The gateway is the only component that talks to storage.
//!
//! Objects are content-addressed (`files/<sha256>[.br]`, `zips/<sha256>.zip`): written once,
//! never changed, shared by every bundle that contains the same bytes. So an object must appear
//! at its key only complete: on the filesystem it is written under `.partial/` in the storage
//! root, synced, then renamed to its key; on S3 an object (multipart or not) becomes visible only
//! when its upload completes. A write that fails removes what it wrote.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::TryStreamExt;
use opendal::layers::{ConcurrentLimitLayer, LoggingInterceptor, LoggingLayer, RetryLayer, TimeoutLayer};
use opendal::raw::{AccessorInfo, Operation};
use opendal::{ErrorKind, Operator, services};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

/// Size of the pieces objects are written and read in.
pub const CHUNK_BYTES: usize = 4 * 1024 * 1024;

/// Where objects live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageConfig {
    /// `LIVEUPDATE_STORAGE=fs` (default): under `LIVEUPDATE_STORAGE_ROOT`.
    Filesystem { root: PathBuf },
    /// `LIVEUPDATE_STORAGE=s3`: `LIVEUPDATE_S3_ENDPOINT`, `_BUCKET`, `_REGION`, `_ACCESS_KEY_ID`,
    /// `_SECRET_ACCESS_KEY`, `_VIRTUAL_HOST_STYLE` (default path style, as MinIO and Garage want).
    S3 {
        endpoint: String,
        bucket: String,
        region: String,
        access_key_id: String,
        secret_access_key: String,
        virtual_host_style: bool,
    },
}

/// Facts about a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
}

/// Where the filesystem backend writes objects before renaming them to their keys: inside the
/// storage root, so the rename stays on one filesystem.
const PARTIAL_DIR: &str = ".partial";

/// A partial object nothing has written to for this long belongs to no write in progress, in any
/// gateway sharing the storage root: a live write touches its file at least every few seconds
/// (pieces of `CHUNK_BYTES`, each within the 30 s operation timeout), so an hour of silence means
/// its writer died. An age, not an owner check, because the gateways sharing a root may run on
/// other machines.
pub const PARTIAL_MAX_IDLE: Duration = Duration::from_secs(3600);

#[derive(Debug)]
pub struct StorageError {
    message: String,
    /// The device is full (or the quota spent): the caller may say so rather than "failed".
    full: bool,
}

impl StorageError {
    fn new(message: impl Into<String>) -> StorageError {
        StorageError { message: message.into(), full: false }
    }

    pub fn is_full(&self) -> bool {
        self.full
    }
}

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "storage: {}", self.message)
    }
}

impl From<opendal::Error> for StorageError {
    fn from(error: opendal::Error) -> StorageError {
        // OpenDAL keeps the filesystem's own error as the source.
        let mut full = false;
        let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&error);
        while let Some(current) = cause {
            full |= current.downcast_ref::<std::io::Error>().is_some_and(is_no_space);
            cause = current.source();
        }
        StorageError { message: error.to_string(), full }
    }
}

impl From<std::io::Error> for StorageError {
    fn from(error: std::io::Error) -> StorageError {
        StorageError { full: is_no_space(&error), message: error.to_string() }
    }
}

/// ENOSPC or EDQUOT: no room left for what is being written.
pub fn is_no_space(error: &std::io::Error) -> bool {
    matches!(error.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
}

/// What is stored at a key, compared with the object that belongs there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    Missing,
    Intact,
    /// Something else: a truncated write of an earlier version, or damage. It must be replaced.
    Damaged {
        size: u64,
    },
}

/// Cheap to clone: clones share the one OpenDAL operator.
#[derive(Clone)]
pub struct Storage {
    operator: Operator,
    /// The root directory with the filesystem backend.
    local_root: Option<PathBuf>,
}

/// OpenDAL's operation log into ours: failures at `warn`, except "not found", which answers
/// "is this object stored yet?" on every upload, and everything else at `debug`.
#[derive(Debug, Clone, Copy)]
struct StorageLog;

impl LoggingInterceptor for StorageLog {
    fn log(
        &self,
        info: &AccessorInfo,
        operation: Operation,
        context: &[(&str, &str)],
        message: &str,
        error: Option<&opendal::Error>,
    ) {
        let path = context.iter().find(|(name, _)| *name == "path").map_or("", |(_, value)| *value);
        match error {
            Some(error) if error.kind() != ErrorKind::NotFound => {
                tracing::warn!(scheme = %info.scheme(), %operation, path, %error, "storage {message}");
            }
            _ => tracing::debug!(scheme = %info.scheme(), %operation, path, "storage {message}"),
        }
    }
}

impl Storage {
    pub fn new(config: &StorageConfig) -> Result<Storage, StorageError> {
        let operator = match config {
            StorageConfig::Filesystem { root } => {
                std::fs::create_dir_all(root)?;
                let partial = root.join(PARTIAL_DIR);
                let (Some(root), Some(partial)) = (root.to_str(), partial.to_str()) else {
                    return Err(StorageError::new("the storage root is not UTF-8"));
                };
                // OpenDAL writes each object to `<partial>/<name>.<random>`, syncs it and renames it
                // to its key on close; abort removes it.
                Operator::new(services::Fs::default().root(root).atomic_write_dir(partial))?.finish()
            }
            StorageConfig::S3 {
                endpoint,
                bucket,
                region,
                access_key_id,
                secret_access_key,
                virtual_host_style,
            } => {
                let mut builder = services::S3::default()
                    .endpoint(endpoint)
                    .bucket(bucket)
                    .region(region)
                    .access_key_id(access_key_id)
                    .secret_access_key(secret_access_key)
                    // Only what is configured here: no credentials from files or instance metadata.
                    .disable_config_load()
                    .disable_ec2_metadata();
                if *virtual_host_style {
                    builder = builder.enable_virtual_host_style();
                }
                Operator::new(builder)?.finish()
            }
        };
        let local_root = match config {
            StorageConfig::Filesystem { root } => Some(root.clone()),
            StorageConfig::S3 { .. } => None,
        };
        // Innermost first: every attempt holds a concurrency permit and has a deadline; failed
        // attempts are retried; one log line per operation, whatever the retries.
        let operator = operator.layer(ConcurrentLimitLayer::new(64)).layer(
            TimeoutLayer::new()
                .with_timeout(Duration::from_secs(30))
                .with_io_timeout(Duration::from_secs(30)),
        );
        // Retries are for the network. A local filesystem's errors (a full disk, an I/O error) do
        // not clear within seconds, and a write retried after part of it landed repeats bytes.
        let operator = match local_root {
            Some(_) => operator,
            None => operator.layer(RetryLayer::new().with_max_times(3).with_jitter()),
        };
        let operator = operator.layer(LoggingLayer::new(StorageLog));
        Ok(Storage { operator, local_root })
    }

    /// Size of the object at `key`, or `None` when there is none.
    pub async fn stat(&self, key: &str) -> Result<Option<ObjectInfo>, StorageError> {
        match self.operator.stat(key).await {
            Ok(meta) => Ok(Some(ObjectInfo { size: meta.content_length() })),
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Whether `key` holds the object of `size` bytes with SHA-256 `sha256`. On the filesystem
    /// the stored bytes are hashed: a local read, and earlier versions wrote in place, so a crash
    /// or a full disk may have left a prefix, or a power cut blocks of zeros, at a key. On S3 only
    /// the size is compared: every S3 write appears whole or not at all, and hashing would
    /// download each reused object on every upload.
    pub async fn check(&self, key: &str, size: u64, sha256: &str) -> Result<Stored, StorageError> {
        let Some(info) = self.stat(key).await? else { return Ok(Stored::Missing) };
        if info.size != size {
            return Ok(Stored::Damaged { size: info.size });
        }
        if self.local_root.is_some() {
            let mut stream = self.read_range(key, 0..size).await?;
            let mut hasher = Sha256::new();
            while let Some(chunk) = stream.try_next().await? {
                hasher.update(&chunk);
            }
            if hex(&hasher.finalize()) != sha256 {
                return Ok(Stored::Damaged { size: info.size });
            }
        }
        Ok(Stored::Intact)
    }

    /// Copies a local file to `key`, streaming it in chunks. The object appears at `key` only
    /// whole, replacing whatever was there; when the write fails, nothing of it is left.
    pub async fn put_file(&self, key: &str, path: &Path) -> Result<(), StorageError> {
        let mut file = tokio::fs::File::open(path).await?;
        let mut writer = self.operator.writer_with(key).chunk(CHUNK_BYTES).await?;
        let mut buffer = vec![0u8; CHUNK_BYTES];
        let written = async {
            loop {
                let read = file.read(&mut buffer).await?;
                if read == 0 {
                    break;
                }
                writer.write(Bytes::copy_from_slice(&buffer[..read])).await?;
            }
            // Closing syncs, then renames (fs) or completes the upload (S3): it can fail too.
            writer.close().await?;
            Ok::<(), StorageError>(())
        }
        .await;
        if written.is_err()
            && let Err(error) = writer.abort().await
        {
            tracing::warn!(%error, key, "could not remove a failed write");
        }
        written
    }

    /// Makes the renames of the objects at `keys` durable (fs; S3 needs nothing), so that the
    /// bundle registered next never refers to an object a power cut loses.
    pub async fn make_durable(&self, keys: &[&str]) -> Result<(), StorageError> {
        let Some(root) = &self.local_root else { return Ok(()) };
        let mut folders: Vec<PathBuf> =
            keys.iter().filter_map(|key| Path::new(key).parent()).map(|folder| root.join(folder)).collect();
        folders.sort();
        folders.dedup();
        tokio::task::spawn_blocking(move || {
            for folder in folders {
                std::fs::File::open(&folder)?.sync_all()?;
            }
            Ok::<(), std::io::Error>(())
        })
        .await
        .map_err(|e| StorageError::new(e.to_string()))??;
        Ok(())
    }

    /// Removes the partial objects of writes that died (fs): files under `.partial/` named as
    /// this gateway names them and untouched for `max_idle`. Answers how many it removed.
    pub async fn remove_abandoned_partials(&self, max_idle: Duration) -> Result<usize, StorageError> {
        let Some(root) = &self.local_root else { return Ok(0) };
        let folder = root.join(PARTIAL_DIR);
        let removed = tokio::task::spawn_blocking(move || remove_idle_partials(&folder, max_idle))
            .await
            .map_err(|e| StorageError::new(e.to_string()))??;
        Ok(removed)
    }

    /// The bytes of `key` in `range` (end exclusive), as a stream of chunks.
    pub async fn read_range(
        &self,
        key: &str,
        range: std::ops::Range<u64>,
    ) -> Result<opendal::FuturesBytesStream, StorageError> {
        let reader = self.operator.reader_with(key).chunk(CHUNK_BYTES).await?;
        Ok(reader.into_bytes_stream(range).await?)
    }

    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        Ok(self.operator.delete(key).await?)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The partial objects in `folder` whose writers died; see `Storage::remove_abandoned_partials`.
fn remove_idle_partials(folder: &Path, max_idle: Duration) -> std::io::Result<usize> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(error),
    };
    let now = SystemTime::now();
    let mut removed = 0;
    // An entry that vanishes meanwhile was renamed to its key, or removed by another gateway.
    for entry in entries.flatten() {
        let Ok(metadata) = entry.metadata() else { continue };
        let idle = now.duration_since(metadata.modified()?).unwrap_or_default();
        if metadata.is_file() && is_partial_name(&entry.file_name().to_string_lossy()) && idle >= max_idle {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(error),
            }
        }
    }
    Ok(removed)
}

/// `<object name>.<random>`, as OpenDAL names the file it writes an object to; the object name
/// starts with its 64-digit hash (`<sha256>`, `<sha256>.br`, `<sha256>.zip`).
fn is_partial_name(name: &str) -> bool {
    name.len() > 65
        && name.as_bytes()[..64].iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
        && name.as_bytes()[64] == b'.'
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn partial_names() {
        let hash = "0123456789abcdef".repeat(4);
        assert!(is_partial_name(&format!("{hash}.zip.7ba3c0d1e2f4")));
        assert!(is_partial_name(&format!("{hash}.5f2e")));
        for other in
            [hash.clone(), format!("{hash}x.1"), format!("{}.zip.1", "A".repeat(64)), "notes.txt".into()]
        {
            assert!(!is_partial_name(&other), "{other}");
        }
    }

    #[test]
    fn only_idle_partial_objects_are_removed() {
        let folder = std::env::temp_dir().join(format!("liveupdate-partials-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(&folder).unwrap();
        let hash = "ab".repeat(32);
        let write = |name: &str, idle: Duration| {
            let file = std::fs::File::create(folder.join(name)).unwrap();
            file.set_modified(SystemTime::now() - idle).unwrap();
        };
        write(&format!("{hash}.zip.dead"), Duration::from_secs(2 * 3600));
        write(&format!("{hash}.zip.live"), Duration::from_secs(60));
        write("someone-elses.txt", Duration::from_secs(2 * 3600));
        assert_eq!(remove_idle_partials(&folder, PARTIAL_MAX_IDLE).unwrap(), 1);
        let mut left: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [format!("{hash}.zip.live"), "someone-elses.txt".to_owned()]);
        std::fs::remove_dir_all(&folder).unwrap();
        assert_eq!(remove_idle_partials(&folder, PARTIAL_MAX_IDLE).unwrap(), 0, "no folder yet");
    }
}
