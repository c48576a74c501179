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

/// Writes a new RSA-2048 key for the plugin's encryption: the private key (PKCS#1 PEM, owner
/// only) to `out`, the public key (PKCS#1 PEM, `-----BEGIN RSA PUBLIC KEY-----`, the plugin's
/// `publicKey` format) to `out.pub`. Answers the public key PEM and its key_id.
pub fn generate_rsa(out: &Path) -> Result<(String, String), CliError> {
    use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey, LineEnding as RsaLineEnding};
    let mut random = UrandomRng;
    let key = rsa::RsaPrivateKey::new(&mut random, 2048)
        .map_err(|e| CliError::Local(format!("RSA key generation: {e}")))?;
    let private = key
        .to_pkcs1_pem(RsaLineEnding::LF)
        .map_err(|e| CliError::Local(format!("cannot encode the key: {e}")))?;
    let public = key
        .to_public_key()
        .to_pkcs1_pem(RsaLineEnding::LF)
        .map_err(|e| CliError::Local(format!("cannot encode the key: {e}")))?;
    write_private(out, private.as_bytes())?;
    let public_path = out.with_extension("pub");
    std::fs::write(&public_path, &public)
        .map_err(|e| CliError::Local(format!("cannot write {}: {e}", public_path.display())))?;
    Ok((public, crate::encrypt::key_id(&key)?))
}

/// Randomness for RSA key generation, straight from the kernel.
struct UrandomRng;

impl rsa::rand_core::RngCore for UrandomRng {
    fn next_u32(&mut self) -> u32 {
        let mut bytes = [0u8; 4];
        self.fill_bytes(&mut bytes);
        u32::from_le_bytes(bytes)
    }

    fn next_u64(&mut self) -> u64 {
        let mut bytes = [0u8; 8];
        self.fill_bytes(&mut bytes);
        u64::from_le_bytes(bytes)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // Without randomness no key can be made; failing loudly beats a weak key.
        if let Err(error) = self.try_fill_bytes(dest) {
            panic!("no randomness: {error}");
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        std::fs::File::open("/dev/urandom")
            .and_then(|mut r| r.read_exact(dest))
            .map_err(rsa::rand_core::Error::new)
    }
}

impl rsa::rand_core::CryptoRng for UrandomRng {}

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
