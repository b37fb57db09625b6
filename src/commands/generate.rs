//! Everything generated from the clap model: completion scripts, the man page, help topics.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::{Error, Result};
use crate::ui::Io;

pub fn completion_script(shell: Shell) -> Vec<u8> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "wixauth", &mut out);
    out
}

pub fn man_page() -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = clap_mangen::Man::new(Cli::command()).render(&mut out);
    out
}

/// The file in `completions/` holding a shell's script.
pub fn completion_file(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => "wixauth.bash",
        Shell::Zsh => "_wixauth",
        Shell::Fish => "wixauth.fish",
        Shell::PowerShell => "_wixauth.ps1",
        Shell::Elvish => "wixauth.elv",
        _ => "wixauth.completion",
    }
}

pub(crate) fn completions(shell: Shell, io: &mut Io) -> Result<()> {
    io.write_out(&completion_script(shell))
}

/// `wixauth help [COMMAND…|environment]`.
pub(crate) fn help(topic: &[String], io: &mut Io) -> Result<()> {
    if topic.len() == 1 && topic[0] == "environment" {
        return io.print(&crate::env::help());
    }
    let mut command = Cli::command();
    // Building propagates global options and the `wixauth` prefix into subcommands.
    command.build();
    let mut current = &mut command;
    for name in topic {
        current = current.find_subcommand_mut(name).ok_or_else(|| {
            Error::usage(format!(
                "no help for {name:?}: try `wixauth help` or `wixauth help environment`"
            ))
        })?;
    }
    io.print(&current.render_long_help().to_string())
}
