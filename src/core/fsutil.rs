//! Small file helpers: trusted folders, files opened only when they are what they claim,
//! atomic 0600 writes and advisory locks.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::core::error::{io_error, Error, Result};
pub(crate) use crate::core::folders::{create_private_dir, ensure_trusted_dir};
use crate::core::log::{debug, Notes};

/// The prefix of `write_private_atomic`'s temporary files, which `sweep_temp_files` removes.
const TEMP_PREFIX: &str = ".wixauth-";
/// A temporary file this old is a leftover of a killed write, not one in flight.
const TEMP_MAX_AGE: Duration = Duration::from_secs(60);

/// When this process last swept each folder: a folder is listed at most once per
/// [`TEMP_MAX_AGE`], not on every write (a fleet writes thousands of tokens into one folder of
/// thousands; listing it each time made its writes quadratic). A leftover is still gone within
/// about a minute of the next write.
static SWEPT: std::sync::Mutex<Vec<(std::path::PathBuf, std::time::Instant)>> =
    std::sync::Mutex::new(Vec::new());

/// Whether `dir` is due for a sweep at `now` (and if so, it counts as swept from now on).
fn sweep_due(dir: &Path, now: std::time::Instant) -> bool {
    let mut swept = SWEPT.lock().unwrap_or_else(|p| p.into_inner());
    match swept.iter_mut().find(|(d, _)| d == dir) {
        Some((_, at)) if now.duration_since(*at) < TEMP_MAX_AGE => false,
        Some((_, at)) => {
            *at = now;
            true
        }
        None => {
            swept.push((dir.to_path_buf(), now));
            true
        }
    }
}

fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."))
}

/// Opens `path` for reading without following a symlink and without blocking on a FIFO,
/// and refuses anything but a regular file. `None` when it does not exist.
fn open_regular(path: &Path, options: &mut OpenOptions) -> Result<Option<(File, fs::Metadata)>> {
    let refused = |what: &str| {
        Error::usage(format!(
            "{} is {what}, not a regular file, and wixauth does not follow or read those",
            path.display()
        ))
        .hint("replace it with a regular file of your own, or remove it")
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
    }
    #[cfg(not(unix))]
    {
        // No O_NOFOLLOW: look first (racy, but Windows users' profile folders are private).
        if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(refused("a symbolic link"));
        }
    }
    let file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        // Linux and macOS say ELOOP for a final symlink under O_NOFOLLOW, FreeBSD says EMLINK.
        #[cfg(unix)]
        Err(e) if matches!(e.raw_os_error(), Some(libc::ELOOP | libc::EMLINK)) => {
            return Err(refused("a symbolic link"))
        }
        Err(e) => return Err(io_error("cannot open", path, &e)),
    };
    let meta = file
        .metadata()
        .map_err(|e| io_error("cannot inspect", path, &e))?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a folder"
        } else {
            "a special file (a FIFO, socket or device)"
        };
        return Err(refused(what));
    }
    Ok(Some((file, meta)))
}

/// The most of a config, secrets or cache file wixauth reads.
const MAX_FILE: u64 = 4 << 20;

/// The open file, what its `fstat` said, and its text.
fn read_open(path: &Path) -> Result<Option<(File, fs::Metadata, String)>> {
    ensure_trusted_dir(parent_of(path))?;
    let Some((file, meta)) = open_regular(path, OpenOptions::new().read(true))? else {
        return Ok(None);
    };
    // Sized from the fstat above; reading through `Take` spares `read_to_string` its own, and
    // bounds what a file that grows while we read can make us hold.
    let mut text = String::with_capacity(usize::try_from(meta.len()).unwrap_or(0).min(1 << 20));
    (&file)
        .take(MAX_FILE + 1)
        .read_to_string(&mut text)
        .map_err(|e| io_error("cannot read", path, &e))?;
    if text.len() as u64 > MAX_FILE {
        return Err(Error::usage(format!(
            "{} is over {} MiB, far more than wixauth ever writes",
            path.display(),
            MAX_FILE >> 20
        ))
        .hint("move it away"));
    }
    Ok(Some((file, meta, text)))
}

/// Reads a file, `None` when it does not exist. Its folder must be trustworthy and the file
/// regular (a symlink, FIFO or device is refused: exit 2).
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>> {
    Ok(read_open(path)?.map(|(_, _, text)| text))
}

/// As [`read_optional`], for a file holding secrets: one that other users can read is made
/// 0600 again, with a warning (as ssh does).
pub(crate) fn read_private(path: &Path, notes: &Notes) -> Result<Option<String>> {
    let Some((file, meta, text)) = read_open(path)? else {
        return Ok(None);
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            // fchmod on the descriptor we read: the file checked is the file fixed.
            file.set_permissions(fs::Permissions::from_mode(0o600))
                .map_err(|e| io_error("cannot make private (chmod 600)", path, &e))?;
            notes.warn(format!(
                "{} was readable by others (mode {:04o}); its mode is now 0600",
                path.display(),
                mode & 0o7777
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (file, meta, notes);
    Ok(Some(text))
}

/// The permission bits of a file as they are now (`None` when missing or not on Unix).
pub(crate) fn mode_of(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::symlink_metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Removes `write_private_atomic`'s temporary files in `dir` (a write killed between its
/// temp write and its rename leaves a secret in one). Only our prefix, only regular files
/// or links, and only those older than `min_age` so a write in flight keeps its file.
pub(crate) fn sweep_temp_files(dir: &Path, min_age: Duration) -> Result<usize> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(0);
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            continue;
        }
        let age = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .unwrap_or_default();
        if age >= min_age {
            remove_if_exists(&entry.path())?;
            removed += 1;
        }
    }
    if removed > 0 {
        debug!(
            "removed {removed} leftover temporary file(s) in {}",
            dir.display()
        );
    }
    Ok(removed)
}

/// Every leftover temporary file, whatever its age (logout: nothing may outlive it).
pub(crate) fn sweep_all_temp_files(dir: &Path) -> Result<usize> {
    sweep_temp_files(dir, Duration::ZERO)
}

/// Replaces `path` with `contents` atomically: a 0600 temporary file in the same
/// folder, flushed to disk, then renamed over the old one. A crash leaves the old
/// file or the new one, never a torn mix; leftovers of earlier crashes are swept here.
pub(crate) fn write_private_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    write_atomic(path, contents, true)
}

/// As [`write_private_atomic`], without flushing to disk before the rename: for the token
/// cache, where a lost or torn entry is only a miss, and an fsync on a busy disk (50 ms to
/// seconds) would cost every `--no-cache` far more than the request itself.
pub(crate) fn write_private_atomic_unsynced(path: &Path, contents: &[u8]) -> Result<()> {
    write_atomic(path, contents, false)
}

fn write_atomic(path: &Path, contents: &[u8], sync: bool) -> Result<()> {
    let dir = parent_of(path);
    create_private_dir(dir)?;
    if sweep_due(dir, std::time::Instant::now()) {
        sweep_temp_files(dir, TEMP_MAX_AGE)?;
    }
    // tempfile creates the file with mode 0600 on Unix.
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .map_err(|e| io_error("cannot create a temporary file in", dir, &e))?;
    tmp.write_all(contents)
        .and_then(|()| {
            if sync {
                tmp.as_file().sync_all()
            } else {
                Ok(())
            }
        })
        .map_err(|e| io_error("cannot write", tmp.path(), &e))?;
    tmp.persist(path)
        .map_err(|e| io_error("cannot replace", path, &e.error))?;
    Ok(())
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
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let (file, _) = open_regular(path, &mut options)?
            .ok_or_else(|| Error::failure(format!("cannot open lock file {}", path.display())))?;
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
    use std::path::PathBuf;

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

    #[test]
    fn reads_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let file = fs::File::create(&path).unwrap();
        file.set_len(MAX_FILE).unwrap();
        assert_eq!(
            read_optional(&path).unwrap().unwrap().len() as u64,
            MAX_FILE
        );
        file.set_len(MAX_FILE + 1).unwrap();
        let err = read_optional(&path).unwrap_err();
        assert_eq!(err.exit, crate::core::error::Exit::Usage);
        assert!(err.message().contains("move it away"), "{err}");
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

    #[cfg(unix)]
    fn chmod(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn writable_by_others_folder_is_refused_with_the_fix() {
        for mode in [0o777, 0o770, 0o1777] {
            let dir = tempfile::tempdir().unwrap();
            chmod(dir.path(), mode);
            for result in [
                read_optional(&dir.path().join("config.toml")).map(drop),
                write_private_atomic(&dir.path().join("x"), b"s"),
                FileLock::acquire(&dir.path().join("a.lock")).map(drop),
            ] {
                let err = result.unwrap_err();
                assert_eq!(err.exit, crate::core::error::Exit::Usage, "{mode:o}: {err}");
                let fix = format!("chmod 700 {}", dir.path().display());
                assert!(err.message().contains(&fix), "{err}");
            }
            assert_eq!(
                fs::read_dir(dir.path()).unwrap().count(),
                0,
                "nothing written"
            );
        }
        // Readable by others is fine (a config folder is not secret; its files are 0600).
        let dir = tempfile::tempdir().unwrap();
        chmod(dir.path(), 0o755);
        write_private_atomic(&dir.path().join("x"), b"s").unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn another_users_folder_is_refused() {
        use std::os::unix::fs::MetadataExt;
        // As root, hand a folder to nobody; otherwise / is root's, not ours.
        let dir = tempfile::tempdir().unwrap();
        let (folder, owner) = if unsafe { libc::geteuid() } == 0 {
            std::os::unix::fs::chown(dir.path(), Some(65534), None).unwrap();
            (dir.path().to_path_buf(), 65534)
        } else {
            (PathBuf::from("/"), fs::metadata("/").unwrap().uid())
        };
        let err = read_optional(&folder.join("config.toml")).unwrap_err();
        assert_eq!(err.exit, crate::core::error::Exit::Usage, "{err}");
        assert!(
            err.message()
                .contains(&format!("owned by uid {owner}, not you")),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn fifo_symlink_and_folder_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.toml");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let real = dir.path().join("real.toml");
        fs::write(&real, "x = 1").unwrap();
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let folder = dir.path().join("folder.toml");
        fs::create_dir(&folder).unwrap();
        for (path, what) in [
            (&fifo, "special file"),
            (&link, "symbolic link"),
            (&folder, "folder"),
        ] {
            // A FIFO with no writer would block a plain open forever: this returns at once.
            for err in [
                read_optional(path).unwrap_err(),
                read_private(path, &Notes::default()).unwrap_err(),
            ] {
                assert_eq!(err.exit, crate::core::error::Exit::Usage, "{err}");
                assert!(err.message().contains(what), "{err}");
                assert!(err.message().contains(&path.display().to_string()), "{err}");
            }
        }
        // A lock file planted as a symlink is refused too, and its target left alone.
        let err = FileLock::acquire(&link).map(drop).unwrap_err();
        assert_eq!(err.exit, crate::core::error::Exit::Usage, "{err}");
        assert_eq!(fs::read_to_string(&real).unwrap(), "x = 1");
        // Writes replace a symlink rather than writing through it.
        write_private_atomic(&link, b"new").unwrap();
        assert_eq!(fs::read_to_string(&real).unwrap(), "x = 1");
        assert!(!fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
    }

    #[cfg(unix)]
    #[test]
    fn private_files_readable_by_others_are_fixed_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.toml");
        fs::write(&path, "k = \"v\"").unwrap();
        chmod(&path, 0o644);
        let notes = Notes::default();
        assert_eq!(read_private(&path, &notes).unwrap().unwrap(), "k = \"v\"");
        assert_eq!(mode_of(&path), Some(0o600));
        let warnings = notes.take();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("was readable by others")
                && warnings[0].contains("its mode is now 0600")
                && warnings[0].contains(&path.display().to_string()),
            "{warnings:?}"
        );
        // Already private: no warning.
        read_private(&path, &notes).unwrap();
        assert!(notes.take().is_empty());
        // read_optional (config.toml, not secret) leaves the mode alone.
        chmod(&path, 0o644);
        read_optional(&path).unwrap();
        assert_eq!(mode_of(&path), Some(0o644));
    }

    #[cfg(unix)]
    #[test]
    fn lock_files_are_created_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locks/a.lock");
        let (_lock, _) = FileLock::acquire(&path).unwrap();
        assert_eq!(mode_of(&path), Some(0o600));
        assert_eq!(mode_of(path.parent().unwrap()), Some(0o700));
    }

    fn age(path: &Path, by: Duration) {
        let file = File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() - by).unwrap();
    }

    #[test]
    fn old_temp_files_are_swept_by_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join(".wixauth-old123");
        let fresh = dir.path().join(".wixauth-new456");
        let other = dir.path().join(".other-old789");
        for p in [&old, &fresh, &other] {
            fs::write(p, "refresh-token").unwrap();
        }
        age(&old, Duration::from_secs(120));
        age(&other, Duration::from_secs(120));
        write_private_atomic(&dir.path().join("config.toml"), b"x").unwrap();
        assert!(!old.exists(), "a leftover older than a minute is removed");
        assert!(fresh.exists(), "a write in flight keeps its file");
        assert!(other.exists(), "only our prefix");
        assert_eq!(sweep_all_temp_files(dir.path()).unwrap(), 1);
        assert!(!fresh.exists() && other.exists());
    }

    #[test]
    fn a_folder_is_swept_at_most_once_a_minute() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = std::time::Instant::now();
        assert!(sweep_due(dir.path(), t0));
        assert!(!sweep_due(dir.path(), t0 + Duration::from_secs(59)));
        assert!(sweep_due(dir.path(), t0 + TEMP_MAX_AGE));
        assert!(!sweep_due(
            dir.path(),
            t0 + TEMP_MAX_AGE + Duration::from_secs(1)
        ));
        let other = tempfile::tempdir().unwrap();
        assert!(sweep_due(other.path(), t0), "each folder for itself");
    }

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(safe_file_stem("../etc/passwd"), "___etc_passwd");
        assert_eq!(safe_file_stem("a1-b_2"), "a1-b_2");
    }
}
