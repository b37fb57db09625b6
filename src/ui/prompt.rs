//! Interactive prompts. Callers check `Io::can_prompt` first: without a TTY wixauth never
//! waits for input.

use super::interrupt::{self, OnInterrupt};
use crate::core::error::{Error, Result};
use crate::core::secret::Secret;

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

/// Asks, with Ctrl-C putting the terminal back: as a signal (line prompts) it is handled by
/// [`interrupt`]; as a key (menus read raw keys) dialoguer reports it and we end with 130.
fn ask<T>(question: impl FnOnce() -> dialoguer::Result<T>) -> Result<T> {
    interrupt::save_terminal();
    interrupt::on_interrupt(OnInterrupt::Exit);
    question().map_err(|e| match e {
        dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => {
            interrupt::restore_terminal();
            Error::interrupted()
        }
        e => Error::failure(format!("prompt failed: {e}")),
    })
}

/// dialoguer's plain theme, except that a question keeps its own `?` (no "tokens?:").
struct Question;

impl dialoguer::theme::Theme for Question {
    fn format_prompt(&self, f: &mut dyn std::fmt::Write, prompt: &str) -> std::fmt::Result {
        write!(f, "{}", question(prompt))
    }

    fn format_input_prompt_selection(
        &self,
        f: &mut dyn std::fmt::Write,
        prompt: &str,
        sel: &str,
    ) -> std::fmt::Result {
        write!(f, "{} {sel}", question(prompt))
    }
}

/// `prompt` as it is shown: a question as asked, anything else followed by a colon.
fn question(prompt: &str) -> String {
    match prompt.ends_with('?') {
        true => prompt.to_string(),
        false => format!("{prompt}:"),
    }
}

impl Prompter for Dialoguer {
    fn text(&mut self, label: &str) -> Result<String> {
        let value: String = ask(|| dialoguer::Input::new().with_prompt(label).interact_text())?;
        Ok(value.trim().to_string())
    }

    fn secret(&mut self, label: &str) -> Result<Secret> {
        let value = ask(|| dialoguer::Password::new().with_prompt(label).interact())?;
        Ok(Secret::new(value.trim()))
    }

    fn select(&mut self, label: &str, items: &[&str], default: usize) -> Result<usize> {
        ask(|| {
            dialoguer::Select::with_theme(&Question)
                .with_prompt(label)
                .items(items)
                .default(default)
                .interact()
        })
    }
}

#[cfg(test)]
mod tests {
    use dialoguer::theme::Theme;

    use super::*;

    #[test]
    fn a_question_keeps_its_mark_and_a_label_gets_a_colon() {
        let mut shown = String::new();
        Question
            .format_select_prompt(&mut shown, "How does this app get tokens?")
            .unwrap();
        assert_eq!(shown, "How does this app get tokens?");
        let mut shown = String::new();
        Question
            .format_select_prompt_selection(&mut shown, "How does this app get tokens?", "basic")
            .unwrap();
        assert_eq!(shown, "How does this app get tokens? basic");
        let mut shown = String::new();
        Question.format_select_prompt(&mut shown, "Flow").unwrap();
        assert_eq!(shown, "Flow:");
    }
}
