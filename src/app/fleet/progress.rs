//! The one progress line of a fleet run on a terminal: done, failed, running, left and the
//! time left, redrawn in place at most ten times a second and never wider than 80 columns (or
//! the terminal, when narrower), so it never wraps into a pile of lines.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::credentials::fleet::Progress;

/// How often the line is redrawn at most.
const EVERY: Duration = Duration::from_millis(100);

pub(crate) struct ProgressLine {
    enabled: bool,
    /// Columns the line may use (one less than it may fill: some terminals wrap on the last).
    width: usize,
    shown: bool,
    drawn_at: Option<Instant>,
}

impl ProgressLine {
    /// `columns`: the terminal's width.
    pub(crate) fn new(enabled: bool, columns: usize) -> ProgressLine {
        ProgressLine {
            enabled,
            width: columns.clamp(10, 80) - 1,
            shown: false,
            drawn_at: None,
        }
    }

    /// Redraws the line, unless it was drawn less than [`EVERY`] ago.
    pub(crate) fn draw(&mut self, err: &mut dyn Write, p: &Progress) {
        if !self.enabled || self.drawn_at.is_some_and(|at| at.elapsed() < EVERY) {
            return;
        }
        let line = fit(&line(p), self.width);
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
        self.shown = true;
        self.drawn_at = Some(Instant::now());
    }

    /// Removes the line before anything else is printed; the next tick draws it again.
    pub(crate) fn clear(&mut self, err: &mut dyn Write) {
        if self.enabled && self.shown {
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown = false;
            self.drawn_at = None;
        }
    }
}

/// `412/1000 done · 3 failed · 16 running · 572 left · about 1m 04s left`.
fn line(p: &Progress) -> String {
    let left = p.total.saturating_sub(p.done + p.running);
    let mut parts = vec![format!("{}/{} done", p.done, p.total)];
    if p.failed > 0 {
        parts.push(format!("{} failed", p.failed));
    }
    parts.push(format!("{} running", p.running));
    parts.push(format!("{left} left"));
    if let Some(eta) = eta(p) {
        parts.push(format!("about {eta} to go"));
    }
    parts.join(" · ")
}

/// The time left at the pace so far, once something is done.
fn eta(p: &Progress) -> Option<String> {
    if p.done == 0 {
        return None;
    }
    let per = p.elapsed.as_secs_f64() / p.done as f64;
    let secs = (per * p.total.saturating_sub(p.done) as f64).ceil() as u64;
    Some(match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m {:02}s", secs / 60, secs % 60),
        _ => format!("{}h {:02}m", secs / 3600, secs % 3600 / 60),
    })
}

/// At most `width` characters: parts are dropped from the end before a cut.
fn fit(line: &str, width: usize) -> String {
    let mut text = line.to_string();
    while text.chars().count() > width {
        match text.rfind(" · ") {
            Some(at) => text.truncate(at),
            None => return text.chars().take(width).collect(),
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(done: usize, failed: usize) -> Progress {
        Progress {
            total: 100_000_000,
            done,
            failed,
            running: 128,
            elapsed: Duration::from_secs(3),
        }
    }

    #[test]
    fn the_line_says_where_the_run_stands() {
        let p = Progress {
            total: 1000,
            done: 400,
            failed: 3,
            running: 16,
            elapsed: Duration::from_secs(40),
        };
        assert_eq!(
            line(&p),
            "400/1000 done · 3 failed · 16 running · 584 left · about 1m 00s to go"
        );
    }

    #[test]
    fn the_line_never_outgrows_its_width_and_redraws_in_place() {
        for columns in [10, 30, 40, 80, 200] {
            let mut out = Vec::new();
            let mut bar = ProgressLine::new(true, columns);
            bar.draw(&mut out, &progress(12_345_678, 9_999_999));
            bar.clear(&mut out);
            bar.draw(&mut out, &progress(99_999_999, 1));
            let text = String::from_utf8(out).unwrap();
            for frame in text.split("\r\x1b[2K").filter(|f| !f.is_empty()) {
                assert!(
                    frame.chars().count() < columns.min(80),
                    "{columns}: {frame:?}"
                );
                assert!(!frame.contains('\n'));
            }
        }
        let mut quiet = Vec::new();
        ProgressLine::new(false, 80).draw(&mut quiet, &progress(1, 0));
        assert!(quiet.is_empty());
    }
}
