//! `wixauth webhook dev-key|trigger|test`: the webhook lab, which signs deliveries as Wix does
//! with the profile's development key and sends them to the developer's own handler.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};

use crate::app::cli::{
    IdentityArg, KeyFormatArg, WebhookDevKeyArgs, WebhookTestArgs, WebhookTriggerArgs,
};
use crate::app::context::Context;
use crate::core::error::{Cmd, Error, Result};
use crate::core::text::printable;
use crate::ui::Io;
use crate::webhook::battery::{self, BatteryOptions, WIX_BUDGET};
use crate::webhook::dev_key::{format_public, DevKey, KeyFormat, FOR_DEVELOPMENT};
use crate::webhook::envelope::{self, Draft, Signed};
use crate::webhook::events::{self, uuid, BuiltIn, Fresh, Identity};
use crate::webhook::send::{self, Handler};
use crate::webhook::trigger::{self, TriggerOptions};
use crate::webhook::{byte_offset, replay, report};

/// `--data` larger than this is not an event payload.
const MAX_DATA: u64 = 1024 * 1024;

pub(crate) struct DevKeyOptions {
    pub rotate: bool,
    pub format: KeyFormat,
}

impl From<&WebhookDevKeyArgs> for DevKeyOptions {
    fn from(a: &WebhookDevKeyArgs) -> Self {
        DevKeyOptions {
            rotate: a.rotate,
            format: match a.format {
                KeyFormatArg::Pem => KeyFormat::Pem,
                KeyFormatArg::Base64 => KeyFormat::Base64,
            },
        }
    }
}

/// What `trigger` sends: a built-in event, any other event type, or saved deliveries.
pub(crate) enum What {
    BuiltIn(String),
    Other(String),
    Replay(PathBuf),
}

pub(crate) struct TriggerOpts {
    pub list: bool,
    pub what: Option<What>,
    pub to: Option<String>,
    pub data: Option<String>,
    pub set: Vec<String>,
    pub headers: Vec<String>,
    pub identity: Identity,
    pub budget: Duration,
    pub count: usize,
    pub concurrency: usize,
    pub duplicate: bool,
    pub expired: bool,
    pub json: bool,
}

impl From<&WebhookTriggerArgs> for TriggerOpts {
    fn from(a: &WebhookTriggerArgs) -> Self {
        let what = match (&a.event, &a.event_type, &a.replay) {
            (Some(e), None, None) => Some(What::BuiltIn(e.clone())),
            (None, Some(t), None) => Some(What::Other(t.clone())),
            (None, None, Some(r)) => Some(What::Replay(r.clone())),
            _ => None,
        };
        TriggerOpts {
            list: a.list,
            what,
            to: a.to.clone(),
            data: a.data.clone(),
            set: a.set.clone(),
            headers: a.headers.clone(),
            identity: match a.identity {
                IdentityArg::App => Identity::App,
                IdentityArg::Visitor => Identity::Visitor,
                IdentityArg::Member => Identity::Member,
                IdentityArg::WixUser => Identity::WixUser,
            },
            budget: Duration::from_millis(a.budget_ms),
            count: a.count as usize,
            concurrency: a.concurrency as usize,
            duplicate: a.duplicate,
            expired: a.expired,
            json: a.json,
        }
    }
}

pub(crate) struct TestOpts {
    pub url: String,
    pub json: bool,
    pub only: Vec<String>,
    pub skip: Vec<String>,
    pub burst: usize,
}

impl From<&WebhookTestArgs> for TestOpts {
    fn from(a: &WebhookTestArgs) -> Self {
        TestOpts {
            url: a.url.clone(),
            json: a.json,
            only: a.only.clone(),
            skip: a.skip.clone(),
            burst: a.burst as usize,
        }
    }
}

/// `dev-key`: the profile's key pair, made the first time (or with `--rotate`); prints the
/// public key.
pub(super) fn dev_key(opts: &DevKeyOptions, ctx: &mut Context, io: &mut Io) -> Result<()> {
    let existing = ctx.active_profile().and_then(|p| p.webhook_dev_key.clone());
    let (record, made) = match existing {
        Some(record) if !opts.rotate => (record, false),
        _ => {
            let key = DevKey::generate()?;
            let record = ctx.session().lifecycle().save_dev_key(
                &key.id,
                &key.to_secret()?,
                &key.public.pem,
                opts.rotate,
            )?;
            ctx.reload_config()?;
            (record, true)
        }
    };
    io.print(&format_public(&record.public_key, opts.format))?;
    if made {
        io.note(&format!(
            "Made a new webhook dev key for profile {} (id {}; the private key is in the {} store, never in config.toml).",
            ctx.profile, record.id, record.store
        ));
    }
    io.note(FOR_DEVELOPMENT);
    Ok(())
}

/// The dev key, private half included: what `trigger` and `test` sign with.
fn signing_key(ctx: &Context) -> Result<DevKey> {
    match ctx.session().webhook_dev_key()? {
        Some((_, secret)) => DevKey::from_secret(&secret),
        None => Err(Error::usage(format!(
            "profile {} has no webhook dev key to sign with",
            ctx.profile
        ))
        .run(Cmd::new(&["webhook", "dev-key"]))),
    }
}

/// The app id events name: the profile's, else `WIX_APP_ID`, else a fresh one.
fn app_id(ctx: &Context) -> String {
    ctx.active_profile()
        .and_then(|p| p.app_id.clone())
        .or_else(|| ctx.env.app_id.clone())
        .unwrap_or_else(uuid)
}

pub(super) fn trigger(opts: &TriggerOpts, ctx: &mut Context, io: &mut Io) -> Result<()> {
    if opts.list {
        return io.print(&events::list());
    }
    let Some(what) = &opts.what else {
        return Err(Error::usage(
            "say what to send: a built-in EVENT (see --list), --event-type NAME with --data, or --replay FILE|DIR",
        ));
    };
    let url = send::check_url(opts.to.as_deref().unwrap_or_default())?;
    let headers = opts
        .headers
        .iter()
        .map(|h| send::parse_header(h))
        .collect::<Result<Vec<_>>>()?;
    let deliveries = match what {
        What::Replay(path) => {
            let key = signing_key(ctx)?;
            let saved = replay::load(path)?;
            let signed = saved
                .iter()
                .map(|(file, s)| replay::resign(file, s, &key))
                .collect::<Result<Vec<Signed>>>()?;
            io.note(&format!(
                "Replaying {} saved deliveries from {}, re-signed with the dev key.",
                signed.len(),
                path.display()
            ));
            signed
        }
        What::BuiltIn(_) | What::Other(_) => {
            let claims = claims(opts, what, ctx, io)?;
            envelope::sign_all(&signing_key(ctx)?, &claims)?
        }
    };
    let handler = Handler::new(url, headers, opts.budget + ctx.env.http_timeout)?;
    let run = TriggerOptions {
        budget: opts.budget,
        limit: opts.budget + ctx.env.http_timeout,
        concurrency: opts.concurrency,
        duplicate: opts.duplicate,
        json: opts.json,
    };
    trigger::run(handler, &deliveries, &run, io)
}

/// The claims of each delivery: `--count` fresh events for one instance.
fn claims(opts: &TriggerOpts, what: &What, ctx: &Context, io: &mut Io) -> Result<Vec<Value>> {
    let built_in = match what {
        What::BuiltIn(name) => Some(BuiltIn::find(name)?),
        _ => None,
    };
    let event_type = match (built_in, what) {
        (Some(b), _) => b.name.to_string(),
        (None, What::Other(name)) => checked_event_type(name)?,
        _ => unreachable!("replays are not built here"),
    };
    let given = opts.data.as_deref().map(|d| read_data(d, io)).transpose()?;
    let instance = ctx
        .instance
        .clone()
        .or_else(|| {
            ctx.active_profile()
                .and_then(|p| p.default_instance.clone())
        })
        .unwrap_or_else(uuid);
    let app_id = app_id(ctx);
    let mut out = Vec::with_capacity(opts.count);
    for _ in 0..opts.count {
        let fresh = Fresh {
            app_id: app_id.clone(),
            now: std::time::SystemTime::now(),
        };
        let mut payload = built_in
            .map(|b| b.payload(&fresh))
            .unwrap_or_else(|| json!({}));
        if let Some(given) = &given {
            events::merge(&mut payload, given.clone());
        }
        for assignment in &opts.set {
            events::set_field(&mut payload, assignment)?;
        }
        let draft = Draft {
            event_type: event_type.clone(),
            instance_id: instance.clone(),
            payload,
            identity: opts.identity.layer(&app_id),
            account_info: None,
        };
        out.push(draft.claims(opts.expired));
    }
    Ok(out)
}

fn checked_event_type(name: &str) -> Result<String> {
    let ok = !name.is_empty() && name.len() <= 200 && name.chars().all(|c| c.is_ascii_graphic());
    match ok {
        true => Ok(name.to_string()),
        false => Err(Error::usage(format!(
            "--event-type {} must be an event name such as wix.ecom.v1.order_created",
            printable(name, 80)
        ))),
    }
}

/// `--data`: JSON, `@FILE` or `@-`; a parse error names the source and the byte offset.
fn read_data(value: &str, io: &mut Io) -> Result<Value> {
    let (text, name) = match value.strip_prefix('@') {
        Some("-") => {
            let mut bytes = Vec::new();
            (&mut io.stdin)
                .take(MAX_DATA + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| Error::usage(format!("cannot read --data from stdin: {e}")))?;
            (bytes, "--data from stdin".to_string())
        }
        Some(file) => {
            let mut bytes = Vec::new();
            std::fs::File::open(file)
                .and_then(|f| f.take(MAX_DATA + 1).read_to_end(&mut bytes))
                .map_err(|e| Error::usage(format!("cannot read --data file {file}: {e}")))?;
            (bytes, format!("--data file {file}"))
        }
        None => (value.as_bytes().to_vec(), "--data".to_string()),
    };
    if text.len() as u64 > MAX_DATA {
        return Err(Error::usage(format!("{name} is larger than 1 MiB")));
    }
    serde_json::from_slice(&text).map_err(|e| {
        Error::usage(format!(
            "{name} is not JSON: {} at byte {}",
            printable(
                e.to_string().split(" at line ").next().unwrap_or_default(),
                120
            ),
            byte_offset(&text, e.line(), e.column())
        ))
    })
}

pub(super) fn test(opts: &TestOpts, ctx: &mut Context, io: &mut Io) -> Result<()> {
    let url = send::check_url(&opts.url)?;
    battery::select(&opts.only, &opts.skip)?;
    let key = signing_key(ctx)?;
    let handler = Handler::new(url, Vec::new(), WIX_BUDGET * 3)?;
    let battery = BatteryOptions {
        only: opts.only.clone(),
        skip: opts.skip.clone(),
        burst: opts.burst,
        app_id: app_id(ctx),
    };
    let checks = battery::run(handler, &key, &battery)?;
    match opts.json {
        true => io.print(&format!("{}\n", report::to_json(&checks)))?,
        false => io.print(&report::human(&checks))?,
    }
    if report::all_passed(&checks) {
        return Ok(());
    }
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| !c.ok && !c.advisory)
        .map(|c| c.name)
        .collect();
    Err(Error::failure(format!(
        "the handler failed {} of the webhook checks: {}",
        failed.len(),
        failed.join(", ")
    )))
}
