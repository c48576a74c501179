//! The gateway against hostile or unusual clients, over real HTTP on loopback: forwarded client
//! addresses, memory held by unfinished request bodies, connections per address, byte ranges and
//! conditional requests, and database connections left broken by an internal error.
//! 127.0.0.2, 127.0.0.3, ... are loopback addresses too: client sockets bound to them play other
//! clients.

#![allow(clippy::unwrap_used, reason = "tests")]

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, TcpStream};

use liveupdate_e2e::device::Device;
use liveupdate_e2e::{Gateway, TestDb, eventually, free_port, http};
use serde_json::{Value, json};

const APP: &str = "com.acme.network";
const DEVICE: &str = "5f607182-93a4-4b52-86c7-d8e9f0a1b2c3";
const MIB: usize = 1024 * 1024;

fn loopback(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))
}

/// A database with app `APP` (a bundle on a public channel) and a gateway configured by `env`.
fn setup(test: &str, env: &[(&str, &str)]) -> (TestDb, Gateway) {
    let port = free_port();
    let mut db = TestDb::create(test, &format!("http://127.0.0.1:{port}"));
    db.app(APP);
    db.exec(&format!(
        "SELECT liveupdate.register_bundle('{APP}', '1.0.1', external_url => 'https://cdn.acme.test/1.0.1.zip'); \
         SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.1', public => true)"
    ));
    let gateway = Gateway::start_with(&db, port, env);
    (db, gateway)
}

fn update_check_from(gw: &Gateway, from: IpAddr) -> http::Response {
    let body = Device::new(APP, DEVICE).body().to_string();
    http::request_from(
        from,
        gw.addr,
        "POST",
        "/updates",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

/// The client's own entries in `X-Forwarded-For` change with every request, the entry the proxy
/// appended does not: the per-address limits follow the latter.
#[test]
fn forwarded_for_entries_written_by_the_client_do_not_escape_limits() {
    let (_db, gw) = setup(
        "forwarded_for",
        &[
            ("LIVEUPDATE_CLIENT_ADDRESS_HEADER", "x-forwarded-for"),
            ("LIVEUPDATE_AUTH_FAILURE_LIMIT", "3"),
            ("LIVEUPDATE_CHANNEL_SELF_ADDRESS_LIMIT", "3"),
        ],
    );
    let forwarded = |spoofed: usize, real: &str| format!("198.51.100.{spoofed}, {real}");
    let guess = |xff: &str| {
        http::request(gw.addr, "GET", "/v1/apps", &[("x-api-key", "lu_guess"), ("X-Forwarded-For", xff)], b"")
    };
    for attempt in 0..3 {
        assert_eq!(guess(&forwarded(attempt, "203.0.113.7")).status, 401, "attempt {attempt}");
    }
    let limited = guess(&forwarded(99, "203.0.113.7"));
    assert_eq!(
        (limited.status, limited.json()["error"].clone()),
        (429, json!("too_many_failed_authentications"))
    );
    // Two header lines read as one list: the client's line first, the proxy's last.
    let two_lines = http::request(
        gw.addr,
        "GET",
        "/v1/apps",
        &[
            ("x-api-key", "lu_guess"),
            ("X-Forwarded-For", "198.51.100.200"),
            ("X-Forwarded-For", "203.0.113.7"),
        ],
        b"",
    );
    assert_eq!(two_lines.status, 429);
    assert_eq!(guess(&forwarded(99, "203.0.113.8")).status, 401, "another client is not limited");
    assert_eq!(guess("not an address").status, 401, "a malformed header counts as the peer, 127.0.0.1");

    let channel_get = |device: usize, xff: &str| {
        let body = json!({
            "platform": "ios", "device_id": format!("00000000-0000-4000-8000-{device:012x}"), "app_id": APP,
            "custom_id": "", "version_build": "1.0.0", "version_code": "1", "version_os": "17.4",
            "version_name": "builtin", "plugin_version": "8.51.14", "is_emulator": false, "is_prod": true,
            "defaultChannel": ""
        });
        let headers = [("Content-Type", "application/json"), ("X-Forwarded-For", xff)];
        http::request(gw.addr, "PUT", "/channel_self", &headers, body.to_string().as_bytes())
    };
    for device in 0..3 {
        assert_ne!(channel_get(device, &forwarded(device, "203.0.113.9")).status, 429, "device {device}");
    }
    let limited = channel_get(3, &forwarded(3, "203.0.113.9"));
    assert_eq!((limited.status, limited.json()["error"].clone()), (429, json!("too_many_requests")));
}

/// Current value of the gateway's `liveupdate_body_memory_bytes` gauge.
fn body_memory(gw: &Gateway) -> Option<usize> {
    let metrics = String::from_utf8(http::request(gw.addr, "GET", "/metrics", &[], b"").body).unwrap();
    metrics.lines().find_map(|line| line.strip_prefix("liveupdate_body_memory_bytes ")?.parse().ok())
}

/// `count` connections from `from`, each sending a `/updates/manifest_size` request that declares
/// 4 MiB and sends all of it but the last byte, then waits. Returns the open connections.
fn hold_unfinished_bodies(gw: &Gateway, from: IpAddr, count: usize) -> Vec<TcpStream> {
    let addr = gw.addr;
    let senders: Vec<_> = (0..count)
        .map(|_| {
            std::thread::spawn(move || {
                let mut stream = http::connect_from(from, addr).unwrap();
                let declared = (4 * MIB).to_string();
                let headers = [("Content-Type", "application/json"), ("Content-Length", declared.as_str())];
                let head = http::request_head(addr, "POST", "/updates/manifest_size", &headers, 0);
                // A refused request is answered and closed at once: its writes fail, as they may.
                let _ = stream.write_all(&head).and_then(|()| stream.write_all(&vec![b' '; 4 * MIB - 1]));
                stream
            })
        })
        .collect();
    senders.into_iter().map(|sender| sender.join().unwrap()).collect()
}

/// A further 4 MiB body from `from`, headers only: answered at once when the budget has no room.
fn one_more_body(gw: &Gateway, from: IpAddr) -> http::Response {
    let declared = (4 * MIB).to_string();
    let headers = [("Content-Type", "application/json"), ("Content-Length", declared.as_str())];
    http::request_from(from, gw.addr, "POST", "/updates/manifest_size", &headers, b"")
}

/// 100 slow clients each sending an unfinished 4 MiB body used to make the gateway hold 400 MiB
/// (and 10,000 of them 40 GiB); now bodies are buffered within a budget, refused beyond it.
#[test]
fn request_body_memory_is_bounded() {
    let (_db, gw) = setup(
        "body_memory",
        &[
            ("LIVEUPDATE_BODY_MEMORY_LIMIT_BYTES", &(64 * MIB).to_string()),
            ("LIVEUPDATE_BODY_MEMORY_PER_ADDRESS_BYTES", &(32 * MIB).to_string()),
            // The unfinished bodies must outlive the test's assertions.
            ("LIVEUPDATE_BODY_TIMEOUT_MS", "300000"),
        ],
    );
    assert_eq!(update_check_from(&gw, loopback(1)).status, 200);
    let resident_before = gw.resident_kib();

    // One address fills its share (8 of its 50 bodies); its next body is refused at once, and
    // other clients are still served.
    let first = hold_unfinished_bodies(&gw, loopback(1), 50);
    assert!(eventually(60, || body_memory(&gw) == Some(32 * MIB)), "{:?}", body_memory(&gw));
    let refused = one_more_body(&gw, loopback(1));
    assert_eq!((refused.status, refused.json()["error"].clone()), (429, json!("too_many_pending_bodies")));
    assert_eq!(refused.header("retry-after"), Some("5"));
    assert_eq!(update_check_from(&gw, loopback(3)).status, 200);

    // A second address fills the rest: now everyone's body waits for room.
    let second = hold_unfinished_bodies(&gw, loopback(2), 50);
    assert!(eventually(60, || body_memory(&gw) == Some(64 * MIB)), "{:?}", body_memory(&gw));
    let busy = one_more_body(&gw, loopback(3));
    assert_eq!((busy.status, busy.json()["error"].clone()), (503, json!("body_memory_exhausted")));
    assert_eq!(busy.header("retry-after"), Some("5"));
    let resident_held = gw.resident_kib();
    eprintln!(
        "gateway VmRSS: {resident_before} KiB before, {resident_held} KiB with 100 unfinished 4 MiB bodies \
         sent (budget 64 MiB): +{} MiB",
        resident_held.saturating_sub(resident_before) / 1024
    );
    assert!(
        resident_held.saturating_sub(resident_before) < 3 * 64 * 1024,
        "the gateway grew by {} KiB for a 64 MiB budget",
        resident_held - resident_before
    );

    // Closed connections give their bytes back.
    drop((first, second));
    assert!(eventually(60, || body_memory(&gw) == Some(0)), "{:?}", body_memory(&gw));
    let manifest = json!({"app_id": APP, "device_id": DEVICE, "manifest": []}).to_string();
    let answer = http::request_from(
        loopback(3),
        gw.addr,
        "POST",
        "/updates/manifest_size",
        &[("Content-Type", "application/json")],
        manifest.as_bytes(),
    );
    assert_ne!(answer.status, 503, "{}", String::from_utf8_lossy(&answer.body));
    assert_ne!(answer.status, 429);
    assert_eq!(update_check_from(&gw, loopback(1)).status, 200);
}

/// One address holding idle connections up to its cap gets no more; other addresses are not
/// affected, and a closed connection frees its place.
#[test]
fn connections_per_address_are_capped() {
    let (_db, gw) = setup(
        "connection_cap",
        &[("LIVEUPDATE_MAX_CONNECTIONS_PER_ADDRESS", "8"), ("LIVEUPDATE_HEADER_TIMEOUT_MS", "120000")],
    );
    let mut idle: Vec<TcpStream> =
        (0..8).map(|_| http::connect_from(loopback(1), gw.addr).unwrap()).collect();
    let health_from = |from: IpAddr| {
        let stream = http::connect_from(from, gw.addr).unwrap();
        http::exchange(stream, gw.addr, "GET", "/health", &[], b"").map(|response| response.status)
    };
    assert_eq!(health_from(loopback(1)), None, "the ninth connection from 127.0.0.1 is closed unanswered");
    assert_eq!(health_from(loopback(2)), Some(200), "127.0.0.2 is served");
    idle.pop();
    assert!(eventually(30, || health_from(loopback(1)) == Some(200)), "a freed place is usable again");
}

/// Bundle objects: `Range: bytes=-0` asks for nothing (416), and `If-None-Match` compares weakly.
#[test]
fn empty_suffix_ranges_and_weak_entity_tags() {
    let (_db, gw) = setup("ranges_etags", &[]);
    let hash = "ab".repeat(32);
    let content = b"sixteen bytes..."; // the object's bytes; their hash does not matter here
    std::fs::create_dir_all(gw.storage_root.join("files")).unwrap();
    std::fs::write(gw.storage_root.join("files").join(&hash), content).unwrap();
    let path = format!("/files/files/{hash}");
    let get = |headers: &[(&str, &str)]| http::request(gw.addr, "GET", &path, headers, b"");

    let whole = get(&[]);
    assert_eq!((whole.status, whole.body.as_slice()), (200, content.as_slice()));
    let empty_suffix = get(&[("Range", "bytes=-0")]);
    assert_eq!(empty_suffix.status, 416);
    assert_eq!(empty_suffix.header("content-range"), Some("bytes */16"));
    let last_byte = get(&[("Range", "bytes=-1")]);
    assert_eq!((last_byte.status, last_byte.body.as_slice()), (206, b".".as_slice()));

    let strong = format!("\"{hash}\"");
    let weak = format!("W/\"{hash}\"");
    let listed = format!("\"other\", {weak}");
    for matching in [strong.as_str(), weak.as_str(), listed.as_str(), "*"] {
        let answer = get(&[("If-None-Match", matching)]);
        assert_eq!(answer.status, 304, "If-None-Match: {matching}");
        assert!(answer.body.is_empty());
    }
    assert_eq!(get(&[("If-None-Match", "W/\"other\"")]).status, 200);
}

/// A backend that answers every call with an internal error (XX000, as backends that had loaded
/// an extension library replaced in place under them did: "unrecognized function API version")
/// must not stay in the pool: each such connection fails one request at most, then the gateway
/// opens fresh ones, on which the same call works.
#[test]
fn a_connection_that_failed_internally_is_not_reused() {
    let (mut db, gw) = setup("internal_error", &[("LIVEUPDATE_DB_POOL_SIZE", "2")]);
    let addr = gw.addr;
    // Use both pooled connections.
    let checks: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || http::post_json(addr, "/updates", &Device::new(APP, DEVICE).body()))
        })
        .collect();
    for check in checks {
        assert_eq!(check.join().unwrap().status, 200);
    }
    let gateway_backends = "SELECT coalesce(array_agg(pid ORDER BY pid), '{}') FROM pg_stat_activity \
                            WHERE application_name = 'liveupdate-gateway' AND datname = current_database()";
    let stale: Vec<i32> = db.client.query_one(gateway_backends, &[]).unwrap().get(0);
    assert!(!stale.is_empty());
    // From now on, the backends that exist fail every update check with XX000; new ones work.
    let stale_list = stale.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
    db.exec(&format!(
        "ALTER FUNCTION liveupdate._resolve_update_text(text) RENAME TO _resolve_update_text_real;
         CREATE FUNCTION liveupdate._resolve_update_text(request text) RETURNS text
             LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
         BEGIN
             IF pg_backend_pid() IN ({stale_list}) THEN
                 RAISE EXCEPTION 'unrecognized function API version: 0' USING ERRCODE = 'XX000';
             END IF;
             RETURN liveupdate._resolve_update_text_real(request);
         END $$;"
    ));
    // Update checks until every stale backend has been handed to one (the periodic work may hold
    // one for a while) and closed.
    let mut statuses = Vec::new();
    let stale_gone = eventually(60, || {
        statuses.push(http::post_json(addr, "/updates", &Device::new(APP, DEVICE).body()).status);
        let now: Vec<i32> = db.client.query_one(gateway_backends, &[]).unwrap().get(0);
        now.iter().all(|pid| !stale.contains(pid))
    });
    let failed = statuses.iter().filter(|status| **status != 200).count();
    assert!(stale_gone, "the broken connections stay in the pool: {statuses:?}");
    assert!(failed >= 1, "the stale backends were never used: {statuses:?}");
    assert!(failed <= stale.len(), "each broken connection fails one request at most: {statuses:?}");
    assert!(statuses.iter().all(|status| [200, 500].contains(status)), "{statuses:?}");
    let answer: Value = http::post_json(addr, "/updates", &Device::new(APP, DEVICE).body()).json();
    assert_eq!(answer["version"], "1.0.1");
}
