//! `wixauth token`: a valid access token on stdout, and nothing else.

mod each;

use serde_json::json;

use crate::app::cli::{FleetArgs, TokenArgs};
use crate::app::context::Context;
use crate::core::error::Result;
use crate::core::text::rfc3339;
use crate::credentials::cache::now_unix;
use crate::credentials::Freshness;
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
        Output::Header => format!("Authorization: {}\n", token.access_token.expose()),
        Output::Json => {
            let expires_in = token.ttl(now_unix()).max(0);
            let value = json!({
                "access_token": token.access_token.expose(),
                "token_type": token.token_type,
                "expires_at": rfc3339(token.expires_at),
                "expires_in": expires_in,
                "app_id": token.app_id,
                "instance_id": token.instance_id,
                "flow": token.flow,
            });
            format!("{value}\n")
        }
    };
    io.print(&text)
}
