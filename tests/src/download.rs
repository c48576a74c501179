//! What a device does with an offered bundle (protocol.md §4), written from the protocol and
//! independently of the server's code: download the zip and compare its SHA-256 with `checksum`,
//! then unpack it the way the plugin does; or fetch each manifest file it does not already have,
//! brotli-decode `.br` entries and compare every file's SHA-256 with `file_hash`.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::net::SocketAddr;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::http;

/// A bundle's files by path.
pub type Files = BTreeMap<String, Vec<u8>>;

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// GETs an absolute `http://host:port/path` URL (the gateway's) with extra headers.
pub fn get(url: &str, headers: &[(&str, &str)]) -> http::Response {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let addr: SocketAddr = host.parse().expect("a host:port address");
    http::request(addr, "GET", path, headers, b"")
}

/// Downloads the zip at `url`, checks it against `checksum` and unpacks it like the plugin.
pub fn fetch_zip(url: &str, checksum: &str) -> Result<Files, String> {
    let response = get(url, &[]);
    if response.status != 200 {
        return Err(format!("zip download answered {}", response.status));
    }
    let actual = sha256_hex(&response.body);
    if actual != checksum {
        return Err(format!("checksum_fail: {actual} != {checksum}"));
    }
    unzip_like_the_plugin(&response.body)
}

/// Unpacks a zip: `index.html` at the root, or a single top-level folder that is flattened;
/// `__MACOSX` and dotfiles skipped; unsafe names refused.
pub fn unzip_like_the_plugin(bytes: &[u8]) -> Result<Files, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let mut files = Files::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(|e| e.to_string())?;
        let name = entry.name().to_owned();
        if name.starts_with('/') || name.contains('\\') || name.split('/').any(|s| s == "..") {
            return Err(format!("canonical_path_fail: {name}"));
        }
        if entry.is_dir() || name.split('/').any(|s| s == "__MACOSX" || s.starts_with('.')) {
            continue;
        }
        let mut content = Vec::new();
        entry.read_to_end(&mut content).map_err(|e| e.to_string())?;
        files.insert(name, content);
    }
    if files.contains_key("index.html") {
        return Ok(files);
    }
    let tops: Vec<&str> = files.keys().filter_map(|name| name.split_once('/').map(|(top, _)| top)).collect();
    let Some(top) = tops.first().map(|t| t.to_string()) else { return Err("no index.html".into()) };
    if tops.len() != files.len() || tops.iter().any(|t| *t != top) {
        return Err("no index.html".into());
    }
    let prefix = format!("{top}/");
    let flattened: Files =
        files.into_iter().map(|(name, content)| (name[prefix.len()..].to_owned(), content)).collect();
    if flattened.contains_key("index.html") { Ok(flattened) } else { Err("no index.html".into()) }
}

/// Builds a bundle from its manifest: files whose hash is in `cache` are taken from it, the rest
/// downloaded and verified. Returns the files and the bytes downloaded.
pub fn fetch_manifest(manifest: &[Value], cache: &HashMap<String, Vec<u8>>) -> Result<(Files, u64), String> {
    let mut files = Files::new();
    let mut downloaded = 0u64;
    for entry in manifest {
        let text =
            |key: &str| entry[key].as_str().map(str::to_owned).ok_or(format!("entry without {key}: {entry}"));
        let (name, hash, url) = (text("file_name")?, text("file_hash")?, text("download_url")?);
        if name.starts_with('/') || name.contains('\\') || name.split('/').any(|s| s == "..") {
            return Err(format!("manifest_path_fail: {name}"));
        }
        let (target, brotli) = match name.strip_suffix(".br") {
            Some(stripped) => (stripped.to_owned(), true),
            None => (name.clone(), false),
        };
        let content = match cache.get(&hash) {
            Some(cached) => cached.clone(),
            None => {
                let response = get(&url, &[]);
                if response.status != 200 {
                    return Err(format!("download_manifest_file_fail: {name} answered {}", response.status));
                }
                downloaded += response.body.len() as u64;
                if brotli {
                    let mut decoded = Vec::new();
                    brotli::Decompressor::new(response.body.as_slice(), 4096)
                        .read_to_end(&mut decoded)
                        .map_err(|e| format!("download_manifest_brotli_fail: {name}: {e}"))?;
                    decoded
                } else {
                    response.body
                }
            }
        };
        if sha256_hex(&content) != hash {
            return Err(format!("download_manifest_checksum_fail: {name}"));
        }
        if files.insert(target.clone(), content).is_some() {
            return Err(format!("manifest_path_fail: {target} twice"));
        }
    }
    Ok((files, downloaded))
}

/// A zip of `files` (deflated), as a build tool would produce it.
pub fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in files {
        writer.start_file(*name, options).unwrap();
        std::io::Write::write_all(&mut writer, content).unwrap();
    }
    writer.finish().unwrap().into_inner()
}
