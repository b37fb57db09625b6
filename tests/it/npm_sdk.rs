//! The JS API (WixauthStrategy) from the packed tarballs: with Wix's real SDK against the
//! emulator (npm/test/sdk.test.mjs), against stand-in binaries (npm/test/strategy.test.cjs),
//! and its TypeScript types against the SDK's (npm/test/types). The Node files run under
//! `node --test` in a throwaway project; each Rust test here is one Node test file.
//! `#[ignore]`d: they need Node.js, npm and npm/test's `npm ci`; scripts/test.sh.
#![cfg(unix)]

use std::path::Path;
use std::process::Output;

use crate::npm::{repo, run_ok, Project};
use crate::support::{stderr, stdout, TestEnv, APP_ID, INSTANCE};

const CLIENT: &str = "hl-client-1111";
const APP_2: &str = "app-44444444";

fn npm_test_installed() -> &'static Path {
    let modules = repo().join("npm/test/node_modules/@wix/sdk");
    assert!(
        modules.exists(),
        "{} is missing: run `npm ci` in npm/test (scripts/test.sh does)",
        modules.display()
    );
    Box::leak(repo().join("npm/test").into_boxed_path())
}

/// Copies npm/test's FILES into the project, next to its node_modules.
fn copy_in(project: &Project, files: &[&str]) {
    let from = npm_test_installed();
    for file in files {
        let to = project.path().join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from.join(file), &to).unwrap_or_else(|e| panic!("copy {file}: {e}"));
    }
}

/// Asserts a `node --test` run passed with at least one test and none failed or skipped.
fn assert_node_tests_passed(out: &Output, what: &str) {
    let text = format!("{}\n{}", stdout(out), stderr(out));
    let count = |key: &str| -> Option<u64> {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("# {key} ")))
            .and_then(|n| n.trim().parse().ok())
    };
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{text}",
        out.status
    );
    assert!(
        count("pass").is_some_and(|n| n > 0),
        "{what}: no test passed:\n{text}"
    );
    for key in ["fail", "cancelled", "skipped", "todo"] {
        assert_eq!(count(key), Some(0), "{what}: {key}:\n{text}");
    }
}

/// Profiles the SDK tests use: `default` (basic), `gone` (logged out by the test), `rejected`
/// (its stored secret no longer accepted), `visitor` (a Wix Headless visitor).
fn log_in_profiles(env: &TestEnv) {
    env.login_basic();
    let out = env.login_with(
        &[
            "--profile",
            "gone",
            "--app-id",
            APP_ID,
            "--instance",
            INSTANCE,
        ],
        &env.secret,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let other = format!("{}-2", env.secret);
    env.add_secret(&other);
    env.emu.register_app(APP_2, &other, &[]);
    env.emu.install(APP_2, INSTANCE);
    let out = env.login_with(
        &[
            "--profile",
            "rejected",
            "--app-id",
            APP_2,
            "--instance",
            INSTANCE,
        ],
        &other,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    // The app's secret was rotated in the dashboard: the stored one is now refused.
    env.emu.register_app(APP_2, "rotated-elsewhere", &[]);
    env.emu
        .register_headless(CLIENT, &["http://localhost:8338/callback"]);
    let out = env.run(env.cmd().args([
        "login",
        "--profile",
        "visitor",
        "--flow",
        "visitor",
        "--client-id",
        CLIENT,
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
#[ignore = "needs Node.js, npm and npm/test's npm ci (scripts/test.sh)"]
fn the_strategy_with_wix_s_real_sdk_against_the_emulator() {
    npm_test_installed();
    let env = TestEnv::new();
    log_in_profiles(&env);
    let project = Project::installed();
    copy_in(&project, &["support.mjs", "sdk.test.mjs"]);
    let spawns = tempfile::tempdir().unwrap();
    let setup = serde_json::json!({
        "instance": INSTANCE,
        "clientId": CLIENT,
        "profiles": {"gone": "gone", "rejected": "rejected", "visitor": "visitor"},
    });
    let out = project
        .with_env(&env, "node")
        .args(["--test", "sdk.test.mjs"])
        .env("WIXAUTH_TEST_SETUP", setup.to_string())
        .env("WIXAUTH_TEST_SPAWNS", spawns.path())
        .output()
        .expect("run node --test");
    env.assert_no_leak(&out);
    assert_node_tests_passed(&out, "npm/test/sdk.test.mjs");
    // What every wixauth start was given: argv and environment, none of it secret.
    let mut starts = 0;
    for entry in std::fs::read_dir(spawns.path()).unwrap().flatten() {
        starts += 1;
        let given = String::from_utf8_lossy(&std::fs::read(entry.path()).unwrap()).into_owned();
        let mut secrets = vec![env.secret.clone(), format!("{}-2", env.secret)];
        secrets.extend(env.emu.refresh_tokens());
        for secret in secrets {
            assert!(
                !given.contains(&secret),
                "{} holds a secret",
                entry.path().display()
            );
        }
    }
    assert!(
        starts > 10,
        "the recorder saw {starts} files: the check proves nothing"
    );
}

#[test]
#[ignore = "needs Node.js and npm (scripts/test.sh)"]
fn the_strategy_against_broken_old_slow_and_hostile_binaries() {
    let project = Project::installed();
    copy_in(&project, &["strategy.test.cjs"]);
    let out = project
        .command("node")
        .args(["--test", "strategy.test.cjs"])
        .output()
        .expect("run node --test");
    assert_node_tests_passed(&out, "npm/test/strategy.test.cjs");
}

#[test]
#[ignore = "needs Node.js, npm and npm/test's npm ci (scripts/test.sh)"]
fn the_typescript_types_fit_the_sdk_in_esm_and_commonjs() {
    let tests = npm_test_installed();
    let project = Project::installed();
    copy_in(
        &project,
        &["types/esm.mts", "types/cjs.cts", "types/tsconfig.json"],
    );
    // Not skipLibCheck: the package's own .d.cts/.d.mts are checked as well as their fit.
    let out = run_ok(
        project
            .command("node")
            .arg(tests.join("node_modules/typescript/bin/tsc"))
            .args(["-p", "types/tsconfig.json"]),
        "tsc -p types/tsconfig.json",
    );
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
}
