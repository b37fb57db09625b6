//! The emulator's more identities (issue 18): Wix Headless admin tokens (client id + client
//! secret, no instance), API keys with their header pair rules, and refusals in the shape Wix
//! answers them (`{"message", "details": {"applicationError": {"code", "description"}}}`).
//!
//! Routes (what they stand for in Wix's API; the refusal shapes are this emulator's model of
//! Wix, UNCONFIRMED where README.md says so):
//! - `POST /oauth2/token` without `instance_id`: the admin grant;
//! - `GET /site-properties/v4/properties`: a site-level API (an API key needs `wix-site-id`:
//!   428 `MISSING_METASITE_ID` without it; an app token of an uninstalled instance gets 404
//!   `APP_NOT_INSTALLED`);
//! - `POST /site-list/v2/sites/query`: an account-level API (a key needs `wix-account-id`);
//! - `POST /members/v1/members/query`: an admin method (a visitor or member token gets 403);
//! - `POST /stores/v1/products/query`: needs `SCOPE.DC-STORES.READ-PRODUCTS` (403 naming it).

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use super::{exact_json, field, issue_token, json_reply, now, Emulator, Reply, Seen, State};

/// The permission the products route needs.
pub const PRODUCTS_SCOPE: &str = "SCOPE.DC-STORES.READ-PRODUCTS";

#[derive(Default)]
pub(super) struct Ids {
    /// Headless client id → its client secret.
    client_secrets: HashMap<String, String>,
    /// API key → what it may do.
    keys: HashMap<String, Key>,
    /// Admin grants answer with this `expires_in` (`None`: the field is left out).
    admin_expires_in: Option<Option<u64>>,
    /// Apps whose tokens lack [`PRODUCTS_SCOPE`].
    without_products_scope: HashSet<String>,
}

#[derive(Clone)]
struct Key {
    account: String,
    sites: Vec<String>,
    permissions: Vec<String>,
    revoked: bool,
}

impl Emulator {
    /// Gives a registered Wix Headless client a client secret (Headless Settings → Generate
    /// Client Secret).
    pub fn register_client_secret(&self, client_id: &str, secret: &str) {
        self.lock()
            .ids
            .client_secrets
            .insert(client_id.into(), secret.into());
    }

    /// An API key of `account` for `sites`, with `permissions`.
    pub fn register_api_key(&self, key: &str, account: &str, sites: &[&str], permissions: &[&str]) {
        self.lock().ids.keys.insert(
            key.into(),
            Key {
                account: account.into(),
                sites: sites.iter().map(|s| s.to_string()).collect(),
                permissions: permissions.iter().map(|p| p.to_string()).collect(),
                revoked: false,
            },
        );
    }

    /// The Headless client secrets and API keys the emulator knows (none may be printed).
    pub fn identity_secrets(&self) -> Vec<String> {
        let s = self.lock();
        s.ids
            .client_secrets
            .values()
            .chain(s.ids.keys.keys())
            .cloned()
            .collect()
    }

    /// Revokes an API key, as the API Keys Manager does.
    pub fn revoke_api_key(&self, key: &str) {
        if let Some(k) = self.lock().ids.keys.get_mut(key) {
            k.revoked = true;
        }
    }

    /// Admin grants answer with this `expires_in`, or without one (`None`).
    pub fn set_admin_expires_in(&self, seconds: Option<u64>) {
        self.lock().ids.admin_expires_in = Some(seconds);
    }

    /// The app's tokens lack [`PRODUCTS_SCOPE`] (the app never requested it).
    pub fn withhold_products_scope(&self, app_id: &str) {
        self.lock().ids.without_products_scope.insert(app_id.into());
    }
}

/// A refusal as Wix shapes it.
pub(super) fn refusal(status: u16, code: &str, message: &str) -> Reply {
    json_reply(
        status,
        json!({"message": message, "details": {"applicationError": {"code": code, "description": message, "data": {}}}}),
    )
}

/// A client-credentials request without `instance_id`: the admin grant.
pub(super) fn is_admin_grant(seen: &Seen) -> bool {
    serde_json::from_str::<Value>(&seen.body)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .is_some_and(|o| o.contains_key("grant_type") && !o.contains_key("instance_id"))
}

/// `{"grant_type":"client_credentials","client_id","client_secret"}` for a Headless client with
/// that secret → an admin access token. An app's id without an instance is refused (this
/// emulator's reading; Wix's is UNCONFIRMED).
pub(super) fn admin_grant(s: &mut State, seen: &Seen) -> Result<Reply, Reply> {
    let map = exact_json(seen, &["grant_type", "client_id", "client_secret"])?;
    if field(&map, "grant_type") != "client_credentials" {
        return Err(refusal(400, "INVALID_ARGUMENT", "unsupported grant_type"));
    }
    let client = field(&map, "client_id").to_string();
    if s.apps.contains_key(&client) {
        return Err(refusal(
            400,
            "INVALID_ARGUMENT",
            "instance_id is required for an app's client credentials",
        ));
    }
    match s.ids.client_secrets.get(&client) {
        Some(secret) if secret == field(&map, "client_secret") => {}
        _ => {
            return Err(refusal(
                401,
                "UNAUTHENTICATED",
                "invalid client credentials",
            ))
        }
    }
    let lifetime = s.ids.admin_expires_in.unwrap_or(Some(3600));
    let access = issue_token(
        s,
        "OauthNG.JWS.ad",
        &client,
        &format!("site-of-{client}"),
        lifetime.unwrap_or(3600),
    );
    s.headless
        .tokens
        .insert(access.clone(), (client.clone(), "APP".into(), client));
    Ok(json_reply(
        200,
        match lifetime {
            Some(secs) => {
                json!({"access_token": access, "token_type": "Bearer", "expires_in": secs})
            }
            None => json!({"access_token": access, "token_type": "Bearer"}),
        },
    ))
}

/// Who called: an API key (with the request's site and account headers), or an OAuth token
/// (its app or client, instance, and subject type).
enum Caller {
    Key(Key),
    Token {
        app: String,
        instance: String,
        subject: String,
    },
}

fn caller(s: &State, seen: &Seen) -> Result<Caller, Reply> {
    let raw = seen.header("authorization").unwrap_or("").trim();
    if let Some(key) = s.ids.keys.get(raw) {
        if key.revoked {
            return Err(refusal(401, "UNAUTHENTICATED", "the API key was revoked"));
        }
        return Ok(Caller::Key(key.clone()));
    }
    let token = raw.strip_prefix("Bearer ").unwrap_or(raw);
    match s.tokens.get(token) {
        Some(t) if t.exp > now(s) => {
            let subject = match s.headless.tokens.get(token) {
                Some((_, kind, _)) => kind.clone(),
                None => "APP".into(),
            };
            Ok(Caller::Token {
                app: t.app_id.clone(),
                instance: t.instance_id.clone(),
                subject,
            })
        }
        Some(_) => Err(refusal(401, "UNAUTHENTICATED", "token expired")),
        None => Err(refusal(401, "UNAUTHENTICATED", "not authenticated")),
    }
}

/// The routes of this module, `None` for any other path.
pub(super) fn route(s: &mut State, path: &str, seen: &Seen) -> Option<Result<Reply, Reply>> {
    let answer = match path {
        "/site-properties/v4/properties" => site_level(s, seen),
        "/site-list/v2/sites/query" => account_level(s, seen),
        "/members/v1/members/query" => admin_method(s, seen),
        "/stores/v1/products/query" => products(s, seen),
        _ => return None,
    };
    Some(answer)
}

fn site_level(s: &State, seen: &Seen) -> Result<Reply, Reply> {
    let site = match caller(s, seen)? {
        Caller::Key(key) => {
            let Some(site) = seen.header("wix-site-id") else {
                return Err(refusal(
                    428,
                    "MISSING_METASITE_ID",
                    "Missing the metasite id: send the wix-site-id header",
                ));
            };
            if !key.sites.iter().any(|s| s == site) {
                return Err(refusal(
                    403,
                    "PERMISSION_DENIED",
                    "the API key has no access to this site",
                ));
            }
            site.to_string()
        }
        Caller::Token { app, instance, .. } => {
            if s.apps.contains_key(&app) && !s.installed.contains(&(app.clone(), instance.clone()))
            {
                return Err(refusal(
                    404,
                    "APP_NOT_INSTALLED",
                    "App is not installed on this site",
                ));
            }
            instance
        }
    };
    Ok(json_reply(
        200,
        json!({"properties": {"siteDisplayName": "Emulated Site", "metaSiteId": site}}),
    ))
}

fn account_level(s: &State, seen: &Seen) -> Result<Reply, Reply> {
    let Caller::Key(key) = caller(s, seen)? else {
        return Err(refusal(
            403,
            "PERMISSION_DENIED",
            "an account-level API needs an account identity",
        ));
    };
    match seen.header("wix-account-id") {
        Some(account) if account == key.account => Ok(json_reply(
            200,
            json!({"sites": key.sites.iter().map(|id| json!({"id": id})).collect::<Vec<_>>()}),
        )),
        Some(_) => Err(refusal(
            403,
            "PERMISSION_DENIED",
            "the API key belongs to another account",
        )),
        None => Err(refusal(
            403,
            "PERMISSION_DENIED",
            "account-level APIs need the wix-account-id header",
        )),
    }
}

fn admin_method(s: &State, seen: &Seen) -> Result<Reply, Reply> {
    match caller(s, seen)? {
        Caller::Token { subject, .. } if subject == "VISITOR" || subject == "MEMBER" => {
            Err(refusal(
                403,
                "PERMISSION_DENIED",
                "Forbidden: this identity may not call this method",
            ))
        }
        _ => Ok(json_reply(
            200,
            json!({"members": [], "metadata": {"count": 0}}),
        )),
    }
}

fn products(s: &State, seen: &Seen) -> Result<Reply, Reply> {
    let allowed = match caller(s, seen)? {
        Caller::Key(key) => key.permissions.iter().any(|p| p == PRODUCTS_SCOPE),
        Caller::Token { app, .. } => !s.ids.without_products_scope.contains(&app),
    };
    match allowed {
        true => Ok(json_reply(200, json!({"products": []}))),
        false => Err(refusal(
            403,
            "PERMISSION_DENIED",
            &format!("Missing permission {PRODUCTS_SCOPE}"),
        )),
    }
}
