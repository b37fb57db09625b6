//! Interactive prompts. Callers check `Io::can_prompt` first: without a TTY wixauth never
//! waits for input.

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Questions asked of the person at the terminal (a trait so tests can answer them).
pub(crate) trait Prompter {
    /// A line of text, trimmed.
    fn text(&mut self, label: &str) -> Result<String>;
    /// A line typed without echo, trimmed.
    fn secret(&mut self, label: &str) -> Result<Secret>;
    /// The index of the chosen item.
    fn select(&mut self, label: &str, items: &[&str], default: usize) -> Result<usize>;
}

/// dialoguer on stderr.
pub(crate) struct Dialoguer;

fn cancelled(e: dialoguer::Error) -> Error {
    Error::failure(format!("prompt failed: {e}"))
}

impl Prompter for Dialoguer {
    fn text(&mut self, label: &str) -> Result<String> {
        let value: String = dialoguer::Input::new()
            .with_prompt(label)
            .interact_text()
            .map_err(cancelled)?;
        Ok(value.trim().to_string())
    }

    fn secret(&mut self, label: &str) -> Result<Secret> {
        let value = dialoguer::Password::new()
            .with_prompt(label)
            .interact()
            .map_err(cancelled)?;
        Ok(Secret::new(value.trim()))
    }

    fn select(&mut self, label: &str, items: &[&str], default: usize) -> Result<usize> {
        dialoguer::Select::new()
            .with_prompt(label)
            .items(items)
            .default(default)
            .interact()
            .map_err(cancelled)
    }
}
