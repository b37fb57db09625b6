//! `wixauth token`: a valid access token on stdout, and nothing else.

use serde_json::json;

use crate::cache::now_unix;
use crate::cli::TokenArgs;
use crate::config::Flow;
use crate::context::{Context, Io};
use crate::error::Result;
use crate::session::{self, Freshness};

pub struct TokenOptions {
    pub instance: Option<String>,
    pub flow: Option<Flow>,
    pub freshness: Freshness,
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Raw,
    Header,
    Json,
}

impl TokenOptions {
    pub fn from_args(args: &TokenArgs, instance: Option<String>) -> Self {
        TokenOptions {
            instance,
            flow: args.flow,
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
        }
    }
}

pub fn run(opts: &TokenOptions, ctx: &Context, io: &mut Io) -> Result<()> {
    let target = session::resolve(ctx, opts.instance.as_deref(), opts.flow)?;
    let token = session::fresh_token(ctx, &target, opts.freshness)?;
    let text = match opts.output {
        Output::Raw => format!("{}\n", token.access_token.expose()),
        Output::Header => format!("Authorization: {}\n", token.access_token.expose()),
        Output::Json => {
            let expires_in = token.ttl(now_unix()).max(0);
            let expires_at =
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(token.expires_at);
            let value = json!({
                "access_token": token.access_token.expose(),
                "token_type": token.token_type,
                "expires_at": humantime::format_rfc3339_seconds(expires_at).to_string(),
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
