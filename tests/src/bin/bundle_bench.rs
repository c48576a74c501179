//! Bundle storage and delivery benchmark (`make bench-bundles`, see `.ci/bench-bundles`):
//! upload throughput and the gateway's peak memory for a 200 MB archive, download throughput with
//! and without `Range`, what a device downloads when one file of a 500-file bundle changed, and
//! the storage ten such releases take.
//!
//! Usage: bundle_bench <gateway host:port> <api key> <app id> <gateway pid> <storage root>

#![allow(clippy::unwrap_used, reason = "benchmark: a failed step should stop it loudly")]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use liveupdate_e2e::download::{self, sha256_hex, zip_of};
use liveupdate_e2e::http;
use serde_json::Value;

const MB: f64 = 1024.0 * 1024.0;

/// Deterministic incompressible bytes.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A JavaScript-like file: compressible, different per `seed`.
fn script(seed: usize, release: usize) -> Vec<u8> {
    (0..120)
        .map(|line| format!("export const value{line}_{seed} = {};\n", line * seed + release))
        .collect::<String>()
        .into_bytes()
}

fn peak_rss_mb(pid: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    kb / 1024.0
}

/// Bytes stored under one folder of the storage root (`files` or `zips`).
fn disk_bytes(root: &Path, folder: &str) -> u64 {
    std::fs::read_dir(root.join(folder))
        .map(|entries| entries.map(|e| e.unwrap().metadata().unwrap().len()).sum())
        .unwrap_or(0)
}

fn upload(addr: SocketAddr, key: &str, app: &str, version: &str, body: &[u8]) -> Value {
    let path = format!("/v1/apps/{app}/bundles/{version}/archive?channel=production");
    let answer = http::request(addr, "PUT", &path, &[("x-api-key", key)], body);
    assert_eq!(answer.status, 201, "{}", String::from_utf8_lossy(&answer.body));
    answer.json()
}

/// The offer a current plugin gets for `version`'s app: (zip url, manifest).
fn offer(addr: SocketAddr, app: &str) -> (String, Vec<Value>) {
    let device = liveupdate_e2e::device::Device::new(app, "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9");
    match device.outcome(addr) {
        liveupdate_e2e::device::Outcome::Update { url, manifest, .. } => (url, manifest.unwrap_or_default()),
        other => panic!("no offer: {other:?}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, addr, key, app, pid, root] = args.as_slice() else {
        eprintln!("usage: bundle_bench <host:port> <api key> <app id> <gateway pid> <storage root>");
        std::process::exit(2);
    };
    let addr: SocketAddr = addr.parse().unwrap();
    let root = Path::new(root);

    // 1. A 200 MB archive: 200 incompressible 1 MB files (stored as is) and an index.html.
    let mut files: Vec<(String, Vec<u8>)> = vec![("index.html".into(), b"<!doctype html>".to_vec())];
    files.extend((0..200).map(|i| (format!("media/clip{i}.bin"), noise(i as u64 + 1, 1024 * 1024))));
    let named: Vec<(&str, &[u8])> = files.iter().map(|(n, c)| (n.as_str(), c.as_slice())).collect();
    let big = zip_of(&named);
    drop(files);
    let started = Instant::now();
    upload(addr, key, app, "1.0.1", &big);
    let upload_seconds = started.elapsed().as_secs_f64();
    let rss = peak_rss_mb(pid);
    println!(
        "upload {:.0} MB archive: {upload_seconds:.2} s, {:.1} MB/s",
        big.len() as f64 / MB,
        big.len() as f64 / MB / upload_seconds
    );
    println!("gateway peak RSS (VmHWM) after it: {rss:.1} MB");

    // 2. Downloads of that zip: whole, then in 8 MB ranges as a resuming client would.
    let (url, _) = offer(addr, app);
    let started = Instant::now();
    let whole = download::get(&url, &[]);
    let whole_seconds = started.elapsed().as_secs_f64();
    assert_eq!(sha256_hex(&whole.body), sha256_hex(&big));
    println!("download whole zip: {:.1} MB/s", big.len() as f64 / MB / whole_seconds);
    let started = Instant::now();
    let mut assembled = Vec::with_capacity(big.len());
    let chunk = 8 * 1024 * 1024;
    while assembled.len() < big.len() {
        let range = format!("bytes={}-{}", assembled.len(), assembled.len() + chunk - 1);
        let part = download::get(&url, &[("Range", &range)]);
        assert_eq!(part.status, 206);
        assembled.extend_from_slice(&part.body);
    }
    let ranged_seconds = started.elapsed().as_secs_f64();
    assert_eq!(assembled, big);
    println!("download in 8 MB ranges: {:.1} MB/s", big.len() as f64 / MB / ranged_seconds);
    println!("gateway peak RSS (VmHWM) after downloads: {:.1} MB", peak_rss_mb(pid));
    drop((big, whole, assembled));

    // 3-4. Ten releases of a 500-file app, each changing one script (release 0 is the base).
    let (files_before, zips_before) = (disk_bytes(root, "files"), disk_bytes(root, "zips"));
    let mut zip_total = 0u64;
    let mut cache: HashMap<String, Vec<u8>> = HashMap::new();
    for release in 0..10usize {
        let mut bundle: Vec<(String, Vec<u8>)> = vec![("index.html".into(), b"<!doctype html>".to_vec())];
        bundle.extend(
            (0..499)
                .map(|i| (format!("assets/chunk{i}.js"), script(i, if i == release { release } else { 0 }))),
        );
        let named: Vec<(&str, &[u8])> = bundle.iter().map(|(n, c)| (n.as_str(), c.as_slice())).collect();
        let archive = zip_of(&named);
        zip_total += archive.len() as u64;
        upload(addr, key, app, &format!("1.1.{release}"), &archive);
        let (_, manifest) = offer(addr, app);
        let (files, downloaded) = download::fetch_manifest(&manifest, &cache).unwrap();
        if release == 1 {
            println!(
                "delta release (1 of 500 files changed): device downloaded {downloaded} bytes of a {} byte zip ({:.2}%)",
                archive.len(),
                downloaded as f64 * 100.0 / archive.len() as f64
            );
        }
        cache.extend(files.into_values().map(|content| (sha256_hex(&content), content)));
    }
    let files = disk_bytes(root, "files") - files_before;
    let zips = disk_bytes(root, "zips") - zips_before;
    println!(
        "ten releases: manifest files stored once take {files} bytes ({:.0}% of ten zips, {zip_total} bytes); \
         with the zips kept for plugins without manifests, {} bytes ({:.0}%)",
        files as f64 * 100.0 / zip_total as f64,
        files + zips,
        (files + zips) as f64 * 100.0 / zip_total as f64
    );
}
