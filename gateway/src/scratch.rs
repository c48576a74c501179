//! Scratch space for uploads under `LIVEUPDATE_UPLOAD_DIR`. Each gateway process works in its own
//! directory, `liveupdate-gateway-<pid>-<nanos>`, which it holds an exclusive `flock` on for as long
//! as it runs. The kernel drops that lock when the process dies, however it dies (`kill -9`
//! included), so at start a gateway removes every such directory it can lock: what crashed uploads
//! left. Gateways sharing the upload directory (an old one still draining while a new one starts)
//! never touch each other's, and nothing else in the directory is touched.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

const PREFIX: &str = "liveupdate-gateway-";

/// This process's scratch directory, locked while it lives.
#[derive(Debug)]
pub struct ScratchSpace {
    dir: PathBuf,
    /// Holds the lock; closing it (at exit) releases it.
    _lock: File,
    next_upload: AtomicU64,
}

impl ScratchSpace {
    /// Removes the scratch directories of gateways that are gone, then creates and locks this
    /// one's. Answers how many directories it removed, too.
    pub fn open(upload_dir: &Path) -> std::io::Result<(ScratchSpace, usize)> {
        std::fs::create_dir_all(upload_dir)?;
        let removed = remove_abandoned(upload_dir)?;
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
        let name = format!("{PREFIX}{}-{nanos}", std::process::id());
        // Created under a name the sweep ignores, locked, then renamed: another gateway starting
        // at the same moment never finds it unlocked.
        let creating = upload_dir.join(format!(".{name}"));
        std::fs::create_dir(&creating)?;
        let lock = File::open(&creating)?;
        lock.try_lock().map_err(std::io::Error::other)?;
        let dir = upload_dir.join(name);
        std::fs::rename(&creating, &dir)?;
        Ok((ScratchSpace { dir, _lock: lock, next_upload: AtomicU64::new(0) }, removed))
    }

    /// A new, empty directory for one upload.
    pub fn create(&self) -> std::io::Result<Scratch> {
        let dir = self.dir.join(format!("upload-{}", self.next_upload.fetch_add(1, Ordering::Relaxed)));
        std::fs::create_dir(&dir)?;
        Ok(Scratch(dir))
    }
}

/// One upload's scratch directory, removed with everything in it when dropped, whatever happened.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Removes the scratch directories whose gateway is gone: those this process can lock. One it
/// cannot remove (another user's, in a shared temporary directory) is left, with a warning.
fn remove_abandoned(upload_dir: &Path) -> std::io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(upload_dir)?.flatten() {
        let is_dir = entry.file_type().is_ok_and(|kind| kind.is_dir());
        if !is_dir || !entry.file_name().to_string_lossy().starts_with(PREFIX) {
            continue;
        }
        let Ok(dir) = File::open(entry.path()) else { continue };
        // Held while removing, so its owner cannot be alive; busy: a running gateway's.
        if dir.try_lock().is_ok() {
            match std::fs::remove_dir_all(entry.path()) {
                Ok(()) => removed += 1,
                Err(error) => {
                    tracing::warn!(%error, path = %entry.path().display(), "cannot remove abandoned scratch")
                }
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn only_unlocked_scratch_directories_are_removed() {
        let root = std::env::temp_dir().join(format!("liveupdate-scratch-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).unwrap();
        let (running, _) = ScratchSpace::open(&root).unwrap();
        let upload = running.create().unwrap();
        std::fs::write(upload.path().join("body"), b"in progress").unwrap();
        // A crashed gateway's directory: nobody holds its lock.
        let crashed = root.join(format!("{PREFIX}1-1"));
        std::fs::create_dir_all(crashed.join("upload-0")).unwrap();
        std::fs::write(crashed.join("upload-0/body"), b"left behind").unwrap();
        let unrelated = root.join("upload-7-0");
        std::fs::create_dir_all(&unrelated).unwrap();

        let (_second, removed) = ScratchSpace::open(&root).unwrap();
        assert_eq!(removed, 1);
        assert!(!crashed.exists());
        assert!(upload.path().join("body").exists(), "a running gateway's upload is kept");
        assert!(unrelated.exists(), "what the gateway did not name is not touched");
        drop(upload);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
