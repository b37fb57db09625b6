//! `wixauth install-url`: the installer URL for the profile, to share or open by hand.

use serde_json::json;

use crate::app::cli::InstallUrlArgs;
use crate::app::context::Context;
use crate::core::error::{Cmd, Error, Fix, Result};
use crate::settings::config::DEFAULT_REDIRECT_URL;
use crate::settings::flow::Kind;
use crate::settings::Flow;
use crate::ui::Io;
use crate::wix::urls;

pub(crate) struct InstallUrlOptions {
    pub flow: Option<Flow>,
    pub json: bool,
}

impl From<&InstallUrlArgs> for InstallUrlOptions {
    fn from(args: &InstallUrlArgs) -> Self {
        InstallUrlOptions {
            flow: args.flow.map(Flow::from),
            json: args.json,
        }
    }
}

pub(crate) fn run(opts: &InstallUrlOptions, ctx: &Context, io: &mut Io) -> Result<()> {
    // As everywhere else: WIX_APP_ID wins, and a profile for another app is not consulted
    // (its redirect URL and flow belong to that other app).
    let kind = ctx.session().kind();
    if !kind.has_instances() {
        let flow = ctx
            .active_profile()
            .and_then(|p| p.flow)
            .unwrap_or(match kind {
                Kind::ApiKey => Flow::ApiKey,
                Kind::App | Kind::Headless => Flow::Visitor,
            });
        flow.allows_app_command("install-url")
            .map_err(|why| Error::usage(format!("profile {:?}: {why}", ctx.profile)))?;
    }
    let (app_id, profile) = ctx.session().app_and_profile();
    let app_id = app_id.ok_or_else(|| {
        Error::usage(format!("no app id for profile {:?}", ctx.profile))
            .fix(Fix::RunOr(Cmd::login(), "set WIX_APP_ID".into()))
    })?;
    let flow = opts
        .flow
        .or(profile.and_then(|p| p.flow))
        .unwrap_or(Flow::Basic);
    let redirect = profile
        .and_then(|p| p.redirect_url.clone())
        .unwrap_or_else(|| DEFAULT_REDIRECT_URL.into());
    let url = urls::installer_url(&ctx.env.installer_base, flow, &app_id, &redirect, None)?;
    if opts.json {
        io.print(&format!(
            "{}\n",
            json!({"url": url.as_str(), "flow": flow, "app_id": app_id})
        ))
    } else {
        io.print(&format!("{url}\n"))
    }
}
