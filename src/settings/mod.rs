//! What this run is configured with: the environment (read once), every per-flow rule, and
//! config.toml with the paths of wixauth's files. Uses only `core`.

pub(crate) mod config;
pub(crate) mod env;
pub(crate) mod flow;

pub(crate) use flow::Flow;
