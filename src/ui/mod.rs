//! Everything that touches the person or the machine around a command: the standard streams
//! and what they are connected to, prompts, the browser opener and the spinner. Commands
//! use only [`Io`]; tests hand them buffers, a scripted prompter and a recording browser.

pub(crate) mod browser;
pub(crate) mod interrupt;
pub(crate) mod prompt;
pub(crate) mod spinner;

use std::io::{IsTerminal, Read, Write};

use crate::core::error::{Error, Result};
use crate::core::log::Notes;
use crate::core::secret::Secret;
use crate::settings::env::Env;

pub(crate) use browser::{Browser, Launch};
pub(crate) use prompt::Prompter;

/// Standard streams, what they are connected to, a prompter and a browser opener.
pub(crate) struct Io {
    pub out: Box<dyn Write>,
    pub err: Box<dyn Write>,
    pub stdin: Box<dyn Read>,
    pub stdin_tty: bool,
    pub stdout_tty: bool,
    pub stderr_tty: bool,
    pub prompter: Box<dyn Prompter>,
    pub browser: Box<dyn Browser>,
    /// The terminal's columns, asked once when first needed.
    width: std::cell::Cell<Option<usize>>,
}

impl Io {
    /// The process's streams and dialoguer prompts; the browser opener is set once the
    /// environment is read ([`Io::set_browser_env`]).
    pub(crate) fn system() -> Io {
        Io {
            out: Box::new(std::io::stdout()),
            err: Box::new(std::io::stderr()),
            stdin: Box::new(std::io::stdin()),
            stdin_tty: std::io::stdin().is_terminal(),
            stdout_tty: std::io::stdout().is_terminal(),
            stderr_tty: std::io::stderr().is_terminal(),
            prompter: Box::new(prompt::Dialoguer),
            browser: Box::new(browser::System::none()),
            width: Default::default(),
        }
    }

    /// The terminal's columns (80 when it does not say).
    pub(crate) fn width(&self) -> usize {
        match self.width.get() {
            Some(w) => w,
            None => {
                let w = spinner::terminal_width();
                self.width.set(Some(w));
                w
            }
        }
    }

    /// Text for a person on stdout (help): wrapped to the terminal, or at 80 into a pipe.
    pub(crate) fn print_for_people(&mut self, text: &str) -> Result<()> {
        let width = match self.stdout_tty {
            true => self.width(),
            false => 80,
        };
        self.print(&crate::core::text::wrap(text, width))
    }

    /// A report for a person on stdout (status, doctor, whoami): on a terminal wrapped to its
    /// width, continuations indented `hang` more; into a pipe as it is, one line per fact, for
    /// scripts that grep it.
    pub(crate) fn print_report(&mut self, text: &str, hang: usize) -> Result<()> {
        match self.stdout_tty {
            true => {
                let width = self.width();
                self.print(&crate::core::text::wrap_hanging(text, width, hang))
            }
            false => self.print(text),
        }
    }

    /// The system browser, or `$BROWSER`, as the environment says.
    pub(crate) fn set_browser_env(&mut self, env: &Env) {
        self.browser = Box::new(browser::System::new(env));
    }

    /// Prompts need a person: a TTY on both stdin and stderr.
    pub(crate) fn can_prompt(&self) -> bool {
        self.stdin_tty && self.stderr_tty
    }

    /// Writes the requested data to stdout.
    pub(crate) fn print(&mut self, text: &str) -> Result<()> {
        self.write_out(text.as_bytes())
    }

    /// Writes JSON to stdout (pretty or one line): on a terminal with every control character
    /// from outside escaped, still valid JSON; into a pipe or file as the writer made it.
    pub(crate) fn print_json(&mut self, value: &impl serde::Serialize, pretty: bool) -> Result<()> {
        let text = match pretty {
            true => serde_json::to_string_pretty(value),
            false => serde_json::to_string(value),
        }
        .unwrap_or_default();
        match self.stdout_tty {
            true => self.print(&format!(
                "{}\n",
                crate::core::text::json_for_terminal(&text)
            )),
            false => self.print(&format!("{text}\n")),
        }
    }

    /// Writes bytes to stdout as they are (an API response body).
    pub(crate) fn write_out(&mut self, bytes: &[u8]) -> Result<()> {
        self.out
            .write_all(bytes)
            .and_then(|()| self.out.flush())
            .map_err(|e| match e.kind() {
                // `wixauth token | head -c1`: the reader is done; end quietly, as a pipe's
                // writer conventionally does.
                std::io::ErrorKind::BrokenPipe => Error::closed_pipe(),
                _ => Error::failure(format!("cannot write to stdout: {e}")),
            })
    }

    /// A status line on stderr (never data): on a terminal wrapped at word boundaries to its
    /// width; elsewhere one line as it is, for scripts and CI logs to read whole.
    pub(crate) fn note(&mut self, text: &str) {
        match self.stderr_tty {
            true => {
                let width = self.width();
                let _ = writeln!(self.err, "{}", crate::core::text::wrap(text, width));
            }
            false => {
                let _ = writeln!(self.err, "{text}");
            }
        }
    }

    /// A `wixauth: warning:` line on stderr.
    pub(crate) fn warn(&mut self, text: &str) {
        self.note(&format!("wixauth: warning: {text}"));
    }

    /// Prints the warnings raised below the command layer so far.
    pub(crate) fn flush_notes(&mut self, notes: &Notes) {
        for text in notes.take() {
            self.warn(&text);
        }
    }

    /// The first line of stdin, trimmed: at most `max` bytes are read, so a stream without a
    /// newline cannot exhaust memory.
    pub(crate) fn read_secret_line(&mut self, max: usize, what: &str) -> Result<Secret> {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            match self.stdin.read(&mut byte) {
                Ok(0) => break,
                Ok(_) if byte[0] == b'\n' => break,
                Ok(_) if line.len() == max => {
                    return Err(Error::usage(format!(
                        "{what}: the first line of stdin is longer than {max} bytes"
                    )))
                }
                Ok(_) => line.push(byte[0]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::failure(format!("{what}: cannot read stdin: {e}"))),
            }
        }
        let text = String::from_utf8(line)
            .map_err(|_| Error::usage(format!("{what}: stdin is not UTF-8 text")))?;
        Ok(Secret::new(text.trim()))
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Fakes for driving commands in unit tests.

    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::rc::Rc;

    use super::*;

    /// A shared, growable buffer standing in for a stream.
    #[derive(Clone, Default)]
    pub(crate) struct Buffer(pub Rc<RefCell<Vec<u8>>>);

    impl Buffer {
        pub(crate) fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.borrow()).into_owned()
        }
    }

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Answers prompts from a script; a prompt without an answer fails the test.
    #[derive(Clone, Default)]
    pub(crate) struct Script {
        pub answers: Rc<RefCell<VecDeque<String>>>,
        pub asked: Rc<RefCell<Vec<String>>>,
    }

    impl Script {
        pub(crate) fn answer(&self, text: &str) -> &Self {
            self.answers.borrow_mut().push_back(text.to_string());
            self
        }
        fn next(&self, label: &str) -> Result<String> {
            self.asked.borrow_mut().push(label.to_string());
            self.answers
                .borrow_mut()
                .pop_front()
                .ok_or_else(|| Error::failure(format!("unexpected prompt: {label}")))
        }
    }

    impl Prompter for Script {
        fn text(&mut self, label: &str) -> Result<String> {
            self.next(label)
        }
        fn secret(&mut self, label: &str) -> Result<Secret> {
            self.next(label).map(Secret::new)
        }
        fn select(&mut self, label: &str, items: &[&str], _default: usize) -> Result<usize> {
            let answer = self.next(label)?;
            items
                .iter()
                .position(|i| i.starts_with(&answer))
                .ok_or_else(|| Error::failure(format!("no item {answer:?} in {items:?}")))
        }
    }

    /// Records what it is asked to open and hands each URL to `visit` (a test's "browser"):
    /// a login's private forwarder file is followed to the URL inside, as a browser would.
    #[derive(Clone, Default)]
    pub(crate) struct Recorder {
        /// The URLs, forwarder files followed.
        pub opened: Rc<RefCell<Vec<String>>>,
        /// What the launcher was given as its argument.
        pub launched: Rc<RefCell<Vec<String>>>,
        #[allow(clippy::type_complexity)]
        pub visit: Option<Rc<dyn Fn(&str)>>,
    }

    impl Browser for Recorder {
        fn open(&mut self, target: &str) -> Launch {
            self.launched.borrow_mut().push(target.to_string());
            let url = browser::forwarded_url(target).unwrap_or_else(|| target.to_string());
            self.opened.borrow_mut().push(url.clone());
            if let Some(visit) = &self.visit {
                visit(&url);
            }
            Launch::Opened("the test browser".into())
        }
    }

    /// An `Io` of buffers: (io, stdout, stderr).
    pub(crate) fn fake_io(
        stdin: &str,
        tty: bool,
        prompter: Script,
        browser: Recorder,
    ) -> (Io, Buffer, Buffer) {
        let (out, err) = (Buffer::default(), Buffer::default());
        let io = Io {
            out: Box::new(out.clone()),
            err: Box::new(err.clone()),
            stdin: Box::new(std::io::Cursor::new(stdin.as_bytes().to_vec())),
            stdin_tty: tty,
            stdout_tty: false,
            stderr_tty: tty,
            prompter: Box::new(prompter),
            browser: Box::new(browser),
            width: Default::default(),
        };
        (io, out, err)
    }

    #[test]
    fn secret_lines_are_bounded() {
        let (mut io, _, _) = fake_io("abc\nrest", false, Script::default(), Recorder::default());
        assert_eq!(io.read_secret_line(8, "x").unwrap().expose(), "abc");
        let (mut io, _, _) = fake_io(
            &"a".repeat(100),
            false,
            Script::default(),
            Recorder::default(),
        );
        assert_eq!(
            io.read_secret_line(8, "x").unwrap_err().exit,
            crate::core::error::Exit::Usage
        );
    }
}
