//! The plugin's encryption format (protocol.md §8), produced here so the server never holds the
//! private key: AES-128-CBC payloads under one random session key and IV, the session key and every
//! checksum "encrypted" with the RSA-2048 private key (PKCS#1 v1.5 type 1, i.e. Node's
//! `privateEncrypt`), which the device undoes with the public key from its app config.
//!
//! The upload is a transport archive the gateway understands: `bundle.zip` (the encrypted zip),
//! `manifest.json` (`[{file_name, file_hash}]`) and `files/<file_name>` (each file of the bundle,
//! brotli-compressed where it pays, then encrypted).

use std::io::{Read, Write};
use std::path::Path;

use aes::cipher::{BlockEncryptMut, KeyIvInit, block_padding::Pkcs7};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use liveupdate_core::archive::{self, Bounds, EntryHeader};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::{Pkcs1v15Sign, RsaPrivateKey};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::archive::TempFile;
use crate::client::CliError;

type Aes128CbcEnc = cbc::Encryptor<aes::Aes128>;

/// What an encrypted upload sends besides its transport archive.
pub struct Encrypted {
    pub transport: TempFile,
    /// RSA-encrypted SHA-256 of the plaintext zip, 512 hex characters.
    pub checksum: String,
    /// `base64(IV):base64(RSA-encrypted AES key)`.
    pub session_key: String,
    /// The first 20 characters of the public key's base64 body.
    pub key_id: String,
}

fn local(what: &str, error: impl std::fmt::Display) -> CliError {
    CliError::Local(format!("{what}: {error}"))
}

fn random_16() -> Result<[u8; 16], CliError> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut r| r.read_exact(&mut bytes))
        .map_err(|e| local("randomness", e))?;
    Ok(bytes)
}

/// Node's `privateEncrypt`: PKCS#1 v1.5 type-1 padding of `data`, raised to the private exponent.
fn private_encrypt(key: &RsaPrivateKey, data: &[u8]) -> Result<Vec<u8>, CliError> {
    key.sign(Pkcs1v15Sign::new_unprefixed(), data).map_err(|e| local("RSA", e))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The plugin's `key_id`: the first 20 characters of the PKCS#1 public key's base64 body.
pub fn key_id(key: &RsaPrivateKey) -> Result<String, CliError> {
    let pem =
        key.to_public_key().to_pkcs1_pem(rsa::pkcs1::LineEnding::LF).map_err(|e| local("public key", e))?;
    let body: String = pem.lines().filter(|line| !line.starts_with("-----")).collect();
    Ok(body.chars().take(20).collect())
}

pub fn read_private_key(path: &Path) -> Result<RsaPrivateKey, CliError> {
    let pem = std::fs::read_to_string(path).map_err(|e| local(&path.display().to_string(), e))?;
    RsaPrivateKey::from_pkcs1_pem(&pem).map_err(|e| {
        CliError::Local(format!("{} is not an RSA private key (PKCS#1 PEM): {e}", path.display()))
    })
}

/// Encrypts the zip at `zip` and each of its files for devices holding `key`'s public half.
pub fn encrypt_bundle(zip: &Path, key: &RsaPrivateKey) -> Result<Encrypted, CliError> {
    let plain = std::fs::read(zip).map_err(|e| local("read archive", e))?;
    let aes_key = random_16()?;
    let iv = random_16()?;
    let encrypt =
        |bytes: &[u8]| Aes128CbcEnc::new(&aes_key.into(), &iv.into()).encrypt_padded_vec_mut::<Pkcs7>(bytes);
    let session_key = format!("{}:{}", STANDARD.encode(iv), STANDARD.encode(private_encrypt(key, &aes_key)?));
    let checksum = hex(&private_encrypt(key, &Sha256::digest(&plain))?);

    // The files, as the server would unpack the plain zip.
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&plain)).map_err(|e| local("zip", e))?;
    let mut headers = Vec::new();
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(|e| local("zip", e))?;
        headers.push(EntryHeader {
            name: entry.name().to_owned(),
            is_dir: entry.is_dir(),
            is_symlink: entry.is_symlink(),
            compressed_size: entry.compressed_size(),
            size: entry.size(),
        });
    }
    let plan = archive::plan(&headers, Bounds::default()).map_err(|e| CliError::Local(e.message()))?;

    let transport =
        TempFile(std::env::temp_dir().join(format!("liveupdate-{}-encrypted.zip", std::process::id())));
    let file = std::fs::File::create(&transport.0).map_err(|e| local("temporary file", e))?;
    let mut writer = zip::ZipWriter::new(std::io::BufWriter::new(file));
    // Ciphertext does not compress.
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    let mut manifest = Vec::new();
    for (index, path) in plan {
        let mut content = Vec::new();
        archive
            .by_index(index)
            .and_then(|mut e| Ok(e.read_to_end(&mut content)?))
            .map_err(|e| local(&path, e))?;
        let file_hash = hex(&private_encrypt(key, &Sha256::digest(&content))?);
        let (file_name, payload) = match brotli_if_it_pays(&content) {
            Some(compressed) => (format!("{path}.br"), compressed),
            None => (path, content),
        };
        writer.start_file(format!("files/{file_name}"), stored).map_err(|e| local("zip", e))?;
        writer.write_all(&encrypt(&payload)).map_err(|e| local("zip", e))?;
        manifest.push(json!({"file_name": file_name, "file_hash": file_hash}));
    }
    writer.start_file("manifest.json", stored).map_err(|e| local("zip", e))?;
    writer
        .write_all(serde_json::Value::from(manifest).to_string().as_bytes())
        .map_err(|e| local("zip", e))?;
    writer.start_file("bundle.zip", stored).map_err(|e| local("zip", e))?;
    writer.write_all(&encrypt(&plain)).map_err(|e| local("zip", e))?;
    writer.finish().and_then(|mut out| Ok(out.flush()?)).map_err(|e| local("zip", e))?;
    Ok(Encrypted { transport, checksum, session_key, key_id: key_id(key)? })
}

/// Brotli (quality 11: the CLI compresses once, devices download many times) where it pays, by
/// the rule the server applies to plain bundles.
fn brotli_if_it_pays(content: &[u8]) -> Option<Vec<u8>> {
    if (content.len() as u64) < archive::BROTLI_MIN_SIZE {
        return None;
    }
    let mut compressed = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut compressed, 64 * 1024, 11, 22);
        writer.write_all(content).ok()?;
    }
    archive::brotli_pays(content.len() as u64, compressed.len() as u64).then_some(compressed)
}
