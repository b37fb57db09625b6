//! The browser login: a temporary local redirect listener, the installer page opened in the
//! browser, then the callback — a code exchanged for tokens (advanced flow), the instance of
//! Wix's external install (basic flow), or a member's code (PKCE). It knows nothing of
//! profiles or stores: the caller gets an [`Authorised`] through `store` before the browser is
//! answered.

mod callback;
mod callbacks;
mod listener;
mod login;
mod member;
pub(crate) mod pages;
mod pkce;
mod wait;

/// What the fuzz targets reach of a login (src/fuzz.rs): the callback's check, and the
/// listener's policy without a login.
#[cfg(fuzzing)]
pub(crate) use callback::{parse_callback, Callback, Expect};
#[cfg(fuzzing)]
pub(crate) use listener::policy_without_login;
pub(crate) use login::{parse_redirect, Authorised, BrowserLogin};
pub(crate) use wait::run;
