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

/// The app's RSA public key as the plugin uses it (protocol.md §8): it undoes the uploader's
/// "private encryption" (PKCS#1 v1.5 type 1) of the session key and of every checksum.
pub struct PluginPublicKey(rsa::RsaPublicKey);

impl PluginPublicKey {
    /// From the `publicKey` of the capacitor config: PKCS#1 PEM.
    pub fn from_pem(pem: &str) -> PluginPublicKey {
        use rsa::pkcs1::DecodeRsaPublicKey;
        PluginPublicKey(rsa::RsaPublicKey::from_pkcs1_pem(pem).expect("a PKCS#1 public key"))
    }

    /// Node's `publicDecrypt`: raise to the public exponent, then strip `00 01 FF..FF 00`.
    fn public_decrypt(&self, data: &[u8]) -> Result<Vec<u8>, String> {
        use rsa::traits::PublicKeyParts;
        if data.len() != 256 {
            return Err(format!("RSA block of {} bytes, not 256", data.len()));
        }
        let block = rsa::BigUint::from_bytes_be(data).modpow(self.0.e(), self.0.n()).to_bytes_be();
        let mut padded = vec![0u8; 256 - block.len()];
        padded.extend(block);
        if padded[0] != 0 || padded[1] != 1 {
            return Err("not PKCS#1 type 1 padding".into());
        }
        let separator = padded[2..].iter().position(|b| *b != 0xff).map(|i| i + 2).ok_or("no payload")?;
        if padded[separator] != 0 || separator < 10 {
            return Err("bad PKCS#1 padding".into());
        }
        Ok(padded[separator + 1..].to_vec())
    }

    /// (AES key, IV) from `base64(IV):base64(RSA(AES key))`; iOS insists on 16 bytes each.
    pub fn session(&self, session_key: &str) -> Result<([u8; 16], [u8; 16]), String> {
        use base64::Engine;
        let engine = base64::engine::general_purpose::STANDARD;
        let (iv, key) = session_key.split_once(':').ok_or("session_key without ':'")?;
        let iv: [u8; 16] =
            engine.decode(iv).map_err(|e| e.to_string())?.try_into().map_err(|_| "IV is not 16 bytes")?;
        let key = self.public_decrypt(&engine.decode(key).map_err(|e| e.to_string())?)?;
        let key: [u8; 16] = key.try_into().map_err(|_| "session key is not 16 bytes")?;
        Ok((key, iv))
    }

    /// A checksum or file_hash in the encrypted form: all-hex means hex, else base64; 256 bytes
    /// that decrypt to a 32-byte SHA-256, answered as lowercase hex.
    pub fn decrypted_hash(&self, encoded: &str) -> Result<String, String> {
        use base64::Engine;
        let bytes = if encoded.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..encoded.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&encoded[i..i + 2], 16).map_err(|e| e.to_string()))
                .collect::<Result<Vec<u8>, String>>()?
        } else {
            base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|e| e.to_string())?
        };
        let hash = self.public_decrypt(&bytes)?;
        if hash.len() != 32 {
            return Err(format!("decrypted checksum of {} bytes", hash.len()));
        }
        Ok(hash.iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// AES-128-CBC with PKCS#7 padding, as the plugin decrypts.
pub fn aes_decrypt(key: &[u8; 16], iv: &[u8; 16], data: &[u8]) -> Result<Vec<u8>, String> {
    use aes::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
    cbc::Decryptor::<aes::Aes128>::new(key.into(), iv.into())
        .decrypt_padded_vec_mut::<Pkcs7>(data)
        .map_err(|_| "decrypt_fail".to_owned())
}

/// An encrypted zip: download, decrypt, compare with the decrypted checksum, unpack.
pub fn fetch_encrypted_zip(
    url: &str,
    checksum: &str,
    session_key: &str,
    key: &PluginPublicKey,
) -> Result<Files, String> {
    let response = get(url, &[]);
    if response.status != 200 {
        return Err(format!("zip download answered {}", response.status));
    }
    let (aes_key, iv) = key.session(session_key)?;
    let zip = aes_decrypt(&aes_key, &iv, &response.body)?;
    if sha256_hex(&zip) != key.decrypted_hash(checksum)? {
        return Err("checksum_fail".into());
    }
    unzip_like_the_plugin(&zip)
}

/// An encrypted manifest: each file downloaded, decrypted, brotli-decoded when `.br`, and
/// compared with its decrypted `file_hash`.
pub fn fetch_encrypted_manifest(
    manifest: &[Value],
    session_key: &str,
    key: &PluginPublicKey,
) -> Result<Files, String> {
    let (aes_key, iv) = key.session(session_key)?;
    let mut files = Files::new();
    for entry in manifest {
        let text =
            |name: &str| entry[name].as_str().map(str::to_owned).ok_or(format!("entry without {name}"));
        let (name, hash, url) = (text("file_name")?, text("file_hash")?, text("download_url")?);
        let response = get(&url, &[]);
        if response.status != 200 {
            return Err(format!("download_manifest_file_fail: {name}"));
        }
        let mut content = aes_decrypt(&aes_key, &iv, &response.body)?;
        let target = match name.strip_suffix(".br") {
            Some(stripped) => {
                let mut decoded = Vec::new();
                brotli::Decompressor::new(content.as_slice(), 4096)
                    .read_to_end(&mut decoded)
                    .map_err(|e| format!("download_manifest_brotli_fail: {name}: {e}"))?;
                content = decoded;
                stripped.to_owned()
            }
            None => name.clone(),
        };
        if sha256_hex(&content) != key.decrypted_hash(&hash)? {
            return Err(format!("download_manifest_checksum_fail: {name}"));
        }
        files.insert(target, content);
    }
    Ok(files)
}
