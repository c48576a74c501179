//! The scripts behind `make serve`, as a user runs them: a second `make serve` leaves the running
//! stack alone, and extension files are replaced by rename, never overwritten in place.

#![allow(clippy::unwrap_used, reason = "tests")]

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use liveupdate_e2e::free_port;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Runs `script` with bash in the repository, with `.ci/lib.sh` sourced.
fn with_lib(script: &str) -> Output {
    Command::new("bash")
        .current_dir(repository())
        .args(["-c", &format!("set -euo pipefail; source .ci/lib.sh; {script}")])
        .output()
        .unwrap()
}

/// A scratch directory PostgreSQL's user can enter, removed when dropped (with the cluster in
/// it stopped).
struct DataDir(PathBuf);

impl DataDir {
    fn new(name: &str) -> DataDir {
        let dir = std::env::temp_dir().join(format!("liveupdate-serve-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        DataDir(dir)
    }

    fn cluster(&self) -> PathBuf {
        self.0.join("pg/data")
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = with_lib(&format!("stop_cluster {}", self.cluster().display()));
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `.ci/serve` with its data directory, database port and listen address.
fn serve(data: &DataDir, pg_port: u16, listen_port: u16) -> Output {
    Command::new("bash")
        .current_dir(repository())
        .arg(".ci/serve")
        .env("LIVEUPDATE_DATA_DIR", &data.0)
        .env("LIVEUPDATE_PG_PORT", pg_port.to_string())
        .env("LIVEUPDATE_LISTEN", format!("127.0.0.1:{listen_port}"))
        .output()
        .unwrap()
}

fn answers(pg_port: u16) -> bool {
    let url = format!("host=127.0.0.1 port={pg_port} user=postgres dbname=postgres");
    postgres::Client::connect(&url, postgres::NoTls)
        .and_then(|mut client| client.query_one("SELECT 1", &[]))
        .is_ok()
}

/// The defect: a second `make serve` failed to bind the gateway port and, on its way out, stopped
/// the first one's database, so the running gateway answered 503 to every device.
#[test]
fn a_second_serve_leaves_the_running_stack_alone() {
    let data = DataDir::new("second");
    std::fs::create_dir_all(&data.0).unwrap();
    std::fs::set_permissions(&data.0, std::fs::Permissions::from_mode(0o755)).unwrap();
    let pg_port = free_port();
    let started = with_lib(&format!("start_cluster {} {pg_port}", data.cluster().display()));
    assert!(started.status.success(), "{}", String::from_utf8_lossy(&started.stderr));
    // The first stack's gateway.
    let gateway = TcpListener::bind("127.0.0.1:0").unwrap();
    let gateway_port = gateway.local_addr().unwrap().port();

    let second = serve(&data, pg_port, gateway_port);
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(answers(pg_port), "the running database was stopped: {said}");
    assert!(!second.status.success());
    assert!(said.contains(&format!("already listens on 127.0.0.1:{gateway_port}")), "{said}");

    // The cluster alone (its gateway gone) is still someone else's: left running too.
    drop(gateway);
    let third = serve(&data, pg_port, gateway_port);
    let said = String::from_utf8_lossy(&third.stderr);
    assert!(answers(pg_port), "the running database was stopped: {said}");
    assert!(!third.status.success());
    assert!(said.contains("is already running"), "{said}");
}

/// Before anything is installed or created: a taken gateway port stops `make serve` with nothing
/// touched.
#[test]
fn serve_refuses_before_touching_anything() {
    let data = DataDir::new("untouched");
    let busy = TcpListener::bind("127.0.0.1:0").unwrap();
    let output = serve(&data, free_port(), busy.local_addr().unwrap().port());
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("make serve:"));
    assert!(!data.0.exists(), "the data directory was created");
    assert!(String::from_utf8_lossy(&output.stdout).is_empty(), "no step ran");
}

/// The defect: installing a new build copied the shared object over the old one in place, so
/// backends that had it loaded ran changed code ("unrecognized function API version"). Files are
/// now renamed into place: whoever has the old file open keeps it whole.
#[test]
fn extension_files_are_replaced_by_rename() {
    let scratch = DataDir::new("install");
    let (stage, root) = (scratch.0.join("stage"), scratch.0.join("root"));
    let library = "usr/lib/postgresql/15/lib/pg_liveupdate.so";
    let control = "usr/share/postgresql/15/extension/pg_liveupdate.control";
    for (tree, text) in [(&stage, "new build"), (&root, "old build")] {
        std::fs::create_dir_all(tree.join(library).parent().unwrap()).unwrap();
        std::fs::write(tree.join(library), text).unwrap();
    }
    std::fs::set_permissions(stage.join(library), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(stage.join(control).parent().unwrap()).unwrap();
    std::fs::write(stage.join(control), "default_version = '1'").unwrap();
    // A running backend: it has the old library open (mapped, in PostgreSQL's case).
    let mut loaded = std::fs::File::open(root.join(library)).unwrap();
    let old_inode = loaded.metadata().unwrap().ino();

    let output = with_lib(&format!("install_staged_files {} {}", stage.display(), root.display()));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let mut seen_by_backend = String::new();
    loaded.read_to_string(&mut seen_by_backend).unwrap();
    assert_eq!(seen_by_backend, "old build", "the loaded file was overwritten in place");
    assert_eq!(std::fs::read_to_string(root.join(library)).unwrap(), "new build");
    let installed = std::fs::metadata(root.join(library)).unwrap();
    assert_ne!(installed.ino(), old_inode);
    assert_eq!(installed.permissions().mode() & 0o777, 0o755, "modes are kept");
    assert_eq!(std::fs::read_to_string(root.join(control)).unwrap(), "default_version = '1'");
    let left: Vec<_> = std::fs::read_dir(root.join(library).parent().unwrap()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file is left");
}
