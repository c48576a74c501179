//! Ed25519 signing keys for signed publishing (what is signed: `liveupdate_core::signing`).

use std::io::Read;
use std::path::Path;

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, spki::der::pem::LineEnding};
use liveupdate_core::signing;

use crate::client::CliError;

/// Writes a new private key to `out` (PKCS#8 PEM, readable by the owner only) and answers the
/// public key in base64. Refuses to overwrite an existing file.
pub fn generate(out: &Path) -> Result<String, CliError> {
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut seed))
        .map_err(|e| CliError::Local(format!("no randomness: {e}")))?;
    let key = SigningKey::from_bytes(&seed);
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| CliError::Local(format!("cannot encode the key: {e}")))?;
    write_private(out, pem.as_bytes())?;
    Ok(signing::encode_public_key(&key.verifying_key()))
}

/// The signature of bundle (app, version, checksum) by the key in `key_file`.
pub fn sign(key_file: &Path, app_id: &str, version: &str, checksum: &str) -> Result<String, CliError> {
    let pem = std::fs::read_to_string(key_file)
        .map_err(|e| CliError::Local(format!("cannot read {}: {e}", key_file.display())))?;
    let key = SigningKey::from_pkcs8_pem(&pem)
        .map_err(|e| CliError::Local(format!("{} is not an ed25519 private key: {e}", key_file.display())))?;
    Ok(signing::sign(&key, app_id, version, checksum))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| CliError::Local(format!("cannot create {}: {e}", path.display())))?;
    file.write_all(bytes).map_err(|e| CliError::Local(format!("cannot write {}: {e}", path.display())))
}
