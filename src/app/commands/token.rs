//! `wixauth token`: a valid access token on stdout, and nothing else.

mod each;

use serde_json::json;

use crate::app::cli::{FleetArgs, TokenArgs};
use crate::app::context::Context;
use crate::core::error::Result;
use crate::core::text::rfc3339;
use crate::credentials::cache::{now_unix, CachedToken};
use crate::credentials::{Freshness, Target};
use crate::settings::flow::Extras;
use crate::settings::Flow;
use crate::ui::Io;

pub(crate) struct TokenOptions {
    pub flow: Option<Flow>,
    pub freshness: Freshness,
    pub output: Output,
    /// `--each-instance` and the flags that go with it.
    pub fleet: FleetArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    Raw,
    Header,
    Json,
}

impl From<&TokenArgs> for TokenOptions {
    fn from(args: &TokenArgs) -> Self {
        TokenOptions {
            flow: args.flow.map(Flow::from),
            freshness: Freshness {
                min_ttl: args.min_ttl,
                force: args.no_cache,
            },
            output: if args.json {
                Output::Json
            } else if args.header {
                Output::Header
            } else {
                Output::Raw
            },
            fleet: args.fleet.clone(),
        }
    }
}

pub(crate) fn run(opts: &TokenOptions, ctx: &Context, io: &mut Io) -> Result<()> {
    if let Some(fleet) = crate::app::fleet::FleetOptions::parse(&opts.fleet)? {
        let (json, header) = (opts.output == Output::Json, opts.output == Output::Header);
        return each::run(&fleet, opts.flow, opts.freshness, (json, header), ctx, io);
    }
    let session = ctx.session();
    let target = session.resolve(ctx.instance.as_deref(), opts.flow)?;
    let token = session.fresh_token(&target, opts.freshness)?;
    let text = match opts.output {
        Output::Raw => format!("{}\n", token.access_token.expose()),
        // One line per header (`curl -H @-` reads several): an API key's site and account too.
        Output::Header => {
            let mut text = format!("Authorization: {}\n", token.access_token.expose());
            for (name, value) in target.headers() {
                text.push_str(&format!("{name}: {value}\n"));
            }
            text
        }
        Output::Json => format!("{}\n", as_json(&token, &target)),
    };
    io.print(&text)
}

/// `token --json`: the token and what it is for; a key has no expiry (null), an admin
/// client's id is also `client_id`, a key's site and account are `site_id`/`account_id`.
fn as_json(token: &CachedToken, target: &Target) -> serde_json::Value {
    let expires = token.flow.expires();
    let mut value = json!({
        "access_token": token.access_token.expose(),
        "token_type": token.token_type,
        "expires_at": expires.then(|| rfc3339(token.expires_at)).flatten(),
        "expires_in": expires.then(|| token.ttl(now_unix()).max(0)),
        "app_id": token.app_id,
        "instance_id": token.instance_id,
        "flow": token.flow,
    });
    match target.flow.json_extras() {
        Extras::None => {}
        Extras::ClientId => value["client_id"] = json!(target.app_id),
        Extras::SiteAndAccount => {
            value["app_id"] = serde_json::Value::Null;
            value["site_id"] = json!(target.site_id);
            value["account_id"] = json!(target.account_id);
        }
    }
    value
}
