//! The management API end to end: a real gateway and database, keys created as an operator
//! would, every request over HTTP. Rights in depth are proven by pg_regress (50_management); here
//! the HTTP contract: routes, status codes, error bodies, key handling, the failed-authentication
//! limit, and that bad input changes nothing.

#![allow(clippy::unwrap_used, reason = "tests")]

use liveupdate_e2e::device::{Device, Outcome};
use liveupdate_e2e::{Gateway, OwnCluster, TestDb, contract, free_port, http};
use serde_json::{Value, json};

const APP: &str = "com.acme.console";
const OTHER_APP: &str = "com.acme.other";
const FOREIGN_APP: &str = "com.rival.app";

struct Setup {
    db: TestDb,
    gw: Gateway,
    org: i64,
}

/// Organization "acme" with two apps and rival organization with one; a gateway on top.
fn setup(test: &str, gateway_env: &[(&str, &str)]) -> Setup {
    setup_logging(test, gateway_env, None)
}

/// [`setup`] with the gateway's log written to `log`.
fn setup_logging(test: &str, gateway_env: &[(&str, &str)], log: Option<std::fs::File>) -> Setup {
    let port = free_port();
    let mut db = TestDb::create(test, &format!("http://127.0.0.1:{port}"));
    let org: i64 = db.client.query_one("SELECT liveupdate.create_organization('acme')", &[]).unwrap().get(0);
    db.exec(&format!(
        "SELECT liveupdate.create_app({org}, '{APP}'); SELECT liveupdate.create_app({org}, '{OTHER_APP}'); \
         SELECT liveupdate.create_app(liveupdate.create_organization('rival'), '{FOREIGN_APP}')"
    ));
    let gw = match log {
        Some(file) => Gateway::start_logging(&db.gateway_url(), port, gateway_env, file.into()),
        None => Gateway::start_with(&db, port, gateway_env),
    };
    Setup { db, gw, org }
}

impl Setup {
    /// A key made by an operator in psql: (id, key).
    fn key(&mut self, mode: &str, apps: Option<&[&str]>) -> (i64, String) {
        let apps: Option<Vec<String>> = apps.map(|apps| apps.iter().map(|a| a.to_string()).collect());
        let row = self
            .db
            .client
            .query_one(
                "SELECT id, key FROM liveupdate.create_api_key($1, 'test', $2, $3)",
                &[&self.org, &mode, &apps],
            )
            .unwrap();
        (row.get(0), row.get(1))
    }

    /// A management request; its answer must match the OpenAPI document's schema for it.
    fn call(&self, method: &str, path: &str, key: &str, body: Option<Value>) -> http::Response {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let response = http::request(
            self.gw.addr,
            method,
            path,
            &[("x-api-key", key), ("Content-Type", "application/json")],
            body.as_bytes(),
        );
        contract::check_answer(method, path, &response);
        response
    }

    /// Everything a management request could change, as one fingerprint.
    fn fingerprint(&mut self) -> String {
        self.db
            .client
            .query_one(
                "SELECT md5(concat_ws('|',
                    (SELECT string_agg(a::text, ',' ORDER BY a.id) FROM liveupdate.apps a),
                    (SELECT string_agg(c::text, ',' ORDER BY c.id) FROM liveupdate.channels c),
                    (SELECT string_agg(b::text, ',' ORDER BY b.id) FROM liveupdate.bundles b),
                    (SELECT string_agg(o::text, ',' ORDER BY o.device_id) FROM liveupdate.device_overrides o),
                    (SELECT string_agg((k.id, k.name, k.mode, k.app_ids, k.expires_at, k.revoked_at)::text, ',' ORDER BY k.id)
                     FROM liveupdate.api_keys k)))",
                &[],
            )
            .unwrap()
            .get(0)
    }
}

/// The bundle a device is offered at its next check, if any.
fn offered(s: &Setup, device: &Device) -> Option<String> {
    match device.outcome(s.gw.addr) {
        Outcome::Update { version, .. } => Some(version),
        _ => None,
    }
}

fn assert_error(response: &http::Response, status: u16, code: &str) {
    let body = response.json();
    assert_eq!((response.status, body["error"].as_str()), (status, Some(code)), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

#[test]
fn a_release_is_managed_end_to_end() {
    let mut s = setup("mgmt_lifecycle", &[]);
    let (_, key) = s.key("all", None);

    let created = s.call("POST", "/v1/apps", &key, Some(json!({"app_id": "com.acme.new", "name": "New"})));
    assert_eq!(created.status, 201, "{}", created.json());
    assert_eq!(created.json()["organization_id"], s.org, "the key's organization by default");
    let apps = s.call("GET", "/v1/apps", &key, None).json();
    let ids: Vec<&str> =
        apps["apps"].as_array().unwrap().iter().map(|a| a["app_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [APP, "com.acme.new", OTHER_APP], "sorted, and nothing of the rival organization");
    let patched = s.call("PATCH", &format!("/v1/apps/{APP}"), &key, Some(json!({"expose_metadata": true})));
    assert_eq!(patched.json()["expose_metadata"], true);

    let bundle = s.call(
        "POST",
        &format!("/v1/apps/{APP}/bundles"),
        &key,
        Some(json!({"version": "1.2.0", "external_url": "https://cdn.acme.test/1.2.0.zip", "comment": "first"})),
    );
    assert_eq!(bundle.status, 201, "{}", bundle.json());
    let channel = s.call(
        "POST",
        &format!("/v1/apps/{APP}/channels"),
        &key,
        Some(json!({"name": "production", "public": true, "disable_auto_update": "none", "allow_emulator": false})),
    );
    assert_eq!(channel.status, 201, "{}", channel.json());
    assert_eq!(channel.json()["bundle"], "builtin");
    let device = Device::new(APP, "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
    assert_eq!(offered(&s, &device), None, "builtin until deployed");

    let deployed = s.call(
        "PATCH",
        &format!("/v1/apps/{APP}/channels/production"),
        &key,
        Some(json!({"bundle": "1.2.0"})),
    );
    assert_eq!(deployed.json()["bundle"], "1.2.0");
    assert_eq!(offered(&s, &device).as_deref(), Some("1.2.0"));
    let production = s.call("GET", &format!("/v1/apps/{APP}/channels/production"), &key, None).json();
    assert_eq!((&production["bundle"], &production["rollout"]), (&json!("1.2.0"), &Value::Null));
    let noted = s.call(
        "PATCH",
        &format!("/v1/apps/{APP}/bundles/1.2.0"),
        &key,
        Some(json!({"link": "https://acme.test/notes"})),
    );
    assert_eq!(
        (&noted.json()["link"], &noted.json()["comment"]),
        (&json!("https://acme.test/notes"), &json!("first"))
    );

    // The channel's failure guard: its defaults, then changed; omitted settings are kept.
    let guard_path = format!("/v1/apps/{APP}/channels/production/guard");
    let guard = s.call("GET", &guard_path, &key, None).json();
    assert_eq!(
        (guard["settings"]["deploy_action"].as_str(), &guard["decisions"]),
        (Some("rollback"), &json!([]))
    );
    let changed = s
        .call("PUT", &guard_path, &key, Some(json!({"rollout_action": "alert", "max_failure_rate": 0.1})))
        .json();
    assert_eq!(
        (&changed["settings"]["rollout_action"], &changed["settings"]["max_failure_rate"]),
        (&json!("alert"), &json!(0.1))
    );
    assert_eq!(changed["settings"]["deploy_action"], "rollback");

    // A second channel and an override send one device elsewhere.
    s.call(
        "POST",
        &format!("/v1/apps/{APP}/bundles"),
        &key,
        Some(json!({"version": "1.3.0-beta.1", "external_url": "https://cdn.acme.test/b.zip"})),
    );
    s.call(
        "POST",
        &format!("/v1/apps/{APP}/channels"),
        &key,
        Some(json!({"name": "beta team", "bundle": "1.3.0-beta.1"})),
    );
    let assigned = s.call(
        "PUT",
        &format!("/v1/apps/{APP}/devices/{}/channel", "7A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"),
        &key,
        Some(json!({"channel": "beta team"})),
    );
    assert_eq!(
        assigned.json(),
        json!({"device_id": "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "channel": "beta team"})
    );
    assert_eq!(offered(&s, &device).as_deref(), Some("1.3.0-beta.1"));
    let bundles = s.call("GET", &format!("/v1/apps/{APP}/bundles/1.3.0-beta.1"), &key, None).json();
    assert_eq!(bundles["channels"], json!(["beta team"]));

    // The device list sees it, with its assignment, once its check is recorded.
    assert!(liveupdate_e2e::eventually(10, || s.db.count("SELECT count(*) FROM liveupdate.devices") == 1));
    let listed = s
        .call("GET", &format!("/v1/apps/{APP}/devices?channel=beta%20team&platform=android"), &key, None)
        .json();
    assert_eq!(listed["devices"][0]["channel_override"], "beta team");
    let one =
        s.call("GET", &format!("/v1/apps/{APP}/devices/7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"), &key, None);
    assert_eq!(one.json(), listed["devices"][0]);
    assert_eq!(listed["next_cursor"], Value::Null);
    let removed = s.call(
        "DELETE",
        &format!("/v1/apps/{APP}/devices/{}/channel", "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"),
        &key,
        None,
    );
    assert_eq!(removed.json(), json!({"removed": true}));
    assert_eq!(offered(&s, &device).as_deref(), Some("1.2.0"));

    // A progressive rollout on production: the channel shows it while it runs.
    let rollout_path = format!("/v1/apps/{APP}/channels/production/rollout");
    let started = s.call(
        "POST",
        &rollout_path,
        &key,
        Some(json!({"action": "start", "bundle": "1.3.0-beta.1", "basis_points": 2500})),
    );
    assert_eq!(
        started.json()["rollout"],
        json!({"bundle": "1.3.0-beta.1", "basis_points": 2500, "paused": false})
    );
    let abandoned = s.call("POST", &rollout_path, &key, Some(json!({"action": "abandon"})));
    assert_eq!(abandoned.json()["rollout"], Value::Null);

    // Deployed bundles cannot be deleted; others are soft-deleted and leave the listing.
    assert_error(
        &s.call("DELETE", &format!("/v1/apps/{APP}/bundles/1.2.0"), &key, None),
        409,
        "invalid_state",
    );
    s.call("DELETE", &format!("/v1/apps/{APP}/channels/beta%20team"), &key, None);
    assert_eq!(
        s.call("DELETE", &format!("/v1/apps/{APP}/bundles/1.3.0-beta.1"), &key, None).json(),
        json!({"deleted": true})
    );
    let listing = s.call("GET", &format!("/v1/apps/{APP}/bundles"), &key, None).json();
    assert_eq!(listing["bundles"].as_array().unwrap().len(), 1);
    let with_deleted =
        s.call("GET", &format!("/v1/apps/{APP}/bundles?include_deleted=true&limit=1"), &key, None).json();
    assert_eq!(with_deleted["bundles"][0]["version"], "1.3.0-beta.1");
    let cursor = with_deleted["next_cursor"].as_str().unwrap();
    let next = s
        .call(
            "GET",
            &format!("/v1/apps/{APP}/bundles?include_deleted=true&limit=1&cursor={cursor}"),
            &key,
            None,
        )
        .json();
    assert_eq!((next["bundles"][0]["version"].as_str(), &next["next_cursor"]), (Some("1.2.0"), &Value::Null));
    assert_error(
        &s.call(
            "POST",
            &format!("/v1/apps/{APP}/bundles"),
            &key,
            Some(json!({"version": "1.3.0-beta.1", "external_url": "https://x.test/a.zip"})),
        ),
        409,
        "conflict",
    );

    // Keys: created once with the secret, listed without it, revoked for good.
    let created =
        s.call("POST", "/v1/keys", &key, Some(json!({"name": "ci", "mode": "upload", "apps": [APP]})));
    assert_eq!(created.status, 201);
    let new_key = created.json()["key"].as_str().unwrap().to_owned();
    let new_id = created.json()["id"].as_i64().unwrap();
    let listed = s.call("GET", "/v1/keys", &key, None);
    let text = String::from_utf8(listed.body.clone()).unwrap();
    assert!(!text.contains(&new_key) && !text.contains("hash"), "{text}");
    assert_eq!(listed.json()["keys"].as_array().unwrap().len(), 2);
    assert_eq!(s.call("GET", &format!("/v1/apps/{APP}"), &new_key, None).status, 200);
    assert_eq!(s.call("DELETE", &format!("/v1/keys/{new_id}"), &key, None).json(), json!({"revoked": true}));
    assert_error(&s.call("GET", &format!("/v1/apps/{APP}"), &new_key, None), 401, "invalid_api_key");
    assert_error(&s.call("DELETE", &format!("/v1/keys/{new_id}"), &key, None), 404, "not_found");

    // The channel's history, and a rollback to the bundle it had before (builtin).
    let history_path = format!("/v1/apps/{APP}/channels/production/history");
    let history = s.call("GET", &history_path, &key, None).json();
    assert_eq!(
        (&history["deploys"][0]["to"], &history["deploys"][0]["reason"]),
        (&json!("1.2.0"), &json!("deploy"))
    );
    let rolled_back =
        s.call("POST", &format!("/v1/apps/{APP}/channels/production/rollback"), &key, Some(json!({})));
    assert_eq!(rolled_back.json()["bundle"], "builtin");
    let history = s.call("GET", &history_path, &key, None).json();
    assert_eq!(
        (&history["deploys"][0]["from"], &history["deploys"][0]["to"], &history["deploys"][0]["reason"]),
        (&json!("1.2.0"), &json!("builtin"), &json!("rollback"))
    );

    // The app made at the start goes, with everything of it.
    let gone = s.call("DELETE", "/v1/apps/com.acme.new", &key, None);
    assert_eq!(gone.json(), json!({"deleted": true}));
    assert_error(&s.call("GET", "/v1/apps/com.acme.new", &key, None), 404, "not_found");

    // The document describing all this needs no key.
    let document = http::request(s.gw.addr, "GET", "/v1/openapi.json", &[], b"").json();
    assert_eq!(document["openapi"], "3.1.0");
}

#[test]
fn keys_are_scoped_by_mode_app_and_lifetime() {
    let mut s = setup("mgmt_scopes", &[]);
    let (_, limited) = s.key("write", Some(&[OTHER_APP]));
    let (_, read) = s.key("read", None);
    let (_, upload) = s.key("upload", None);
    let (expired_id, expired) = s.key("all", None);
    let (revoked_id, revoked) = s.key("all", None);
    s.db.exec(&format!(
        "UPDATE liveupdate.api_keys SET expires_at = now() - interval '1 second' WHERE id = {expired_id}; \
         SELECT liveupdate.revoke_api_key({revoked_id})"
    ));
    s.db.exec(&format!("SELECT liveupdate.create_channel('{APP}', 'production'), liveupdate.create_channel('{OTHER_APP}', 'production')"));

    // An app-limited key sees and changes only its app; for anything else there is nothing.
    let own = s.call(
        "PATCH",
        &format!("/v1/apps/{OTHER_APP}/channels/production"),
        &limited,
        Some(json!({"allow_dev": false})),
    );
    assert_eq!(own.json()["allow_dev"], false);
    assert_error(&s.call("GET", &format!("/v1/apps/{APP}"), &limited, None), 404, "not_found");
    assert_error(
        &s.call(
            "PATCH",
            &format!("/v1/apps/{APP}/channels/production"),
            &limited,
            Some(json!({"allow_dev": false})),
        ),
        404,
        "not_found",
    );
    assert_error(&s.call("GET", &format!("/v1/apps/{FOREIGN_APP}"), &limited, None), 404, "not_found");
    // Organization-wide acts are refused to it.
    assert_error(
        &s.call("POST", "/v1/keys", &limited, Some(json!({"name": "x", "mode": "all"}))),
        403,
        "forbidden",
    );
    assert_error(
        &s.call("POST", "/v1/apps", &limited, Some(json!({"app_id": "com.acme.sneaky"}))),
        403,
        "forbidden",
    );
    let seen = s.call("GET", "/v1/apps", &limited, None).json();
    assert_eq!(seen["apps"].as_array().unwrap().len(), 1);

    // Modes: read reads, upload also registers bundles, neither deploys.
    assert_eq!(s.call("GET", &format!("/v1/apps/{APP}/channels"), &read, None).status, 200);
    assert_error(
        &s.call("PATCH", &format!("/v1/apps/{APP}"), &read, Some(json!({"name": "x"}))),
        403,
        "forbidden",
    );
    let registered = s.call(
        "POST",
        &format!("/v1/apps/{APP}/bundles"),
        &upload,
        Some(json!({"version": "2.0.0", "external_url": "https://cdn.acme.test/2.zip"})),
    );
    assert_eq!(registered.status, 201);
    assert_error(
        &s.call(
            "PATCH",
            &format!("/v1/apps/{APP}/channels/production"),
            &upload,
            Some(json!({"bundle": "2.0.0"})),
        ),
        403,
        "forbidden",
    );
    assert_error(&s.call("GET", "/v1/keys", &upload, None), 403, "forbidden");

    // Expired, revoked, unknown and missing keys get the same 401, which says no more.
    for bad in [
        expired.as_str(),
        revoked.as_str(),
        "lu_0000000000000000000000000000000000000000000000000000000000000000",
    ] {
        let answer = s.call("GET", "/v1/apps", bad, None);
        assert_error(&answer, 401, "invalid_api_key");
        assert_eq!(answer.header("www-authenticate"), Some("Bearer"));
    }
    let no_key = http::request(s.gw.addr, "GET", "/v1/apps", &[], b"");
    assert_error(&no_key, 401, "invalid_api_key");
    let messages: Vec<String> =
        [&no_key, &s.call("GET", "/v1/apps", &expired, None), &s.call("GET", "/v1/apps", &revoked, None)]
            .iter()
            .map(|r| r.json()["message"].as_str().unwrap().to_owned())
            .collect();
    assert!(messages.windows(2).all(|w| w[0] == w[1]), "{messages:?}");

    // Authorization works as Bearer and bare.
    for header in [format!("Bearer {read}"), read.clone()] {
        let answer = http::request(s.gw.addr, "GET", "/v1/apps", &[("Authorization", header.as_str())], b"");
        assert_eq!(answer.status, 200);
    }
}

#[test]
fn last_use_is_recorded_even_for_failed_requests() {
    let mut s = setup("mgmt_last_used", &[]);
    let (id, key) = s.key("read", None);
    let last_used = |s: &mut Setup| -> Option<std::time::SystemTime> {
        s.db.client
            .query_one("SELECT last_used_at FROM liveupdate.api_keys WHERE id = $1", &[&id])
            .unwrap()
            .get(0)
    };
    assert_eq!(last_used(&mut s), None);
    let before = std::time::SystemTime::now() - std::time::Duration::from_secs(1);
    assert_error(
        &s.call("PATCH", &format!("/v1/apps/{APP}"), &key, Some(json!({"name": "x"}))),
        403,
        "forbidden",
    );
    let recorded = last_used(&mut s).expect("a refused request still used the key");
    assert!(
        recorded >= before && recorded <= std::time::SystemTime::now() + std::time::Duration::from_secs(1)
    );
    // One-minute resolution: an older stamp is refreshed, a recent one is left alone.
    s.db.exec(&format!(
        "UPDATE liveupdate.api_keys SET last_used_at = now() - interval '2 minutes' WHERE id = {id}"
    ));
    s.call("GET", "/v1/apps", &key, None);
    assert!(last_used(&mut s).unwrap() >= before);
}

#[test]
fn failed_authentications_are_limited_per_address() {
    let mut s = setup("mgmt_auth_limit", &[("LIVEUPDATE_AUTH_FAILURE_LIMIT", "3")]);
    let (_, key) = s.key("read", None);
    for _ in 0..3 {
        assert_error(&s.call("GET", "/v1/apps", "lu_guess", None), 401, "invalid_api_key");
    }
    let limited = s.call("GET", "/v1/apps", "lu_guess", None);
    assert_error(&limited, 429, "too_many_failed_authentications");
    assert!(limited.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    // While limited, even a good key from that address waits; devices are not affected.
    assert_error(&s.call("GET", "/v1/apps", &key, None), 429, "too_many_failed_authentications");
    let health = http::request(s.gw.addr, "GET", "/updates", &[], b"");
    assert_eq!(health.status, 200);
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let mut s = setup("mgmt_bad_input", &[]);
    let (_, key) = s.key("all", None);
    s.db.exec(&format!(
        "SELECT liveupdate.register_bundle('{APP}', '1.0.0', 'https://cdn.acme.test/1.zip'); \
         SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.0', public => true)"
    ));
    let before = s.fingerprint();
    let raw = |method: &str, path: &str, body: &[u8]| {
        http::request(
            s.gw.addr,
            method,
            path,
            &[("x-api-key", key.as_str()), ("Content-Type", "application/json")],
            body,
        )
    };
    let injection = "x'); DROP TABLE liveupdate.apps; --";
    let cases: Vec<(http::Response, u16, &str)> = vec![
        (raw("POST", "/v1/apps", b"{not json"), 400, "invalid_request"),
        (raw("POST", "/v1/apps", b"[1, 2]"), 400, "invalid_request"),
        (raw("POST", "/v1/apps", &[0xff, 0xfe]), 400, "invalid_request"),
        (s.call("POST", "/v1/apps", &key, Some(json!({"app_id": "com.acme.x", "owner": "me"}))), 400, "invalid_request"),
        (s.call("POST", "/v1/apps", &key, Some(json!({"app_id": injection}))), 400, "invalid_request"),
        (s.call("POST", "/v1/apps", &key, Some(json!({"app_id": APP}))), 409, "conflict"),
        (s.call("PATCH", &format!("/v1/apps/{APP}"), &key, Some(json!({"bundle_retention_days": "many"}))), 400, "invalid_request"),
        (s.call("PATCH", &format!("/v1/apps/{APP}"), &key, Some(json!({"app_id": "com.acme.renamed"}))), 400, "invalid_request"),
        (s.call("PATCH", &format!("/v1/apps/{APP}/channels/production"), &key, Some(json!({"public": "yes"}))), 400, "invalid_request"),
        (s.call("PATCH", &format!("/v1/apps/{APP}/channels/production"), &key, Some(json!({"bundle": "1.0.0' OR '1'='1"}))), 404, "not_found"),
        (s.call("PATCH", &format!("/v1/apps/{APP}/channels/production"), &key, Some(json!({"name": injection, "disable_auto_update": "sometimes"}))), 400, "invalid_request"),
        (s.call("POST", &format!("/v1/apps/{APP}/channels"), &key, Some(json!({"name": "x".repeat(129)}))), 400, "invalid_request"),
        (s.call("POST", &format!("/v1/apps/{APP}/channels"), &key, Some(json!({"name": "beta", "public": true}))), 409, "conflict"),
        (s.call("GET", &format!("/v1/apps/{APP}/devices?limit=5000"), &key, None), 400, "invalid_request"),
        (s.call("GET", &format!("/v1/apps/{APP}/devices?limit=0"), &key, None), 400, "invalid_request"),
        (s.call("GET", &format!("/v1/apps/{APP}/devices?cursor=1%27%20OR%201=1"), &key, None), 400, "invalid_request"),
        (s.call("GET", &format!("/v1/apps/{APP}/devices?sort=desc"), &key, None), 400, "invalid_request"),
        (s.call("GET", &format!("/v1/apps/{APP}/devices/not-a-uuid"), &key, None), 400, "invalid_request"),
        (s.call("PUT", &format!("/v1/apps/{APP}/devices/{}/channel", "1;DROP"), &key, Some(json!({"channel": "production"}))), 400, "invalid_request"),
        (s.call("GET", &format!("/v1/apps/{}/channels", "x%27%20OR%201%3D1"), &key, None), 404, "not_found"),
        (s.call("GET", "/v1/apps/%zz", &key, None), 400, "invalid_request"),
        (s.call("POST", &format!("/v1/apps/{APP}/bundles"), &key, Some(json!({"version": "1.1.0", "external_url": "javascript:alert(1)"}))), 400, "invalid_request"),
        (s.call("POST", &format!("/v1/apps/{APP}/bundles"), &key, Some(json!({"version": "../../1", "external_url": "https://x.test/a.zip"}))), 400, "invalid_request"),
        (s.call("POST", &format!("/v1/apps/{APP}/bundles"), &key, Some(json!({"version": "1.1.0", "manifest": [{"file_name": "../etc/passwd", "file_hash": "0".repeat(64), "download_url": "https://x.test/f"}]}))), 400, "invalid_request"),
        (s.call("DELETE", &format!("/v1/apps/{APP}/bundles/1.0.0"), &key, None), 409, "invalid_state"),
        (s.call("POST", "/v1/keys", &key, Some(json!({"name": "k", "mode": "root"}))), 400, "invalid_request"),
        (s.call("POST", "/v1/keys", &key, Some(json!({"name": "k", "mode": "read", "expires_at": "2001-01-01T00:00:00Z"}))), 400, "invalid_request"),
        (s.call("POST", "/v1/keys", &key, Some(json!({"name": "k", "mode": "read", "apps": [FOREIGN_APP]}))), 400, "invalid_request"),
        (s.call("DELETE", "/v1/keys/1%20OR%201=1", &key, None), 400, "invalid_request"),
        (s.call("DELETE", "/v1/keys/99999", &key, None), 404, "not_found"),
        (s.call("PUT", "/v1/apps", &key, None), 405, "method_not_allowed"),
        (s.call("GET", "/v1/nothing/here", &key, None), 404, "not_found"),
        (raw("POST", &format!("/v1/apps/{APP}/bundles"), &vec![b' '; 1024 * 1024 + 1]), 413, "payload_too_large"),
    ];
    for (index, (response, status, code)) in cases.iter().enumerate() {
        let body = response.json();
        assert_eq!((response.status, body["error"].as_str()), (*status, Some(*code)), "case {index}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "case {index}: {body}");
    }
    assert_eq!(s.call("PUT", "/v1/apps", &key, None).header("allow"), Some("GET, POST"));
    assert_eq!(s.fingerprint(), before, "nothing changed");
    assert_eq!(s.db.count("SELECT count(*) FROM liveupdate.apps"), 3);
}

#[test]
fn keys_are_never_logged_nor_echoed() {
    let log = std::env::temp_dir().join(format!("liveupdate-mgmt-log-{}", std::process::id()));
    let mut s = setup_logging(
        "mgmt_no_key_logs",
        &[("RUST_LOG", "debug")],
        Some(std::fs::File::create(&log).unwrap()),
    );
    let (_, key) = s.key("read", None);
    let wrong = "lu_wrongwrongwrongwrong";
    let mut answers = vec![
        s.call("GET", "/v1/apps", &key, None),
        s.call("PATCH", &format!("/v1/apps/{APP}"), &key, Some(json!({"name": "x"}))),
        s.call("GET", "/v1/apps", wrong, None),
        http::request(s.gw.addr, "GET", "/v1/apps", &[("Authorization", &format!("Bearer {wrong}"))], b""),
    ];
    // A key pasted into a field comes back only as that field's own error, never as a key.
    answers.push(s.call("GET", &format!("/v1/apps/{APP}/devices?cursor={key}"), &key, None));
    drop(s.gw);
    let logged = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(logged.contains("management"), "the log has the requests: {logged}");
    for secret in [key.as_str(), wrong, &key[3..]] {
        assert!(!logged.contains(secret), "a key reached the log: {logged}");
    }
    for answer in &answers[..4] {
        assert!(!String::from_utf8_lossy(&answer.body).contains(&key[3..]));
    }
}

/// The deployment migrations on a cluster without Supabase's roles and on one with them: both
/// end up serving the management API, and applying them twice changes nothing.
#[test]
fn migrations_prepare_plain_and_supabase_databases() {
    let cluster = OwnCluster::start("migrations");
    for (database, supabase) in [("plain", false), ("supabase", true)] {
        let port = free_port();
        let mut db = TestDb::create_in(&cluster.server(), database, &format!("http://127.0.0.1:{port}"));
        if supabase {
            db.exec(
                "DO $$ BEGIN CREATE ROLE anon NOLOGIN; CREATE ROLE authenticated NOLOGIN; \
                 CREATE ROLE service_role NOLOGIN BYPASSRLS; EXCEPTION WHEN duplicate_object THEN NULL; END $$",
            );
        }
        db.apply_migrations();
        db.apply_migrations();
        let org: i64 = db.client.query_one("SELECT liveupdate.create_organization('o')", &[]).unwrap().get(0);
        db.exec(&format!("SELECT liveupdate.create_app({org}, '{APP}')"));
        let key: String = db
            .client
            .query_one("SELECT key FROM liveupdate.create_api_key($1, 'k', 'all')", &[&org])
            .unwrap()
            .get(0);
        let gw = Gateway::start(&db, port);
        let answer = http::request(
            gw.addr,
            "POST",
            &format!("/v1/apps/{APP}/channels"),
            &[("x-api-key", key.as_str())],
            br#"{"name": "production"}"#,
        );
        assert_eq!(answer.status, 201, "{database}: {}", answer.json());
        let roles: i64 = db.count(
            "SELECT count(*) FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role')",
        );
        assert_eq!(roles, if supabase { 3 } else { 0 });
        if supabase {
            // A console user of the organization, as PostgREST would run them.
            db.exec(&format!(
                "SELECT liveupdate.add_member({org}, 'aaaaaaaa-0000-4000-8000-000000000001', 'read')"
            ));
            let mut tx = db.client.transaction().unwrap();
            tx.batch_execute(
                "SET LOCAL ROLE authenticated; \
                 SELECT set_config('request.jwt.claims', '{\"sub\": \"aaaaaaaa-0000-4000-8000-000000000001\"}', true)",
            )
            .unwrap();
            let channels: Value = tx
                .query_one(&format!("SELECT liveupdate.api_list_channels('{{\"app_id\": \"{APP}\"}}')"), &[])
                .unwrap()
                .get(0);
            assert_eq!(channels["channels"][0]["name"], "production");
            tx.batch_execute("SET LOCAL ROLE anon").unwrap();
            assert!(
                tx.query_one("SELECT count(*) FROM liveupdate.apps", &[]).is_err(),
                "anon cannot reach the schema"
            );
        }
    }
}

/// The routes the web console reads through (sql/console.sql): the apps overview, a channel's
/// devices by bundle, a bundle's files, events with cursor paging, and the update dry run; each
/// within the key's rights (a key limited to another app sees none of this app) and, for the dry
/// run, answering what /updates answers while recording nothing.
#[test]
fn the_console_routes_answer_within_the_keys_rights() {
    let mut s = setup("mgmt_console", &[]);
    let (_, key) = s.key("all", None);
    let (_, other_reader) = s.key("read", Some(&[OTHER_APP]));
    let hash = |n: u8| format!("{n:02x}").repeat(32);
    let manifest = json!([
        {"file_name": "index.html", "file_hash": hash(1), "download_url": "https://cdn.acme.test/i", "file_size": 10},
        {"file_name": "app.js", "file_hash": hash(2), "download_url": "https://cdn.acme.test/a", "file_size": 20}]);
    for (version, body) in [
        ("1.0.0", json!({"version": "1.0.0", "external_url": "https://cdn.acme.test/1.0.0.zip"})),
        ("1.1.0", json!({"version": "1.1.0", "manifest": manifest})),
    ] {
        let registered = s.call("POST", &format!("/v1/apps/{APP}/bundles"), &key, Some(body));
        assert_eq!(registered.status, 201, "{version}: {}", registered.json());
    }
    s.db.exec(&format!(
        "SELECT liveupdate.create_channel('{APP}', 'production', public => true, bundle => '1.0.0'); \
         SELECT liveupdate.create_channel('{APP}', 'beta', bundle => '1.1.0')"
    ));
    let ids: Vec<String> = (0..6).map(|i| format!("0000000{i}-0000-4000-8000-000000000001")).collect();
    for id in &ids {
        assert!(matches!(Device::new(APP, id).running("1.0.0").outcome(s.gw.addr), Outcome::NoUpdate { .. }));
        let event = json!({"app_id": APP, "device_id": id, "action": "set", "version_name": "1.0.0",
            "old_version_name": "builtin", "version_os": "14", "platform": "android", "plugin_version": "8.51.14", "version_build": "1.0.0", "is_prod": true, "is_emulator": false});
        assert_eq!(http::post_json(s.gw.addr, "/stats", &event).status, 200);
    }
    assert!(liveupdate_e2e::eventually(20, || s.db.count("SELECT count(*) FROM liveupdate.devices") == 6));

    // Overview: this organization's apps only, with the key's rights and today's devices.
    let overview = s.call("GET", "/v1/overview", &key, None).json();
    let apps = overview["apps"].as_array().unwrap();
    assert_eq!(apps.iter().map(|a| a["app_id"].as_str().unwrap()).collect::<Vec<_>>(), [APP, OTHER_APP]);
    assert_eq!((apps[0]["rights"].as_str(), apps[0]["active_today"].as_i64()), (Some("admin"), Some(6)));
    assert_eq!(apps[0]["active_30_days"], 6);
    assert_eq!(apps[0]["newest_bundle"]["version"], "1.1.0");
    let limited = s.call("GET", "/v1/overview", &other_reader, None).json();
    assert_eq!(limited["apps"].as_array().unwrap().len(), 1);
    assert_eq!(
        (limited["apps"][0]["app_id"].as_str(), limited["apps"][0]["rights"].as_str()),
        (Some(OTHER_APP), Some("read"))
    );

    // A channel's devices by bundle: the six on production; beta has none yet.
    let production = s.call("GET", &format!("/v1/apps/{APP}/channels/production/devices"), &key, None).json();
    assert_eq!(production["devices"], 6);
    assert_eq!(production["bundles"], json!([{"version": "1.0.0", "devices": 6, "share": 1.0}]));
    let beta = s.call("GET", &format!("/v1/apps/{APP}/channels/beta/devices"), &key, None).json();
    assert_eq!((beta["devices"].as_i64(), beta["bundles"].as_array().map(Vec::len)), (Some(0), Some(0)));
    let later = s.call(
        "GET",
        &format!("/v1/apps/{APP}/channels/production/devices?since=2999-01-01T00:00:00Z"),
        &key,
        None,
    );
    assert_eq!(later.json()["devices"], 0);
    assert_error(
        &s.call("GET", &format!("/v1/apps/{APP}/channels/production/devices?since=soon"), &key, None),
        400,
        "invalid_request",
    );

    let hosted = s.call("GET", &format!("/v1/apps/{APP}/bundles/1.0.0"), &key, None).json();
    assert_eq!(hosted["archive_bytes"], Value::Null, "no stored zip: size unknown");

    // A bundle's files, by name.
    let files = s.call("GET", &format!("/v1/apps/{APP}/bundles/1.1.0/files"), &key, None).json();
    let names: Vec<&str> =
        files["files"].as_array().unwrap().iter().map(|f| f["file_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["app.js", "index.html"]);
    assert_error(
        &s.call("GET", &format!("/v1/apps/{APP}/bundles/9.9.9/files"), &key, None),
        404,
        "not_found",
    );

    // Events: filtered, and paged by cursor without repeats or gaps.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page =
            s.call("GET", &format!("/v1/apps/{APP}/events?action=set&limit=4{cursor}"), &key, None).json();
        seen.extend(
            page["events"].as_array().unwrap().iter().map(|e| e["device_id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert!(
                    next.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)),
                    "URL-safe: {next}"
                );
                cursor = format!("&cursor={next}");
            }
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, ids);
    let one = s.call("GET", &format!("/v1/apps/{APP}/events?device_id={}", ids[2]), &key, None).json();
    assert_eq!(one["events"].as_array().unwrap().len(), 1);
    let none = s.call("GET", &format!("/v1/apps/{APP}/events?action=download_fail"), &key, None).json();
    assert_eq!(none, json!({"events": [], "next_cursor": null}));
    assert_error(
        &s.call("GET", &format!("/v1/apps/{APP}/events?cursor=bm9wZQ"), &key, None),
        400,
        "invalid_request",
    );
    assert_error(
        &s.call("GET", &format!("/v1/apps/{APP}/events?from=soon"), &key, None),
        400,
        "invalid_request",
    );

    // The dry run: the same answer as /updates, the channel and how it was chosen; nothing recorded.
    let unseen = "0000000f-0000-4000-8000-000000000001";
    let device = Device::new(APP, unseen).running("0.0.1");
    let preview = |s: &Setup, request: Value| {
        s.call("POST", &format!("/v1/apps/{APP}/preview"), &key, Some(json!({"request": request})))
    };
    let public = preview(&s, device.body()).json();
    assert_eq!(
        public["why"],
        json!({"via": "public", "channel": "production", "channel_bundle": "1.0.0", "rollout": null})
    );
    assert_eq!(public["answer"]["version"], "1.0.0");
    s.db.exec(&format!("SELECT liveupdate.set_device_override('{APP}', '{unseen}', 'beta')"));
    let overridden = preview(&s, device.body()).json();
    assert_eq!(
        (overridden["why"]["via"].as_str(), overridden["answer"]["version"].as_str()),
        (Some("override"), Some("1.1.0"))
    );
    // A device naming a channel that is neither public nor self-settable gets none, as /updates says.
    let naming_private =
        Device::new(APP, "0000000e-0000-4000-8000-000000000001").running("0.0.1").channel("beta");
    let private = preview(&s, naming_private.body()).json();
    let private_real = http::post_json(s.gw.addr, "/updates", &naming_private.body()).json();
    assert_eq!(
        (private["why"]["via"].as_str(), private["answer"]["error"].as_str()),
        (Some("none"), private_real["error"].as_str()),
        "{private}"
    );
    let refusal = preview(&s, json!({"device_id": unseen})).json();
    assert!(
        refusal["answer"]["error"].is_string(),
        "an incomplete request gets the plugin's refusal: {refusal}"
    );
    assert_error(&preview(&s, json!({"app_id": OTHER_APP})), 400, "invalid_request");
    assert_error(
        &s.call("POST", &format!("/v1/apps/{APP}/preview"), &key, Some(json!({"request": "x"}))),
        400,
        "invalid_request",
    );
    let recorded = format!("SELECT count(*) FROM liveupdate.devices WHERE device_id = '{unseen}'");
    assert_eq!(s.db.count(&recorded), 0, "a dry run records no device");
    let real = http::post_json(s.gw.addr, "/updates", &device.body()).json();
    assert_eq!(overridden["answer"], real, "the dry run answers what /updates answers");
    assert!(liveupdate_e2e::eventually(20, || s.db.count(&recorded) == 1), "the real check is recorded");
    s.db.exec(&format!("SELECT liveupdate.remove_device_override('{APP}', '{unseen}')"));
    s.db.exec(&format!("SELECT liveupdate.start_rollout('{APP}', 'production', '1.1.0', 5000)"));
    let rollout = preview(&s, device.body()).json();
    let bucket = rollout["why"]["rollout"]["device_bucket"].as_i64().unwrap();
    assert!((0..10_000).contains(&bucket));
    assert_eq!(rollout["why"]["rollout"]["inside"], bucket < 5000);
    assert_eq!(rollout["why"]["rollout"]["already_on_it"], false);
    assert_eq!(rollout["answer"]["version"], if bucket < 5000 { "1.1.0" } else { "1.0.0" });

    // A key limited to another app sees none of this one.
    for path in [
        format!("/v1/apps/{APP}/channels/production/devices"),
        format!("/v1/apps/{APP}/bundles/1.1.0/files"),
        format!("/v1/apps/{APP}/events"),
    ] {
        assert_error(&s.call("GET", &path, &other_reader, None), 404, "not_found");
    }
    assert_error(
        &s.call(
            "POST",
            &format!("/v1/apps/{APP}/preview"),
            &other_reader,
            Some(json!({"request": device.body()})),
        ),
        404,
        "not_found",
    );
}

/// Adding a signing key answers the key as listed (every field of its schema), not an echo of
/// the request; revoking shows in the listing.
#[test]
fn signing_keys_answer_as_they_are_listed() {
    let mut s = setup("mgmt_signing_keys", &[]);
    let (_, key) = s.key("all", None);
    let public_key = "7fqfmR6WzOIS8aBapaF8UdvDavDXW7s++iKU6gumbaQ=";
    let path = format!("/v1/apps/{APP}/signing-keys");
    let added = s.call("POST", &path, &key, Some(json!({"name": "release", "public_key": public_key})));
    assert_eq!(added.status, 201, "{}", added.json());
    let listed = s.call("GET", &path, &key, None).json();
    assert_eq!(listed["signing_keys"], json!([added.json()]));
    assert_eq!(added.json()["public_key"], public_key);
    assert!(added.json()["revoked_at"].is_null());
    let revoked = s.call("DELETE", &format!("{path}/release"), &key, None);
    assert_eq!(revoked.json(), json!({"revoked": true}));
    assert!(s.call("GET", &path, &key, None).json()["signing_keys"][0]["revoked_at"].is_string());
}
