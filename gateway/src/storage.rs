//! Bundle objects in storage through OpenDAL: the local filesystem by default, any S3-class
//! service by configuration. The gateway is the only component that talks to storage.
//!
//! Objects are content-addressed (`files/<sha256>[.br]`, `zips/<sha256>.zip`): written once,
//! never changed, shared by every bundle that contains the same bytes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use opendal::layers::{ConcurrentLimitLayer, LoggingInterceptor, LoggingLayer, RetryLayer, TimeoutLayer};
use opendal::raw::{AccessorInfo, Operation};
use opendal::{ErrorKind, Operator, services};
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

#[derive(Debug)]
pub struct StorageError(pub String);

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "storage: {}", self.0)
    }
}

impl From<opendal::Error> for StorageError {
    fn from(error: opendal::Error) -> StorageError {
        StorageError(error.to_string())
    }
}

impl From<std::io::Error> for StorageError {
    fn from(error: std::io::Error) -> StorageError {
        StorageError(error.to_string())
    }
}

/// Cheap to clone: clones share the one OpenDAL operator.
#[derive(Clone)]
pub struct Storage {
    operator: Operator,
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
                let root =
                    root.to_str().ok_or_else(|| StorageError("the storage root is not UTF-8".into()))?;
                Operator::new(services::Fs::default().root(root))?.finish()
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
        // Innermost first: every attempt holds a concurrency permit and has a deadline; failed
        // attempts are retried; one log line per operation, whatever the retries.
        let operator = operator
            .layer(ConcurrentLimitLayer::new(64))
            .layer(
                TimeoutLayer::new()
                    .with_timeout(Duration::from_secs(30))
                    .with_io_timeout(Duration::from_secs(30)),
            )
            .layer(RetryLayer::new().with_max_times(3).with_jitter())
            .layer(LoggingLayer::new(StorageLog));
        Ok(Storage { operator })
    }

    /// Size of the object at `key`, or `None` when there is none.
    pub async fn stat(&self, key: &str) -> Result<Option<ObjectInfo>, StorageError> {
        match self.operator.stat(key).await {
            Ok(meta) => Ok(Some(ObjectInfo { size: meta.content_length() })),
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    /// Copies a local file to `key`, streaming it in chunks.
    pub async fn put_file(&self, key: &str, path: &Path) -> Result<(), StorageError> {
        let mut file = tokio::fs::File::open(path).await?;
        let mut writer = self.operator.writer_with(key).chunk(CHUNK_BYTES).await?;
        let mut buffer = vec![0u8; CHUNK_BYTES];
        loop {
            let read = file.read(&mut buffer).await?;
            if read == 0 {
                break;
            }
            if let Err(error) = writer.write(Bytes::copy_from_slice(&buffer[..read])).await {
                let _ = writer.abort().await;
                return Err(error.into());
            }
        }
        writer.close().await?;
        Ok(())
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
