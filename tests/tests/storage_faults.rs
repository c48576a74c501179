//! Bundle storage under faults: a gateway killed (SIGKILL) while it writes an object, a full disk
//! in storage and in the scratch directory, and damaged objects already at their keys. Whatever
//! happens, an object served under its content address has exactly the bytes of that address.

#![allow(clippy::unwrap_used, reason = "tests")]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use liveupdate_e2e::device::{Device, Outcome};
use liveupdate_e2e::download::{self, sha256_hex, zip_of};
use liveupdate_e2e::{Publisher, eventually, http};
use serde_json::Value;

const APP: &str = "com.acme.faults";
const DEVICE: &str = "6c7d8e9f-a0b1-4c2d-9e3f-4a5b6c7d8e9f";

fn setup(test: &str, gateway_env: &[(&str, &str)]) -> Publisher {
    Publisher::start(test, APP, gateway_env)
}

/// Publishes `body` as bundle `version` on the production channel.
fn publish(s: &Publisher, version: &str, body: &[u8]) -> http::Response {
    s.upload(version, "?channel=production", &[], body)
}

/// The zip URL and checksum offered to a device, and the manifest.
fn offer(s: &Publisher) -> (String, String, Vec<Value>) {
    match Device::new(APP, DEVICE).plugin("8.51.14").outcome(s.gw.addr) {
        Outcome::Update { url, checksum, manifest, .. } => (url, checksum, manifest.unwrap()),
        other => panic!("no update offered: {other:?}"),
    }
}

/// `length` bytes no compressor can shrink (xorshift64), different for each `seed`.
fn noise(length: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut bytes = Vec::with_capacity(length + 8);
    while bytes.len() < length {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(length);
    bytes
}

/// A bundle of `index.html` and `length` bytes of noise, stored uncompressed.
fn noisy_bundle(length: usize, seed: u64) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    writer.start_file("index.html", stored).unwrap();
    writer.write_all(b"<!doctype html><script src=data.bin></script>").unwrap();
    writer.start_file("data.bin", stored).unwrap();
    writer.write_all(&noise(length, seed)).unwrap();
    writer.finish().unwrap().into_inner()
}

/// Every regular file under `root`, with its size, by path relative to `root`.
fn files_under(root: &Path) -> HashMap<String, u64> {
    fn walk(root: &Path, dir: &Path, found: &mut HashMap<String, u64>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let Ok(metadata) = entry.metadata() else { continue };
            if metadata.is_dir() {
                walk(root, &entry.path(), found);
            } else if metadata.is_file() {
                let relative = entry.path().strip_prefix(root).unwrap().to_string_lossy().into_owned();
                found.insert(relative, metadata.len());
            }
        }
    }
    let mut found = HashMap::new();
    walk(root, root, &mut found);
    found
}

/// Sends an upload the gateway will not live to answer: whatever happens to the connection is fine.
fn upload_in_background(s: &Publisher, version: &str, body: Vec<u8>) -> std::thread::JoinHandle<()> {
    let (addr, key) = (s.gw.addr, s.key.clone());
    let head = format!(
        "PUT /v1/apps/{APP}/bundles/{version}/archive HTTP/1.1\r\nHost: x\r\nx-api-key: {key}\r\n\
         Content-Type: application/zip\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    std::thread::spawn(move || {
        let Ok(mut stream) = std::net::TcpStream::connect(addr) else { return };
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(&body);
        let _ = stream.read_to_end(&mut Vec::new());
    })
}

/// The bundle the device is offered is `archive`, byte for byte, as a zip and file by file.
fn assert_served_whole(s: &Publisher, archive: &[u8], checksum: &str) {
    let (url, offered_checksum, manifest) = offer(s);
    assert_eq!(offered_checksum, checksum);
    let zip = download::get(&url, &[]);
    assert_eq!(zip.status, 200);
    assert_eq!(zip.body.len(), archive.len(), "the zip served is {} bytes", zip.body.len());
    // Equal bytes, so the served zip's SHA-256 is the checksum computed from `archive`.
    assert!(zip.body == archive, "the zip served differs from the one uploaded");
    download::fetch_manifest(&manifest, &HashMap::new()).unwrap();
}

#[test]
fn a_gateway_killed_while_storing_an_upload_leaves_no_partial_object() {
    let mut s = setup("faults_kill", &[("LIVEUPDATE_PERIODIC_INTERVAL_MS", "300")]);
    let archive = noisy_bundle(100 * 1024 * 1024, 1);
    let checksum = sha256_hex(&archive);
    let uploader = upload_in_background(&s, "1.0.1", archive.clone());

    // The zip is the first object stored: kill the gateway as soon as its first bytes are
    // written, wherever they are written, so that the write is cut short.
    let root = s.gw.storage_root.clone();
    let deadline = Instant::now() + Duration::from_secs(120);
    while files_under(&root).values().all(|size| *size == 0) {
        assert!(Instant::now() < deadline, "the gateway never started storing the upload");
        std::thread::sleep(Duration::from_millis(1));
    }
    s.gw.kill();
    uploader.join().unwrap();
    let left = files_under(&root);
    assert!(
        left.values().any(|size| *size < archive.len() as u64),
        "the kill came before the zip was whole: {left:?}"
    );
    assert_eq!(s.bundles(), 0);

    // Restarted, the gateway stores the same content uploaded again whole...
    s.gw.restart();
    let created = publish(&s, "1.0.1", &archive);
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    assert_eq!(created.json()["checksum"], checksum.as_str());
    assert_served_whole(&s, &archive, &checksum);
    // ...and has removed the killed upload's scratch directory at start.
    assert_eq!(s.gw.upload_scratch(), Vec::<PathBuf>::new(), "the killed upload's scratch is removed");

    // What the killed write left (fresh, so possibly another gateway's write in progress) goes
    // once it has been idle for an hour: age it, and the periodic work removes it.
    let is_object = |path: &str| path.starts_with("files/") || path.starts_with("zips/");
    for path in files_under(&root).keys().filter(|path| !is_object(path)) {
        let file = std::fs::File::options().write(true).open(root.join(path)).unwrap();
        file.set_modified(SystemTime::now() - Duration::from_secs(2 * 3600)).unwrap();
    }
    assert!(
        eventually(20, || files_under(&root).keys().all(|path| is_object(path))),
        "{:?}",
        files_under(&root)
    );
}

/// tmpfs mounts of a given size, unmounted and removed however the test ends.
struct SmallDisks(Vec<PathBuf>);

impl SmallDisks {
    fn mount(&mut self, name: &str, megabytes: u32) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("liveupdate-e2e-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success(), "mount -t tmpfs failed: the e2e suite runs as root");
        self.0.push(dir.clone());
        dir
    }
}

impl Drop for SmallDisks {
    fn drop(&mut self) {
        for dir in &self.0 {
            let _ = Command::new("umount").arg("-l").arg(dir).status();
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[test]
fn a_full_disk_refuses_the_upload_and_keeps_nothing_of_it() {
    let mut disks = SmallDisks(Vec::new());
    let storage = disks.mount("full-objects", 12);
    let scratch = disks.mount("full-scratch", 40);
    let (storage_env, scratch_env) = (storage.to_str().unwrap(), scratch.to_str().unwrap());
    let mut s = setup(
        "faults_full",
        &[("LIVEUPDATE_STORAGE_ROOT", storage_env), ("LIVEUPDATE_UPLOAD_DIR", scratch_env)],
    );

    // Storage full: the zip (8 MiB) fits in 12 MiB, its file (8 MiB more) does not.
    let too_big = noisy_bundle(8 * 1024 * 1024, 2);
    let answer = publish(&s, "1.0.1", &too_big);
    assert_eq!(
        (answer.status, answer.json()["error"].as_str()),
        (507, Some("insufficient_storage")),
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    assert_eq!(files_under(&storage), HashMap::new(), "the failed upload's objects are removed");
    assert_eq!(s.bundles(), 0);

    // Scratch full: the archive (16 MiB), its file unpacked and that file's brotli attempt are
    // more than the 40 MiB scratch disk holds. (The body itself fits: an answer sent before the
    // whole body is read may be lost to the connection's reset.)
    let answer = publish(&s, "1.0.1", &noisy_bundle(16 * 1024 * 1024, 3));
    assert_eq!((answer.status, answer.json()["error"].as_str()), (507, Some("insufficient_storage")));
    assert_eq!(s.gw.upload_scratch(), Vec::<PathBuf>::new(), "the failed upload's scratch is removed");
    assert!(files_under(&scratch).values().all(|size| *size == 0), "{:?}", files_under(&scratch));
    assert_eq!(files_under(&storage), HashMap::new());

    // The space freed, a bundle that fits is stored and served whole.
    let fits = noisy_bundle(4 * 1024 * 1024, 4);
    let created = publish(&s, "1.0.1", &fits);
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    assert_served_whole(&s, &fits, &sha256_hex(&fits));
}

#[test]
fn a_damaged_object_at_its_key_is_replaced_not_reused() {
    let s = setup("faults_damaged", &[]);
    let page: &[u8] = b"<!doctype html><p>the page</p>";
    let script: Vec<u8> = noise(4096, 5);
    let archive = zip_of(&[("index.html", page), ("app.bin", &script)]);
    let checksum = sha256_hex(&archive);
    // What an earlier version could leave at the keys: the zip cut short by a crash, and a file
    // of the right size whose blocks were lost (zeros).
    let root = &s.gw.storage_root;
    std::fs::create_dir_all(root.join("zips")).unwrap();
    std::fs::create_dir_all(root.join("files")).unwrap();
    std::fs::write(root.join(format!("zips/{checksum}.zip")), &archive[..archive.len() / 2]).unwrap();
    std::fs::write(root.join(format!("files/{}", sha256_hex(&script))), vec![0u8; script.len()]).unwrap();

    let created = publish(&s, "1.0.1", &archive);
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    assert_served_whole(&s, &archive, &checksum);
}
