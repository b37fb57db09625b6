//! `wixauth webhook set-key|verify|listen` (issue 10): Wix's RS256-signed deliveries, decoded
//! through their three JSON layers, and the loopback receiver.
//!
//! Keys are generated here; deliveries are shaped like Wix's: claims `data` is a JSON string of
//! `{eventType, instanceId, data, identity}` whose `data` and `identity` are JSON strings again.

use crate::support::loopback::{self, Running};
use crate::support::*;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{json, Value};

pub(crate) const SITE: &str = "3bbcabc7-8a9e-4b8e-9c1f-0123456789ab";

struct Keys {
    right: rsa::PrivateKey,
    wrong: rsa::PrivateKey,
}

/// Two 2048-bit RSA keys, generated once per test binary.
fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let new = || rsa::PrivateKey::new(&mut getrandom_04::SysRng, 2048).expect("RSA key");
        Keys {
            right: new(),
            wrong: new(),
        }
    })
}

fn public_pem(key: &rsa::PrivateKey) -> String {
    rsa::PublicKey::from(key)
        .to_public_key_pem(LineEnding::LF)
        .expect("public PEM")
}

/// The app's public key (the one Wix signs with).
pub(crate) fn app_pem() -> String {
    public_pem(&keys().right)
}

fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Claims as Wix sends them: `data` a JSON string whose `data` and `identity` are strings again.
pub(crate) fn claims(event_type: &str, instance: &str, data: Value, exp_in: i64) -> Value {
    let envelope = json!({
        "eventType": event_type,
        "instanceId": instance,
        "data": data.to_string(),
        "identity": json!({"identityType": "APP", "appId": APP_ID}).to_string(),
    });
    let now = now_unix() as i64;
    json!({"data": envelope.to_string(), "iat": now - 5, "exp": now + exp_in})
}

pub(crate) fn installed(instance: &str) -> Value {
    claims(
        "AppInstalled",
        instance,
        json!({"appId": APP_ID, "originInstanceId": "07864c16-0000-4000-8000-000000000000"}),
        300,
    )
}

fn removed(instance: &str) -> Value {
    claims("AppRemoved", instance, json!({"appId": APP_ID}), 300)
}

fn sign_with(key: &rsa::PrivateKey, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some("qG1kD2dz".into());
    let der = key.to_pkcs1_der().expect("private DER");
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_rsa_der(der.as_bytes())).expect("sign")
}

/// A delivery signed with the app's key.
pub(crate) fn sign(claims: &Value) -> String {
    sign_with(&keys().right, claims)
}

/// A private config dir with the app's key in a file; returns the `@FILE` argument.
fn key_file(env: &TestEnv, pem: &str) -> String {
    let path = env.config_dir().join("webhook-key.pem");
    std::fs::write(&path, pem).unwrap();
    format!("@{}", path.display())
}

/// `wixauth webhook ARGS` with the JWT on stdin, WIX_WEBHOOK_PUBLIC_KEY unset.
fn webhook(env: &TestEnv, args: &[&str], stdin: &str) -> std::process::Output {
    env.run(
        env.cmd()
            .env_remove("WIX_WEBHOOK_PUBLIC_KEY")
            .arg("webhook")
            .args(args)
            .write_stdin(stdin.to_string()),
    )
}

fn verify_ok(env: &TestEnv, jwt: &str) -> Value {
    let key = key_file(env, &app_pem());
    let out = webhook(env, &["verify", "--public-key", &key], jwt);
    assert!(out.status.success(), "verify failed: {}", stderr(&out));
    assert_eq!(
        stdout(&out).lines().count(),
        1,
        "one JSON line: {}",
        stdout(&out)
    );
    json_out(&out)
}

fn verify_fails(env: &TestEnv, jwt: &str, code: i32, extra: &[&str]) -> String {
    let key = key_file(env, &app_pem());
    let mut args = vec!["verify", "--public-key", &key];
    args.extend_from_slice(extra);
    assert_fails(&webhook(env, &args, jwt), code)
}

// ---------------------------------------------------------------- verify

#[test]
fn verify_decodes_the_three_layers_of_app_installed() {
    let env = TestEnv::new();
    let event = verify_ok(&env, &format!("{}\n", sign(&installed(SITE))));
    assert_eq!(event["event_type"], "AppInstalled");
    assert_eq!(event["instance_id"], SITE);
    assert_eq!(event["data"]["appId"], APP_ID);
    assert_eq!(
        event["data"]["originInstanceId"],
        "07864c16-0000-4000-8000-000000000000"
    );
    assert_eq!(event["identity"]["identityType"], "APP");
    assert_eq!(event["account_info"], Value::Null);
    for key in ["issued_at", "expires_at"] {
        let text = event[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key}: {event}"));
        assert!(humantime::parse_rfc3339(text).is_ok(), "{key}: {text}");
    }
}

#[test]
fn verify_reads_a_file_and_decodes_app_removed_with_account_info() {
    let env = TestEnv::new();
    let mut c = removed(SITE);
    let mut envelope: Value = serde_json::from_str(c["data"].as_str().unwrap()).unwrap();
    envelope["accountInfo"] = json!({"accountId": "acc-1", "siteId": "site-1"})
        .to_string()
        .into();
    c["data"] = envelope.to_string().into();
    let file = env.config_dir().join("delivery.jwt");
    std::fs::write(&file, sign(&c)).unwrap();
    let key = key_file(&env, &app_pem());
    let out = webhook(
        &env,
        &["verify", "--public-key", &key, file.to_str().unwrap()],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let event = json_out(&out);
    assert_eq!(event["event_type"], "AppRemoved");
    assert_eq!(event["data"], json!({"appId": APP_ID}));
    assert_eq!(event["account_info"]["siteId"], "site-1");
}

#[test]
fn a_tampered_payload_fails_the_signature() {
    let env = TestEnv::new();
    let jwt = sign(&installed(SITE));
    let parts: Vec<&str> = jwt.split('.').collect();
    let other = b64url(
        installed("deadbeef-0000-4000-8000-000000000000")
            .to_string()
            .as_bytes(),
    );
    let tampered = format!("{}.{other}.{}", parts[0], parts[2]);
    let line = verify_fails(&env, &tampered, 1, &[]);
    assert!(line.contains("signature does not match"), "{line}");
    // One flipped character in the signature too.
    let mut sig = parts[2].to_string();
    let flipped = if &sig[10..11] == "A" { "B" } else { "A" };
    sig.replace_range(10..11, flipped);
    let line = verify_fails(&env, &format!("{}.{}.{sig}", parts[0], parts[1]), 1, &[]);
    assert!(line.contains("signature does not match"), "{line}");
}

#[test]
fn another_apps_key_fails_the_signature() {
    let env = TestEnv::new();
    let jwt = sign_with(&keys().wrong, &installed(SITE));
    let line = verify_fails(&env, &jwt, 1, &[]);
    assert!(line.contains("signature does not match"), "{line}");
}

#[test]
fn an_expired_event_fails_unless_expiry_is_ignored() {
    let env = TestEnv::new();
    let old = sign(&claims(
        "AppInstalled",
        SITE,
        json!({"appId": APP_ID}),
        -3600,
    ));
    let line = verify_fails(&env, &old, 1, &[]);
    assert!(
        line.contains("expired") && line.contains("--ignore-expiry"),
        "{line}"
    );
    let key = key_file(&env, &app_pem());
    let out = webhook(
        &env,
        &["verify", "--ignore-expiry", "--public-key", &key],
        &old,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_out(&out)["instance_id"], SITE);
}

#[test]
fn alg_none_is_refused() {
    let env = TestEnv::new();
    let header = b64url(br#"{"alg":"none","typ":"JWT"}"#);
    let body = b64url(installed(SITE).to_string().as_bytes());
    for jwt in [format!("{header}.{body}."), format!("{header}.{body}.c2ln")] {
        let line = verify_fails(&env, &jwt, 1, &[]);
        assert!(
            line.contains("alg is none") && line.contains("RS256"),
            "{line}"
        );
    }
}

#[test]
fn hs256_signed_with_the_public_key_is_refused() {
    // The classic confusion attack: an HMAC keyed with the (public) RSA key.
    let env = TestEnv::new();
    let pem = app_pem();
    for secret in [
        pem.as_bytes().to_vec(),
        rsa::PublicKey::from(&keys().right)
            .to_pkcs1_der()
            .unwrap()
            .as_bytes()
            .to_vec(),
    ] {
        let jwt = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &installed(SITE),
            &EncodingKey::from_secret(&secret).unwrap(),
        )
        .unwrap();
        let line = verify_fails(&env, &jwt, 1, &[]);
        assert!(line.contains("alg is HS256"), "{line}");
    }
}

#[test]
fn a_truncated_jwt_is_refused() {
    let env = TestEnv::new();
    let jwt = sign(&installed(SITE));
    // Cut inside the payload: no longer three parts.
    let line = verify_fails(&env, &jwt[..jwt.len() / 2], 2, &[]);
    assert!(line.contains("not a JWT"), "{line}");
    // The signature cut short (still valid base64url): it no longer matches.
    let line = verify_fails(&env, &jwt[..jwt.len() - 4], 1, &[]);
    assert!(line.contains("signature does not match"), "{line}");
    // Nothing at all, and plain JSON (a parsed body instead of the raw one).
    assert_fails(
        &webhook(
            &env,
            &["verify", "--public-key", &key_file(&env, &app_pem())],
            "",
        ),
        2,
    );
    let line = verify_fails(&env, &installed(SITE).to_string(), 2, &[]);
    assert!(line.contains("raw request body"), "{line}");
}

#[test]
fn claims_data_as_an_object_is_refused() {
    let env = TestEnv::new();
    let c = json!({
        "data": {"eventType": "AppInstalled", "instanceId": SITE, "data": "{}", "identity": "{}"},
        "iat": now_unix(),
        "exp": now_unix() + 300,
    });
    let line = verify_fails(&env, &sign(&c), 1, &[]);
    assert!(line.contains("data is an object"), "{line}");
    // Inner layers that are not JSON.
    let c = json!({"data": json!({"eventType": "AppInstalled", "instanceId": SITE, "data": "{not json"}).to_string(), "exp": now_unix() + 300});
    let line = verify_fails(&env, &sign(&c), 1, &[]);
    assert!(line.contains("not JSON"), "{line}");
}

#[test]
fn no_key_anywhere_says_where_to_find_it() {
    let env = TestEnv::new();
    let out = webhook(&env, &["verify"], &sign(&installed(SITE)));
    let line = assert_fails(&out, 2);
    assert!(
        line.contains("app dashboard") && line.contains("set-key"),
        "{line}"
    );
}

// ---------------------------------------------------------------- keys

#[test]
fn keys_as_pem_base64_of_pem_and_base64_of_der_all_verify() {
    let env = TestEnv::new();
    let jwt = sign(&installed(SITE));
    let pem = app_pem();
    let der_b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let pkcs1 = rsa::PublicKey::from(&keys().right)
        .to_pkcs1_pem(LineEnding::CRLF)
        .unwrap();
    for (what, value) in [
        ("PEM", pem.clone()),
        ("base64 of the PEM", STANDARD.encode(&pem)),
        ("the PEM's base64 body", der_b64),
        ("PKCS#1 PEM with CRLF", pkcs1),
    ] {
        let out = webhook(&env, &["verify", "--public-key", &value], &jwt);
        assert!(out.status.success(), "{what}: {}", stderr(&out));
        let out = env.run(
            env.cmd()
                .env("WIX_WEBHOOK_PUBLIC_KEY", &value)
                .args(["webhook", "verify"])
                .write_stdin(jwt.clone()),
        );
        assert!(
            out.status.success(),
            "{what} in the environment: {}",
            stderr(&out)
        );
    }
}

#[test]
fn set_key_stores_the_key_in_the_profile_and_sources_are_ranked() {
    let env = TestEnv::new();
    let jwt = sign(&installed(SITE));
    // From stdin, as base64 of the PEM.
    let out = webhook(&env, &["set-key", "-"], &STANDARD.encode(app_pem()));
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
    let config = read(&env.config_file());
    assert!(
        config.contains("webhook_public_key") && config.contains("BEGIN PUBLIC KEY"),
        "{config}"
    );
    let out = webhook(&env, &["verify"], &jwt);
    assert!(out.status.success(), "the stored key: {}", stderr(&out));

    // The environment wins over the profile, and --public-key over both.
    let wrong = public_pem(&keys().wrong);
    let out = env.run(
        env.cmd()
            .env("WIX_WEBHOOK_PUBLIC_KEY", &wrong)
            .args(["webhook", "verify"])
            .write_stdin(jwt.clone()),
    );
    assert_fails(&out, 1);
    let out = env.run(
        env.cmd()
            .env("WIX_WEBHOOK_PUBLIC_KEY", &wrong)
            .args(["webhook", "verify", "--public-key", &app_pem()])
            .write_stdin(jwt.clone()),
    );
    assert!(out.status.success(), "{}", stderr(&out));

    // Profiles keep their own keys.
    let out = env.run(
        env.cmd()
            .args(["--profile", "other", "webhook", "verify"])
            .env_remove("WIX_WEBHOOK_PUBLIC_KEY")
            .write_stdin(jwt),
    );
    assert_fails(&out, 2);
}

/// The base64 lines of a PEM, none of which may ever be printed.
fn body_lines(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 16)
        .map(str::to_string)
        .collect()
}

#[test]
fn a_private_key_is_refused_and_never_echoed() {
    let env = TestEnv::new();
    let private = keys()
        .right
        .to_pkcs8_pem(LineEnding::LF)
        .unwrap()
        .to_string();
    let pkcs1 = keys()
        .right
        .to_pkcs1_pem(LineEnding::LF)
        .unwrap()
        .to_string();
    let mut secrets = body_lines(&private);
    secrets.extend(body_lines(&pkcs1));
    let file = env.config_dir().join("private.pem");
    for pem in [&private, &pkcs1] {
        std::fs::write(&file, pem).unwrap();
        let attempts = [
            webhook(&env, &["set-key", file.to_str().unwrap()], ""),
            webhook(&env, &["set-key", "-"], &STANDARD.encode(pem)),
            webhook(&env, &["set-key", "--public-key", pem], ""),
            // Key text where the file name belongs.
            webhook(&env, &["set-key", pem], ""),
            webhook(
                &env,
                &["verify", "--public-key", &format!("@{}", file.display())],
                "x.y.z",
            ),
        ];
        for out in attempts {
            let line = assert_fails(&out, 2);
            assert!(
                line.contains("private key") && line.contains("not shown"),
                "{line}"
            );
            let printed = format!("{}{}", stdout(&out), stderr(&out));
            for secret in &secrets {
                assert!(
                    !printed.contains(secret.as_str()),
                    "key material printed: {printed}"
                );
            }
        }
    }
    let config = std::fs::read_to_string(env.config_file()).unwrap_or_default();
    assert!(!config.contains("BEGIN"), "nothing stored: {config}");
}

#[test]
fn a_certificate_or_other_pem_is_refused() {
    let env = TestEnv::new();
    let der_b64: String = app_pem()
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let cert = format!("-----BEGIN CERTIFICATE-----\n{der_b64}\n-----END CERTIFICATE-----\n");
    let line = assert_fails(&webhook(&env, &["set-key", "-"], &cert), 2);
    assert!(line.contains("certificate"), "{line}");
    let two = format!("{}{}", app_pem(), public_pem(&keys().wrong));
    let line = assert_fails(&webhook(&env, &["set-key", "-"], &two), 2);
    assert!(line.contains("exactly one"), "{line}");
    let line = assert_fails(&webhook(&env, &["set-key", "-"], "hello"), 2);
    assert!(line.contains("app dashboard"), "{line}");
    let line = assert_fails(&webhook(&env, &["set-key"], ""), 2);
    assert!(line.contains("no key given"), "{line}");
}

// ---------------------------------------------------------------- listen

/// A running `wixauth webhook listen` on a free port, ready when this returns.
pub(crate) struct Listener {
    pub(crate) run: Running,
    pub(crate) port: u16,
}

impl Listener {
    pub(crate) fn start(env: &TestEnv, extra: &[&str]) -> Listener {
        Self::start_with(env, extra, &[])
    }

    pub(crate) fn start_with(env: &TestEnv, extra: &[&str], vars: &[(&str, &str)]) -> Listener {
        Self::start_on(env, free_port(), extra, vars, std::process::Stdio::piped())
    }

    /// On `port`, with stdout going to `stdout` (read by the test only when piped).
    pub(crate) fn start_on(
        env: &TestEnv,
        port: u16,
        extra: &[&str],
        vars: &[(&str, &str)],
        stdout: std::process::Stdio,
    ) -> Listener {
        let mut cmd = env.std_cmd();
        cmd.env_remove("WIX_WEBHOOK_PUBLIC_KEY")
            .env("WIX_WEBHOOK_PUBLIC_KEY", app_pem())
            .args(["webhook", "listen", "--port", &port.to_string()])
            .args(extra);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let mut run = Running::spawn_with_stdout(cmd, None, stdout);
        run.wait_line("the listening line", |l| l.starts_with("Listening on"));
        Listener { run, port }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn post(&self, jwt: &str) -> loopback::Response {
        post(&self.url("/webhook"), jwt)
    }

    /// Ctrl-C, then the output; asserts exit 130 and a free port.
    pub(crate) fn interrupt(mut self) -> std::process::Output {
        self.run.signal("INT");
        let out = self.run.wait();
        assert_eq!(out.status.code(), Some(130), "stderr: {}", stderr(&out));
        // Ctrl-C is how a receiver stops: said as a stop, not an error.
        assert!(!stderr(&out).contains("error:"), "stderr: {}", stderr(&out));
        loopback::assert_port_free(self.port);
        out
    }
}

pub(crate) fn post(url: &str, jwt: &str) -> loopback::Response {
    loopback::try_request(
        "POST",
        url,
        &[("Content-Type", "text/plain")],
        jwt.as_bytes(),
    )
    .unwrap_or_else(|e| panic!("POST {url}: {e}"))
}

fn profile(env: &TestEnv) -> toml::Table {
    std::fs::read_to_string(env.config_file())
        .unwrap_or_default()
        .parse::<toml::Table>()
        .map(|t| {
            t.get("profiles")
                .and_then(|p| p.get("default"))
                .and_then(|p| p.as_table())
                .cloned()
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

pub(crate) fn instances(env: &TestEnv) -> Vec<String> {
    profile(env)
        .get("instances")
        .and_then(|i| i.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

pub(crate) fn uuid(n: usize) -> String {
    format!("{n:08x}-aaaa-4bbb-8ccc-0123456789ab")
}

#[test]
fn listen_answers_prints_and_saves_an_install_once_even_when_delivered_twice() {
    let env = TestEnv::new();
    let mut l = Listener::start(&env, &["--save-instances"]);
    let jwt = sign(&installed(SITE));
    let response = l.post(&jwt);
    assert_eq!(response.status, 200, "{}", response.text());
    l.run.wait_line("the summary", |s| {
        // A time stamp, the event, and which delivery it was.
        s.starts_with("20")
            && s.contains(&format!(
                " AppInstalled instance {SITE} (app {APP_ID}), delivery "
            ))
            && s.contains("saved in profile default as its default instance")
    });
    let p = profile(&env);
    assert_eq!(p["app_id"].as_str(), Some(APP_ID));
    assert_eq!(p["default_instance"].as_str(), Some(SITE));
    assert_eq!(p["instances"][SITE]["flow"].as_str(), Some("basic"));
    let before = read(&env.config_file());

    // Wix may deliver twice: the second changes nothing.
    assert_eq!(l.post(&jwt).status, 200);
    l.run.wait_line("the duplicate's summary", |s| {
        s.contains("already saved in profile default")
    });
    assert_eq!(read(&env.config_file()), before);

    let out = l.interrupt();
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 2, "{}", stdout(&out));
    assert_eq!(lines[0]["event_type"], "AppInstalled");
    assert_eq!(lines[0]["instance_id"], SITE);
    assert_eq!(lines[0]["data"]["appId"], APP_ID);
}

#[test]
fn app_removed_forgets_the_instance_and_its_cached_token() {
    let env = TestEnv::new();
    env.emu.install(APP_ID, SITE);
    let out = env.login_with(&["--app-id", APP_ID, "--instance-id", SITE], &env.secret);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.cache_files().len(), 1, "login caches its token");
    let mut l = Listener::start(&env, &["--save-instances"]);
    assert_eq!(l.post(&sign(&removed(SITE))).status, 200);
    l.run.wait_line("the summary", |s| {
        s.contains("forgotten by profile default")
    });
    assert!(instances(&env).is_empty(), "{:?}", instances(&env));
    assert!(profile(&env).get("default_instance").is_none());
    assert!(env.cache_files().is_empty(), "{:?}", env.cache_files());
    // Again: nothing left to forget, still 200.
    assert_eq!(l.post(&sign(&removed(SITE))).status, 200);
    l.run
        .wait_line("the duplicate", |s| s.contains("did not have it"));
    l.interrupt();
}

/// Issue 15, bug 2: the receiver forgets an instance through the profile lifecycle, so an
/// advanced instance's refresh token goes with it (the receiver's own copy skipped it).
#[test]
fn app_removed_forgets_an_advanced_instances_refresh_token() {
    let env = TestEnv::new();
    env.login_advanced_via_browser(SITE);
    let refresh = env.stored_refresh_token(SITE).expect("the login stored it");
    env.add_secret(&refresh);
    let mut l = Listener::start(&env, &["--save-instances"]);
    assert_eq!(l.post(&sign(&removed(SITE))).status, 200);
    l.run.wait_line("the summary", |s| {
        s.contains("forgotten by profile default")
    });
    assert_eq!(env.stored_refresh_token(SITE), None);
    assert!(!read(&env.secrets_file()).contains(&refresh));
    // It was the default: the profile is left with none, and says so.
    assert!(profile(&env).get("default_instance").is_none());
    let out = l.interrupt();
    assert!(stderr(&out).contains("has none now"), "{}", stderr(&out));
}

/// A signed delivery without `exp` is refused: Wix's always carry one, and without it a
/// captured delivery would verify forever.
#[test]
fn a_signed_event_without_exp_is_refused() {
    let env = TestEnv::new();
    let mut no_exp = installed(SITE);
    no_exp.as_object_mut().unwrap().remove("exp");
    let line = verify_fails(&env, &sign(&no_exp), 1, &[]);
    assert!(line.contains("exp"), "{line}");
}

/// `--save-instances` never saves another app's install into the profile.
#[test]
fn another_apps_install_is_not_saved() {
    let env = TestEnv::new();
    env.login_basic();
    let before = instances(&env);
    let mut l = Listener::start(&env, &["--save-instances"]);
    let other = claims(
        "AppInstalled",
        SITE,
        json!({"appId": "app-99999999", "originInstanceId": SITE}),
        300,
    );
    assert_eq!(l.post(&sign(&other)).status, 200);
    l.run.wait_line("the summary", |s| {
        s.contains("not saved") && s.contains("app-99999999")
    });
    assert_eq!(instances(&env), before);
    l.interrupt();
}

/// `--forward-to` relays to the developer's own server and never follows its redirect
/// (which could point anywhere).
#[test]
fn forward_to_never_follows_a_redirect() {
    use std::io::{Read, Write};
    let env = TestEnv::new();
    let target = forward_target(false);
    let redirecting = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let from = format!(
        "http://127.0.0.1:{}/hooks",
        redirecting.local_addr().unwrap().port()
    );
    let to = target.url.clone();
    std::thread::spawn(move || {
        for mut stream in redirecting.incoming().flatten() {
            let mut buf = [0u8; 65536];
            let _ = stream.read(&mut buf);
            let answer = format!("HTTP/1.1 307 Temporary Redirect\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    let mut l = Listener::start(&env, &["--forward-to", &from]);
    assert_eq!(l.post(&sign(&installed(SITE))).status, 200);
    l.run.wait_line("the relay's report", |s| {
        s.contains(&format!("forwarded to {from}: 307"))
    });
    assert!(
        target
            .requests
            .recv_timeout(Duration::from_secs(1))
            .is_err(),
        "the redirect was followed"
    );
    l.interrupt();
}

#[test]
fn sixteen_parallel_installs_are_all_saved() {
    let env = TestEnv::new();
    let mut l = Listener::start(&env, &["--save-instances"]);
    let url = l.url("/webhook");
    let jwts: Vec<String> = (0..16).map(|n| sign(&installed(&uuid(n)))).collect();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = jwts
            .iter()
            .map(|jwt| {
                let url = url.clone();
                s.spawn(move || post(&url, jwt).status)
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(statuses, vec![200; 16]);
    for n in 0..16 {
        l.run.wait_line("every summary", |s| {
            s.contains(&format!(" AppInstalled instance {}", uuid(n)))
        });
    }
    let mut saved = instances(&env);
    saved.sort();
    let mut want: Vec<String> = (0..16).map(uuid).collect();
    want.sort();
    assert_eq!(saved, want, "no instance lost");
    let default = profile(&env)["default_instance"]
        .as_str()
        .map(str::to_string);
    assert!(default.is_some_and(|d| want.contains(&d)));
    let defaults = l
        .run
        .seen
        .iter()
        .filter(|s| s.contains("as its default instance"))
        .count();
    assert_eq!(
        defaults, 1,
        "exactly one became the default: {:?}",
        l.run.seen
    );
    let out = l.interrupt();
    assert_eq!(stdout(&out).lines().count(), 16);
}

#[test]
fn a_bad_signature_gets_401_and_the_receiver_goes_on() {
    let env = TestEnv::new();
    let mut l = Listener::start(&env, &["--save-instances", "--once"]);
    for jwt in [
        sign_with(&keys().wrong, &installed(SITE)),
        "not a jwt".to_string(),
        sign(&claims(
            "AppInstalled",
            SITE,
            json!({"appId": APP_ID}),
            -3600,
        )),
    ] {
        let response = l.post(&jwt);
        assert_eq!(response.status, 401, "{}", response.text());
    }
    l.run.wait_line("the rejection", |s| {
        s.contains("rejected a delivery (401)") && s.contains("expired")
    });
    l.run.assert_running("three invalid deliveries");
    assert!(instances(&env).is_empty());
    // --once: the first valid event ends it with 0.
    assert_eq!(l.post(&sign(&installed(SITE))).status, 200);
    let out = l.run.wait();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 1);
    assert_eq!(instances(&env), vec![SITE.to_string()]);
    loopback::assert_port_free(l.port);
}

#[test]
fn other_paths_methods_and_large_bodies_are_answered_and_ignored() {
    let env = TestEnv::new();
    let mut l = Listener::start(&env, &["--once"]);
    assert_eq!(post(&l.url("/other"), &sign(&installed(SITE))).status, 404);
    let get = loopback::get(&l.url("/webhook"));
    assert_eq!(get.status, 405);
    assert_eq!(get.header("allow"), Some("POST"));
    assert_eq!(loopback::get(&l.url("/")).status, 404);
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], l.port));
    // Announced as over 1 MiB: refused before the body is read (none is sent, so the answer
    // cannot be lost to a reset).
    let head = b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n";
    assert_eq!(
        loopback::raw_status(&loopback::raw_exchange(addr, head)),
        Some(413)
    );
    // Chunked, no length announced: the bounded read stops at 1 MiB. The last chunk is the
    // one over the limit, so nothing large is left unread when the receiver closes.
    let mut raw =
        b"POST /webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..16 {
        raw.extend_from_slice(format!("{:x}\r\n", 65536).as_bytes());
        raw.extend(std::iter::repeat_n(b'a', 65536));
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"1\r\na\r\n0\r\n\r\n");
    let answer = loopback::raw_exchange(addr, &raw);
    assert_eq!(loopback::raw_status(&answer), Some(413));
    l.run.wait_line("the 413 note", |s| s.contains("(413)"));
    // Exactly 1 MiB is still read (and refused only for not being a JWT).
    assert_eq!(l.post(&"a".repeat(1024 * 1024)).status, 401);
    l.run.assert_running("invalid requests");
    assert_eq!(l.post(&sign(&installed(SITE))).status, 200);
    assert_eq!(l.run.wait().status.code(), Some(0));
}

#[test]
fn sigint_exits_130_and_frees_the_port() {
    let env = TestEnv::new();
    let l = Listener::start(&env, &[]);
    let out = l.interrupt();
    assert!(stdout(&out).is_empty());
    assert!(stderr(&out).contains("interrupted"), "{}", stderr(&out));
}

#[test]
fn a_port_in_use_is_a_usage_error() {
    let env = TestEnv::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = env.run(
        env.cmd()
            .env("WIX_WEBHOOK_PUBLIC_KEY", app_pem())
            .args(["webhook", "listen", "--port", &port]),
    );
    let line = assert_fails(&out, 2);
    assert!(line.contains("already in use"), "{line}");
}

#[test]
fn a_non_loopback_forward_target_is_refused() {
    let env = TestEnv::new();
    for target in [
        "http://192.0.2.1/hooks",
        "https://example.com/hooks",
        "http://localhost.example.com/",
    ] {
        let out = env.run(env.cmd().env("WIX_WEBHOOK_PUBLIC_KEY", app_pem()).args([
            "webhook",
            "listen",
            "--port",
            &free_port().to_string(),
            "--forward-to",
            target,
        ]));
        let line = assert_fails(&out, 2);
        assert!(
            line.contains("--forward-to") && line.contains("this machine"),
            "{line}"
        );
    }
}

/// A server on 127.0.0.1 that records each request and answers 202, or accepts and never answers.
pub(crate) struct Target {
    pub(crate) url: String,
    pub(crate) requests: std::sync::mpsc::Receiver<(String, Vec<u8>)>,
}

pub(crate) fn forward_target(hang: bool) -> Target {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://localhost:{}/hooks",
        listener.local_addr().unwrap().port()
    );
    let (tx, requests) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            if hang {
                // Never answered; kept open until the test process ends.
                held.push(stream);
                continue;
            }
            // Each connection on its own, as a real server: one the client opened and never
            // used (a pool's spare) must not hold up the others.
            let tx = tx.clone();
            std::thread::spawn(move || {
                if let Some(request) = answer_202(stream) {
                    let _ = tx.send(request);
                }
            });
        }
    });
    Target { url, requests }
}

/// Reads one request (head and Content-Length body) and answers 202; `None` when no request came.
fn answer_202(stream: std::net::TcpStream) -> Option<(String, Vec<u8>)> {
    use std::io::{BufRead, BufReader, Read, Write};
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let (mut head, mut line) = (String::new(), String::new());
    while reader.read_line(&mut line).unwrap_or(0) > 2 {
        head.push_str(&line);
        line.clear();
    }
    if head.is_empty() {
        return None;
    }
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let mut stream = stream;
    let _ = stream
        .write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    Some((head, body))
}

#[test]
fn forward_to_relays_the_raw_body_and_content_type_and_reports_the_status() {
    let env = TestEnv::new();
    let target = forward_target(false);
    let mut l = Listener::start(&env, &["--forward-to", &target.url]);
    let jwt = sign(&installed(SITE));
    let response = loopback::try_request(
        "POST",
        &l.url("/webhook"),
        &[("Content-Type", "text/plain; charset=utf-8")],
        jwt.as_bytes(),
    )
    .unwrap();
    assert_eq!(response.status, 200);
    let (head, body) = target
        .requests
        .recv_timeout(Duration::from_secs(10))
        .expect("relayed");
    assert_eq!(body, jwt.as_bytes(), "the raw body");
    assert!(head.starts_with("POST /hooks HTTP/1.1"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; charset=utf-8"),
        "{head}"
    );
    l.run.wait_line("the relay's status", |s| {
        s.contains(&format!("forwarded to {}: 202", target.url))
    });
    // Invalid deliveries are not relayed.
    assert_eq!(
        l.post(&sign_with(&keys().wrong, &installed(SITE))).status,
        401
    );
    l.run
        .wait_line("the rejection", |s| s.contains("rejected a delivery"));
    assert!(target.requests.try_recv().is_err());
    l.interrupt();
}

#[test]
fn a_forward_target_that_is_down_is_reported() {
    let env = TestEnv::new();
    let down = format!("http://127.0.0.1:{}/hooks", free_port());
    let mut l = Listener::start(&env, &["--forward-to", &down, "--once"]);
    assert_eq!(l.post(&sign(&installed(SITE))).status, 200);
    let out = l.run.wait();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("forwarding to {down} failed: cannot connect")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_answer_beats_wixs_1250_ms_when_the_forward_target_hangs() {
    let env = TestEnv::new();
    let target = forward_target(true);
    let l = Listener::start(&env, &["--forward-to", &target.url, "--save-instances"]);
    let mut times = Vec::new();
    for n in 0..5 {
        let jwt = sign(&installed(&uuid(100 + n)));
        let started = Instant::now();
        let response = l.post(&jwt);
        times.push(started.elapsed());
        assert_eq!(response.status, 200);
    }
    let worst = times.iter().max().unwrap();
    eprintln!("answer times with a hanging --forward-to: {times:?} (worst {worst:?})");
    assert!(*worst < Duration::from_millis(1250), "{times:?}");
    assert_eq!(instances(&env).len(), 5);
    l.interrupt();
}

#[test]
fn event_text_is_escaped_on_stderr_and_bad_instance_ids_are_not_saved() {
    let env = TestEnv::new();
    let mut l = Listener::start(&env, &["--save-instances"]);
    let evil = "AppInstalled\u{1b}[2J\u{7}";
    assert_eq!(
        l.post(&sign(&claims(
            evil,
            "../../etc/x\u{1b}]0;t",
            json!({"appId": APP_ID}),
            300
        )))
        .status,
        200
    );
    assert_eq!(l.post(&sign(&installed("not_an.instance id"))).status, 200);
    l.run.wait_line("the skipped one", |s| {
        s.contains("not_an.instance id") && s.contains("not saved")
    });
    let out = l.interrupt();
    let err = stderr(&out);
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert!(err.contains("AppInstalled\\u{1b}[2J"), "{err}");
    assert!(instances(&env).is_empty(), "{:?}", instances(&env));
    // stdout keeps the exact text, JSON-escaped.
    let first: Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(first["event_type"], evil);
}

/// The README walk-through, run as written against the emulator: the key once, then
/// `listen --save-instances --once`, `wixauth token`, `wixauth bi-event finished`.
#[test]
fn walk_through_install_then_token_then_bi_event() {
    let env = TestEnv::new();
    env.emu.install(APP_ID, SITE);
    let pem_file = env.config_dir().join("public-key.pem");
    std::fs::write(&pem_file, app_pem()).unwrap();
    let out = webhook(&env, &["set-key", pem_file.to_str().unwrap()], "");
    assert!(out.status.success(), "{}", stderr(&out));

    let port = free_port();
    let mut cmd = env.std_cmd();
    cmd.env_remove("WIX_WEBHOOK_PUBLIC_KEY").args([
        "webhook",
        "listen",
        "--port",
        &port.to_string(),
        "--save-instances",
        "--once",
    ]);
    let mut run = Running::spawn(cmd, None);
    run.wait_line("the listening line", |l| l.starts_with("Listening on"));
    // Wix, through the tunnel: the install on the test site.
    assert_eq!(
        post(
            &format!("http://localhost:{port}/webhook"),
            &sign(&installed(SITE))
        )
        .status,
        200
    );
    let out = run.wait();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(json_out(&out)["instance_id"], SITE);

    let token = env.run(env.cmd().env("WIX_APP_SECRET", &env.secret).arg("token"));
    assert!(token.status.success(), "{}", stderr(&token));
    let token = stdout(&token).trim().to_string();
    assert_eq!(
        env.emu.token_info(&token).map(|t| t.instance_id),
        Some(SITE.to_string())
    );
    let out = env.run(
        env.cmd()
            .env("WIX_APP_SECRET", &env.secret)
            .args(["bi-event", "finished"]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let events = env.emu.bi_events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["eventName"], "APP_FINISHED_CONFIGURATION");
    assert_eq!(events[0]["instanceId"], SITE);
}
