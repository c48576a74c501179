#![allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]

//! The decision table of protocol.md §2.5/§3.2, one case per reachable row, plus property tests for
//! version ordering and the policy order.

use liveupdate_core::answer::Code;
use liveupdate_core::policy::{AutoUpdateLimit, ChannelRules};
use liveupdate_core::request::UpdateRequest;
use liveupdate_core::resolve::{self, BundleFacts, Decision, ManifestEntry, Target};
use liveupdate_core::version::{self, Version};
use proptest::prelude::*;
use serde_json::{Value, json};

fn request(overrides: Value) -> UpdateRequest {
    let mut body = json!({
        "platform": "ios", "device_id": "11111111-2222-3333-4444-555555555555",
        "app_id": "com.example.app", "version_build": "1.0.0", "version_name": "1.0.0",
        "plugin_version": "8.51.14", "is_emulator": false, "is_prod": true
    });
    for (k, v) in overrides.as_object().unwrap() {
        body[k] = v.clone();
    }
    UpdateRequest::from_json(&body).unwrap()
}

fn bundle(name: &str) -> BundleFacts {
    BundleFacts {
        version: Version::parse(name).unwrap(),
        checksum: "ab".repeat(32),
        session_key: String::new(),
        key_id: None,
        external_url: Some(format!("https://cdn.example.com/{name}.zip")),
        storage_key: None,
        min_update_version: None,
        link: Some("https://example.com/notes".into()),
        comment: Some("fixes".into()),
        manifest_count: 0,
    }
}

fn public_channel() -> ChannelRules {
    ChannelRules { public: true, ..ChannelRules::with_defaults("production") }
}

fn target(channel: ChannelRules, bundle: Option<BundleFacts>) -> Target {
    Target { channel, bundle, failed_on_device: false }
}

fn refusal_code(req: &UpdateRequest, t: Option<&Target>) -> &'static str {
    match resolve::decide(req, t) {
        Decision::Refuse(r) => r.code.as_str(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn offers_a_newer_bundle() {
    let t = target(public_channel(), Some(bundle("1.0.1")));
    assert!(
        matches!(resolve::decide(&request(json!({})), Some(&t)), Decision::Offer(b) if b.version.to_string() == "1.0.1")
    );
}

#[test]
fn no_channel_and_unsupported_plugin() {
    assert_eq!(refusal_code(&request(json!({})), None), "no_channel");
    let t = target(public_channel(), Some(bundle("1.0.1")));
    assert_eq!(
        refusal_code(&request(json!({"plugin_version": "4.13.0"})), Some(&t)),
        "unsupported_plugin_version"
    );
}

#[test]
fn no_bundle_when_nothing_to_download() {
    let mut b = bundle("1.0.1");
    b.external_url = None;
    assert_eq!(refusal_code(&request(json!({})), Some(&target(public_channel(), Some(b)))), "no_bundle");
}

#[test]
fn key_id_mismatch_only_for_plugins_that_check() {
    let mut b = bundle("1.0.1");
    b.key_id = Some("MIIBCgKCAQEAaaaaaaaa".into());
    let t = target(public_channel(), Some(b));
    let req = request(json!({"key_id": "MIIBCgKCAQEAbbbbbbbb"}));
    match resolve::decide(&req, Some(&t)) {
        Decision::Refuse(r) => {
            assert_eq!(r.code, Code::KeyIdMismatch);
            let body = r.to_json();
            assert_eq!(body["kind"], "blocked");
            assert_eq!(body["deviceKeyId"], "MIIBCgKCAQEAbbbbbbbb");
            assert_eq!(body["bundleKeyId"], "MIIBCgKCAQEAaaaaaaaa");
        }
        other => panic!("{other:?}"),
    }
    let old = request(json!({"key_id": "MIIBCgKCAQEAbbbbbbbb", "plugin_version": "8.40.7"}));
    assert!(matches!(resolve::decide(&old, Some(&t)), Decision::Offer(_)));
}

#[test]
fn a_bundle_the_device_reported_broken_is_blocked() {
    let mut t = target(public_channel(), Some(bundle("1.0.1")));
    t.failed_on_device = true;
    let Decision::Refuse(r) = resolve::decide(&request(json!({"version_name": "1.0.0"})), Some(&t)) else {
        panic!()
    };
    assert_eq!(r.code, Code::FailedOnDevice);
    assert_eq!(r.to_json()["kind"], "blocked", "blocked: the plugin sends no download_fail for it");
}

#[test]
fn already_on_target_is_up_to_date() {
    let t = target(public_channel(), Some(bundle("1.0.1")));
    assert_eq!(
        refusal_code(&request(json!({"version_name": "1.0.1"})), Some(&t)),
        "no_new_version_available"
    );
}

#[test]
fn every_channel_rule_in_order() {
    let req = request(json!({"version_build": "1.2.3", "version_name": "1.2.3"}));
    let case = |edit: &dyn Fn(&mut ChannelRules), name: &str, expected: &str| {
        let mut channel = public_channel();
        edit(&mut channel);
        let t = target(channel, Some(bundle(name)));
        assert_eq!(refusal_code(&req, Some(&t)), expected, "bundle {name}");
    };
    case(&|c| c.ios = false, "1.2.4", "disabled_platform_ios");
    case(&|_| {}, "2.0.0", "disable_auto_update_to_major");
    case(&|c| c.public = false, "1.2.4", "cannot_update_via_private_channel");
    case(&|c| c.auto_update_limit = AutoUpdateLimit::Minor, "1.3.0", "disable_auto_update_to_minor");
    // closes the reference backend's hole: a major jump under `minor` compares minors only there
    case(&|c| c.auto_update_limit = AutoUpdateLimit::Minor, "2.0.0", "disable_auto_update_to_minor");
    case(&|c| c.auto_update_limit = AutoUpdateLimit::Patch, "1.3.0", "disable_auto_update_to_patch");
    case(&|c| c.auto_update_limit = AutoUpdateLimit::VersionNumber, "1.2.4", "misconfigured_channel");
    case(&|_| {}, "1.2.2", "disable_auto_update_under_native");
    case(&|c| c.allow_prod = false, "1.2.4", "disable_prod_build");
    case(&|c| c.allow_device = false, "1.2.4", "disable_device");
    // the first failing rule decides
    case(
        &|c| {
            c.ios = false;
            c.allow_prod = false;
        },
        "2.0.0",
        "disabled_platform_ios",
    );
}

#[test]
fn refusal_extras_match_the_protocol() {
    let req = request(json!({"version_build": "1.2.3", "version_name": "1.2.5"}));
    let t = target(public_channel(), Some(bundle("2.0.0")));
    let Decision::Refuse(r) = resolve::decide(&req, Some(&t)) else { panic!() };
    let body = r.to_json();
    assert_eq!(
        body,
        json!({"error": "disable_auto_update_to_major", "message": Code::DisableAutoUpdateToMajor.message(),
        "kind": "blocked", "major": true, "version": "2.0.0", "old": "1.2.3"})
    );

    let mut channel = public_channel();
    channel.android = false;
    let t = target(channel, Some(bundle("1.2.6")));
    let req = request(json!({"platform": "android", "version_build": "1.2.3", "version_name": "1.2.5"}));
    let Decision::Refuse(r) = resolve::decide(&req, Some(&t)) else { panic!() };
    assert_eq!(r.to_json()["old"], "1.2.5");
}

#[test]
fn version_number_limit_uses_min_update_version() {
    let mut channel = public_channel();
    channel.auto_update_limit = AutoUpdateLimit::VersionNumber;
    let mut b = bundle("1.5.0");
    b.min_update_version = Some(Version::parse("1.3.0").unwrap());
    let t = target(channel, Some(b));
    assert_eq!(
        refusal_code(&request(json!({"version_build": "1.2.0", "version_name": "1.2.0"})), Some(&t)),
        "disable_auto_update_to_metadata"
    );
    assert!(matches!(
        resolve::decide(&request(json!({"version_build": "1.3.0", "version_name": "1.3.0"})), Some(&t)),
        Decision::Offer(_)
    ));
}

#[test]
fn dev_and_emulator_rules() {
    let mut channel = public_channel();
    channel.allow_dev = false;
    let t = target(channel, Some(bundle("1.0.1")));
    assert_eq!(refusal_code(&request(json!({"is_prod": false})), Some(&t)), "disable_dev_build");
    let mut channel = public_channel();
    channel.allow_emulator = false;
    let t = target(channel, Some(bundle("1.0.1")));
    assert_eq!(refusal_code(&request(json!({"is_emulator": true})), Some(&t)), "disable_emulator");
}

#[test]
fn builtin_targets() {
    let t = target(public_channel(), None);
    // a device on a downloaded bundle is told to reset (better than the reference backend)
    let on_bundle = request(json!({"version_name": "1.0.4"}));
    assert_eq!(resolve::decide(&on_bundle, Some(&t)), Decision::RevertToBuiltin);
    let body = resolve::revert_to_builtin_body();
    assert!(body.get("error").is_none() && body.get("kind").is_none() && body.get("message").is_none());
    // a device already on builtin is up to date, whatever its plugin line
    let on_builtin = request(json!({"version_name": "builtin", "plugin_version": "5.9.5"}));
    let Decision::Refuse(r) = resolve::decide(&on_builtin, Some(&t)) else { panic!() };
    assert_eq!(r.to_json()["kind"], "up_to_date");
    assert!(r.to_json().get("version").is_none());
    let current = request(json!({"version_name": "1.0.0"}));
    let Decision::Refuse(r) = resolve::decide(&current, Some(&t)) else { panic!() };
    assert_eq!((r.code, r.to_json()["version"].clone()), (Code::AlreadyOnBuiltin, json!("builtin")));
    // a plugin that cannot reset is told so
    let old = request(json!({"version_name": "1.0.4", "plugin_version": "6.1.0"}));
    assert_eq!(refusal_code(&old, Some(&t)), "revert_to_builtin_plugin_version_too_old");
    // version limits do not apply to builtin, device rules do
    let mut channel = public_channel();
    channel.allow_prod = false;
    assert_eq!(refusal_code(&on_bundle, Some(&target(channel, None))), "disable_prod_build");
}

#[test]
fn override_bypasses_private_channel_rule() {
    let mut channel = ChannelRules::with_defaults("qa");
    channel.via_override = true;
    let t = target(channel, Some(bundle("1.0.1")));
    assert!(matches!(resolve::decide(&request(json!({})), Some(&t)), Decision::Offer(_)));
}

fn manifest() -> Vec<ManifestEntry> {
    vec![ManifestEntry {
        file_name: "index.html".into(),
        file_hash: "cd".repeat(32),
        download_url: "https://x.test/files/a".into(),
    }]
}

#[test]
fn success_body_shape_and_gates() {
    let req = request(json!({}));
    let b = bundle("1.0.1");
    let body = resolve::offer_body(&req, &b, "http://127.0.0.1:8080/files", None, true).unwrap();
    assert_eq!(
        body,
        json!({"version": "1.0.1", "url": "https://cdn.example.com/1.0.1.zip", "session_key": "",
        "checksum": "ab".repeat(32), "link": "https://example.com/notes", "comment": "fixes"})
    );
    for forbidden in ["error", "kind", "message"] {
        assert!(body.get(forbidden).is_none());
    }
    // metadata only when the app exposes it and the plugin reads it
    let body = resolve::offer_body(&req, &b, "http://h/files", None, false).unwrap();
    assert!(body.get("link").is_none());
    let old = request(json!({"plugin_version": "8.34.0"}));
    assert!(resolve::offer_body(&old, &b, "http://h/files", None, true).unwrap().get("comment").is_none());
}

#[test]
fn manifest_only_bundles_get_a_valid_placeholder_url() {
    let req = request(json!({}));
    let mut b = bundle("1.0.1");
    b.external_url = None;
    b.manifest_count = 1;
    assert!(resolve::wants_manifest(&req, &b));
    let body =
        resolve::offer_body(&req, &b, "http://127.0.0.1:8080/files/", Some(manifest()), false).unwrap();
    assert!(resolve::is_http_url(body["url"].as_str().unwrap()));
    assert_eq!(body["manifest"][0]["file_name"], "index.html");
    // a plugin without manifest support cannot use such a bundle
    let old = request(json!({"plugin_version": "6.24.0"}));
    assert!(!resolve::wants_manifest(&old, &b));
    assert_eq!(
        resolve::offer_body(&old, &b, "http://h/files", None, false).unwrap_err().code,
        Code::NoBundleUrl
    );
    // an empty manifest is never sent
    let mut stored = b.clone();
    stored.storage_key = Some("bundles/abc.zip".into());
    let body = resolve::offer_body(&req, &stored, "http://h/files", Some(vec![]), false).unwrap();
    assert!(body.get("manifest").is_none());
    assert_eq!(body["url"], "http://h/files/bundles/abc.zip");
}

#[test]
fn external_bundles_never_carry_a_manifest() {
    let mut b = bundle("1.0.1");
    b.manifest_count = 3;
    assert!(!resolve::wants_manifest(&request(json!({})), &b));
}

#[test]
fn url_shapes() {
    assert!(resolve::is_http_url("https://a.b/c.zip"));
    assert!(resolve::is_http_url("http://127.0.0.1:8080/files/x"));
    for bad in ["", "ftp://a/b", "https://", "https:///x", "https://a b/c", "/files/x", "javascript:alert(1)"]
    {
        assert!(!resolve::is_http_url(bad), "{bad}");
    }
}

fn arb_version() -> impl Strategy<Value = Version> {
    (0u64..20, 0u64..20, 0u64..20, prop::option::of("[a-z]{1,5}(\\.[1-9][0-9]?)?")).prop_map(
        |(a, b, c, pre)| {
            let text = match pre {
                Some(pre) => format!("{a}.{b}.{c}-{pre}"),
                None => format!("{a}.{b}.{c}"),
            };
            Version::parse(&text).unwrap()
        },
    )
}

proptest! {
    #[test]
    fn precedence_is_a_total_order(a in arb_version(), b in arb_version(), c in arb_version()) {
        use std::cmp::Ordering::*;
        prop_assert_eq!(version::precedence(&a, &b), version::precedence(&b, &a).reverse());
        if version::precedence(&a, &b) != Greater && version::precedence(&b, &c) != Greater {
            prop_assert_ne!(version::precedence(&a, &c), Greater);
        }
    }

    #[test]
    fn coercion_pads_short_versions(a in 0u64..100_000, b in 0u64..100_000) {
        prop_assert_eq!(version::coerce_native(&a.to_string()).unwrap(), Version::new(a, 0, 0));
        prop_assert_eq!(version::coerce_native(&format!("{a}.{b}")).unwrap(), Version::new(a, b, 0));
    }

    #[test]
    fn coercion_never_panics(s in "\\PC{0,40}") {
        let _ = version::coerce_native(&s);
    }

    #[test]
    fn request_parsing_never_panics(body in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = UpdateRequest::from_body(&body);
    }

    /// Only the major limit can refuse a bundle of the native major at or above the native version,
    /// and no answer to an up-to-date device is ever a failure.
    #[test]
    fn default_channel_offers_every_same_major_upgrade(native in arb_version(), offered in arb_version()) {
        prop_assume!(native.pre.is_empty());
        let req = request(json!({"version_build": native.to_string(), "version_name": native.to_string()}));
        let t = target(public_channel(), Some(bundle(&offered.to_string())));
        let decision = resolve::decide(&req, Some(&t));
        let same = offered.to_string() == native.to_string();
        let expected_offer = !same && offered.major <= native.major && version::precedence(&offered, &native).is_ge();
        match decision {
            Decision::Offer(_) => prop_assert!(expected_offer),
            Decision::Refuse(r) => {
                prop_assert!(!expected_offer, "refused {:?}", r.code);
                if same { prop_assert_eq!(r.code, Code::NoNewVersionAvailable); }
            }
            Decision::RevertToBuiltin => prop_assert!(false),
        }
    }
}

proptest! {
    #[test]
    fn stats_parsing_never_panics(body in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = liveupdate_core::stats::parse_body(&body);
    }

    #[test]
    fn stats_events_of_any_shape_never_panic(action in "\\PC{0,20}", name in "\\PC{0,20}", ts in any::<f64>(), keys in 0usize..40) {
        let metadata: serde_json::Map<String, Value> = (0..keys).map(|i| (format!("k{i}"), json!("v"))).collect();
        let event = json!({"app_id": "com.example.app", "device_id": "11111111-2222-3333-4444-555555555555",
            "version_os": "14", "action": action, "version_name": name, "timestamp": ts, "metadata": metadata});
        let _ = liveupdate_core::stats::parse_value(&json!([event]));
    }

    #[test]
    fn channel_queries_never_panic(query in "\\PC{0,80}") {
        if let Ok(fields) = liveupdate_core::channel::query_to_json(&query) {
            let _ = liveupdate_core::channel::ChannelRequest::from_json(liveupdate_core::channel::Operation::List, &fields);
        }
    }
}
