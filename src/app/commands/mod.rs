//! One module per command: an options struct built from its clap arguments, and a `run`
//! function that gets the context (environment, files, profile, config, stores, Wix client)
//! and the I/O injected.

pub(crate) mod api;
pub(crate) mod bi_event;
pub(crate) mod doctor;
pub(crate) mod exec;
pub mod generate;
pub(crate) mod install_url;
pub(crate) mod instances;
pub(crate) mod login;
pub(crate) mod logout;
pub(crate) mod status;
pub(crate) mod switch;
pub(crate) mod token;
pub(crate) mod webhook;
pub(crate) mod whoami;

#[cfg(test)]
mod tests;
