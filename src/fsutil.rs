//! Small file helpers: atomic 0600 writes and advisory locks.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::{io_error, Result};

/// Creates `dir` (and parents) with 0700 permissions where the platform has them.
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| io_error("cannot create folder", dir, &e))
}

/// Replaces `path` with `contents` atomically: a 0600 temporary file in the same
/// folder, flushed to disk, then renamed over the old one. A crash leaves the old
/// file or the new one, never a torn mix.
pub(crate) fn write_private_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    create_private_dir(dir)?;
    // tempfile creates the file with mode 0600 on Unix.
    let mut tmp = tempfile::Builder::new()
        .prefix(".wixauth-")
        .tempfile_in(dir)
        .map_err(|e| io_error("cannot create a temporary file in", dir, &e))?;
    tmp.write_all(contents)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| io_error("cannot write", tmp.path(), &e))?;
    tmp.persist(path)
        .map_err(|e| io_error("cannot replace", path, &e.error))?;
    Ok(())
}

/// Reads a file, `None` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error("cannot read", path, &e)),
    }
}

/// Removes a file; a missing one is not an error (logout is idempotent).
pub(crate) fn remove_if_exists(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_error("cannot remove", path, &e)),
    }
}

/// An exclusive advisory lock, held until dropped (the OS releases it if the
/// process dies, so a crash never leaves a stale lock behind).
pub(crate) struct FileLock {
    _file: File,
}

impl FileLock {
    /// Blocks until the lock is ours. Returns whether we had to wait for another process.
    pub(crate) fn acquire(path: &Path) -> Result<(FileLock, bool)> {
        if let Some(dir) = path.parent() {
            create_private_dir(dir)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| io_error("cannot open lock file", path, &e))?;
        let waited = match file.try_lock() {
            Ok(()) => false,
            Err(fs::TryLockError::WouldBlock) => {
                file.lock().map_err(|e| io_error("cannot lock", path, &e))?;
                true
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_error("cannot lock", path, &e)),
        };
        Ok((FileLock { _file: file }, waited))
    }
}

/// A file-name-safe form of an identifier (app ids and instance ids are UUIDs,
/// but a config file or environment can hold anything).
pub(crate) fn safe_file_stem(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_is_private_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/secret.toml");
        write_private_atomic(&path, b"one").unwrap();
        write_private_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // No temporary files left behind.
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    /// Blocked `flock` waiters on `path`, as the kernel lists them in /proc/locks.
    #[cfg(target_os = "linux")]
    fn flock_waiters(path: &Path) -> usize {
        use std::os::unix::fs::MetadataExt;
        let inode = fs::metadata(path).unwrap().ino().to_string();
        fs::read_to_string("/proc/locks")
            .unwrap()
            .lines()
            .filter(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                fields.get(1) == Some(&"->")
                    && fields.get(2) == Some(&"FLOCK")
                    && fields.iter().any(|f| {
                        f.matches(':').count() == 2 && f.rsplit(':').next() == Some(&inode)
                    })
            })
            .count()
    }

    // Linux only: the kernel's /proc/locks is what shows that the second locker is blocked.
    #[cfg(target_os = "linux")]
    #[test]
    fn lock_reports_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.lock");
        let (first, waited) = FileLock::acquire(&path).unwrap();
        assert!(!waited);
        let p = path.clone();
        let handle = std::thread::spawn(move || FileLock::acquire(&p).map(|(_, w)| w).unwrap());
        // Released only once the second locker is blocked on the lock, never before.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while flock_waiters(&path) == 0 {
            assert!(
                !handle.is_finished(),
                "the second locker got the lock while it was held"
            );
            assert!(
                std::time::Instant::now() < deadline,
                "the second locker never waited"
            );
            std::thread::yield_now();
        }
        drop(first);
        assert!(handle.join().unwrap(), "second locker must have waited");
    }

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(safe_file_stem("../etc/passwd"), "___etc_passwd");
        assert_eq!(safe_file_stem("a1-b_2"), "a1-b_2");
    }
}
