//! One module per command: an options struct and a `run` function that gets the
//! context (files, profile, config) and the I/O streams injected.

pub mod browser_login;
pub mod login;
pub mod logout;
pub mod status;
pub mod token;
