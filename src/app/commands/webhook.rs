//! `wixauth webhook set-key|verify|listen`: Wix's signed webhook deliveries; `dev-key`,
//! `trigger` and `test` (the webhook lab) are in `lab`.

mod lab;

use std::io::Read;
use std::path::PathBuf;

use crate::app::cli::{WebhookArgs, WebhookCommand};
use crate::app::context::Context;
use crate::core::error::{Error, Result};
use crate::ui::Io;
use crate::webhook::instances::Saver;
use crate::webhook::listen::{self, ListenOptions, MAX_BODY};
use crate::webhook::{self, verify, PublicKey};

pub(crate) struct WebhookOptions {
    /// `--public-key`: PEM, base64 of it, or `@FILE`.
    pub public_key: Option<String>,
    /// `--dev-key`: verify with the profile's development key.
    pub dev_key: bool,
    pub action: Action,
}

pub(crate) enum Action {
    /// Store the key from FILE (`-`: stdin), or from `--public-key` when there is no FILE.
    SetKey {
        file: Option<PathBuf>,
    },
    /// Verify the JWT in FILE (`None` or `-`: stdin).
    Verify {
        file: Option<PathBuf>,
        ignore_expiry: bool,
    },
    Listen(ListenOptions),
    DevKey(lab::DevKeyOptions),
    Trigger(lab::TriggerOpts),
    Test(lab::TestOpts),
}

impl WebhookOptions {
    pub(crate) fn from_args(args: &WebhookArgs) -> Result<Self> {
        Ok(match &args.command {
            WebhookCommand::SetKey(a) => WebhookOptions {
                public_key: a.public_key.clone(),
                dev_key: false,
                action: Action::SetKey {
                    file: a.file.clone(),
                },
            },
            WebhookCommand::Verify(a) => WebhookOptions {
                public_key: a.public_key.clone(),
                dev_key: a.dev_key,
                action: Action::Verify {
                    file: a.file.clone(),
                    ignore_expiry: a.ignore_expiry,
                },
            },
            WebhookCommand::Listen(a) => WebhookOptions {
                public_key: a.public_key.clone(),
                dev_key: a.dev_key,
                action: Action::Listen(ListenOptions {
                    port: a.port,
                    path: a.path.clone(),
                    forward_to: a
                        .forward_to
                        .as_deref()
                        .map(listen::check_forward_to)
                        .transpose()?,
                    save_instances: a.save_instances,
                    once: a.once,
                    save_deliveries: a.save_deliveries.clone(),
                }),
            },
            WebhookCommand::DevKey(a) => lab_options(Action::DevKey(a.into())),
            WebhookCommand::Trigger(a) => lab_options(Action::Trigger(a.into())),
            WebhookCommand::Test(a) => lab_options(Action::Test(a.into())),
        })
    }
}

fn lab_options(action: Action) -> WebhookOptions {
    WebhookOptions {
        public_key: None,
        dev_key: false,
        action,
    }
}

pub(crate) fn run(opts: &WebhookOptions, ctx: &mut Context, io: &mut Io) -> Result<()> {
    match &opts.action {
        Action::DevKey(o) => lab::dev_key(o, ctx, io),
        Action::Trigger(o) => lab::trigger(o, ctx, io),
        Action::Test(o) => lab::test(o, ctx, io),
        Action::SetKey { file } => set_key(opts, file.as_deref(), ctx, io),
        Action::Verify {
            file,
            ignore_expiry,
        } => {
            let key = key(opts, ctx, io)?;
            let body = read_delivery(file.as_deref(), io)?;
            let event = verify::verify(&body, &key, *ignore_expiry)?;
            io.print_json(&event.to_json(), false)
        }
        Action::Listen(listen_opts) => {
            let kind = ctx.session().kind();
            if listen_opts.save_instances && !kind.has_instances() {
                return Err(Error::usage(format!(
                    "--save-instances adds app instances, and profile {} is {}",
                    ctx.profile,
                    kind.noun()
                ))
                .hint("pass --profile NAME of an app profile"));
            }
            let key = key(opts, ctx, io)?;
            let saver = Saver {
                paths: ctx.paths.clone(),
                store_mode: ctx.env.secret_store,
                keyring_service: ctx.env.keyring_service.clone(),
                api: ctx.env.api_base.clone(),
                profile: ctx.profile.clone(),
            };
            listen::run(listen_opts, key, saver, io)
        }
    }
}

fn key(opts: &WebhookOptions, ctx: &Context, io: &mut Io) -> Result<PublicKey> {
    if opts.dev_key {
        return webhook::dev_key::public_key_of(&ctx.profile, ctx.active_profile());
    }
    webhook::resolve_key(
        &mut *io.stdin,
        opts.public_key.as_deref(),
        ctx.env.webhook_public_key.as_deref(),
        &ctx.profile,
        ctx.active_profile(),
    )
}

fn set_key(
    opts: &WebhookOptions,
    file: Option<&std::path::Path>,
    ctx: &mut Context,
    io: &mut Io,
) -> Result<()> {
    let key =
        match (file, opts.public_key.as_deref()) {
            (Some(_), Some(_)) => {
                return Err(Error::usage(
                    "give the key either as FILE or with --public-key, not both",
                ))
            }
            (Some(path), None) => {
                let text = webhook::read_key_file(path, &mut *io.stdin)?;
                let what = if path == std::path::Path::new("-") {
                    "stdin".to_string()
                } else {
                    path.display().to_string()
                };
                PublicKey::parse(&text, &what)?
            }
            (None, Some(_)) => key(opts, ctx, io)?,
            (None, None) => return Err(Error::usage(
                "no key given: pass the file with the app's webhook public key (or - for stdin)",
            )),
        };
    let profile = ctx.profile.clone();
    ctx.session().lifecycle().set_webhook_key(&key.pem)?;
    ctx.reload_config()?;
    io.note(&format!(
        "Stored the webhook public key in profile {profile} ({}; it is public). `wixauth webhook verify` and `listen` use it.",
        ctx.paths.config_file().display()
    ));
    Ok(())
}

/// The raw body of one delivery, bounded to what `listen` accepts.
fn read_delivery(file: Option<&std::path::Path>, io: &mut Io) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    let limit = MAX_BODY as u64 + 1;
    let (read, name) = match file.filter(|f| *f != std::path::Path::new("-")) {
        Some(path) => (
            std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut body)),
            path.display().to_string(),
        ),
        None => {
            if io.stdin_tty {
                io.note("Paste the JWT (the raw request body), then Ctrl-D.");
            }
            (
                (&mut io.stdin).take(limit).read_to_end(&mut body),
                "stdin".to_string(),
            )
        }
    };
    match read {
        Ok(n) if n > MAX_BODY => Err(Error::usage(format!(
            "{name} is larger than 1 MiB: not a Wix delivery"
        ))),
        Ok(_) => Ok(body),
        Err(e) => Err(Error::usage(format!(
            "cannot read the delivery from {name}: {e}"
        ))),
    }
}
