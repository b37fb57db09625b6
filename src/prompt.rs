//! Interactive prompts (dialoguer, on stderr). Callers check `Io::can_prompt` first:
//! without a TTY wixauth never waits for input.

use crate::config::Flow;
use crate::error::{Error, Result};
use crate::secret::Secret;

fn cancelled(e: dialoguer::Error) -> Error {
    Error::failure(format!("prompt failed: {e}"))
}

pub fn text(label: &str) -> Result<String> {
    let value: String = dialoguer::Input::new()
        .with_prompt(label)
        .interact_text()
        .map_err(cancelled)?;
    Ok(value.trim().to_string())
}

pub fn secret(label: &str) -> Result<Secret> {
    let value = dialoguer::Password::new()
        .with_prompt(label)
        .interact()
        .map_err(cancelled)?;
    Ok(Secret::new(value.trim()))
}

pub fn flow() -> Result<Flow> {
    let choice = dialoguer::Select::new()
        .with_prompt("How does this app get tokens?")
        .items([
            "basic: app secret + instance id → 4-hour tokens (Wix's current OAuth)",
            "advanced: browser consent → refresh token → 5-minute tokens (custom authentication, legacy)",
        ])
        .default(0)
        .interact()
        .map_err(cancelled)?;
    Ok(if choice == 0 {
        Flow::Basic
    } else {
        Flow::Advanced
    })
}
