//! Harness for the end-to-end suite: a database per test in the cluster `make test` started
//! (`LIVEUPDATE_TEST_PG`), the real gateway binary (`LIVEUPDATE_GATEWAY_BIN`) on a free port, a
//! plain HTTP/1.1 client that can send any bytes, and a device that reads answers as the plugin does.

#![allow(clippy::unwrap_used, reason = "test harness: a failed step should fail the test loudly")]

pub mod contract;
pub mod device;
pub mod download;
pub mod http;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub use postgres::Client;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run the suite with `make test`"))
}

/// A fresh database with the extension installed, dropped and re-created for each test.
pub struct TestDb {
    pub name: String,
    url: String,
    pub client: Client,
}

impl TestDb {
    /// Creates database `e2e_<test>` whose `liveupdate.public_url` is `public_url`, in the
    /// cluster `make test` started.
    pub fn create(test: &str, public_url: &str) -> TestDb {
        TestDb::create_in(&env("LIVEUPDATE_TEST_PG"), test, public_url)
    }

    /// [`TestDb::create`] in the cluster reached with `server` (a connection string without dbname).
    pub fn create_in(server: &str, test: &str, public_url: &str) -> TestDb {
        let mut db = TestDb::create_empty_in(server, test, public_url);
        db.apply_migrations();
        db
    }

    /// A fresh database `e2e_<test>` without the extension, in the cluster `make test` started.
    pub fn create_empty(test: &str) -> TestDb {
        TestDb::create_empty_in(&env("LIVEUPDATE_TEST_PG"), test, "http://127.0.0.1:9")
    }

    fn create_empty_in(server: &str, test: &str, public_url: &str) -> TestDb {
        let name = format!("e2e_{test}");
        let mut admin = Client::connect(&format!("{server} dbname=postgres"), postgres::NoTls).unwrap();
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        admin
            .batch_execute(&format!("ALTER DATABASE {name} SET liveupdate.public_url = '{public_url}'"))
            .unwrap();
        let url = format!("{server} dbname={name}");
        let client = Client::connect(&url, postgres::NoTls).unwrap();
        TestDb { name, url, client }
    }

    /// The deployment migrations, in order, as an operator applies them (`make migrate`).
    pub fn apply_migrations(&mut self) {
        let migrations = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
        let mut files: Vec<_> = std::fs::read_dir(&migrations).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        for file in files.iter().filter(|f| f.extension().is_some_and(|e| e == "sql")) {
            self.client.batch_execute(&std::fs::read_to_string(file).unwrap()).unwrap();
        }
    }

    /// Connection string of the superuser the tests use to arrange data and look at it.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Connection string for the gateway: its own login role from migrations/, not a superuser.
    pub fn gateway_url(&self) -> String {
        self.url.replace("user=postgres", "user=liveupdate_gateway")
    }

    /// A fresh connection to the same database (after a server restart).
    pub fn reconnect(db: &TestDb) -> TestDb {
        let client = Client::connect(&db.url, postgres::NoTls).unwrap();
        TestDb { name: db.name.clone(), url: db.url.clone(), client }
    }

    pub fn exec(&mut self, sql: &str) {
        self.client.batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    pub fn count(&mut self, sql: &str) -> i64 {
        self.client.query_one(sql, &[]).unwrap().get(0)
    }

    /// An organisation and app `app_id` (metadata exposed), ready for channels and bundles.
    pub fn app(&mut self, app_id: &str) {
        self.exec(&format!(
            "SELECT liveupdate.create_app(liveupdate.create_organization('org {app_id}'), '{app_id}', expose_metadata => true)"
        ));
    }
}

/// A fresh database `e2e_<test>` with app `app_id`, after running `fixture` (SQL), and a gateway
/// serving it on a free port.
pub fn serve_app(test: &str, app_id: &str, fixture: &str) -> (TestDb, Gateway) {
    let port = free_port();
    let mut db = TestDb::create(test, &format!("http://127.0.0.1:{port}"));
    db.app(app_id);
    if !fixture.is_empty() {
        db.exec(fixture);
    }
    let gateway = Gateway::start(&db, port);
    (db, gateway)
}

/// An app (public channel `production`) and a write-mode management key for its organization,
/// served by a gateway on a free port: what the upload tests publish bundles through.
pub struct Publisher {
    pub db: TestDb,
    pub gw: Gateway,
    pub key: String,
    pub app_id: String,
}

impl Publisher {
    pub fn start(test: &str, app_id: &str, gateway_env: &[(&str, &str)]) -> Publisher {
        let port = free_port();
        let mut db = TestDb::create(test, &format!("http://127.0.0.1:{port}"));
        let org: i64 =
            db.client.query_one("SELECT liveupdate.create_organization('acme')", &[]).unwrap().get(0);
        db.exec(&format!(
            "SELECT liveupdate.create_app({org}, '{app_id}'); \
             SELECT liveupdate.create_channel('{app_id}', 'production', public => true)"
        ));
        let key: String = db
            .client
            .query_one("SELECT key FROM liveupdate.create_api_key($1, 'ci', 'write')", &[&org])
            .unwrap()
            .get(0);
        let gw = Gateway::start_with(&db, port, gateway_env);
        Publisher { db, gw, key, app_id: app_id.to_owned() }
    }

    /// Uploads a zip as bundle `version` (`query` such as `?channel=production`), with the key and
    /// `headers`.
    pub fn upload(
        &self,
        version: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> http::Response {
        let path = format!("/v1/apps/{}/bundles/{version}/archive{query}", self.app_id);
        let mut all = vec![("x-api-key", self.key.as_str()), ("Content-Type", "application/zip")];
        all.extend_from_slice(headers);
        http::request(self.gw.addr, "PUT", &path, &all, body)
    }

    /// Bundles registered, deleted ones included.
    pub fn bundles(&mut self) -> i64 {
        self.db.count("SELECT count(*) FROM liveupdate.bundles")
    }
}

/// A PostgreSQL cluster of the test's own, for tests that stop or restart the server. Runs as
/// `postgres` (PostgreSQL refuses root); removed when dropped.
pub struct OwnCluster {
    dir: std::path::PathBuf,
    pub port: u16,
    settings: String,
}

/// A PostgreSQL program (`initdb`, `pg_ctl`) run as `postgres`, of the major under test:
/// `LIVEUPDATE_TEST_PG_BIN` names its directory (default: Debian 12's 15), and
/// `LIVEUPDATE_TEST_PG_WRAPPER`, when set, the command prefix that enters the root filesystem
/// holding it (`make test` sets `.ci/pg-chroot 17 run` for 17; paths are the same inside).
pub fn postgres_program(program: &str) -> Command {
    let bin = std::env::var("LIVEUPDATE_TEST_PG_BIN").unwrap_or_else(|_| "/usr/lib/postgresql/15/bin".into());
    let wrapper = std::env::var("LIVEUPDATE_TEST_PG_WRAPPER").unwrap_or_default();
    let mut words = wrapper.split_whitespace();
    let mut command = match words.next() {
        Some(first) => {
            let mut command = Command::new(first);
            command.args(words).arg("runuser");
            command
        }
        None => Command::new("runuser"),
    };
    command.current_dir("/").args(["-u", "postgres", "--", &format!("{bin}/{program}")]);
    command
}

fn as_postgres(program: &str, args: &[&str]) {
    let status = postgres_program(program).args(args).status().unwrap();
    assert!(status.success(), "{program} {args:?} failed: {status}");
}

impl OwnCluster {
    pub fn start(name: &str) -> OwnCluster {
        OwnCluster::start_with(name, &[])
    }

    /// [`OwnCluster::start`] with extra server settings (`-c name=value`), kept across restarts.
    pub fn start_with(name: &str, settings: &[&str]) -> OwnCluster {
        let dir = std::env::temp_dir().join(format!("liveupdate-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Command::new("chown").args(["postgres:postgres", dir.to_str().unwrap()]).status().unwrap();
        let data = dir.join("data");
        as_postgres("initdb", &["-D", data.to_str().unwrap(), "-A", "trust", "-U", "postgres"]);
        let cluster = OwnCluster {
            dir,
            port: free_port(),
            settings: settings.iter().map(|s| format!(" -c {s}")).collect(),
        };
        cluster.pg_ctl("start");
        cluster
    }

    fn pg_ctl(&self, action: &str) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1{}",
            self.port,
            self.dir.display(),
            self.settings
        );
        let data = self.dir.join("data");
        let log = self.dir.join("log");
        as_postgres(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-m",
                "fast",
                "-o",
                &options,
                action,
            ],
        );
    }

    pub fn stop(&self) {
        self.pg_ctl("stop");
    }

    pub fn start_again(&self) {
        self.pg_ctl("start");
    }

    /// Connection string without a database name.
    pub fn server(&self) -> String {
        format!("host=127.0.0.1 port={} user=postgres", self.port)
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = postgres_program("pg_ctl")
            .args(["-D", data.to_str().unwrap_or(""), "-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A running gateway process, stopped with SIGTERM when dropped.
pub struct Gateway {
    child: Option<Child>,
    pub addr: SocketAddr,
    /// Its filesystem storage and upload scratch space, removed when dropped.
    pub storage_root: std::path::PathBuf,
    pub upload_dir: std::path::PathBuf,
    /// What it was started with, to start it again.
    database_url: String,
    extra_env: Vec<(String, String)>,
}

/// A free loopback port (the listener is closed before the gateway binds it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Gateway {
    pub fn start(db: &TestDb, port: u16) -> Gateway {
        Gateway::start_with(db, port, &[])
    }

    pub fn start_with(db: &TestDb, port: u16, extra_env: &[(&str, &str)]) -> Gateway {
        Gateway::start_url(&db.gateway_url(), port, extra_env)
    }

    /// Starts a gateway on `port` for the database at `database_url`.
    pub fn start_url(database_url: &str, port: u16, extra_env: &[(&str, &str)]) -> Gateway {
        Gateway::start_logging(database_url, port, extra_env, Stdio::inherit())
    }

    /// [`Gateway::start_url`] with the gateway's log (its stderr) sent to `log`.
    pub fn start_logging(database_url: &str, port: u16, extra_env: &[(&str, &str)], log: Stdio) -> Gateway {
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let storage_root = std::env::temp_dir().join(format!("liveupdate-e2e-objects-{port}"));
        let upload_dir = std::env::temp_dir().join(format!("liveupdate-e2e-uploads-{port}"));
        let _ = std::fs::remove_dir_all(&storage_root);
        let mut gateway = Gateway {
            child: None,
            addr,
            storage_root,
            upload_dir,
            database_url: database_url.to_owned(),
            extra_env: extra_env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        };
        gateway.spawn(log);
        gateway
    }

    /// Starts the process and waits until it listens.
    fn spawn(&mut self, log: Stdio) {
        let mut command = Command::new(env("LIVEUPDATE_GATEWAY_BIN"));
        command
            .env("LIVEUPDATE_STORAGE_ROOT", &self.storage_root)
            .env("LIVEUPDATE_UPLOAD_DIR", &self.upload_dir)
            .env("LIVEUPDATE_LISTEN", self.addr.to_string())
            .env("LIVEUPDATE_DATABASE_URL", &self.database_url)
            .env("LIVEUPDATE_DB_POOL_SIZE", "4")
            .env("LIVEUPDATE_DEVICE_FLUSH_MS", "200")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log);
        for (key, value) in &self.extra_env {
            command.env(key, value);
        }
        let child = command.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(self.addr).is_err() {
            assert!(Instant::now() < deadline, "gateway did not start listening on {}", self.addr);
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child = Some(child);
    }

    /// SIGKILL, as a crash or the OOM killer: the process ends at once, whatever it was doing.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("the gateway is running");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Starts the gateway again after [`Gateway::kill`], on the same port, database, storage and
    /// upload directory, as a supervisor would.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "the gateway is still running");
        self.spawn(Stdio::inherit());
    }

    /// The upload scratch directories (`upload-*`, at any depth) in its upload directory.
    pub fn upload_scratch(&self) -> Vec<std::path::PathBuf> {
        fn walk(dir: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    if entry.file_name().to_string_lossy().starts_with("upload-") {
                        found.push(entry.path());
                    }
                    walk(&entry.path(), found);
                }
            }
        }
        let mut found = Vec::new();
        walk(&self.upload_dir, &mut found);
        found
    }

    /// The gateway's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).expect("the gateway is running")
    }

    /// The gateway's resident memory, in KiB (`VmRSS` of /proc/<pid>/status).
    pub fn resident_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        let line = status.lines().find(|line| line.starts_with("VmRSS:")).expect("VmRSS in /proc status");
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub fn stop(mut self) -> ExitStatus {
        self.terminate().unwrap()
    }

    fn terminate(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
        Some(child.wait().unwrap())
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.terminate();
        let _ = std::fs::remove_dir_all(&self.storage_root);
        let _ = std::fs::remove_dir_all(&self.upload_dir);
    }
}

/// The objects in a gateway's filesystem storage root, by key, sorted.
pub fn stored_objects(root: &std::path::Path) -> Vec<String> {
    let mut keys = Vec::new();
    for folder in ["files", "zips"] {
        if let Ok(entries) = std::fs::read_dir(root.join(folder)) {
            keys.extend(entries.map(|e| format!("{folder}/{}", e.unwrap().file_name().to_string_lossy())));
        }
    }
    keys.sort();
    keys
}

/// Polls `condition` for up to `seconds`.
pub fn eventually(seconds: u64, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    loop {
        if condition() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
