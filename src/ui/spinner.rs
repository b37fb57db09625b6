//! A one-line spinner on stderr while the browser login waits, only on a terminal. Each frame
//! is cut to the terminal's width and redrawn in place, so it never wraps into a pile of lines.

use std::io::Write;
use std::time::Duration;

pub(crate) struct Spinner {
    enabled: bool,
    what: String,
    width: usize,
    frame: usize,
    shown: bool,
}

impl Spinner {
    /// `width`: the terminal's columns (a frame never uses the last one, where some terminals wrap).
    pub(crate) fn new(enabled: bool, waiting_for: &str, width: usize) -> Self {
        Spinner {
            enabled,
            what: waiting_for.to_string(),
            width: width.max(10),
            frame: 0,
            shown: false,
        }
    }

    pub(crate) fn tick(&mut self, err: &mut dyn Write, left: Duration) {
        if !self.enabled {
            return;
        }
        const FRAMES: [char; 4] = ['|', '/', '-', '\\'];
        self.frame = (self.frame + 1) % FRAMES.len();
        let secs = left.as_secs();
        let line = format!(
            "{} {}:{:02} left · waiting for the browser at {} · Ctrl-C cancels",
            FRAMES[self.frame],
            secs / 60,
            secs % 60,
            self.what
        );
        let line = fit(&line, self.width - 1);
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
        self.shown = true;
    }

    /// Removes the spinner line, so that what is printed next starts on a clean line.
    pub(crate) fn clear(&mut self, err: &mut dyn Write) {
        if self.enabled && self.shown {
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
        }
    }
}

/// As many whole words of `line` as fit in `width` columns (never a cut word; the first one
/// always, cut only if it alone is wider).
fn fit(line: &str, width: usize) -> String {
    let mut out = String::new();
    for word in line.split(' ') {
        let more = out.chars().count() + usize::from(!out.is_empty()) + word.chars().count();
        if more > width {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    match out.is_empty() {
        true => line.chars().take(width).collect(),
        false => out.trim_end_matches([' ', '·']).to_string(),
    }
}

/// The columns of the terminal on stderr, or 80 when unknown.
pub(crate) fn terminal_width() -> usize {
    console::Term::stderr()
        .size_checked()
        .map(|(_, cols)| usize::from(cols))
        .unwrap_or(80)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_fit_the_width_and_redraw_in_place() {
        let mut out = Vec::new();
        let mut s = Spinner::new(true, &"x".repeat(200), 40);
        s.tick(&mut out, Duration::from_secs(61));
        s.tick(&mut out, Duration::from_secs(60));
        let text = String::from_utf8(out.clone()).unwrap();
        for frame in text.split("\r\x1b[2K").filter(|f| !f.is_empty()) {
            assert!(frame.chars().count() < 40, "{frame:?}");
            assert!(!frame.contains('\n'));
        }
        // Words are dropped, never cut.
        let shown = fit("| 4:59 left · waiting for the browser at http://localhost:8338/callback · Ctrl-C cancels", 50);
        assert_eq!(shown, "| 4:59 left · waiting for the browser at");
        s.clear(&mut out);
        assert!(String::from_utf8(out).unwrap().ends_with("\r\x1b[2K"));
        let mut quiet = Vec::new();
        Spinner::new(false, "x", 80).tick(&mut quiet, Duration::ZERO);
        assert!(quiet.is_empty());
    }
}
