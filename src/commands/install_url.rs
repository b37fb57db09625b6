//! `wixauth install-url`: the installer URL for the profile, to share or open by hand.

use serde_json::json;

use crate::config::{Flow, DEFAULT_REDIRECT_URL};
use crate::context::{Context, Io};
use crate::error::{Error, Result};

pub struct InstallUrlOptions {
    pub flow: Option<Flow>,
    pub json: bool,
}

pub fn run(opts: &InstallUrlOptions, ctx: &Context, io: &mut Io) -> Result<()> {
    let env_app = std::env::var("WIX_APP_ID")
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    // As everywhere else: a profile for another app than WIX_APP_ID names is not consulted
    // (its redirect URL and flow belong to that other app).
    let profile = ctx
        .active_profile()
        .filter(|p| env_app.is_none() || p.app_id == env_app);
    let app_id = env_app
        .or_else(|| profile.and_then(|p| p.app_id.clone()))
        .ok_or_else(|| {
            Error::usage(format!(
                "no app id for profile {:?}: run `wixauth login` or set WIX_APP_ID",
                ctx.profile
            ))
        })?;
    let flow = opts
        .flow
        .or(profile.and_then(|p| p.flow))
        .unwrap_or(Flow::Basic);
    let mut url = ctx.installer_base()?;
    let base_path = url.path().trim_end_matches('/').to_string();
    url.set_query(None);
    match flow {
        Flow::Advanced => {
            let redirect = profile
                .and_then(|p| p.redirect_url.clone())
                .unwrap_or_else(|| DEFAULT_REDIRECT_URL.into());
            url.set_path(&format!("{base_path}/installer/install"));
            url.query_pairs_mut()
                .append_pair("appId", &app_id)
                .append_pair("redirectUrl", &redirect);
        }
        Flow::Basic => {
            url.set_path(&format!("{base_path}/app-installer"));
            url.query_pairs_mut().append_pair("appId", &app_id);
        }
    }
    if opts.json {
        io.print(&format!(
            "{}\n",
            json!({"url": url.as_str(), "flow": flow, "app_id": app_id})
        ))
    } else {
        io.print(&format!("{url}\n"))
    }
}
