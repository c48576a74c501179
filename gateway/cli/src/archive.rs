//! Turning a build into the archive to upload: a directory is zipped deterministically (sorted
//! entries, fixed timestamps, so an unchanged build gives the same checksum), a zip is sent as
//! is; either may be zstd-compressed for the transfer.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::client::CliError;

/// A temporary file removed when dropped.
pub struct TempFile(pub PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn local(what: &str, error: impl std::fmt::Display) -> CliError {
    CliError::Local(format!("{what}: {error}"))
}

fn temp_path(suffix: &str) -> PathBuf {
    std::env::temp_dir().join(format!("liveupdate-{}-{suffix}", std::process::id()))
}

/// The zip to upload for `source` (a directory or a `.zip`), with its SHA-256 (the bundle's
/// checksum). A directory is zipped into a temporary file.
pub fn zip_of(source: &Path) -> Result<(PathBuf, Option<TempFile>, String), CliError> {
    if source.is_dir() {
        if !source.join("index.html").is_file() {
            return Err(CliError::Local(format!("{} has no index.html", source.display())));
        }
        let temp = TempFile(temp_path("bundle.zip"));
        zip_directory(source, &temp.0)?;
        let checksum = sha256_of(&temp.0)?;
        Ok((temp.0.clone(), Some(temp), checksum))
    } else if source.is_file() {
        Ok((source.to_owned(), None, sha256_of(source)?))
    } else {
        Err(CliError::Local(format!("{} is neither a directory nor a file", source.display())))
    }
}

/// `zip`, zstd-compressed into a temporary file.
pub fn zstd_of(zip: &Path) -> Result<TempFile, CliError> {
    let temp = TempFile(temp_path("bundle.zip.zst"));
    let input = BufReader::new(File::open(zip).map_err(|e| local("open archive", e))?);
    let output = BufWriter::new(File::create(&temp.0).map_err(|e| local("temporary file", e))?);
    zstd::stream::copy_encode(input, output, 9).map_err(|e| local("zstd", e))?;
    Ok(temp)
}

pub fn sha256_of(path: &Path) -> Result<String, CliError> {
    let mut file = BufReader::new(File::open(path).map_err(|e| local(&path.display().to_string(), e))?);
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1024 * 1024];
    loop {
        let read = file.read(&mut buffer).map_err(|e| local("read", e))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Every regular file under `root`, as paths relative to it with `/` separators, sorted.
fn files_under(root: &Path) -> Result<Vec<String>, CliError> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| local(&dir.display().to_string(), e))? {
            let entry = entry.map_err(|e| local("read directory", e))?;
            let kind = entry.file_type().map_err(|e| local("file type", e))?;
            let path = entry.path();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let relative = path.strip_prefix(root).map_err(|e| local("path", e))?;
                let parts: Option<Vec<&str>> =
                    relative.components().map(|c| c.as_os_str().to_str()).collect();
                let parts =
                    parts.ok_or_else(|| CliError::Local(format!("{} is not UTF-8", path.display())))?;
                found.push(parts.join("/"));
            }
            // Symbolic links are left out: the plugin would refuse them.
        }
    }
    found.sort();
    Ok(found)
}

fn zip_directory(root: &Path, target: &Path) -> Result<(), CliError> {
    let output = BufWriter::new(File::create(target).map_err(|e| local("temporary file", e))?);
    let mut writer = zip::ZipWriter::new(output);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for name in files_under(root)? {
        writer.start_file(name.as_str(), options).map_err(|e| local("zip", e))?;
        let mut input = BufReader::new(File::open(root.join(&name)).map_err(|e| local(&name, e))?);
        std::io::copy(&mut input, &mut writer).map_err(|e| local(&name, e))?;
    }
    let mut output = writer.finish().map_err(|e| local("zip", e))?;
    output.flush().map_err(|e| local("zip", e))?;
    Ok(())
}
