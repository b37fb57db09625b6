//! What a fleet run says at the end, and the retry file.
//!
//! The summary table (instance, site, result, time) lists every instance of a small fleet,
//! and of a large one the failures (the first [`MAX_FAILED_ROWS`]): a thousand "ok" rows would
//! bury the three that need a look. It keeps only those rows, so memory does not grow with the
//! fleet. The retry file gets each failed or unrun id as it is known, in a temporary file
//! beside PATH renamed over it at the end: `--instances-from PATH` then runs exactly those.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::core::error::{Error, Result};
use crate::core::text::printable;

/// Fleets of at most this many instances list every one.
pub(crate) const ALL_ROWS_UP_TO: usize = 20;
/// The most failed rows a summary lists.
pub(crate) const MAX_FAILED_ROWS: usize = 50;

pub(crate) struct Row {
    pub instance: String,
    pub site: Option<String>,
    pub result: String,
    pub elapsed: Option<Duration>,
}

/// The rows a summary will show.
pub(crate) struct Table {
    total: usize,
    rows: Vec<Row>,
    failed_rows: usize,
    /// Failed rows left out.
    more_failed: usize,
}

impl Table {
    pub(crate) fn new(total: usize) -> Table {
        Table {
            total,
            rows: Vec::new(),
            failed_rows: 0,
            more_failed: 0,
        }
    }

    pub(crate) fn add(&mut self, row: Row, failed: bool) {
        if self.total <= ALL_ROWS_UP_TO {
            self.rows.push(row);
        } else if failed && self.failed_rows < MAX_FAILED_ROWS {
            self.failed_rows += 1;
            self.rows.push(row);
        } else if failed {
            self.more_failed += 1;
        }
    }

    /// The table: short columns first, the result (an error line: never cut) last.
    pub(crate) fn render(&self) -> String {
        if self.rows.is_empty() {
            return String::new();
        }
        let site = |r: &Row| r.site.as_deref().map_or("-".into(), |s| printable(s, 30));
        let time = |r: &Row| r.elapsed.map_or("-".into(), human_ms);
        let w_id = self
            .rows
            .iter()
            .map(|r| r.instance.len())
            .max()
            .unwrap_or(0);
        let w_site = self.rows.iter().map(|r| site(r).chars().count()).max();
        let w_site = w_site.unwrap_or(0).max(4);
        let w_time = self.rows.iter().map(|r| time(r).len()).max().unwrap_or(0);
        let mut out = String::new();
        let mut line = |a: &str, b: &str, c: &str, d: &str| {
            let text = format!("{a:<w_id$}  {b:<w_site$}  {c:>w_time$}  {d}");
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line("instance", "site", "time", "result");
        for r in &self.rows {
            line(&r.instance, &site(r), &time(r), &printable(&r.result, 200));
        }
        if self.more_failed > 0 {
            out.push_str(&format!(
                "… and {} more failed (the retry file has them all)\n",
                self.more_failed
            ));
        }
        out
    }
}

pub(crate) fn human_ms(d: Duration) -> String {
    match d.as_millis() {
        ms @ 0..=9_999 => format!("{ms} ms"),
        _ => format!("{:.1} s", d.as_secs_f64()),
    }
}

/// The retry file, written as failures come and moved into place at the end.
pub(crate) struct RetryFile {
    path: PathBuf,
    temp: tempfile::NamedTempFile,
    count: usize,
}

impl RetryFile {
    /// Opens the temporary file beside `path` (checked now: before anything runs).
    pub(crate) fn create(path: &Path) -> Result<RetryFile> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let temp = tempfile::Builder::new()
            .prefix(".wixauth-retry-")
            .tempfile_in(&dir)
            .map_err(|e| {
                Error::usage(format!(
                    "cannot write the retry file {} ({e})",
                    path.display()
                ))
                .hint("give --retry-file a path in a folder you can write")
            })?;
        Ok(RetryFile {
            path: path.to_path_buf(),
            temp,
            count: 0,
        })
    }

    pub(crate) fn add(&mut self, instance: &str) -> Result<()> {
        self.count += 1;
        writeln!(self.temp, "{instance}").map_err(|e| self.failed(e))
    }

    /// Moves the file into place; returns how many ids it holds.
    pub(crate) fn finish(mut self) -> Result<(PathBuf, usize)> {
        self.temp.flush().map_err(|e| self.failed(e))?;
        let (path, count) = (self.path.clone(), self.count);
        self.temp.persist(&path).map_err(|e| {
            Error::failure(format!(
                "cannot write the retry file {}: {}",
                path.display(),
                e.error
            ))
        })?;
        Ok((path, count))
    }

    fn failed(&self, e: std::io::Error) -> Error {
        Error::failure(format!(
            "cannot write the retry file {}: {e}",
            self.path.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, result: &str) -> Row {
        Row {
            instance: id.into(),
            site: Some("Shop \x1b[2J".into()),
            result: result.into(),
            elapsed: Some(Duration::from_millis(42)),
        }
    }

    #[test]
    fn a_small_fleet_lists_all_a_large_one_its_failures() {
        let mut small = Table::new(2);
        small.add(row("inst-1", "ok"), false);
        small.add(row("inst-2", "exit 3: gone"), true);
        let text = small.render();
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(text.contains("Shop \\u{1b}[2J"), "escaped: {text}");
        assert!(text
            .lines()
            .nth(2)
            .unwrap()
            .ends_with("42 ms  exit 3: gone"));

        let mut large = Table::new(1000);
        large.add(row("inst-1", "ok"), false);
        for n in 0..60 {
            large.add(row(&format!("inst-x{n}"), "exit 4"), true);
        }
        let text = large.render();
        assert_eq!(text.lines().count(), 1 + MAX_FAILED_ROWS + 1, "{text}");
        assert!(!text.contains("inst-1 "), "{text}");
        assert!(text.ends_with("… and 10 more failed (the retry file has them all)\n"));
    }

    #[test]
    fn the_retry_file_appears_whole_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("retry.txt");
        std::fs::write(&path, "old\n").unwrap();
        let mut retry = RetryFile::create(&path).unwrap();
        retry.add("inst-1").unwrap();
        retry.add("inst-2").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old\n");
        assert_eq!(retry.finish().unwrap().1, 2);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "inst-1\ninst-2\n");
        let nowhere = dir.path().join("missing").join("retry.txt");
        assert_eq!(
            RetryFile::create(&nowhere).err().unwrap().exit,
            crate::core::error::Exit::Usage
        );
    }
}
