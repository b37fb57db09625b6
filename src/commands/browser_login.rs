//! The browser half of `wixauth login`: the local redirect listener and the installer.

use crate::commands::login::{Authorised, LoginOptions};
use crate::config::Flow;
use crate::context::{Context, Io};
use crate::error::{Error, Result};
use crate::secret::Secret;

pub fn run(
    _opts: &LoginOptions,
    _ctx: &Context,
    _io: &mut Io,
    _flow: Flow,
    _app_id: &str,
    _secret: &Secret,
) -> Result<Authorised> {
    Err(Error::usage("the browser login is not available yet: use `wixauth login --flow basic --instance-id ID`"))
}
