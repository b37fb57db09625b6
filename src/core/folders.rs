//! Trusted folders: wixauth's config folder (and every folder it writes in) must be the user's
//! own and not writable by others, nor sit under a folder others could swap it in.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::core::error::{io_error, Error, Result};

/// Folders already found trustworthy in this run: one `stat` each, however many files are used.
static TRUSTED: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// Refuses a folder another user could plant files in: it must be ours and not
/// group/world-writable (as ssh demands of `~/.ssh`). A missing folder is fine: we create
/// it 0700. Checked once per folder per run. Symlinks to a folder are followed (dotfile
/// setups link `~/.config`); what counts is the folder they reach.
pub(crate) fn ensure_trusted_dir(dir: &Path) -> Result<()> {
    let trusted = || TRUSTED.lock().unwrap_or_else(|p| p.into_inner());
    if trusted().contains(dir) {
        return Ok(());
    }
    check_trusted_dir(dir, true)?;
    trusted().insert(dir.to_path_buf());
    Ok(())
}

/// As [`ensure_trusted_dir`], never from an earlier look: before a write, so a process that
/// runs for long (a login waiting, `webhook listen`, a fleet) notices a folder changed under
/// it. `parents`: check the folders above too (`false` when the caller just did).
fn ensure_trusted_dir_now(dir: &Path, parents: bool) -> Result<()> {
    check_trusted_dir(dir, parents)?;
    TRUSTED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(dir.to_path_buf());
    Ok(())
}

#[cfg_attr(not(unix), allow(unused_variables))]
fn check_trusted_dir(dir: &Path, parents: bool) -> Result<()> {
    let meta = match fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_error("cannot inspect folder", dir, &e)),
    };
    if !meta.is_dir() {
        return Err(Error::usage(format!("{} is not a folder", dir.display()))
            .hint("move it away, or set WIXAUTH_CONFIG_DIR to a folder of your own"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(Error::usage(format!(
                "folder {} is owned by uid {}, not you (uid {me})",
                dir.display(),
                meta.uid()
            ))
            .hint("`chown` it to yourself, or set WIXAUTH_CONFIG_DIR to a folder of your own"));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(Error::usage(format!(
                "folder {} is writable by other users (mode {:04o})",
                dir.display(),
                meta.mode() & 0o7777,
            ))
            .hint(format!("run `chmod 700 {}`", dir.display())));
        }
        if parents {
            check_parents(dir, me)?;
        }
    }
    Ok(())
}

/// The folders above `dir` (where it really is, links followed): each owned by the user or
/// root, and not writable by others unless sticky (`/tmp`), or another user could swap `dir`.
#[cfg(unix)]
fn check_parents(dir: &Path, me: u32) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let real = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    for parent in real.ancestors().skip(1) {
        let Ok(meta) = fs::metadata(parent) else {
            continue;
        };
        let owner_ok = meta.uid() == me || meta.uid() == 0;
        let writable = meta.mode() & 0o022 != 0 && meta.mode() & 0o1000 == 0;
        if !owner_ok || writable {
            let why = match owner_ok {
                false => format!("is owned by uid {}", meta.uid()),
                true => format!(
                    "is writable by other users (mode {:04o})",
                    meta.mode() & 0o7777
                ),
            };
            return Err(Error::usage(format!(
                "folder {} (above {}) {why}, so another user could replace wixauth's folder",
                parent.display(),
                dir.display()
            ))
            .hint("set WIXAUTH_CONFIG_DIR to a folder whose parents only you or root can change"));
        }
    }
    Ok(())
}

/// Creates `dir` (and parents) with 0700 permissions where the platform has them, and
/// refuses it when it already existed and is not trustworthy.
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    // Nothing is created under a folder another user could swap.
    #[cfg(unix)]
    // SAFETY: geteuid has no preconditions and cannot fail.
    check_parents(dir, unsafe { libc::geteuid() })?;
    // mkdir(2) of a folder that exists takes its parent's lock all the same: threads writing
    // into one folder (a fleet's cache writes) would queue on it for nothing.
    if !dir.is_dir() {
        builder
            .create(dir)
            .map_err(|e| io_error("cannot create folder", dir, &e))?;
    }
    // Its parents were checked just above; now the folder itself.
    ensure_trusted_dir_now(dir, false)
}
