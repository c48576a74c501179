//! The `liveupdate` CLI (`LIVEUPDATE_CLI_BIN`) against a real gateway: publishing a build in one
//! command, managing channels and devices, human and `--json` output, configuration sources,
//! and exit codes.

#![allow(clippy::unwrap_used, reason = "tests")]

use std::process::{Command, Output};

use liveupdate_e2e::device::{Device, Outcome};
use liveupdate_e2e::download;
use liveupdate_e2e::{Gateway, TestDb, free_port, http, stored_objects};
use serde_json::Value;

const APP: &str = "com.acme.cli";

struct Setup {
    db: TestDb,
    gw: Gateway,
    key: String,
    work: std::path::PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

fn setup(test: &str) -> Setup {
    setup_with(test, &[])
}

fn setup_with(test: &str, gateway_env: &[(&str, &str)]) -> Setup {
    let port = free_port();
    let mut db = TestDb::create(test, &format!("http://127.0.0.1:{port}"));
    let org: i64 = db.client.query_one("SELECT liveupdate.create_organization('acme')", &[]).unwrap().get(0);
    let key: String = db
        .client
        .query_one("SELECT key FROM liveupdate.create_api_key($1, 'ci', 'all')", &[&org])
        .unwrap()
        .get(0);
    let gw = Gateway::start_with(&db, port, gateway_env);
    let work = std::env::temp_dir().join(format!("liveupdate-cli-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    Setup { db, gw, key, work }
}

impl Setup {
    /// Runs the CLI with the server and key from the environment.
    fn cli(&self, args: &[&str]) -> Output {
        Command::new(std::env::var("LIVEUPDATE_CLI_BIN").expect("LIVEUPDATE_CLI_BIN: run with make test"))
            .args(args)
            .env("LIVEUPDATE_SERVER", format!("http://{}", self.gw.addr))
            .env("LIVEUPDATE_API_KEY", &self.key)
            .env("HOME", &self.work)
            .env_remove("XDG_CONFIG_HOME")
            .output()
            .unwrap()
    }

    /// Runs the CLI with a pseudo-terminal as its stdin, stdout and stderr (util-linux
    /// `script`), typing `input`; the terminal's transcript is the output's stdout.
    fn at_terminal(&self, args: &[&str], input: &str) -> Output {
        use std::io::Write;
        let cli = std::env::var("LIVEUPDATE_CLI_BIN").expect("LIVEUPDATE_CLI_BIN: run with make test");
        let command_line = std::iter::once(cli.as_str())
            .chain(args.iter().copied())
            .map(|word| format!("'{}'", word.replace('\'', r"'\''")))
            .collect::<Vec<_>>()
            .join(" ");
        let mut child = Command::new("script")
            .args(["--quiet", "--return", "--command", &command_line, "/dev/null"])
            .env("LIVEUPDATE_SERVER", format!("http://{}", self.gw.addr))
            .env("LIVEUPDATE_API_KEY", &self.key)
            .env("HOME", &self.work)
            .env_remove("XDG_CONFIG_HOME")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.cli(args);
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// A web build directory with `files`.
    fn build(&self, name: &str, files: &[(&str, &str)]) -> String {
        let dir = self.work.join(name);
        for (path, content) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        dir.to_str().unwrap().to_owned()
    }
}

#[test]
fn a_build_is_published_with_one_command() {
    let s = setup("cli_publish");
    assert!(s.ok(&["app", "create", APP, "--name", "CLI app"]).contains("created app com.acme.cli"));
    s.ok(&["channel", "create", APP, "production", "--public", "true", "--disable-auto-update", "none"]);
    s.ok(&["channel", "create", APP, "beta team"]);
    let script = "console.log('hello');\n".repeat(200);
    let files = [("index.html", "<!doctype html>"), ("js/app.js", script.as_str())];
    let build = s.build("dist", &files);

    let output =
        s.ok(&["bundle", "upload", APP, "1.2.0", &build, "--channel", "production", "--comment", "first"]);
    assert!(
        output.contains("uploaded com.acme.cli 1.2.0 (2 files") && output.contains("production"),
        "{output}"
    );
    let device = Device::new(APP, "1e2d3c4b-5a69-4788-9766-554433221100");
    let Outcome::Update { version, url, checksum, .. } = device.outcome(s.gw.addr) else {
        panic!("no update")
    };
    assert_eq!(version, "1.2.0");
    let fetched = download::fetch_zip(&url, &checksum).unwrap();
    assert_eq!(fetched.get("js/app.js").map(Vec::as_slice), Some(script.as_bytes()));

    // The same build zips to the same bytes: a deterministic checksum.
    let again = s.json(&["bundle", "upload", APP, "1.2.1", &build, "--no-zstd"]);
    assert_eq!(again["checksum"], checksum.as_str());

    // Listings, human and JSON.
    let listed = s.ok(&["bundle", "list", APP]);
    assert!(
        listed.starts_with("1.2.1") && listed.contains("1.2.0") && listed.contains("production"),
        "{listed}"
    );
    let channels = s.json(&["channel", "list", APP]);
    let names: Vec<&str> =
        channels["channels"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["beta team", "production"]);

    // Devices: assign to the beta team's channel (a name with a space), then release it.
    s.ok(&["channel", "set", APP, "beta team", "--bundle", "1.2.1"]);
    s.ok(&["device", "set", APP, "1e2d3c4b-5a69-4788-9766-554433221100", "beta team"]);
    assert!(matches!(device.outcome(s.gw.addr), Outcome::Update { version, .. } if version == "1.2.1"));
    assert!(s.ok(&["device", "unset", APP, "1e2d3c4b-5a69-4788-9766-554433221100"]).contains("removed"));
    s.ok(&["channel", "set", APP, "production", "--bundle", "builtin"]);
    s.ok(&["bundle", "delete", APP, "1.2.0"]);
    let remaining = s.json(&["bundle", "list", APP]);
    assert_eq!(remaining["bundles"].as_array().unwrap().len(), 1);
}

#[test]
fn exit_codes_and_configuration() {
    let s = setup("cli_exit_codes");
    s.ok(&["app", "create", APP]);
    let build = s.build("dist", &[("index.html", "<!doctype html>")]);
    s.ok(&["bundle", "upload", APP, "1.0.1", &build]);

    let refused = s.cli(&["bundle", "upload", APP, "1.0.1", &build]);
    assert_eq!(refused.status.code(), Some(1), "a taken version is refused by the server");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("conflict"));
    assert_eq!(s.cli(&["bundle", "upload", APP]).status.code(), Some(2), "usage");
    let missing = s.cli(&["bundle", "upload", APP, "1.0.2", "/nonexistent/dist"]);
    assert_eq!(missing.status.code(), Some(4), "local problem");
    let no_index = s.build("empty", &[("app.js", "x")]);
    assert_eq!(s.cli(&["bundle", "upload", APP, "1.0.2", &no_index]).status.code(), Some(4));
    let unreachable = Command::new(std::env::var("LIVEUPDATE_CLI_BIN").unwrap())
        .args(["--server", &format!("http://127.0.0.1:{}", free_port()), "--api-key", "x", "app", "list"])
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(3), "server unreachable");
    let bad_key = s.cli(&["--api-key", "lu_wrong", "app", "list"]);
    assert_eq!(bad_key.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&bad_key.stderr).contains("lu_wrong"), "the key is not echoed");

    // A config file when neither flags nor environment say.
    let config = s.work.join(".config/liveupdate/config.json");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        serde_json::json!({"server": format!("http://{}", s.gw.addr), "api_key": s.key}).to_string(),
    )
    .unwrap();
    let from_file = Command::new(std::env::var("LIVEUPDATE_CLI_BIN").unwrap())
        .args(["app", "list"])
        .env("HOME", &s.work)
        .env_remove("LIVEUPDATE_SERVER")
        .env_remove("LIVEUPDATE_API_KEY")
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    assert!(from_file.status.success(), "{}", String::from_utf8_lossy(&from_file.stderr));
    assert!(String::from_utf8_lossy(&from_file.stdout).contains(APP));
}

#[test]
fn signed_publishing_refuses_unsigned_and_wrongly_signed_bundles() {
    let s = setup("cli_signing");
    s.ok(&["app", "create", APP]);
    s.ok(&["app", "create", "com.acme.other"]);
    let key_path = |name: &str| s.work.join(name).to_str().unwrap().to_owned();
    let public =
        |output: String| output.lines().find_map(|l| l.strip_prefix("public key: ")).unwrap().to_owned();
    let release = public(s.ok(&["key", "generate", "--out", &key_path("release.pem")]));
    let stranger = public(s.ok(&["key", "generate", "--out", &key_path("stranger.pem")]));
    let other_app = public(s.ok(&["key", "generate", "--out", &key_path("other.pem")]));
    assert_ne!(release, stranger);
    let mode = std::fs::metadata(key_path("release.pem")).unwrap();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777, 0o600);
    s.ok(&["app", "signing-key", "add", APP, "release", &release]);
    s.ok(&["app", "signing-key", "add", "com.acme.other", "other", &other_app]);
    s.ok(&["app", "set", APP, "--require-signature", "true"]);
    let build = s.build("dist", &[("index.html", "<!doctype html>")]);

    let refused = |args: &[&str], code: &str| {
        let output = s.cli(args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(stderr.contains(code), "{args:?}: {stderr}");
    };
    refused(&["bundle", "upload", APP, "1.0.1", &build], "signature_required");
    let stranger_key = key_path("stranger.pem");
    refused(
        &["bundle", "upload", APP, "1.0.1", &build, "--sign", &stranger_key, "--signer", "release"],
        "invalid_signature",
    );
    let other_key = key_path("other.pem");
    refused(
        &["bundle", "upload", APP, "1.0.1", &build, "--sign", &other_key, "--signer", "other"],
        "invalid_signature",
    );

    let release_key = key_path("release.pem");
    let signed =
        s.json(&["bundle", "upload", APP, "1.0.1", &build, "--sign", &release_key, "--signer", "release"]);
    assert_eq!(signed["signed_by"], "release");
    assert!(signed["signature"].as_str().is_some_and(|sig| sig.len() == 88));
    let listed = s.json(&["bundle", "list", APP]);
    assert_eq!(listed["bundles"][0]["signed_by"], "release");

    // A write key cannot switch the requirement off; revoked keys stop working.
    let org_write_key = {
        let mut db = TestDb::reconnect(&s.db);
        let org: i64 = db
            .client
            .query_one("SELECT organization_id FROM liveupdate.apps WHERE app_id = $1", &[&APP])
            .unwrap()
            .get(0);
        db.client
            .query_one("SELECT key FROM liveupdate.create_api_key($1, 'w', 'write')", &[&org])
            .unwrap()
            .get::<_, String>(0)
    };
    let switch_off = s.cli(&["--api-key", &org_write_key, "app", "set", APP, "--require-signature", "false"]);
    assert_eq!(switch_off.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&switch_off.stderr).contains("forbidden"));
    s.ok(&["app", "signing-key", "revoke", APP, "release"]);
    refused(
        &["bundle", "upload", APP, "1.0.2", &build, "--sign", &release_key, "--signer", "release"],
        "invalid_signature",
    );

    let mut db = TestDb::reconnect(&s.db);
    assert_eq!(db.count("SELECT count(*) FROM liveupdate.bundles"), 1, "only the well-signed bundle");
    let objects = std::fs::read_dir(s.gw.storage_root.join("files")).unwrap().count()
        + std::fs::read_dir(s.gw.storage_root.join("zips")).unwrap().count();
    assert_eq!(objects, 2, "index.html and the zip of the registered bundle; refused uploads left nothing");
}

#[test]
fn encrypted_bundles_decrypt_with_the_public_key_on_the_device() {
    let s = setup("cli_encryption");
    s.ok(&["app", "create", APP]);
    s.ok(&["channel", "create", APP, "production", "--public", "true"]);
    let key_file = s.work.join("app-rsa.pem");
    let generated = s.json(&["key", "generate", "--rsa", "--out", key_file.to_str().unwrap()]);
    let public_pem = std::fs::read_to_string(s.work.join("app-rsa.pub")).unwrap();
    assert!(public_pem.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
    let key_id = generated["key_id"].as_str().unwrap().to_owned();
    assert!(key_id.starts_with("MIIBCgKCAQEA") && key_id.len() == 20, "{key_id}");

    let script = "export const big = 'x';\n".repeat(300);
    let files = [("index.html", "<!doctype html><script src=app.js></script>"), ("app.js", script.as_str())];
    let build = s.build("dist", &files);
    let uploaded = s.json(&[
        "bundle",
        "upload",
        APP,
        "1.0.1",
        &build,
        "--channel",
        "production",
        "--encrypt",
        key_file.to_str().unwrap(),
    ]);
    assert_eq!(uploaded["encrypted"], true);
    assert_eq!(uploaded["key_id"], key_id.as_str());
    assert_eq!(uploaded["checksum"].as_str().map(str::len), Some(512));

    // A device with the app's public key, on a current plugin: zip and manifest both verify.
    let public = download::PluginPublicKey::from_pem(&public_pem);
    let Outcome::Update { url, checksum, session_key, manifest, .. } =
        Device::new(APP, "2f3e4d5c-6b7a-4891-8a7b-6c5d4e3f2a1b").plugin("8.51.14").outcome(s.gw.addr)
    else {
        panic!("no update")
    };
    let expected: download::Files =
        files.iter().map(|(n, c)| (n.to_string(), c.as_bytes().to_vec())).collect();
    assert_eq!(download::fetch_encrypted_zip(&url, &checksum, &session_key, &public).unwrap(), expected);
    let manifest = manifest.unwrap();
    assert!(manifest.iter().any(|e| e["file_name"] == "app.js.br"), "compressed before encryption");
    assert_eq!(download::fetch_encrypted_manifest(&manifest, &session_key, &public).unwrap(), expected);

    // Another key cannot read it: the session key does not decrypt to 16 bytes under it.
    let other_file = s.work.join("other-rsa.pem");
    s.ok(&["key", "generate", "--rsa", "--out", other_file.to_str().unwrap()]);
    let other =
        download::PluginPublicKey::from_pem(&std::fs::read_to_string(s.work.join("other-rsa.pub")).unwrap());
    assert!(download::fetch_encrypted_zip(&url, &checksum, &session_key, &other).is_err());
}

#[test]
fn a_channel_rolls_back_with_one_command_and_keeps_its_history() {
    let s = setup("cli_rollback");
    s.ok(&["app", "create", APP]);
    s.ok(&["channel", "create", APP, "production", "--public", "true"]);
    let device = Device::new(APP, "3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d");
    let offered = || match device.outcome(s.gw.addr) {
        Outcome::Update { version, .. } => version,
        other => format!("{other:?}"),
    };
    for version in ["1.0.1", "1.0.2"] {
        let build = s.build(version, &[("index.html", version)]);
        s.ok(&["bundle", "upload", APP, version, &build, "--channel", "production"]);
    }
    assert_eq!(offered(), "1.0.2");
    assert!(s.ok(&["channel", "rollback", APP, "production"]).contains("→ 1.0.1"));
    assert_eq!(offered(), "1.0.1", "devices follow at their next check");
    let history = s.json(&["channel", "history", APP, "production"]);
    let steps: Vec<(String, String, String)> = history["deploys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["from"].to_string(), d["to"].to_string(), d["reason"].to_string()))
        .collect();
    assert_eq!(
        steps,
        [
            ("\"1.0.2\"".into(), "\"1.0.1\"".into(), "\"rollback\"".into()),
            ("\"1.0.1\"".into(), "\"1.0.2\"".into(), "\"deploy\"".into()),
            ("\"builtin\"".into(), "\"1.0.1\"".into(), "\"deploy\"".into()),
            ("null".into(), "\"builtin\"".into(), "\"created\"".into()),
        ]
    );
    assert!(history["deploys"][0]["deployed_by"].as_str().unwrap().starts_with("key:"));
    // Further back: builtin; then there is nothing left (exit 1, invalid_state).
    assert!(s.ok(&["channel", "rollback", APP, "production"]).contains("→ builtin"));
    let none_left = s.cli(&["channel", "rollback", APP, "production"]);
    assert_eq!(none_left.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&none_left.stderr).contains("invalid_state"));
}

#[test]
fn a_progressive_rollout_is_steered_from_the_cli() {
    let s = setup("cli_rollout");
    s.ok(&["app", "create", APP]);
    s.ok(&["channel", "create", APP, "production", "--public", "true"]);
    for version in ["1.0.1", "1.0.2"] {
        let build = s.build(version, &[("index.html", version)]);
        let deploy: &[&str] = if version == "1.0.1" { &["--channel", "production"] } else { &[] };
        let mut args = vec!["bundle", "upload", APP, version, build.as_str()];
        args.extend_from_slice(deploy);
        s.ok(&args);
    }
    let on_rollout = || {
        (0..200)
            .filter(|i| {
                let device = Device::new(APP, &format!("{i:08x}-1111-4222-8333-444444444444"));
                matches!(device.outcome(s.gw.addr), Outcome::Update { version, .. } if version == "1.0.2")
            })
            .count()
    };
    let started = s.ok(&["channel", "rollout", APP, "production", "start", "1.0.2", "--percent", "50"]);
    assert!(started.contains("1.0.2 for 50% of devices"), "{started}");
    let half = on_rollout();
    assert!((60..=140).contains(&half), "about half of 200 devices: {half}");
    s.ok(&["channel", "rollout", APP, "production", "pause"]);
    assert_eq!(on_rollout(), 0, "a paused rollout serves nobody");
    s.ok(&["channel", "rollout", APP, "production", "resume"]);
    assert_eq!(on_rollout(), half, "the same devices after resuming");
    s.ok(&["channel", "rollout", APP, "production", "set", "--percent", "100"]);
    assert_eq!(on_rollout(), 200);
    assert!(s.ok(&["channel", "rollout", APP, "production", "promote"]).contains("→ 1.0.2 (no rollout)"));
    assert_eq!(on_rollout(), 200, "promoted: the channel's bundle now");
    let pause_none = s.cli(&["channel", "rollout", APP, "production", "pause"]);
    assert_eq!(pause_none.status.code(), Some(1), "no rollout left to pause");
}

#[test]
fn an_app_is_deleted_with_its_stored_objects_and_nothing_else() {
    let mut s = setup_with("cli_delete_app", &[("LIVEUPDATE_PERIODIC_INTERVAL_MS", "300")]);
    const OTHER: &str = "com.acme.other";
    let shared = "console.log('a library both apps ship');\n".repeat(50);
    for app in [OTHER, APP] {
        s.ok(&["app", "create", app]);
        s.ok(&["channel", "create", app, "production", "--public", "true", "--disable-auto-update", "none"]);
        let page = format!("<!doctype html><title>{app}</title>");
        let build = s.build(app, &[("index.html", page.as_str()), ("js/lib.js", shared.as_str())]);
        s.ok(&["bundle", "upload", app, "1.0.1", &build, "--channel", "production"]);
    }
    let objects = stored_objects(&s.gw.storage_root);
    // Each app's zip and page, and the library stored once for both.
    assert_eq!(objects.len(), 5, "{objects:?}");
    let device = "2e3d4c5b-6a79-4898-a877-665544332211";
    s.db.exec(&format!(
        "SELECT liveupdate.set_device_override('{APP}', '{device}', 'production'); \
         SELECT liveupdate.add_signing_key('{APP}', 'release', 'Ps5Yhk8jh+oiYqeaFDg732l2UgwRcrAlUsxStjgBlzc=')"
    ));
    let Outcome::Update { .. } = Device::new(APP, device).outcome(s.gw.addr) else { panic!("no update") };

    // Nobody at a terminal to confirm, and no --yes: refused before asking the server.
    let unconfirmed = s.cli(&["app", "delete", APP]);
    assert_eq!(unconfirmed.status.code(), Some(2), "{}", String::from_utf8_lossy(&unconfirmed.stderr));
    assert!(String::from_utf8_lossy(&unconfirmed.stderr).contains("--yes"));
    // Only admins delete apps: a write key is refused, by the CLI and by the API.
    let org: i64 = s.db.client.query_one("SELECT id FROM liveupdate.organizations", &[]).unwrap().get(0);
    let write_key: String =
        s.db.client
            .query_one("SELECT key FROM liveupdate.create_api_key($1, 'writer', 'write')", &[&org])
            .unwrap()
            .get(0);
    let refused = s.cli(&["--api-key", &write_key, "app", "delete", APP, "--yes"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("403 forbidden"));
    let path = format!("/v1/apps/{APP}");
    let by_api = http::request(s.gw.addr, "DELETE", &path, &[("x-api-key", write_key.as_str())], b"");
    assert_eq!(by_api.status, 403, "{}", String::from_utf8_lossy(&by_api.body));
    assert_eq!(s.db.count(&format!("SELECT count(*) FROM liveupdate.apps WHERE app_id = '{APP}'")), 1);

    // At a terminal (util-linux `script` gives it one): the app id must be typed.
    let wrong = s.at_terminal(&["app", "delete", APP], "com.acme\n");
    assert_eq!(wrong.status.code(), Some(2), "{}", String::from_utf8_lossy(&wrong.stdout));
    assert!(String::from_utf8_lossy(&wrong.stdout).contains("Type the app id to confirm"));
    assert_eq!(s.db.count(&format!("SELECT count(*) FROM liveupdate.apps WHERE app_id = '{APP}'")), 1);
    let typed = s.at_terminal(&["app", "delete", APP], &format!("{APP}\n"));
    assert!(typed.status.success(), "{}", String::from_utf8_lossy(&typed.stdout));
    assert!(String::from_utf8_lossy(&typed.stdout).contains(&format!("deleted app {APP}")));
    let gone = http::request(s.gw.addr, "GET", &path, &[("x-api-key", s.key.as_str())], b"");
    assert_eq!(gone.status, 404);
    let again = http::request(s.gw.addr, "DELETE", &path, &[("x-api-key", s.key.as_str())], b"");
    assert_eq!(again.status, 404);
    // What is left is the other app's: its bundle and channel; nothing of the deleted one.
    for table in ["bundles", "channels"] {
        let rows = s.db.count(&format!(
            "SELECT count(*) FROM liveupdate.{table} AS t JOIN liveupdate.apps AS a ON a.id = t.app_id WHERE a.app_id = '{OTHER}'"
        ));
        assert_eq!(
            (rows, s.db.count(&format!("SELECT count(*) FROM liveupdate.{table}"))),
            (1, 1),
            "{table}"
        );
    }
    for table in ["device_overrides", "signing_keys", "deploy_history", "channel_guards"] {
        assert_eq!(
            s.db.count(&format!(
                "SELECT count(*) FROM liveupdate.{table} WHERE app_id <> (SELECT id FROM liveupdate.apps)"
            )),
            0,
            "{table}"
        );
    }

    // The gateway's periodic work deletes what only the deleted app used: its zip and page.
    let kept: Vec<String> = {
        let other = s.db.client.query(
            "SELECT b.storage_key FROM liveupdate.bundles AS b UNION SELECT f.storage_key FROM liveupdate.bundle_files AS f",
            &[],
        );
        let mut keys: Vec<String> = other.unwrap().iter().map(|row| row.get(0)).collect();
        keys.sort();
        keys
    };
    assert_eq!(kept.len(), 3, "{kept:?}");
    assert!(
        liveupdate_e2e::eventually(20, || {
            // Queued objects wait a minute before the gateway may claim them: let it pass.
            s.db.exec("UPDATE liveupdate.storage_deletions SET queued_at = queued_at - interval '1 minute'");
            stored_objects(&s.gw.storage_root) == kept
        }),
        "{:?}",
        stored_objects(&s.gw.storage_root)
    );
    assert_eq!(s.db.count("SELECT count(*) FROM liveupdate.storage_deletions"), 0);

    // The other app still serves its whole bundle.
    let Outcome::Update { url, checksum, .. } = Device::new(OTHER, device).outcome(s.gw.addr) else {
        panic!("the other app offers nothing")
    };
    let fetched = download::fetch_zip(&url, &checksum).unwrap();
    assert_eq!(fetched.get("js/lib.js").map(Vec::as_slice), Some(shared.as_bytes()));
}
