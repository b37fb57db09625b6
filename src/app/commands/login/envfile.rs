//! `login --env-file [PATH]`: the Wix values of a dotenv file (what `wix env pull` writes to
//! `.env.local`) as the login's input, as if they were set in the environment (a flag still
//! wins). The file is read, never changed or copied; which keys were used and which flow they
//! make is said on stderr, never a value.
//!
//! `WIX_CLIENT_ID` + `WIX_CLIENT_SECRET` make the admin flow, also when `WIX_CLIENT_INSTANCE_ID`
//! is there too (which flow Wix means by that triple is UNCONFIRMED: README.md);
//! `--flow basic` reads the triple as an app's client credentials instead.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::options::{FromFile, LoginOptions};
use crate::app::context::Context;
use crate::core::error::{Error, Result};
use crate::core::secret::Secret;
use crate::core::text::printable;
use crate::settings::dotenv;
use crate::settings::flow::Kind;
use crate::settings::Flow;
use crate::ui::Io;

/// The keys read; any other key of the file is left alone.
const KEYS: &[&str] = &[
    "WIX_APP_ID",
    "WIX_APP_SECRET",
    "WIX_INSTANCE_ID",
    "WIX_CLIENT_ID",
    "WIX_CLIENT_SECRET",
    "WIX_CLIENT_INSTANCE_ID",
    "WIX_API_KEY",
    "WIX_SITE_ID",
    "WIX_ACCOUNT_ID",
];
/// The keys whose values are secrets (a file readable by others holding one gets a warning).
const SECRETS: &[&str] = &["WIX_APP_SECRET", "WIX_CLIENT_SECRET", "WIX_API_KEY"];
/// The default files, in order, in the current folder.
const DEFAULT_FILES: &[&str] = &[".env.local", ".env"];
/// A dotenv file is small; more is not one.
const MAX_FILE: u64 = 1 << 20;

/// Reads `--env-file` (when given) into `ctx.env` and `opts` (its flow, unless `--flow` says
/// otherwise, and where each value came from).
pub(super) fn apply(opts: &mut LoginOptions, ctx: &mut Context, io: &mut Io) -> Result<()> {
    let Some(given) = &opts.env_file else {
        return Ok(());
    };
    let path = match given {
        Some(path) => path.clone(),
        None => default_file()?,
    };
    let shown = path.display().to_string();
    let text = read(&path)?;
    let pairs = dotenv::parse(&text).map_err(|(line, why)| {
        Error::usage(format!("{}, line {line}: {why}", printable(&shown, 200))).hint(
            "fix that line (dotenv: KEY=value, 'single' or \"double\" quotes, export, # comments)",
        )
    })?;
    // The last of a key wins; an empty value is no value, as for the environment.
    let mut values: BTreeMap<&'static str, String> = BTreeMap::new();
    for (key, value) in pairs {
        if let Some(known) = KEYS.iter().find(|k| **k == key) {
            let value = value.trim().to_string();
            match value.is_empty() {
                true => values.remove(known),
                false => values.insert(known, value),
            };
        }
    }
    if values.keys().any(|k| SECRETS.contains(k)) {
        warn_if_shared(io, &path, &shown);
    }
    let flow = match opts.flow {
        Some(flow) => flow,
        None => flow_of(&values).ok_or_else(|| {
            Error::usage(format!(
                "{} holds none of the values a login needs ({})",
                printable(&shown, 200),
                KEYS.join(", ")
            ))
        })?,
    };
    let (used, unused) = take(&values, flow, opts, ctx);
    let mut note = format!(
        "Read {}: {} → the {flow} flow",
        printable(&shown, 200),
        used.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
    );
    if !unused.is_empty() {
        note.push_str(&format!(" ({} not used by it", unused.join(", ")));
        if flow == Flow::Admin && unused.contains(&"WIX_CLIENT_INSTANCE_ID") {
            note.push_str("; `--flow basic --env-file` reads the client id, secret and instance id as an app's");
        }
        note.push(')');
    }
    io.note(&format!("{note}."));
    opts.flow = Some(flow);
    opts.from_file = Some(FromFile {
        path: shown,
        gave: used.iter().map(|(_, v)| *v).collect(),
        unused,
    });
    Ok(())
}

/// The flow the file's values make: an API key; a Headless client with its secret (admin);
/// an app; a Headless client alone (visitor).
fn flow_of(values: &BTreeMap<&str, String>) -> Option<Flow> {
    let has = |k: &str| values.contains_key(k);
    if has("WIX_API_KEY") {
        Some(Flow::ApiKey)
    } else if has("WIX_CLIENT_ID") && has("WIX_CLIENT_SECRET") {
        Some(Flow::Admin)
    } else if has("WIX_APP_ID") {
        Some(Flow::Basic)
    } else if has("WIX_CLIENT_ID") {
        Some(Flow::Visitor)
    } else {
        None
    }
}

/// Puts the values `flow` takes into `ctx.env` (a flag given for one still wins, as it does
/// over the environment). Returns (file key, variable it stands for) for each one taken, and
/// the file's other Wix keys.
fn take(
    values: &BTreeMap<&'static str, String>,
    flow: Flow,
    opts: &mut LoginOptions,
    ctx: &mut Context,
) -> (Vec<(&'static str, &'static str)>, Vec<&'static str>) {
    let pick = |keys: &[&'static str]| keys.iter().copied().find(|k| values.contains_key(k));
    // (variable, the file keys that give it, first found wins)
    let wanted: &[(&'static str, &[&'static str])] = match flow.kind() {
        // The basic reading of a `wix env pull` triple: the client is the app.
        Kind::App => &[
            ("WIX_APP_ID", &["WIX_APP_ID", "WIX_CLIENT_ID"]),
            ("WIX_APP_SECRET", &["WIX_APP_SECRET", "WIX_CLIENT_SECRET"]),
            (
                "WIX_INSTANCE_ID",
                &["WIX_INSTANCE_ID", "WIX_CLIENT_INSTANCE_ID"],
            ),
        ],
        Kind::Headless => &[
            ("WIX_CLIENT_ID", &["WIX_CLIENT_ID"]),
            ("WIX_CLIENT_SECRET", &["WIX_CLIENT_SECRET"]),
        ],
        Kind::ApiKey => &[
            ("WIX_API_KEY", &["WIX_API_KEY"]),
            ("WIX_SITE_ID", &["WIX_SITE_ID"]),
            ("WIX_ACCOUNT_ID", &["WIX_ACCOUNT_ID"]),
        ],
    };
    let mut used = Vec::new();
    for (variable, keys) in wanted {
        let Some(key) = pick(keys) else {
            continue;
        };
        let value = values[key].clone();
        let env = &mut ctx.env;
        match *variable {
            "WIX_APP_ID" => env.app_id = Some(value),
            "WIX_APP_SECRET" => env.app_secret = Some(Secret::new(value)),
            "WIX_INSTANCE_ID" if !ctx.instance_flag => {
                ctx.instance = Some(value.clone());
                opts.instance_id = opts.instance_id.clone().or(Some(value));
            }
            "WIX_CLIENT_ID" => env.client_id = Some(value),
            "WIX_CLIENT_SECRET" => env.client_secret = Some(Secret::new(value)),
            "WIX_API_KEY" => env.api_key = Some(Secret::new(value)),
            "WIX_SITE_ID" => env.site_id = Some(value),
            "WIX_ACCOUNT_ID" => env.account_id = Some(value),
            _ => continue,
        }
        used.push((key, *variable));
    }
    let unused = values
        .keys()
        .copied()
        .filter(|k| !used.iter().any(|(u, _)| u == k))
        .collect();
    (used, unused)
}

fn default_file() -> Result<PathBuf> {
    DEFAULT_FILES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .ok_or_else(|| {
            Error::usage("--env-file: there is no .env.local or .env in the current folder")
                .hint("pass --env-file PATH")
        })
}

/// The file's text: a regular file (never a FIFO that could hang), at most 1 MiB, UTF-8.
fn read(path: &Path) -> Result<String> {
    let shown = printable(&path.display().to_string(), 200);
    let cannot = |why: String| Error::usage(format!("cannot read the env file {shown}: {why}"));
    let file = std::fs::File::open(path).map_err(|e| cannot(e.to_string()))?;
    let meta = file.metadata().map_err(|e| cannot(e.to_string()))?;
    if !meta.is_file() {
        return Err(cannot("it is not a regular file".into()));
    }
    if meta.len() > MAX_FILE {
        return Err(cannot(format!("it is over {} KiB", MAX_FILE >> 10)));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(e.to_string()))?;
    String::from_utf8(bytes).map_err(|_| cannot("it is not UTF-8 text".into()))
}

/// A secret in a file others can read: said (the file is the user's, and is not changed).
fn warn_if_shared(io: &mut Io, path: &Path, shown: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777);
        if let Some(mode) = mode.ok().filter(|m| m & 0o044 != 0) {
            let shown = printable(shown, 200);
            io.warn(&format!(
                "{shown} holds a secret and is readable by others (mode {mode:04o}); `chmod 600 {shown}` makes it yours alone"
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (io, path, shown);
}
