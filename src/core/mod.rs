//! The bottom layer: what every other module may use and what uses nothing of wixauth's own —
//! the error type, secrets, text made safe to print, the debug log, file and lock helpers, the
//! loopback and base-URL rules, and the static build's name lookups.

pub(crate) mod error;
pub(crate) mod folders;
pub(crate) mod fsutil;
pub(crate) mod log;
pub(crate) mod net;
pub(crate) mod nss;
pub(crate) mod secret;
pub(crate) mod text;
