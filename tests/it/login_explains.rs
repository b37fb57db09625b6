//! Issue 11 item 2: a login that explains itself: the global `--instance` is the basic flow's
//! instance, every login says which profile, app and flow it uses and where they came from, and a
//! first browser login names the exact strings to register in the app dashboard.

use crate::support::*;

#[test]
fn the_global_instance_is_the_basic_logins_instance() {
    for via_env in [false, true] {
        let env = TestEnv::new();
        let mut cmd = env.cmd();
        if via_env {
            cmd.env("WIX_INSTANCE_ID", INSTANCE);
        } else {
            cmd.args(["--instance", INSTANCE]);
        }
        cmd.args([
            "login",
            "--flow",
            "basic",
            "--app-id",
            APP_ID,
            "--secret-stdin",
        ])
        .write_stdin(format!("{}\n", env.secret));
        let out = env.run(&mut cmd);
        assert!(out.status.success(), "{}", stderr(&out));
        // No browser: the instance was taken from --instance / WIX_INSTANCE_ID.
        assert!(!stderr(&out).contains("Open this URL"), "{}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("instance {INSTANCE}")),
            "{}",
            stderr(&out)
        );
        env.assert_credentials_work();
    }
}

#[test]
fn every_login_says_which_profile_app_and_flow_and_where_they_came_from() {
    let env = TestEnv::new();
    let out = env.login_with(
        &["--app-id", APP_ID, "--instance-id", INSTANCE],
        &env.secret,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "Logged in: profile default (the default), app {APP_ID} (--app-id), instance {INSTANCE} (site \"Emulated Site\" (https://example.wixsite.com/emulated)), flow basic (--flow);"
        )),
        "{err}"
    );
    // A second login of the profile says what it reuses.
    let out = env.run(
        env.cmd()
            .args(["--profile", "default", "login", "--instance-id", INSTANCE])
            .env("WIX_APP_SECRET", &env.secret),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!(
            "Logged in: profile default (--profile), app {APP_ID} (stored), instance {INSTANCE} (site \"Emulated Site\" (https://example.wixsite.com/emulated)), flow basic (an instance id was given);"
        )),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_first_browser_login_names_what_to_register_and_a_timeout_says_it_again() {
    let env = TestEnv::new();
    let redirect = format!("http://localhost:{}/callback", free_port());
    let out = env.run(
        env.cmd()
            .args([
                "login",
                "--flow",
                "advanced",
                "--app-id",
                APP_ID,
                "--redirect-url",
                &redirect,
                "--no-browser",
                "--timeout",
                "1",
            ])
            .env("WIX_APP_SECRET", &env.secret),
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(5), "{err}");
    // A browser login says first what it is for.
    assert!(
        err.contains(&format!(
            "Logging in: profile default (the default), app {APP_ID} (--app-id), flow advanced (--flow)."
        )),
        "{err}"
    );
    let port = redirect
        .trim_start_matches("http://localhost:")
        .trim_end_matches("/callback");
    assert!(err.contains(&format!("Redirect URL: {redirect}")), "{err}");
    assert!(
        err.contains(&format!("App URL:      http://localhost:{port}/app")),
        "{err}"
    );
    let line = err
        .lines()
        .find(|l| l.starts_with("wixauth: error:"))
        .unwrap_or_default();
    assert!(
        line.contains(&format!(
            "if Wix showed 'Invalid redirect URL', register exactly {redirect}"
        )),
        "{line}"
    );
}
