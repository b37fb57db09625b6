//! One module per command: an options struct and a `run` function that gets the
//! context (files, profile, config) and the I/O streams injected.

pub mod api;
pub mod bi_event;
pub mod browser_login;
pub mod exec;
pub mod generate;
pub mod install_url;
pub mod login;
pub mod logout;
pub mod status;
pub mod token;
pub mod webhook;
pub mod whoami;
