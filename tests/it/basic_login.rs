//! `wixauth login --flow basic --instance-id ID`: inputs, rejection, instances, profiles, files.

use crate::support::*;

#[test]
fn login_with_secret_on_stdin_stores_everything() {
    let env = TestEnv::new();
    let out = env.login_with(
        &["--app-id", APP_ID, "--instance-id", INSTANCE],
        &env.secret,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        out.stdout.is_empty(),
        "the summary goes to stderr without --json: {}",
        stdout(&out)
    );
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one summary line: {err}");
    for part in [
        APP_ID,
        INSTANCE,
        "basic",
        "plain-text file",
        env.secrets_file().to_str().unwrap(),
    ] {
        assert!(err.contains(part), "summary lacks {part:?}: {err}");
    }
    assert_eq!(
        env.token_requests(),
        1,
        "login proves the credentials with one token request"
    );

    let config = read(&env.config_file());
    assert!(
        config.contains(APP_ID) && config.contains(INSTANCE),
        "{config}"
    );
    assert!(
        !config.contains(&env.secret),
        "the secret must never be in config.toml: {config}"
    );
    assert!(
        read(&env.secrets_file()).contains(&env.secret),
        "the file store holds the secret"
    );

    // A later process with nothing in its environment gets a token from what was stored.
    env.assert_credentials_work();
}

#[test]
fn login_reads_secret_and_app_id_from_the_environment() {
    let env = TestEnv::new();
    let out = env.run(
        env.cmd()
            .args(["login", "--flow", "basic", "--instance-id", INSTANCE])
            .env("WIX_APP_ID", APP_ID)
            .env("WIX_APP_SECRET", &env.secret),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(read(&env.config_file()).contains(APP_ID));
    assert!(
        read(&env.secrets_file()).contains(&env.secret),
        "the env secret is stored for later"
    );
    // Without the variables, the stored secret and app id work.
    env.assert_credentials_work();
}

#[test]
fn login_takes_the_app_id_and_secret_of_the_stored_profile() {
    let env = TestEnv::new();
    env.emu.install(APP_ID, INSTANCE_2);
    env.login_basic();
    // Neither --app-id nor a secret: both come from the profile.
    let out = env.run(
        env.cmd()
            .args(["login", "--flow", "basic", "--instance-id", INSTANCE_2]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let token = env.token_ok(&[]);
    let info = env.emu.token_info(&token).expect("issued");
    assert_eq!(
        (info.app_id.as_str(), info.instance_id.as_str()),
        (APP_ID, INSTANCE_2)
    );
}

#[test]
fn missing_app_id_without_tty_is_exit_2_naming_flag_and_variable() {
    let env = TestEnv::new();
    let out = env.login_with(&["--instance-id", INSTANCE], &env.secret);
    let line = assert_fails(&out, 2);
    assert!(
        line.contains("--app-id") && line.contains("WIX_APP_ID"),
        "{line}"
    );
    assert_eq!(env.token_requests(), 0);
    assert!(!env.config_file().exists());
}

#[test]
fn missing_secret_without_tty_is_exit_2_naming_flag_and_variable() {
    let env = TestEnv::new();
    let out = env.run(env.cmd().args([
        "login",
        "--flow",
        "basic",
        "--app-id",
        APP_ID,
        "--instance-id",
        INSTANCE,
    ]));
    let line = assert_fails(&out, 2);
    assert!(
        line.contains("--secret-stdin") && line.contains("WIX_APP_SECRET"),
        "{line}"
    );
    assert_eq!(env.token_requests(), 0);
    assert!(!env.config_file().exists() && !env.secrets_file().exists());
}

#[test]
fn empty_secret_on_stdin_is_exit_2() {
    let env = TestEnv::new();
    let out = env.login_with(&["--app-id", APP_ID, "--instance-id", INSTANCE], "");
    let line = assert_fails(&out, 2);
    assert!(line.contains("--secret-stdin"), "{line}");
    assert_eq!(env.token_requests(), 0);
}

#[test]
fn secret_is_never_a_command_line_argument() {
    let env = TestEnv::new();
    let out = env.run(env.cmd().args([
        "login",
        "--app-id",
        APP_ID,
        "--instance-id",
        INSTANCE,
        "--secret",
        "nope",
    ]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!env.config_file().exists());
}

#[test]
fn wrong_secret_is_exit_3_and_stores_nothing() {
    let env = TestEnv::new();
    let wrong = format!("wrong-{}", env.secret);
    env.add_secret(&wrong);
    let out = env.login_with(&["--app-id", APP_ID, "--instance-id", INSTANCE], &wrong);
    let line = assert_fails(&out, 3);
    assert!(
        line.contains("wixauth login"),
        "exit 3 says to log in again: {line}"
    );
    assert!(
        line.contains("Invalid client credentials"),
        "Wix's message is in the line: {line}"
    );
    assert_eq!(env.token_requests(), 1, "a 401 is never retried");
    assert!(
        !env.config_file().exists(),
        "nothing stored after a rejected login"
    );
    assert!(
        !env.secrets_file().exists(),
        "nothing stored after a rejected login"
    );
    assert!(
        env.cache_files().is_empty(),
        "nothing cached after a rejected login"
    );
}

#[test]
fn wrong_secret_keeps_the_previous_good_login() {
    let env = TestEnv::new();
    env.login_basic();
    let config = read(&env.config_file());
    let secrets = read(&env.secrets_file());
    let wrong = format!("wrong-{}", env.secret);
    env.add_secret(&wrong);
    let out = env.login_with(&["--app-id", APP_ID, "--instance-id", INSTANCE], &wrong);
    assert_fails(&out, 3);
    assert_eq!(read(&env.config_file()), config, "config.toml untouched");
    assert_eq!(read(&env.secrets_file()), secrets, "secrets.toml untouched");
    env.assert_credentials_work();
}

#[test]
fn unknown_instance_is_exit_3() {
    let env = TestEnv::new();
    let out = env.login_with(
        &["--app-id", APP_ID, "--instance-id", "inst-not-installed"],
        &env.secret,
    );
    let line = assert_fails(&out, 3);
    assert!(
        line.contains("not installed"),
        "Wix's message is in the line: {line}"
    );
    assert_eq!(env.token_requests(), 1, "a 400 is never retried");
    assert!(!env.config_file().exists());
}

#[test]
fn several_instances_per_profile() {
    let env = TestEnv::new();
    env.login_two_instances();

    let instance_of = |token: &str| env.emu.token_info(token).expect("issued").instance_id;
    // The last login is the default.
    assert_eq!(instance_of(&env.token_ok(&[])), INSTANCE_2);
    assert_eq!(instance_of(&env.token_ok(&["--no-cache"])), INSTANCE_2);
    // --instance and WIX_INSTANCE_ID pick the other one.
    assert_eq!(
        instance_of(&env.token_ok(&["--instance", INSTANCE])),
        INSTANCE
    );
    assert_eq!(
        instance_of(&env.token_ok(&["--instance", INSTANCE, "--no-cache"])),
        INSTANCE
    );
    let out = env.run(
        env.cmd()
            .args(["token", "--no-cache"])
            .env("WIX_INSTANCE_ID", INSTANCE),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(instance_of(stdout(&out).trim()), INSTANCE);
    // An instance never logged in is a usage error, without asking Wix.
    let before = env.token_requests();
    let out = env.run(env.cmd().args(["token", "--instance", "inst-unknown"]));
    let line = assert_fails(&out, 2);
    assert!(line.contains("inst-unknown"), "{line}");
    assert_eq!(env.token_requests(), before);
}

#[test]
fn profiles_hold_two_apps_side_by_side() {
    let env = TestEnv::new();
    let app2 = "app-99999999";
    let secret2 = format!("second-{}", env.secret);
    env.add_secret(&secret2);
    env.emu.register_app(app2, &secret2, &[]);
    env.emu.install(app2, INSTANCE_2);

    env.login_basic();
    let out = env.login_with(
        &[
            "--profile",
            "shop",
            "--app-id",
            app2,
            "--instance-id",
            INSTANCE_2,
        ],
        &secret2,
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let app_of = |token: &str| {
        let info = env.emu.token_info(token).expect("issued");
        (info.app_id, info.instance_id)
    };
    let want_default = (APP_ID.to_string(), INSTANCE.to_string());
    let want_shop = (app2.to_string(), INSTANCE_2.to_string());
    assert_eq!(app_of(&env.token_ok(&["--no-cache"])), want_default);
    assert_eq!(
        app_of(&env.token_ok(&["--profile", "shop", "--no-cache"])),
        want_shop
    );
    let out = env.run(
        env.cmd()
            .args(["token", "--no-cache"])
            .env("WIXAUTH_PROFILE", "shop"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(app_of(stdout(&out).trim()), want_shop);
    // Each profile keeps its own secret.
    let secrets = read(&env.secrets_file());
    assert!(
        secrets.contains(&env.secret) && secrets.contains(&secret2),
        "both secrets stored"
    );
    // Cached tokens are per app.
    assert_eq!(app_of(&env.token_ok(&[])), want_default);
    assert_eq!(app_of(&env.token_ok(&["--profile", "shop"])), want_shop);
}

#[test]
fn json_summary_on_stdout() {
    let env = TestEnv::new();
    let out = env.login_with(
        &["--app-id", APP_ID, "--instance-id", INSTANCE, "--json"],
        &env.secret,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "one JSON line: {text}");
    let v = json_out(&out);
    assert_eq!(v["profile"], "default");
    assert_eq!(v["app_id"], APP_ID);
    assert_eq!(v["instance_id"], INSTANCE);
    assert_eq!(v["flow"], "basic");
    assert_eq!(v["secret_store"], "file");
    assert_eq!(v["secrets_file"], env.secrets_file().to_str().unwrap());
    assert!(
        !text.contains("OauthNG"),
        "no access token in the summary: {text}"
    );
}

#[test]
fn unknown_keys_in_config_survive_a_login() {
    let env = TestEnv::new();
    std::fs::write(
        env.config_file(),
        "future_setting = \"keep me\"\n\n[profiles.default]\napp_id = \"app-11111111\"\ncolour = \"teal\"\n\n[profiles.default.instances.inst-old]\nflow = \"basic\"\nnote = \"from a newer wixauth\"\n",
    )
    .unwrap();
    env.login_basic();
    let config = read(&env.config_file());
    for kept in [
        "future_setting",
        "keep me",
        "colour",
        "teal",
        "inst-old",
        "from a newer wixauth",
        INSTANCE,
    ] {
        assert!(config.contains(kept), "{kept:?} lost: {config}");
    }
    env.assert_credentials_work();
}

#[cfg(unix)]
#[test]
fn files_holding_secrets_or_tokens_are_0600() {
    let env = TestEnv::new();
    env.login_basic();
    env.token_ok(&["--no-cache"]);
    assert_eq!(mode(&env.config_file()), 0o600, "config.toml");
    assert_eq!(mode(&env.secrets_file()), 0o600, "secrets.toml");
    let caches = env.cache_files();
    assert!(!caches.is_empty(), "a token is cached");
    for file in caches {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    // No folder wixauth creates is readable by others either.
    for dir in [
        env.config_dir().join("tokens"),
        env.config_dir().join("locks"),
    ] {
        assert_eq!(mode(&dir) & 0o077, 0, "{}", dir.display());
    }
}

#[test]
fn secret_is_in_the_file_store_only() {
    let env = TestEnv::new();
    env.login_basic();
    env.token_ok(&["--no-cache"]);
    assert!(read(&env.secrets_file()).contains(&env.secret));
    assert!(!read(&env.config_file()).contains(&env.secret));
    for file in env.cache_files() {
        assert!(!read(&file).contains(&env.secret), "{}", file.display());
    }
}
