//! What this run is configured with: the environment (read once), every per-flow rule,
//! config.toml with the paths of wixauth's files, and the dotenv syntax of the files
//! `login --env-file` reads. Uses only `core`.

pub(crate) mod config;
pub(crate) mod dotenv;
pub(crate) mod env;
pub(crate) mod flow;

pub(crate) use flow::Flow;
