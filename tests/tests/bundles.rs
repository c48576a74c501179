//! Bundle archives end to end: uploaded over the management API, stored content-addressed on the
//! filesystem (and on a real S3 server), offered by `/updates`, and downloaded and verified by a
//! test device that implements the plugin's checks on its own (`liveupdate_e2e::download`).

#![allow(clippy::unwrap_used, reason = "tests")]

use std::collections::HashMap;

use liveupdate_e2e::device::{Device, Outcome};
use liveupdate_e2e::download::{self, Files, sha256_hex, zip_of};
use liveupdate_e2e::{Gateway, Publisher, free_port, http, stored_objects};
use serde_json::{Value, json};

const APP: &str = "com.acme.bundles";
const DEVICE: &str = "5b6c7d8e-9fa0-4b1c-8d2e-3f4a5b6c7d8e";

fn setup(test: &str, gateway_env: &[(&str, &str)]) -> Publisher {
    Publisher::start(test, APP, gateway_env)
}

/// A web build: an HTML page, a large compressible script, an incompressible image.
fn web_build(script_version: &str) -> Vec<(String, Vec<u8>)> {
    let script: String = (0..4000).map(|i| format!("console.log('{script_version}', {i});\n")).collect();
    let mut noise = Vec::with_capacity(20_000);
    let mut x: u32 = 12345;
    for _ in 0..20_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        noise.push((x >> 16) as u8);
    }
    vec![
        ("index.html".into(), b"<!doctype html><script src=js/app.js></script>".to_vec()),
        ("js/app.js".into(), script.into_bytes()),
        ("img/noise.bin".into(), noise),
    ]
}

fn zip_files(files: &[(String, Vec<u8>)], folder: &str) -> Vec<u8> {
    let named: Vec<(String, &[u8])> =
        files.iter().map(|(n, c)| (format!("{folder}{n}"), c.as_slice())).collect();
    zip_of(&named.iter().map(|(n, c)| (n.as_str(), *c)).collect::<Vec<_>>())
}

/// `zip` with the first `times` occurrences of the name `from` changed to `to` (as long).
fn renamed(mut zip: Vec<u8>, from: &str, to: &str, times: usize) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut start = 0;
    for _ in 0..times {
        let at = start + zip[start..].windows(from.len()).position(|w| w == from.as_bytes()).unwrap();
        zip[at..at + to.len()].copy_from_slice(to.as_bytes());
        start = at + to.len();
    }
    zip
}

fn as_files(files: &[(String, Vec<u8>)]) -> Files {
    files.iter().cloned().collect()
}

/// The offer a device on `plugin` gets: (zip url, checksum, manifest).
fn offer(gw: &Gateway, plugin: &str) -> (String, String, Option<Vec<Value>>) {
    match Device::new(APP, DEVICE).plugin(plugin).outcome(gw.addr) {
        Outcome::Update { url, checksum, manifest, .. } => (url, checksum, manifest),
        other => panic!("no update offered: {other:?}"),
    }
}

#[test]
fn uploads_are_delivered_as_zip_and_as_manifest() {
    let mut s = setup("bundles_delivery", &[]);
    let build = web_build("v1");
    // A build folder, as `vite build` leaves it, zipped with its top-level folder.
    let archive = zip_files(&build, "dist/");
    // Devices run native 1.0.0; the channel only offers bundles above it.
    let created = s.upload("1.0.1", "?channel=production&comment=first%20release", &[], &archive);
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    let bundle = created.json();
    assert_eq!(bundle["checksum"], sha256_hex(&archive));
    assert_eq!(
        (bundle["manifest_count"].as_i64(), bundle["comment"].as_str()),
        (Some(3), Some("first release"))
    );
    assert_eq!(bundle["archive_bytes"].as_u64(), Some(archive.len() as u64), "the stored zip's size");
    assert_eq!(bundle["channels"], json!(["production"]));

    // An old plugin gets the zip; it verifies and unpacks to the build.
    let (url, checksum, manifest) = offer(&s.gw, "5.2.0");
    assert!(manifest.is_none());
    assert_eq!(download::fetch_zip(&url, &checksum).unwrap(), as_files(&build));

    // A current plugin also gets the manifest; fetched file by file, it is the same build, with
    // the script sent brotli-compressed and the noise as is.
    let (_, _, manifest) = offer(&s.gw, "8.51.14");
    let manifest = manifest.unwrap();
    let names: Vec<&str> = manifest.iter().map(|e| e["file_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["img/noise.bin", "index.html", "js/app.js.br"]);
    let (files, downloaded) = download::fetch_manifest(&manifest, &HashMap::new()).unwrap();
    assert_eq!(files, as_files(&build));
    let script_size = build[1].1.len() as u64;
    assert!(downloaded < script_size, "brotli made the download smaller: {downloaded} vs {script_size}");

    // Objects are immutable and resumable.
    let zip_url = url.clone();
    let whole = download::get(&zip_url, &[]);
    assert_eq!(whole.header("cache-control"), Some("public, max-age=31536000, immutable, no-transform"));
    let etag = whole.header("etag").unwrap().to_owned();
    let part = download::get(&zip_url, &[("Range", "bytes=10-19")]);
    assert_eq!((part.status, part.body.as_slice()), (206, &whole.body[10..20]));
    assert_eq!(part.header("content-range"), Some(format!("bytes 10-19/{}", whole.body.len()).as_str()));
    let tail = download::get(&zip_url, &[("Range", "bytes=-5")]);
    assert_eq!(tail.body.as_slice(), &whole.body[whole.body.len() - 5..]);
    let beyond = download::get(&zip_url, &[("Range", &format!("bytes={}-", whole.body.len()))]);
    assert_eq!(beyond.status, 416);
    assert_eq!(download::get(&zip_url, &[("If-None-Match", &etag)]).status, 304);
    assert_eq!(download::get(&zip_url.replace(&checksum, &"0".repeat(64)), &[]).status, 404);
    let zip_path = &zip_url[zip_url.find("/files/").unwrap()..];
    let head = http::request(s.gw.addr, "HEAD", zip_path, &[], b"");
    assert_eq!(head.header("content-length"), Some(whole.body.len().to_string().as_str()));
    assert!(head.body.is_empty());
    assert_eq!(s.bundles(), 1);
}

#[test]
fn a_delta_release_stores_and_downloads_only_what_changed() {
    let s = setup("bundles_delta", &[]);
    let mut build = web_build("v1");
    build.extend((0..40).map(|i| {
        (format!("assets/chunk{i}.js"), format!("export const chunk = {i};\n").repeat(40).into_bytes())
    }));
    assert_eq!(s.upload("1.0.1", "?channel=production", &[], &zip_files(&build, "")).status, 201);
    let (_, _, first) = offer(&s.gw, "8.51.14");
    let (installed, _) = download::fetch_manifest(&first.unwrap(), &HashMap::new()).unwrap();
    let objects_before = stored_objects(&s.gw.storage_root);

    // One file changes.
    build[0].1 = b"<!doctype html><title>v2</title><script src=js/app.js></script>".to_vec();
    let zstd_body = zstd::encode_all(zip_files(&build, "").as_slice(), 3).unwrap();
    let second = s.upload("1.1.0", "?channel=production", &[("Content-Encoding", "zstd")], &zstd_body);
    assert_eq!(second.status, 201, "{}", String::from_utf8_lossy(&second.body));
    let objects_after = stored_objects(&s.gw.storage_root);
    let new_objects: Vec<&String> = objects_after.iter().filter(|k| !objects_before.contains(k)).collect();
    assert_eq!(new_objects.len(), 2, "the changed file and the new zip: {new_objects:?}");

    // The device already holds every file of 1.0.1: it downloads index.html only.
    let cache: HashMap<String, Vec<u8>> = installed.values().map(|c| (sha256_hex(c), c.clone())).collect();
    let (url, _, manifest) = offer(&s.gw, "8.51.14");
    let (files, downloaded) = download::fetch_manifest(&manifest.unwrap(), &cache).unwrap();
    assert_eq!(files, as_files(&build));
    let zip_size = download::get(&url, &[]).body.len() as u64;
    assert_eq!(downloaded, build[0].1.len() as u64);
    assert!(downloaded * 100 <= zip_size * 10, "{downloaded} of {zip_size}");
}

#[test]
fn bad_archives_are_refused_and_leave_nothing() {
    let mut s = setup("bundles_refused", &[]);
    let good = zip_files(&web_build("v1"), "");
    let zeros = vec![0u8; 64 * 1024 * 1024];
    let mut with_symlink = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    with_symlink.start_file("index.html", zip::write::SimpleFileOptions::default()).unwrap();
    std::io::Write::write_all(&mut with_symlink, b"<html>").unwrap();
    with_symlink.add_symlink("passwd", "/etc/passwd", zip::write::SimpleFileOptions::default()).unwrap();
    let with_symlink = with_symlink.finish().unwrap().into_inner();
    // A streaming unzipper (Android's) reads the local header, not the central directory.
    let local_name_differs =
        renamed(zip_of(&[("index.html", b"x"), ("aaaa.js", b"evil")]), "aaaa.js", "../x.js", 1);
    // Named twice: in its local header and in the central directory.
    let named_twice =
        renamed(zip_of(&[("index.html", b"one"), ("indey.html", b"two")]), "indey.html", "index.html", 2);

    // (what, body, extra headers, status, error code)
    type Case<'a> = (&'a str, Vec<u8>, Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            "zip slip",
            zip_of(&[("index.html", b"x"), ("../evil.sh", b"rm -rf /")]),
            vec![],
            400,
            "unsafe_path",
        ),
        (
            "absolute path",
            zip_of(&[("index.html", b"x"), ("/etc/cron.d/x", b"x")]),
            vec![],
            400,
            "unsafe_path",
        ),
        ("backslash", zip_of(&[("index.html", b"x"), ("a\\b.js", b"x")]), vec![], 400, "unsafe_path"),
        ("symlink", with_symlink, vec![], 400, "symlink_in_archive"),
        ("local header names another file", local_name_differs, vec![], 400, "header_mismatch"),
        ("a name twice", named_twice, vec![], 400, "duplicate_path"),
        ("no index.html", zip_of(&[("app.js", b"x")]), vec![], 400, "missing_index_html"),
        (
            "zip bomb",
            zip_of(&[("index.html", b"x"), ("zeros.bin", &zeros)]),
            vec![],
            413,
            "archive_too_large",
        ),
        ("not a zip", b"this is not a zip".to_vec(), vec![], 400, "invalid_archive"),
        ("truncated zip", good[..good.len() / 2].to_vec(), vec![], 400, "invalid_archive"),
        ("bad zstd", b"not zstd".to_vec(), vec![("Content-Encoding", "zstd")], 400, "invalid_encoding"),
        ("gzip", good.clone(), vec![("Content-Encoding", "gzip")], 415, "unsupported_encoding"),
    ];
    let wrong_sha256 = s.upload("2.0.0", &format!("?sha256={}", "0".repeat(64)), &[], &good);
    assert_eq!(
        (wrong_sha256.status, wrong_sha256.json()["error"].as_str()),
        (400, Some("checksum_mismatch"))
    );
    for (name, body, headers, status, code) in &cases {
        let answer = s.upload("2.0.0", "", headers, body);
        let json = answer.json();
        assert_eq!((answer.status, json["error"].as_str()), (*status, Some(*code)), "{name}: {json}");
        assert!(json["message"].as_str().is_some_and(|m| !m.is_empty()), "{name}");
    }
    // Refused before the body is read: rights, version, fields.
    let (_, read_key) = {
        let org: i64 =
            s.db.client
                .query_one("SELECT organization_id FROM liveupdate.apps WHERE app_id = $1", &[&APP])
                .unwrap()
                .get(0);
        let row =
            s.db.client
                .query_one("SELECT id, key FROM liveupdate.create_api_key($1, 'r', 'read')", &[&org])
                .unwrap();
        (row.get::<_, i64>(0), row.get::<_, String>(1))
    };
    let read = http::request(
        s.gw.addr,
        "PUT",
        &format!("/v1/apps/{APP}/bundles/2.0.0/archive"),
        &[("x-api-key", read_key.as_str())],
        &good,
    );
    assert_eq!((read.status, read.json()["error"].as_str()), (403, Some("forbidden")));
    assert_eq!(s.upload("not-semver", "", &[], &good).status, 400);
    assert_eq!(s.upload("2.0.0", "?channel=nope", &[], &good).status, 404);
    assert_eq!(s.upload("2.0.0", "?unknown=1", &[], &good).status, 400);

    assert_eq!(s.bundles(), 0, "nothing registered");
    assert_eq!(stored_objects(&s.gw.storage_root), Vec::<String>::new(), "no object left behind");
    assert_eq!(s.gw.upload_scratch(), Vec::<std::path::PathBuf>::new(), "no scratch left behind");

    // An upload cut off mid-body: the connection drops after half of what Content-Length says.
    {
        use std::io::Write;
        let mut stream = std::net::TcpStream::connect(s.gw.addr).unwrap();
        let head = format!(
            "PUT /v1/apps/{APP}/bundles/2.0.0/archive HTTP/1.1\r\nHost: x\r\nx-api-key: {}\r\nContent-Length: {}\r\n\r\n",
            s.key,
            good.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&good[..good.len() / 2]).unwrap();
    }
    assert!(liveupdate_e2e::eventually(5, || s.gw.upload_scratch().is_empty()));
    assert_eq!(s.bundles(), 0);

    // The same version with a good archive still works afterwards, and its name is then taken.
    assert_eq!(s.upload("2.0.0", "", &[], &good).status, 201);
    let again = s.upload("2.0.0", "", &[], &good);
    assert_eq!((again.status, again.json()["error"].as_str()), (409, Some("conflict")));
}

/// The same flow on a real S3 server (s3s-fs, `LIVEUPDATE_S3_SERVER_BIN`), started on loopback.
#[test]
fn s3_storage_serves_the_same_bundles() {
    let server_bin =
        std::env::var("LIVEUPDATE_S3_SERVER_BIN").expect("LIVEUPDATE_S3_SERVER_BIN: run with make test");
    let root = std::env::temp_dir().join(format!("liveupdate-e2e-s3-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("bundles")).unwrap();
    let port = free_port();
    let _server = S3Server(
        std::process::Command::new(server_bin)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", "test-access", "--secret-key", "test-secret-key"])
            .arg(&root)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
        root.clone(),
    );
    assert!(liveupdate_e2e::eventually(10, || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()));
    let endpoint = format!("http://127.0.0.1:{port}");
    let s = setup(
        "bundles_s3",
        &[
            ("LIVEUPDATE_STORAGE", "s3"),
            ("LIVEUPDATE_S3_ENDPOINT", &endpoint),
            ("LIVEUPDATE_S3_BUCKET", "bundles"),
            ("LIVEUPDATE_S3_ACCESS_KEY_ID", "test-access"),
            ("LIVEUPDATE_S3_SECRET_ACCESS_KEY", "test-secret-key"),
        ],
    );
    let build = web_build("s3");
    let archive = zip_files(&build, "");
    // A truncated object already at the zip's key (put there by something else than the gateway,
    // whose S3 writes appear whole): its size gives it away, and it is replaced, not reused.
    let zip_key = root.join("bundles").join("zips").join(format!("{}.zip", sha256_hex(&archive)));
    std::fs::create_dir_all(zip_key.parent().unwrap()).unwrap();
    std::fs::write(&zip_key, &archive[..archive.len() / 2]).unwrap();
    let created = s.upload("1.0.1", "?channel=production", &[], &archive);
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    let (url, checksum, manifest) = offer(&s.gw, "8.51.14");
    assert_eq!(download::fetch_zip(&url, &checksum).unwrap(), as_files(&build));
    assert_eq!(download::fetch_manifest(&manifest.unwrap(), &HashMap::new()).unwrap().0, as_files(&build));
    let part = download::get(&url, &[("Range", "bytes=0-3")]);
    assert_eq!((part.status, part.body.as_slice()), (206, b"PK\x03\x04".as_slice()));
    // The objects really are in the S3 server's bucket (s3s-fs keeps them as files).
    assert!(root.join("bundles").join("zips").join(format!("{checksum}.zip")).exists());
    assert!(stored_objects(&s.gw.storage_root).is_empty(), "nothing on the gateway's own disk");
}

/// The S3 server process and its data, gone when the test ends, however it ends.
struct S3Server(std::process::Child, std::path::PathBuf);

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

#[test]
fn deleted_bundles_leave_storage_after_the_grace_period() {
    let mut s = setup("bundles_cleanup", &[("LIVEUPDATE_PERIODIC_INTERVAL_MS", "300")]);
    let shared: &[u8] = b"console.log('the same in both releases');";
    let first = zip_of(&[("index.html", b"<html>first</html>"), ("app.js", shared)]);
    let second = zip_of(&[("index.html", b"<html>second</html>"), ("app.js", shared)]);
    assert_eq!(s.upload("1.0.1", "", &[], &first).status, 201);
    assert_eq!(s.upload("1.0.2", "?channel=production", &[], &second).status, 201);
    let all = stored_objects(&s.gw.storage_root);
    assert_eq!(all.len(), 5, "two zips, two index.html, one app.js: {all:?}");
    let deleted = http::request(
        s.gw.addr,
        "DELETE",
        &format!("/v1/apps/{APP}/bundles/1.0.1"),
        &[("x-api-key", s.key.as_str())],
        b"",
    );
    assert_eq!(deleted.status, 200, "{}", String::from_utf8_lossy(&deleted.body));
    // Within the grace period (7 days) the objects stay, however often the periodic work runs.
    let runs = s.db.count("SELECT count(*) FROM liveupdate.periodic_runs");
    assert!(liveupdate_e2e::eventually(20, || s.db.count("SELECT count(*) FROM liveupdate.periodic_runs")
        >= runs + 3));
    assert_eq!(stored_objects(&s.gw.storage_root), all);

    // Eight days later: the gateway deletes what only 1.0.1 used, and nothing 1.0.2 needs.
    s.db.exec("UPDATE liveupdate.bundles SET deleted_at = now() - interval '8 days' WHERE name = '1.0.1'");
    let gone =
        [format!("zips/{}.zip", sha256_hex(&first)), format!("files/{}", sha256_hex(b"<html>first</html>"))];
    let kept: Vec<String> = all.iter().filter(|key| !gone.contains(key)).cloned().collect();
    assert!(
        liveupdate_e2e::eventually(20, || {
            // Queued objects wait a minute before the gateway may claim them: let it pass.
            s.db.exec("UPDATE liveupdate.storage_deletions SET queued_at = queued_at - interval '1 minute'");
            stored_objects(&s.gw.storage_root) == kept
        }),
        "{:?}",
        stored_objects(&s.gw.storage_root)
    );
    // The gateway deletes the objects, then commits forgetting them: the queue empties just after.
    let queued = "SELECT count(*) FROM liveupdate.storage_deletions";
    assert!(liveupdate_e2e::eventually(10, || s.db.count(queued) == 0));
    assert_eq!(
        s.db.count("SELECT count(*) FROM liveupdate.bundles WHERE name = '1.0.1' AND purged_at IS NOT NULL"),
        1
    );
    // 1.0.2 is whole: a device downloads and verifies it.
    let device = Device::new(APP, DEVICE).running("builtin").native("1.0.0");
    let Outcome::Update { url, checksum, .. } = device.outcome(s.gw.addr) else {
        panic!("no update offered")
    };
    assert_eq!(download::fetch_zip(&url, &checksum).unwrap().len(), 2);
    // The gateway reports what it sent: the app's statistics have the zip's bytes.
    let served = || "SELECT coalesce(sum(served_bytes), 0)::bigint FROM liveupdate.stats_activity WHERE granularity = 'day'";
    assert!(
        liveupdate_e2e::eventually(20, || s.db.count(served()) == second.len() as i64),
        "{}",
        s.db.count(served())
    );
    // Its name stays taken; its content, uploaded again under a new name, is stored again.
    assert_eq!(s.upload("1.0.1", "", &[], &first).status, 409);
    assert_eq!(s.upload("1.0.3", "", &[], &first).status, 201);
    assert_eq!(stored_objects(&s.gw.storage_root), all);
}
