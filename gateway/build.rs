//! Embeds the web console (`console/static`) in the binary: writes `console_assets.rs`, a table of
//! `include_bytes!` entries, and a version string (a hash of every file's path and bytes) that
//! versioned asset URLs carry, so a browser may cache them forever and still never mix two builds.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn files_under(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files_under(&path, found);
        } else {
            found.push(path);
        }
    }
}

/// 64-bit FNV-1a: enough to tell builds apart in a URL (this is no security boundary).
fn fnv1a(hash: &mut u64, bytes: &[u8]) {
    for byte in bytes {
        *hash ^= u64::from(*byte);
        *hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("console/static");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    files_under(&root, &mut files);
    let mut hash = 0xcbf2_9ce4_8422_2325_u64;
    let mut table = String::from("pub static FILES: &[(&str, &[u8])] = &[\n");
    for file in &files {
        let relative = file.strip_prefix(&root).expect("under the root").to_str().expect("a UTF-8 path");
        let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        fnv1a(&mut hash, relative.as_bytes());
        fnv1a(&mut hash, &[0]);
        fnv1a(&mut hash, &bytes);
        writeln!(table, "    ({relative:?}, include_bytes!({:?})),", file.display().to_string())
            .expect("writing to a String");
    }
    table.push_str("];\n");
    writeln!(table, "pub const VERSION: &str = \"{:012x}\";", hash >> 16).expect("writing to a String");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("console_assets.rs");
    std::fs::write(&out, table).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}
