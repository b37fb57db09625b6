//! Issue 17 item 2: every next step an error prints is a command that works when pasted. Each
//! case makes an error, takes the command out of its line, runs it (with what a person would
//! type at its prompts given on stdin or in the environment), and then the first command again:
//! it must no longer fail for the reason the hint was about.

use crate::support::loopback::*;
use crate::support::*;

/// The first `wixauth …` command in backticks on the error line, as words.
fn hinted(line: &str) -> Vec<String> {
    let command = line
        .split('`')
        .skip(1)
        .step_by(2)
        .find(|c| c.starts_with("wixauth "))
        .unwrap_or_else(|| panic!("no command in: {line}"));
    // The tests' commands need no shell quoting beyond spaces.
    assert!(!command.contains('\''), "quoted words: {command}");
    command.split(' ').skip(1).map(str::to_string).collect()
}

/// Runs the hinted command; returns its output.
fn follow_hint(
    env: &TestEnv,
    line: &str,
    stdin: &str,
    vars: &[(&str, &str)],
) -> std::process::Output {
    let argv = hinted(line);
    let mut cmd = env.cmd();
    cmd.args(&argv).write_stdin(stdin.to_string());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = env.run(&mut cmd);
    assert!(
        out.status.success(),
        "the hint `wixauth {}` failed: {}",
        argv.join(" "),
        stderr(&out)
    );
    out
}

#[test]
fn nothing_logged_in_for_a_named_profile() {
    let env = TestEnv::new();
    let line = assert_fails(&env.run(env.cmd().args(["--profile", "shop", "token"])), 2);
    assert!(
        hinted(&line).starts_with(&["--profile".into(), "shop".into(), "login".into()]),
        "{line}"
    );
    // The login asks for the app id and secret; without a terminal they come from here.
    let answers = [
        ("WIX_APP_ID", APP_ID),
        ("WIX_APP_SECRET", env.secret.as_str()),
        ("WIX_INSTANCE_ID", INSTANCE),
    ];
    follow_hint(&env, &line, "", &answers);
    assert!(env
        .run(env.cmd().args(["--profile", "shop", "token"]))
        .status
        .success());
}

#[test]
fn a_typo_in_the_profile_lists_the_profiles_and_the_hint_names_the_one_typed() {
    let env = TestEnv::new();
    env.login_basic();
    let line = assert_fails(
        &env.run(env.cmd().args(["--profile", "defualt", "token"])),
        2,
    );
    assert!(line.contains("(profiles: default)"), "{line}");
    assert!(line.contains("`wixauth --profile defualt login`"), "{line}");
    let line = assert_fails(
        &env.run(env.cmd().args(["switch", "--profile", "defualt"])),
        2,
    );
    assert!(line.contains("(profiles: default)"), "{line}");
}

#[test]
fn an_instance_not_logged_in() {
    let env = TestEnv::new();
    env.emu.install(APP_ID, INSTANCE_2);
    env.login_basic();
    let line = assert_fails(
        &env.run(env.cmd().args(["token", "--instance", INSTANCE_2])),
        2,
    );
    assert!(!line.contains("--instance-id"), "the hidden alias: {line}");
    follow_hint(&env, &line, "", &[]);
    assert!(env
        .run(env.cmd().args(["token", "--instance", INSTANCE_2]))
        .status
        .success());
}

#[test]
fn no_default_instance_after_a_logout() {
    let env = TestEnv::new();
    env.login_two_instances();
    assert!(env.run(env.cmd().arg("logout")).status.success());
    let line = assert_fails(&env.run(env.cmd().arg("token")), 2);
    follow_hint(&env, &line, "", &[]);
    assert!(env.run(env.cmd().arg("token")).status.success());
}

#[test]
fn a_rotated_app_secret_is_replaced_with_secret_stdin() {
    let env = TestEnv::new();
    env.login_basic();
    let rotated = format!("rotated-{}", env.secret);
    env.add_secret(&rotated);
    env.emu
        .register_app(APP_ID, &rotated, &["http://localhost:8338/callback"]);
    // token: the stored secret is refused.
    let line = assert_fails(&env.run(env.cmd().args(["token", "--no-cache"])), 3);
    assert!(line.contains("--secret-stdin"), "{line}");
    // login without a terminal: it says to pipe the current one, and that works.
    let out = env.run(env.cmd().args(["login", "--instance", INSTANCE]));
    let line = assert_fails(&out, 3);
    assert!(
        line.contains("pipe the current app secret into `wixauth login --secret-stdin"),
        "{line}"
    );
    follow_hint(&env, &line, &format!("{rotated}\n"), &[]);
    assert!(env
        .run(env.cmd().args(["token", "--no-cache"]))
        .status
        .success());
}

#[test]
fn a_wrong_environment_secret_says_check_the_variable() {
    let env = TestEnv::new();
    let out = env.run(
        env.cmd()
            .args(["token"])
            .env("WIX_APP_ID", APP_ID)
            .env("WIX_INSTANCE_ID", INSTANCE)
            .env("WIX_APP_SECRET", "not-the-secret"),
    );
    let line = assert_fails(&out, 3);
    assert!(line.contains("check WIX_APP_SECRET"), "{line}");
    assert!(!line.contains("wixauth login"), "not a login loop: {line}");
}

#[test]
fn which_credential_wix_refused_is_the_one_named() {
    let env = TestEnv::new();
    let ci = |app: &str, instance: &str, secret: &str| {
        let out = env.run(
            env.cmd()
                .arg("token")
                .env("WIX_APP_ID", app)
                .env("WIX_INSTANCE_ID", instance)
                .env("WIX_APP_SECRET", secret),
        );
        assert_fails(&out, 3)
    };
    let line = ci("app-unknown-1", INSTANCE, &env.secret);
    assert!(
        line.contains("Invalid client") && line.contains("check WIX_APP_ID"),
        "{line}"
    );
    let line = ci(APP_ID, "inst-never-installed", &env.secret);
    assert!(line.contains("check WIX_INSTANCE_ID"), "{line}");
    let line = ci(APP_ID, INSTANCE, "wrong");
    assert!(line.contains("check WIX_APP_SECRET"), "{line}");
}

#[test]
fn an_uninstalled_instance_is_logged_out_as_the_hint_says() {
    let env = TestEnv::new();
    env.login_two_instances();
    env.emu.uninstall(APP_ID, INSTANCE_2);
    let line = assert_fails(&env.run(env.cmd().args(["token", "--no-cache"])), 3);
    follow_hint(&env, &line, "", &[]);
    assert!(!read(&env.config_file()).contains(INSTANCE_2));
}

#[test]
fn a_login_that_timed_out_is_tried_again_with_the_users_own_flags_and_a_longer_wait() {
    let env = TestEnv::new();
    let (_, redirect) = env.new_redirect();
    env.register_redirect(&redirect);
    let out = env.run(
        env.cmd()
            .args([
                "--profile",
                "shop",
                "login",
                "--flow",
                "advanced",
                "--app-id",
                APP_ID,
            ])
            .args([
                "--redirect-url",
                &redirect,
                "--no-browser",
                "--timeout",
                "1",
            ])
            .env("WIX_APP_SECRET", &env.secret),
    );
    let line = assert_fails(&out, 5);
    let argv = hinted(&line);
    let has = |flag: &str, value: &str| argv.windows(2).any(|w| w[0] == flag && w[1] == value);
    assert!(
        has("--profile", "shop") && has("--flow", "advanced"),
        "{line}"
    );
    assert!(
        has("--redirect-url", &redirect) && has("--app-id", APP_ID),
        "{line}"
    );
    assert!(has("--timeout", "60"), "{line}");
    // Pasted (and this time the browser comes back), it logs in.
    let mut cmd = env.std_cmd();
    cmd.args(&argv)
        .arg("--no-browser")
        .env("WIX_APP_SECRET", &env.secret);
    let mut login = Running::spawn(cmd, None);
    let url = login.installer_url();
    env.browse(&url);
    let out = login.wait();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Issue 17 item 4: Wix installed the app and then refused the secret: what Wix gave (the
/// instance) is in the error, with the command that finishes with it; a later basic login of
/// the profile uses its stored instance instead of a new install.
#[test]
fn an_external_install_keeps_the_instance_wix_gave() {
    let env = TestEnv::new();
    env.emu.set_next_instance("inst-from-install");
    let wrong = format!("wrong-{}", env.secret);
    env.add_secret(&wrong);
    let (_, redirect) = env.new_redirect();
    let mut cmd = env.std_cmd();
    cmd.args([
        "login",
        "--flow",
        "basic",
        "--app-id",
        APP_ID,
        "--redirect-url",
        &redirect,
        "--no-browser",
    ])
    .env("WIX_APP_SECRET", &wrong);
    let mut login = Running::spawn(cmd, None);
    let url = login.installer_url();
    env.browse(&url);
    let out = login.wait();
    let line = assert_fails(&out, 3);
    assert!(line.contains("inst-from-install"), "{line}");
    assert!(line.contains("the app secret is wrong"), "{line}");
    let argv = hinted(&line);
    assert!(
        argv.windows(2)
            .any(|w| w == ["--instance", "inst-from-install"]),
        "{line}"
    );
    // With the right secret, the printed command finishes the login: no second install.
    let before = env.emu.count("/app-installer");
    let out = env.run(env.cmd().args(&argv).env("WIX_APP_SECRET", &env.secret));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(env.emu.count("/app-installer"), before);
    // A later basic login uses the stored instance, without the browser.
    let out = env.run(
        env.cmd()
            .args(["login", "--flow", "basic"])
            .env("WIX_APP_SECRET", &env.secret),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Using the profile's instance inst-from-install"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.emu.count("/app-installer"), before);
}

/// Issue 17 item 5: logging out an instance that was never logged in says so (exit 0).
#[test]
fn logging_out_an_instance_that_is_not_stored_says_not_logged_in() {
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(env.cmd().args(["logout", "--instance", "inst-never-here"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.starts_with("not logged in:") && err.contains("inst-never-here"),
        "{err}"
    );
    assert!(!err.contains("Logged out instance"), "{err}");
    assert!(
        env.run(env.cmd().arg("token")).status.success(),
        "the real instance is kept"
    );
}
