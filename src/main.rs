//! The binary: runs `wixauth::main()` and exits with its code.
//!
//! On Linux with glibc the Rust runtime's start-up (`lang_start`) is skipped: before `main` it
//! reads /proc/self/maps and sets up a stack-overflow handler (about 20 system calls), a large
//! share of a cache hit's run time. `start_up` keeps the two parts that matter. Command-line
//! arguments still work: glibc hands them to std's initialiser.
#![cfg_attr(all(target_os = "linux", target_env = "gnu", not(test)), no_main)]

#[cfg(not(all(target_os = "linux", target_env = "gnu", not(test))))]
fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(wixauth::main())
}

#[cfg(all(target_os = "linux", target_env = "gnu", not(test)))]
#[unsafe(no_mangle)]
extern "C" fn main(_argc: libc::c_int, _argv: *const *const libc::c_char) -> libc::c_int {
    start_up();
    let code = wixauth::main();
    // lang_start would flush stdout at exit; nothing else does.
    let _ = std::io::Write::flush(&mut std::io::stdout());
    libc::c_int::from(code)
}

/// What std's start-up does that wixauth relies on.
#[cfg(all(target_os = "linux", target_env = "gnu", not(test)))]
fn start_up() {
    // A closed stdin, stdout or stderr is reopened on /dev/null, so that no file opened later
    // (the token cache, a secrets file) takes its number and receives what is printed.
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is a valid array of three pollfd for the duration of the call.
    let polled = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } >= 0;
    for pollfd in fds {
        let closed = if polled {
            pollfd.revents & libc::POLLNVAL != 0
        } else {
            // SAFETY: F_GETFD only queries the descriptor.
            (unsafe { libc::fcntl(pollfd.fd, libc::F_GETFD) }) == -1
        };
        // SAFETY: a NUL-terminated path; the new descriptor is the lowest free one, `pollfd.fd`.
        if closed && unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) } != pollfd.fd {
            std::process::abort();
        }
    }
    // A closed pipe (`wixauth token | head -c0`) is an EPIPE error to handle, not a SIGPIPE death.
    // SAFETY: installs the ignore disposition; no handler code runs.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
}
