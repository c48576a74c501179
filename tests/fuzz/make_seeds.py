#!/usr/bin/env python3
"""Writes the committed seed corpus (tests/fuzz/corpus/<target>/): small, realistic inputs taken
from the protocol's examples (protocol.md §2.2, §2.6, §5, §6), the management API's documented
bodies, and zips of the shapes the upload checker must judge. Deterministic: running it again
rewrites the same files. Only for changing the seeds; `make fuzz` does not run it."""

import io
import json
import os
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEVICE = "8e1c1a7e-3d6b-4e1e-9e8e-0c5b1d2a3f40"
INFO = {
    "platform": "android", "device_id": DEVICE, "app_id": "com.example.app", "custom_id": "",
    "version_build": "1.2", "version_code": "12", "version_os": "14", "version_name": "builtin",
    "plugin_version": "8.51.14", "is_emulator": False, "is_prod": True, "defaultChannel": "",
    "install_source": "google_play",
}


def write(target, name, data):
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(directory, name), "wb") as out:
        out.write(data)


def body(**changes):
    value = dict(INFO)
    for key, item in changes.items():
        if item is None:
            value.pop(key, None)
        else:
            value[key] = item
    return json.dumps(value)


def update_check():
    write("update_check", "android_builtin.json", body())
    write("update_check", "ios_bundle_key_id.json", body(
        platform="ios", device_id=DEVICE.upper(), version_build="2.0.1", version_name="1.0.4",
        install_source=None, key_id="MIIBIjANBgkqhkiG9w0B", defaultChannel="beta", custom_id=" user-7 "))
    write("update_check", "electron_prerelease.json", body(
        platform="electron", version_build="3-beta.2+build.9", version_name="3.0.0-beta.2",
        plugin_version="7.0.35", is_prod=None, is_emulator=None))
    write("update_check", "old_plugin.json", body(plugin_version="5.9.5", version_build="1"))
    write("update_check", "missing_device_id.json", body(device_id=None))
    write("update_check", "bad_version_build.json", body(version_build="1.2.3.4"))
    write("update_check", "manifest_size.json", body(version="1.0.2", manifest=[
        {"file_name": "index.html", "file_hash": "a" * 64, "download_url": "https://cdn.example.com/a"},
        {"file_name": "assets/app.js.br", "file_hash": "b" * 64}]))
    write("update_check", "manifest_size_files.json", body(version="1.0.2", files=[
        {"file_name": "css/app.css", "file_hash": "c" * 64}]))
    write("update_check", "not_json.txt", "{\"platform\": \"android\",")
    # Reproducers of defects the round trip found (see version.rs and request.rs tests).
    write("update_check", "regression_version_build_padding.json", body(version_build="1-" + "a" * 126))
    write("update_check", "regression_install_source_lowercase.json", body(install_source="\u0130" * 40))


def stats():
    event = dict(INFO, action="set", version_name="1.0.1", old_version_name="builtin",
                 timestamp=1764000000000)
    write("stats", "batch.json", json.dumps([
        event,
        dict(event, action="download_complete", version_name="1.0.2", old_version_name=""),
        dict(event, action="download_manifest_file_fail", version_name="1.0.2:assets/app.js"),
    ]))
    launch = dict(event, action="app_launch_timeout", metadata={
        "duration_ms": "12000", "launch_started_at": "1764000000000", "timeout_ms": "10000",
        "source": "cold"})
    write("stats", "launch_metadata.json", json.dumps([launch]))
    worker = dict(INFO, action="download_zip_start", version_name="1.0.2")
    write("stats", "single_worker_event.json", json.dumps(worker))
    write("stats", "legacy_download_fail.json", json.dumps(dict(event, action="download_fail",
                                                                plugin_version="7.16.9")))
    write("stats", "empty.json", "[]")
    write("stats", "mixed_apps.json", json.dumps([event, dict(event, app_id="com.other.app")]))
    write("stats", "bad_action.json", json.dumps([event, dict(event, action="made_up")]))
    # Reproducers of defects the stored-row check found (see version.rs and stats.rs tests).
    write("stats", "regression_version_build_padding.json",
          json.dumps([dict(event, version_build="1-" + "a" * 126)]))
    write("stats", "regression_install_source_lowercase.json",
          json.dumps([dict(event, install_source="\u0130" * 40)]))


def channel_self():
    set_body = dict(INFO, channel="beta", version_name="", version_build="")
    write("channel_self", "post_set.txt", "\n" + json.dumps(set_body))
    write("channel_self", "put_get.txt", "\n" + json.dumps(dict(INFO, platform="ios")))
    write("channel_self", "get_list.txt",
          "app_id=com.example.app&platform=android&is_emulator=false&is_prod=true"
          "&device_id=" + DEVICE + "&version_name=1.0.1&plugin_version=8.51.14\n")
    write("channel_self", "delete_legacy_body.txt",
          "\n" + json.dumps(dict(INFO, plugin_version="7.33.0")))
    write("channel_self", "delete_query.txt",
          "app_id=com.example.app&device_id=" + DEVICE + "&platform=ios&is_prod=false"
          "&custom_id=a%20b+c&defaultChannel=beta%2Dtwo\n")
    write("channel_self", "bad_escape.txt", "app_id=%zz&platform=android\n")


def zip_bytes(entries, method=zipfile.ZIP_DEFLATED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = method
            if isinstance(data, tuple):  # (mode bits, contents)
                info.external_attr = data[0] << 16
                data = data[1]
            archive.writestr(info, data)
    return buffer.getvalue()


def archive():
    page = b"<!doctype html><html><body><script src=js/app.js></script></body></html>\n"
    script = b"console.log('hello');\n" * 40
    write("archive", "root.zip", zip_bytes([("index.html", page), ("js/app.js", script)]))
    write("archive", "one_folder_nested.zip", zip_bytes([
        ("dist/", b""), ("dist/index.html", page), ("dist/assets/", b""),
        ("dist/assets/css/app.css", b"body{margin:0}\n"), ("dist/assets/js/a/b/c.js", script),
        ("__MACOSX/dist/._index.html", b"\0\5\26\7"), ("dist/.DS_Store", b"\0\0\0\1Bud1")]))
    write("archive", "stored.zip", zip_bytes([("index.html", page), ("img/x.svg", b"<svg/>")],
                                             zipfile.ZIP_STORED))
    bundle = zip_bytes([("index.html", page)])
    write("archive", "transport.zip", zip_bytes([
        ("bundle.zip", bundle),
        ("manifest.json", json.dumps([{"file_name": "index.html", "file_hash": "d" * 344}]).encode()),
        ("files/index.html", b"\x8f" * 48)]))
    write("archive", "symlink.zip", zip_bytes([("index.html", page), ("link", (0o120777, b"/etc"))]))
    write("archive", "unsafe_path.zip", zip_bytes([("index.html", page), ("../evil.js", script)]))
    write("archive", "no_index.zip", zip_bytes([("a/index.html", page), ("b/app.js", script)]))
    write("archive", "empty.zip", zip_bytes([]))


def management():
    methods = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}

    def call(name, method, target, payload=None):
        data = bytes([methods[method]]) + target.encode() + b"\n"
        if payload is not None:
            data += json.dumps(payload).encode()
        write("management", name, data)

    app = "/v1/apps/com.example.app"
    call("create_app", "POST", "/v1/apps", {"app_id": "com.example.app", "name": "Example",
                                            "allow_custom_id": True, "bundle_retention_days": 30})
    call("list_bundles", "GET", app + "/bundles?include_deleted=true")
    call("update_channel", "PATCH", app + "/channels/production",
         {"bundle": "1.0.1", "public": True, "ios": True, "allow_device_self_set": False})
    call("register_bundle", "POST", app + "/bundles", {
        "version": "1.0.2", "external_url": "https://cdn.example.com/1.0.2.zip", "checksum": "e" * 64,
        "session_key": "AAECAwQFBgcICQoLDA0ODw==:c2VjcmV0", "min_update_version": "1.0.0",
        "link": "https://example.com/notes", "comment": "fixes",
        "signature": "A" * 86 + "==", "signer": "ci",
        "manifest": [{"file_name": "index.html", "file_hash": "f" * 64, "storage_key": "files/" + "f" * 64,
                      "download_url": "https://cdn.example.com/files/index.html"}]})
    call("rollout", "POST", app + "/channels/beta%20two/rollout",
         {"action": "start", "bundle": "1.0.2+build.5", "basis_points": 500})
    call("guard", "PUT", app + "/channels/production/guard",
         {"deploy_action": "rollback", "max_failure_rate": 0.05, "confidence": 0.95, "min_attempts": 50})
    call("signing_key", "POST", app + "/signing-keys",
         {"name": "ci", "public_key": "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="})
    call("device_channel", "PUT", app + "/devices/" + DEVICE + "/channel", {"channel": "beta"})
    call("devices_query", "GET", app + "/devices?platform=ios&is_prod=true&custom_id=a%2Bb")
    call("stats_query", "GET", app + "/stats?from=2025-01-01&to=2025-02-01&granularity=day")
    call("revoke_key", "DELETE", "/v1/keys/12")
    call("create_key", "POST", "/v1/keys", {"name": "deploy", "mode": "write", "apps": ["com.example.app"]})
    call("contradicting_path", "PATCH", app, {"app_id": "com.other.app", "name": "x"})


if __name__ == "__main__":
    update_check()
    stats()
    channel_self()
    archive()
    management()
