//! Ctrl-C. The process has one handler (ctrlc allows one); what it does depends on what runs:
//! at a prompt it puts the terminal back (echo, cursor) and exits 130 with one line; while the
//! browser login waits it only raises a flag the wait loop polls (the listener closes, exit 130);
//! `webhook listen` also has its async loop woken; while `exec`'s child runs it does nothing (the
//! child gets the signal and we report it).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, Once};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnInterrupt {
    /// Restore the terminal, print one line, exit 130.
    Exit = 0,
    /// Raise the flag [`interrupted`] reads.
    Flag = 1,
    /// Nothing: the child process handles it.
    Ignore = 2,
}

static MODE: AtomicU8 = AtomicU8::new(OnInterrupt::Exit as u8);
static FLAG: AtomicBool = AtomicBool::new(false);
/// "interrupted" was said already (the handler and the command's error can both see Ctrl-C).
static SAID: AtomicBool = AtomicBool::new(false);
static INSTALL: Once = Once::new();
/// Called in [`OnInterrupt::Flag`] mode too, when set ([`on_interrupt_wake`]).
static WAKE: Mutex<Option<Box<dyn Fn() + Send>>> = Mutex::new(None);
#[cfg(unix)]
static SAVED_TERMINAL: Mutex<Option<libc::termios>> = Mutex::new(None);
#[cfg(not(unix))]
static SAVED_TERMINAL: Mutex<Option<()>> = Mutex::new(None);

/// What Ctrl-C does from now on (the handler is installed on first use only: a cache-hit
/// `wixauth token` never pays for it).
pub(crate) fn on_interrupt(mode: OnInterrupt) {
    INSTALL.call_once(|| {
        if let Err(e) = ctrlc::set_handler(handle) {
            crate::core::log::debug!("cannot catch Ctrl-C: {e}");
        }
    });
    MODE.store(mode as u8, Ordering::SeqCst);
}

/// [`OnInterrupt::Flag`], and Ctrl-C also calls `wake` (an async loop's `Notify`, which a flag
/// alone would not wake).
pub(crate) fn on_interrupt_wake(wake: impl Fn() + Send + 'static) {
    if let Ok(mut slot) = WAKE.lock() {
        *slot = Some(Box::new(wake));
    }
    on_interrupt(OnInterrupt::Flag);
}

/// Whether Ctrl-C was pressed while in [`OnInterrupt::Flag`] mode.
pub(crate) fn interrupted() -> bool {
    FLAG.load(Ordering::SeqCst)
}

fn handle() {
    match MODE.load(Ordering::SeqCst) {
        m if m == OnInterrupt::Flag as u8 => {
            FLAG.store(true, Ordering::SeqCst);
            // ctrlc calls this on its own thread, not in a signal handler: locking is fine.
            if let Some(wake) = WAKE.lock().ok().as_deref().and_then(Option::as_ref) {
                wake();
            }
        }
        m if m == OnInterrupt::Ignore as u8 => {}
        _ => {
            restore_terminal();
            if first_to_say() {
                eprintln!("\n{SAID_LINE}");
            }
            std::process::exit(130);
        }
    }
}

/// The one line Ctrl-C gets, however it is noticed: not an error, the person stopped it.
pub(crate) const SAID_LINE: &str = "wixauth: interrupted";

/// Whether this is the first to say "interrupted": it is said once per run.
pub(crate) fn first_to_say() -> bool {
    !SAID.swap(true, Ordering::SeqCst)
}

/// Remembers the terminal's settings before a prompt changes them (echo off, raw keys).
pub(crate) fn save_terminal() {
    #[cfg(unix)]
    {
        // SAFETY: tcgetattr writes into the zeroed struct we own; on failure nothing is saved.
        let mut settings: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut settings) } == 0 {
            if let Ok(mut saved) = SAVED_TERMINAL.lock() {
                *saved = Some(settings);
            }
        }
    }
}

/// Puts back what [`save_terminal`] saw, and shows the cursor a menu may have hidden.
pub(crate) fn restore_terminal() {
    #[cfg(unix)]
    if let Ok(saved) = SAVED_TERMINAL.lock() {
        if let Some(settings) = saved.as_ref() {
            // SAFETY: tcsetattr reads the struct tcgetattr filled.
            unsafe {
                libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, settings);
            }
        }
    }
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        eprint!("\x1b[?25h");
    }
}
