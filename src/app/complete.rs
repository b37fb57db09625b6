//! Dynamic shell completion (clap_complete's engine).
//!
//! The committed scripts in `completions/` only register a function that calls
//! `_WIXAUTH_COMPLETE=SHELL wixauth -- WORDS…`; [`run_if_requested`] answers that call with
//! the candidates of `candidates.rs` and the clap model.

use clap::CommandFactory;
use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Shells, Zsh};
use clap_complete::{CompleteEnv, Shell};

use crate::app::cli::Cli;
use crate::settings::env::COMPLETE_VAR as VAR;

const BIN: &str = "wixauth";
const SHELLS: Shells<'static> = Shells(&[&Bash, &Elvish, &Fish, &Powershell, &Zsh]);

/// Answers a completion request from a shell and exits; returns when this is a normal run.
pub(crate) fn run_if_requested() {
    // clap_complete collects the arguments and asks for the current folder before it looks at
    // the variable: a normal run skips that.
    if !crate::settings::env::completion_requested() {
        return;
    }
    CompleteEnv::with_factory(Cli::command)
        .var(VAR)
        .bin(BIN)
        // The scripts call `wixauth` through PATH, so they stay valid across upgrades.
        .completer(BIN)
        .shells(SHELLS)
        .complete();
}

/// The script `wixauth completions SHELL` prints: it registers the dynamic completer.
pub(crate) fn registration(shell: Shell) -> Vec<u8> {
    let completer: &dyn EnvCompleter = match shell {
        Shell::Bash => &Bash,
        Shell::Zsh => &Zsh,
        Shell::Fish => &Fish,
        Shell::Elvish => &Elvish,
        _ => &Powershell,
    };
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = completer.write_registration(VAR, BIN, BIN, BIN, &mut out);
    out
}
