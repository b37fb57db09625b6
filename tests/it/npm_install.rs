//! Installs that went wrong (a pruned platform package, one of another version, a platform with
//! no package) and pnpm's strict layout, from the same tarballs as tests/it/npm.rs.
//! `#[ignore]`d: they need Node.js, npm, and npm/test's `npm ci` (pnpm); scripts/test.sh.
#![cfg(unix)]

use crate::npm::{packed, run_ok, the_one_error_line, Project};
use crate::support::{stdout, TestEnv, APP_ID, INSTANCE};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the JS API says in `project` when it cannot start wixauth: `code exitCode message`.
fn strategy_failure(project: &Project, env: &TestEnv) -> String {
    let script = "require('wixauth').WixauthStrategy().getAuthHeaders().then(\
        () => { console.log('resolved'); process.exit(1); },\
        (e) => console.log(`${e.name} ${e.code} ${e.exitCode} ${e.message}`))";
    let out = run_ok(
        project.with_env(env, "node").args(["-e", script]),
        "node -e (strategy)",
    );
    stdout(&out)
}

#[test]
#[ignore = "needs Node.js and npm (scripts/test.sh)"]
fn a_pruned_platform_package_is_one_line_with_the_fix() {
    let env = TestEnv::new();
    let project = Project::installed();
    std::fs::remove_dir_all(project.path().join("node_modules/@wixauth/linux-x64")).unwrap();
    let out = project.npx(&env, &["--version"]).output().unwrap();
    let line = the_one_error_line(&out, 1);
    for part in [
        "linux-x64",
        &format!("@wixauth/linux-x64@{VERSION}"),
        "npm install --include=optional",
    ] {
        assert!(line.contains(part), "{part:?} not in {line}");
    }
    let said = strategy_failure(&project, &env);
    assert!(said.starts_with("WixauthError NO_BINARY 1 "), "{said}");
    assert!(said.contains("npm install --include=optional"), "{said}");
}

#[test]
#[ignore = "needs Node.js and npm (scripts/test.sh)"]
fn a_platform_package_of_another_version_is_one_line() {
    let env = TestEnv::new();
    let project = Project::installed();
    let manifest = project
        .path()
        .join("node_modules/@wixauth/linux-x64/package.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let older = text.replace(
        &format!("\"version\": \"{VERSION}\""),
        "\"version\": \"0.0.1\"",
    );
    assert_ne!(text, older);
    std::fs::write(&manifest, older).unwrap();
    let out = project.npx(&env, &["token"]).output().unwrap();
    let line = the_one_error_line(&out, 1);
    assert!(line.contains("0.0.1") && line.contains(VERSION), "{line}");
    let said = strategy_failure(&project, &env);
    assert!(said.starts_with("WixauthError NO_BINARY 1 "), "{said}");
}

#[test]
#[ignore = "needs Node.js and npm (scripts/test.sh)"]
fn a_platform_without_a_package_is_one_line() {
    let env = TestEnv::new();
    let project = Project::installed();
    let preload = project.path().join("freebsd.cjs");
    std::fs::write(
        &preload,
        "Object.defineProperty(process, 'platform', { value: 'freebsd' });\n",
    )
    .unwrap();
    let out = project
        .with_env(&env, "node")
        .arg("--require")
        .arg(&preload)
        .arg(project.path().join("node_modules/wixauth/bin/wixauth.js"))
        .arg("--version")
        .output()
        .unwrap();
    let line = the_one_error_line(&out, 1);
    assert!(line.contains("freebsd-x64"), "{line}");
    assert!(line.contains("cargo install --locked wixauth"), "{line}");
}

#[test]
#[ignore = "needs Node.js, npm and npm/test's npm ci (scripts/test.sh)"]
fn pnpm_installs_it_strictly_and_without_scripts() {
    let pnpm = crate::npm::repo().join("npm/test/node_modules/.bin/pnpm");
    assert!(
        pnpm.exists(),
        "{} is missing: run `npm ci` in npm/test (scripts/test.sh does)",
        pnpm.display()
    );
    let env = TestEnv::new();
    let project = Project::empty();
    let packed = packed();
    for tgz in [&packed.main, &packed.platform] {
        std::fs::copy(tgz, project.path().join(tgz.file_name().unwrap())).unwrap();
    }
    // The platform package comes from its tarball, the other platforms' are dropped ("-"): no
    // registry is asked. No hoisting: only what pnpm links as the package's own dependency.
    let others: serde_json::Map<String, serde_json::Value> =
        ["linux-arm64", "darwin-arm64", "darwin-x64", "win32-x64"]
            .iter()
            .map(|p| (format!("@wixauth/{p}"), "-".into()))
            .collect();
    let mut overrides = others;
    overrides.insert(
        "@wixauth/linux-x64".into(),
        format!("file:./wixauth-linux-x64-{VERSION}.tgz").into(),
    );
    let manifest = serde_json::json!({
        "private": true,
        "dependencies": { "wixauth": format!("file:./wixauth-{VERSION}.tgz") },
        "pnpm": { "overrides": overrides },
    });
    std::fs::write(project.path().join("package.json"), manifest.to_string()).unwrap();
    std::fs::write(project.path().join(".npmrc"), "hoist=false\n").unwrap();
    run_ok(
        project
            .command(&pnpm)
            .args(["install", "--offline", "--store-dir"])
            .arg(project.path().join(".pnpm-store")),
        "pnpm install",
    );
    // The strict layout: the platform package is a sibling of wixauth inside .pnpm, nowhere else.
    let linked = project.path().join(format!(
        "node_modules/.pnpm/wixauth@file+wixauth-{VERSION}.tgz/node_modules/@wixauth/linux-x64"
    ));
    assert!(linked.exists(), "{} missing", linked.display());
    assert!(!project.path().join("node_modules/@wixauth").exists());
    assert!(!project
        .path()
        .join("node_modules/.pnpm/node_modules")
        .exists());

    let out = run_ok(
        project
            .with_env(&env, &pnpm)
            .args(["exec", "wixauth", "--version"]),
        "pnpm exec wixauth --version",
    );
    assert_eq!(stdout(&out), format!("wixauth {VERSION}\n"));
    let out = run_ok(
        project
            .shim(&env, &["token"])
            .env("WIX_APP_ID", APP_ID)
            .env("WIX_APP_SECRET", &env.secret)
            .env("WIX_INSTANCE_ID", INSTANCE),
        "node_modules/.bin/wixauth token (pnpm)",
    );
    env.assert_no_leak(&out);
    assert!(env.emu.token_info(stdout(&out).trim()).is_some());
}
