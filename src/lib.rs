//! wixauth: Wix authentication in one command.
//!
//! The layers, each importing only from the ones before it (a test in `layers.rs` fails
//! on an arrow up or a command importing another command):
//!
//! `core` ← `settings` ← `wix`, `serve`, `ui` ← `credentials` ← `oauth`, `webhook` ← `app` ← lib.rs ← main.rs
//!
//! `main` hardens the process, answers completion requests, parses the command line and
//! hands it to [`app::run`]; a failure is printed here as one line with its exit code.

// Everything below is the crate's own: `pub(crate)` says so (the binary is the only user).
#![warn(unreachable_pub)]

mod app;
mod core;
mod credentials;
mod oauth;
mod serve;
mod settings;
mod ui;
mod webhook;
mod wix;

#[cfg(test)]
mod layers;

/// The fuzz targets' way in (`cargo fuzz` builds with `--cfg fuzzing`; fuzz/, README "Fuzzing").
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzz;

/// The man pages, completion scripts and help topics (the staleness test compares them).
pub use app::commands::generate;

use crate::core::error::Exit;
use crate::ui::Io;

/// Parses arguments, runs the command and reports a failure as one line on stderr; returns the
/// exit code (`src/main.rs` may be a C entry point, which needs it as a number).
pub fn main() -> u8 {
    harden_process();
    // A shell asking for completion candidates gets them and nothing else.
    app::complete::run_if_requested();
    let cli = match app::cli::parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are successes printed on stdout.
            let code = if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Success
            };
            let _ = e.print();
            return code as u8;
        }
    };
    core::log::set_verbose(cli.verbose);
    app::run(cli, &mut Io::system())
}

/// Keeps secrets in this process: no core file that could hold them, and (Linux) no other
/// process of the same user reading our memory or `/proc/<pid>/environ` (the dumpable flag
/// also gates ptrace). Windows has neither; the secrets there are protected by the user's
/// account alone.
fn harden_process() {
    #[cfg(unix)]
    {
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit reads the struct we pass; failure leaves the limit as it was.
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &none);
        }
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: PR_SET_DUMPABLE takes plain integers and touches only this process.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_os = "linux")]
    #[test]
    fn the_process_is_not_dumpable_and_leaves_no_core() {
        super::harden_process();
        // SAFETY: a query of this process's own flag.
        assert_eq!(unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) }, 0);
        let mut limit = libc::rlimit {
            rlim_cur: 1,
            rlim_max: 1,
        };
        // SAFETY: getrlimit writes into the struct we own.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_CORE, &mut limit) }, 0);
        assert_eq!((limit.rlim_cur, limit.rlim_max), (0, 0));
    }
}
