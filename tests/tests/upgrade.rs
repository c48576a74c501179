//! Upgrades: a database created by an earlier release's frozen install script
//! (`sql/versions/pg_liveupdate--<old>.sql`), filled with data that touches every table, keeps
//! answering devices once this release's files are installed, and after
//! `ALTER EXTENSION pg_liveupdate UPDATE` equals a fresh install of this release: the same catalog
//! (tests/upgrade/catalog.sql), every row kept, the same answers to the same requests.
//!
//! A change to the schema or to the SQL API that forgets its step in the upgrade script makes the
//! catalogs differ, and this test prints the difference.
//!
//! The same comparison holds for backups: a `pg_dump` of a filled database, restored with
//! `pg_restore` into an empty one, is that database again (the extension's own tables are dumped
//! through `pg_extension_config_dump`, and its integrity triggers must accept the restore).

#![allow(clippy::unwrap_used, reason = "tests")]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use liveupdate_core::signing;
use liveupdate_e2e::TestDb;
use serde_json::{Value, json};

const APP: &str = "com.upgrade.app";
const DEVICES: [&str; 3] = [
    "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
    "1f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f1",
    "2f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f2",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The releases whose install scripts are frozen in the repository, oldest first.
fn earlier_releases() -> Vec<String> {
    let mut versions: Vec<String> = std::fs::read_dir(repo().join("sql/versions"))
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            Some(name.strip_prefix("pg_liveupdate--")?.strip_suffix(".sql")?.to_owned())
        })
        .filter(|version| version != env!("CARGO_PKG_VERSION"))
        .collect();
    versions.sort();
    versions
}

/// The deployment migrations as they were at `version` (kept beside its frozen script), or today's.
fn migrations_sql(version: Option<&str>) -> String {
    if let Some(version) = version {
        return std::fs::read_to_string(repo().join(format!("tests/upgrade/migrations-{version}.sql")))
            .unwrap();
    }
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(repo().join("migrations")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().map(|file| std::fs::read_to_string(file).unwrap()).collect::<Vec<_>>().join("\n")
}

fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

/// Data in every table the SQL API of the oldest release can reach: organisations, members, keys,
/// apps, signing keys, signed bundles with manifests, channels with a rollout and guard settings,
/// overrides, devices, events in several daily partitions, rollups, deploy history.
fn fill(db: &mut TestDb) {
    let checksum = "ab".repeat(32);
    let key = signing_key();
    let signature = signing::sign(&key, APP, "1.0.0", &checksum);
    let public_key = signing::encode_public_key(&key.verifying_key());
    let manifest = json!([
        {"file_name": "index.html", "file_hash": "11".repeat(32), "file_size": 300, "storage_key": format!("files/{}", "11".repeat(32))},
        {"file_name": "assets/app.js", "file_hash": "22".repeat(32), "file_size": 4000, "storage_key": format!("files/{}", "22".repeat(32))}
    ]);
    db.exec(&format!(
        "SELECT liveupdate.create_app(liveupdate.create_organization('upgrade'), '{APP}', expose_metadata => true); \
         SELECT liveupdate.add_member((SELECT id FROM liveupdate.organizations), '5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d', 'write'); \
         SELECT key IS NOT NULL FROM liveupdate.create_api_key((SELECT id FROM liveupdate.organizations), 'ci', 'upload', ARRAY['{APP}']); \
         SELECT liveupdate.add_signing_key('{APP}', 'release', '{public_key}'); \
         SELECT liveupdate.register_bundle('{APP}', '1.0.0', checksum => '{checksum}', storage_key => 'zips/{checksum}.zip', \
             manifest => '{manifest}', signature => '{signature}', signer => 'release', archive_bytes => 5000, \
             link => 'https://acme.test/1.0.0', comment => 'first'); \
         SELECT liveupdate.register_bundle('{APP}', '1.1.0', external_url => 'https://cdn.acme.test/1.1.0.zip', \
             checksum => '{}'); \
         SELECT liveupdate.register_bundle('{APP}', '1.2.0', external_url => 'https://cdn.acme.test/1.2.0.zip'); \
         SELECT liveupdate.create_channel('{APP}', 'production', bundle => '1.0.0', public => true); \
         SELECT liveupdate.create_channel('{APP}', 'beta', bundle => '1.1.0', allow_device_self_set => true); \
         SELECT liveupdate.set_channel_bundle('{APP}', 'beta', '1.2.0'); \
         SELECT liveupdate.rollback_channel('{APP}', 'beta'); \
         SELECT liveupdate.start_rollout('{APP}', 'production', '1.1.0', 2500); \
         SELECT liveupdate.set_channel_guard('{APP}', 'production', max_failure_rate => 0.3, min_attempts => 10); \
         SELECT liveupdate.set_device_override('{APP}', '{}', 'beta'); \
         SELECT liveupdate.delete_bundle('{APP}', '1.2.0') IS NOT NULL",
        "cd".repeat(32),
        DEVICES[2],
    ));
    let checks: Vec<Value> = DEVICES
        .iter()
        .map(|device| {
            json!({"app_id": APP, "device_id": device, "platform": "android", "plugin_version": "8.51.14",
                   "version_build": "1.0.0", "version_name": "1.0.0", "version_os": "14", "is_prod": true,
                   "is_emulator": false, "custom_id": "user-1"})
        })
        .collect();
    db.exec(&format!("SELECT liveupdate.record_device_checks('{}')", Value::Array(checks)));
    let events: Vec<Value> = DEVICES
        .iter()
        .flat_map(|device| {
            ["set", "app_moved_to_foreground", "download_complete"].map(|action| {
                json!({"app_id": APP, "device_id": device, "platform": "android", "plugin_version": "8.51.14",
                       "version_build": "1.0.0", "version_os": "14", "version_name": "1.0.0", "action": action,
                       "is_prod": true, "is_emulator": false, "metadata": {"source": "upgrade"}})
            })
        })
        .chain([json!({"app_id": APP, "device_id": DEVICES[0], "platform": "android", "plugin_version": "8.51.14",
                       "version_build": "1.0.0", "version_os": "14", "version_name": "1.1.0", "action": "update_fail"})])
        .collect();
    db.exec(&format!("SELECT liveupdate.record_stats('{}')", Value::Array(events)));
    // Events of earlier days, in partitions of their own, as a server running for a while has them
    // (indexed as ensure_event_partitions indexes its partitions, from 0.3.0 on).
    db.exec(&format!(
        "DO $$ DECLARE day date; part text; BEGIN \
           FOREACH day IN ARRAY ARRAY[current_date - 2, current_date - 1] LOOP \
             part := 'device_events_p' || to_char(day, 'YYYYMMDD'); \
             CONTINUE WHEN to_regclass('liveupdate.' || part) IS NOT NULL; \
             EXECUTE format('CREATE TABLE liveupdate.%I PARTITION OF liveupdate.device_events \
               FOR VALUES FROM (%L) TO (%L)', part, day || ' 00:00:00+00', day + 1 || ' 00:00:00+00'); \
             IF to_regprocedure('liveupdate._index_event_partition(text)') IS NOT NULL THEN \
               PERFORM liveupdate._index_event_partition(part); \
             END IF; \
           END LOOP; END $$; \
         INSERT INTO liveupdate.device_events (received_at, app_id, device_id, action, version_name, platform, is_prod, is_emulator) \
         SELECT (current_date - d) + time '12:00' AT TIME ZONE 'UTC', a.id, '{}'::uuid, 'app_moved_to_foreground', '1.0.0', \
                'android', true, false \
         FROM liveupdate.apps AS a, generate_series(1, 2) AS d WHERE a.app_id = '{APP}'; \
         SELECT liveupdate.reaggregate_stats(current_date - 3); \
         SELECT liveupdate.run_periodic()",
        DEVICES[1]
    ));
}

/// The answers a fixed set of requests gets: update checks of each device and plugin line, channel
/// self-service, manifest sizes, statistics.
fn answers(db: &mut TestDb) -> Vec<Value> {
    let mut requests = Vec::new();
    for device in DEVICES {
        for (plugin, running, channel) in [
            ("8.51.14", "1.0.0", ""),
            ("6.24.0", "builtin", ""),
            ("8.51.14", "1.0.0", "beta"),
            ("5.9.5", "1.1.0", ""),
        ] {
            requests.push((
                "resolve_update",
                json!({"app_id": APP, "device_id": device, "platform": "android", "plugin_version": plugin,
                       "version_build": "1.0.0", "version_name": running, "defaultChannel": channel,
                       "is_prod": true, "is_emulator": false}),
            ));
        }
    }
    let info = json!({"app_id": APP, "device_id": DEVICES[0], "platform": "android", "plugin_version": "8.51.14",
                      "version_build": "1.0.0", "version_name": "1.0.0", "is_prod": true, "is_emulator": false});
    let mut sized = info.clone();
    sized["version"] = json!("1.0.0");
    sized["manifest"] = json!([{"file_name": "index.html", "file_hash": "11".repeat(32)}]);
    let mut answers: Vec<Value> = requests
        .into_iter()
        .map(|(function, body)| {
            db.client
                .query_one(&format!("SELECT liveupdate.{function}($1::jsonb)"), &[&body])
                .unwrap_or_else(|e| panic!("{function}({body}): {e}"))
                .get(0)
        })
        .collect();
    for method in ["list", "get"] {
        answers.push(
            db.client
                .query_one("SELECT liveupdate.channel_self($1, $2::jsonb)", &[&method, &info])
                .unwrap()
                .get(0),
        );
    }
    answers
        .push(db.client.query_one("SELECT liveupdate.manifest_size($1::jsonb)", &[&sized]).unwrap().get(0));
    answers.push(
        db.client
            .query_one(&format!("SELECT liveupdate.app_stats('{APP}', current_date - 3, current_date)"), &[])
            .unwrap()
            .get(0),
    );
    answers
}

/// The base tables of schema `liveupdate` (partitions included) and their columns.
fn tables(db: &mut TestDb) -> BTreeMap<String, Vec<String>> {
    let rows = db
        .client
        .query(
            "SELECT c.relname::text, array_agg(quote_ident(a.attname) ORDER BY a.attname)::text[] \
             FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace \
             JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
             WHERE n.nspname = 'liveupdate' AND c.relkind = 'r' GROUP BY c.relname",
            &[],
        )
        .unwrap();
    rows.iter().map(|row| (row.get(0), row.get(1))).collect()
}

/// Each table's rows, over the given columns: (row count, digest of the sorted rows).
fn contents(db: &mut TestDb, tables: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, (i64, String)> {
    tables
        .iter()
        .map(|(table, columns)| {
            let sql = format!(
                "SELECT count(*), coalesce(md5(string_agg(r::text, E'\\n' ORDER BY r::text)), '') \
                 FROM (SELECT {} FROM ONLY liveupdate.{}) AS r",
                columns.join(", "),
                table
            );
            let row = db.client.query_one(&sql, &[]).unwrap();
            (table.clone(), (row.get(0), row.get(1)))
        })
        .collect()
}

fn catalog(db: &mut TestDb) -> Vec<String> {
    let sql = std::fs::read_to_string(repo().join("tests/upgrade/catalog.sql")).unwrap();
    db.client
        .query(sql.as_str(), &[])
        .unwrap()
        .iter()
        .map(|row| {
            let (object, fact): (String, Option<String>) = (row.get(0), row.get(1));
            format!("{object}: {}", fact.unwrap_or_else(|| panic!("catalog.sql lost a fact of {object}")))
        })
        .collect()
}

/// The lines only one side has, each marked with its side, in catalog order.
fn catalog_difference(upgraded: &[String], fresh: &[String]) -> Vec<String> {
    let only = |a: &[String], b: &[String], mark: &str| -> Vec<String> {
        a.iter().filter(|line| !b.contains(line)).map(|line| format!("{mark} {line}")).collect()
    };
    let mut lines = only(upgraded, fresh, "upgraded only:");
    lines.extend(only(fresh, upgraded, "fresh only:   "));
    lines.sort_by(|a, b| a[14..].cmp(&b[14..]));
    lines
}

fn extension_version(db: &mut TestDb) -> String {
    db.client
        .query_one("SELECT extversion FROM pg_extension WHERE extname = 'pg_liveupdate'", &[])
        .unwrap()
        .get(0)
}

#[test]
fn upgrading_from_each_release_equals_a_fresh_install() {
    let current = env!("CARGO_PKG_VERSION");
    let releases = earlier_releases();
    assert!(!releases.is_empty(), "sql/versions holds the frozen install script of every earlier release");

    let mut fresh = TestDb::create_empty("upgrade_fresh");
    fresh.exec(&format!("CREATE EXTENSION pg_liveupdate VERSION '{current}'"));
    fresh.exec(&migrations_sql(None));
    fill(&mut fresh);
    // Applied again after the data, as on the upgraded side: grants reach the event partitions the
    // data created (where the cluster has Supabase's roles).
    fresh.exec(&migrations_sql(None));
    let fresh_catalog = catalog(&mut fresh);

    for old in releases {
        let mut db = TestDb::create_empty(&format!("upgrade_from_{}", old.replace('.', "_")));
        db.exec(&format!("CREATE EXTENSION pg_liveupdate VERSION '{old}'"));
        db.exec(&migrations_sql(Some(&old)));
        fill(&mut db);
        let old_tables = tables(&mut db);
        let rows_before = contents(&mut db, &old_tables);

        // This release's shared object already serves the old catalog (packages replace files
        // before anyone runs ALTER EXTENSION), and must answer as the old one did.
        let answers_before = answers(&mut db);
        assert_eq!(extension_version(&mut db), old);

        db.exec("ALTER EXTENSION pg_liveupdate UPDATE");
        db.exec(&migrations_sql(None));
        assert_eq!(extension_version(&mut db), current);

        let difference = catalog_difference(&catalog(&mut db), &fresh_catalog);
        assert!(
            difference.is_empty(),
            "{old} upgraded to {current} differs from a fresh {current} ({} lines); the upgrade script \
             sql/pg_liveupdate--{old}--{current}.sql misses these steps:\n{}",
            difference.len(),
            difference.join("\n")
        );
        assert_eq!(contents(&mut db, &old_tables), rows_before, "{old}: every row survives the upgrade");
        assert_eq!(answers(&mut db), answers_before, "{old}: devices get the same answers after the upgrade");
    }
}

/// Every C function an earlier release's install script declares must be found in this release's
/// shared object under the same symbol: until `ALTER EXTENSION ... UPDATE` runs, the old catalog
/// calls into the new library.
#[test]
fn this_library_keeps_every_symbol_earlier_releases_call() {
    // The installed library of the major under test (`make test` names it; by hand, 15's).
    let library = std::env::var("LIVEUPDATE_TEST_PG_LIBRARY")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/usr/lib/postgresql/15/lib/pg_liveupdate.so"));
    let nm = std::process::Command::new("nm").args(["-D", "--defined-only"]).arg(&library).output().unwrap();
    assert!(nm.status.success(), "nm {}", library.display());
    let exported = String::from_utf8(nm.stdout).unwrap();
    let exported: Vec<&str> = exported.lines().filter_map(|line| line.split_whitespace().nth(2)).collect();
    for old in earlier_releases() {
        let script =
            std::fs::read_to_string(repo().join(format!("sql/versions/pg_liveupdate--{old}.sql"))).unwrap();
        let wanted: Vec<&str> = script
            .split("AS 'MODULE_PATHNAME', '")
            .skip(1)
            .filter_map(|rest| rest.split('\'').next())
            .collect();
        assert!(!wanted.is_empty());
        let missing: Vec<&&str> = wanted.iter().filter(|symbol| !exported.contains(symbol)).collect();
        assert!(missing.is_empty(), "{old}'s functions call symbols this library lacks: {missing:?}");
    }
}

/// `program` of the major under test with `args` (run as `postgres`), `input` on its stdin; its stdout.
/// Runs a PostgreSQL client program with `input` on its standard input; its output, whatever its status.
fn postgres_program_output(program: &str, args: &[&str], input: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = liveupdate_e2e::postgres_program(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    // A program that stops early (pg_restore on its first error) may not read all of its input.
    let _ = writer.join().unwrap();
    output
}

/// [`postgres_program_output`] for a program that must succeed: its standard output.
fn run_postgres_program(program: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let output = postgres_program_output(program, args, input);
    assert!(
        output.status.success(),
        "{program} {args:?} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn a_dump_restores_into_an_equal_database() {
    let current = env!("CARGO_PKG_VERSION");
    let mut source = TestDb::create_empty("dump_source");
    source.exec(&format!("CREATE EXTENSION pg_liveupdate VERSION '{current}'"));
    source.exec(&migrations_sql(None));
    fill(&mut source);
    source.exec(&migrations_sql(None));
    let mut source_tables = tables(&mut source);
    // The one table a dump leaves out on purpose: the last week's log of run_periodic calls, a
    // diagnostic of the server it ran on (not registered with pg_extension_config_dump).
    source_tables.remove("periodic_runs");
    let rows = contents(&mut source, &source_tables);
    let source_answers = answers(&mut source);
    let source_catalog = catalog(&mut source);

    let dump = run_postgres_program("pg_dump", &["--format=custom", "--dbname", &source.url()], &[]);
    let mut restored = TestDb::create_empty("dump_restored");
    // As Supabase's and PostgreSQL's guides restore: in replica mode, where tables' ordinary
    // triggers do not fire (the rows were checked when first written, and the tables arrive one at
    // a time: bundles before the signing keys their signatures need, a manifest's count before its
    // files). Setting it takes a superuser, as CREATE EXTENSION does.
    let replica = format!("{} options=-csession_replication_role=replica", restored.url());
    run_postgres_program("pg_restore", &["--exit-on-error", "--dbname", &replica], &dump);
    // Without replica mode the restore stops at the first bundle, with an error that says how to
    // restore.
    let plain = TestDb::create_empty("dump_restored_plainly");
    let refused =
        postgres_program_output("pg_restore", &["--exit-on-error", "--dbname", &plain.url()], &dump);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && said.contains("restored with their rules off (replica mode)"),
        "a plain restore fails, pointing at replica mode:\n{said}"
    );

    let difference = catalog_difference(&catalog(&mut restored), &source_catalog);
    assert!(
        difference.is_empty(),
        "the restored database's catalog differs from the dumped one ({} lines; 'upgraded' is the restored side):\n{}",
        difference.len(),
        difference.join("\n")
    );
    assert_eq!(contents(&mut restored, &source_tables), rows, "every row is restored");
    assert_eq!(
        answers(&mut restored),
        source_answers,
        "devices get the same answers from the restored database"
    );
}
