//! `wixauth instances` (issue 21): the list and its JSON, imports with bad lines, refresh
//! marking the sites the app left, prune and remove with their tokens, and no fleet for a Wix
//! Headless profile.

use crate::api_keys::{key_env, login_key, SITE};
use crate::fleet::{fleet_env, keys, warm_fleet};
use crate::support::*;

use serde_json::Value;

fn listed(env: &TestEnv) -> Vec<Value> {
    let out = env.run(env.cmd().args(["instances", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    json_out(&out).as_array().unwrap().clone()
}

#[test]
fn instances_lists_each_one_with_where_it_came_from() {
    let (env, ids) = fleet_env(2);
    let list = listed(&env);
    assert_eq!(list.len(), 3);
    for item in &list {
        let mut k = keys(item);
        k.sort();
        assert_eq!(
            k,
            [
                "instance_id",
                "last_seen",
                "removed",
                "site_name",
                "site_url",
                "source"
            ]
        );
    }
    let by_id = |id: &str| {
        list.iter()
            .find(|i| i["instance_id"] == id)
            .unwrap()
            .clone()
    };
    let login = by_id(INSTANCE);
    assert_eq!(login["source"], "login");
    assert_eq!(login["site_name"], "Emulated Site");
    assert!(login["last_seen"].as_str().unwrap().ends_with('Z'));
    let imported = by_id(&ids[1]);
    assert_eq!(imported["source"], "import");
    // Never seen with Wix yet: unknown values are null.
    for key in ["site_name", "site_url", "last_seen"] {
        assert!(imported[key].is_null(), "{key}: {imported}");
    }
    assert_eq!(imported["removed"], false);
    // For people: the default marked, the site named.
    let out = env.run(env.cmd().arg("instances"));
    let text = stdout(&out);
    assert!(text.contains(&format!("* {INSTANCE}")), "{text}");
    assert!(
        text.contains("Emulated Site") && text.contains("import"),
        "{text}"
    );
}

#[test]
fn an_import_file_with_a_bad_line_names_it_and_stores_nothing() {
    let (env, _) = fleet_env(0);
    let file = env.dir.path().join("ids.txt");
    std::fs::write(&file, "site-1\n# a comment\n\nsite_two\nsite-3\n").unwrap();
    let before = read(&env.config_file());
    let out = env.run(env.cmd().args(["instances", "add", "--from"]).arg(&file));
    let line = assert_fails(&out, 2);
    assert!(
        line.contains("line 4") && line.contains("site_two"),
        "{line}"
    );
    assert_eq!(read(&env.config_file()), before, "nothing stored");

    let out = env.run(
        env.cmd()
            .args(["instances", "add", "--skip-invalid", "--from"])
            .arg(&file),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("line 4 left out"), "{}", stderr(&out));
    let ids: Vec<Value> = listed(&env)
        .iter()
        .map(|i| i["instance_id"].clone())
        .collect();
    assert_eq!(ids, [INSTANCE, "site-1", "site-3"]);

    // A JSON array on stdin; repeats and known ids change nothing.
    let out = env.run(
        env.cmd()
            .args(["instances", "add", "--from", "-"])
            .write_stdin("[\"site-3\", \"site-4\",\n \"site-4\"]"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Added 1 instance"),
        "{}",
        stderr(&out)
    );
    let out = env.run(env.cmd().args(["instances", "add", "../etc/passwd"]));
    assert_fails(&out, 2);
}

#[test]
fn refresh_learns_sites_and_marks_the_ones_the_app_left_then_prune_forgets_them() {
    let (env, ids) = fleet_env(3);
    env.emu.set_site_name("Shop \x1b[2J");
    // A cached token for the site that will leave: prune must remove it too.
    assert!(env
        .run(env.cmd().args(["token", "--instance", &ids[1]]))
        .status
        .success());
    env.emu.uninstall(APP_ID, &ids[1]);
    let out = env.run(env.cmd().args(["instances", "refresh"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let cached = env.cache_files().len();
    let err = stderr(&out);
    assert!(
        err.contains("1 marked removed") && err.contains("instances prune"),
        "{err}"
    );
    assert!(!err.contains('\x1b'), "site names escaped: {err:?}");
    let list = listed(&env);
    assert_eq!(list.len(), 4, "marked, never deleted");
    for item in &list {
        let gone = item["instance_id"] == ids[1].as_str();
        assert_eq!(item["removed"], gone, "{item}");
        if !gone {
            assert_eq!(item["site_name"], "Shop \x1b[2J");
            assert!(!item["last_seen"].is_null());
        }
    }
    // A marked instance is left out of a fleet run.
    let out = env.run(env.cmd().args(["token", "--each-instance"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 3);
    assert!(!stdout(&out).contains(&ids[1]));

    let out = env.run(env.cmd().args(["instances", "prune", "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(json_out(&out)[0]["instance_id"], ids[1].as_str());
    assert_eq!(listed(&env).len(), 3);
    assert_eq!(
        env.cache_files().len(),
        cached - 1,
        "its cached token went too"
    );
    // Reinstalled (the id stays the same), a refresh would find it again; nothing left to prune.
    let out = env.run(env.cmd().args(["instances", "prune"]));
    assert!(
        stderr(&out).contains("No instance is marked removed"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn remove_forgets_instances_with_their_tokens() {
    let (env, ids) = warm_fleet(2);
    assert_eq!(env.cache_files().len(), 3);
    let out = env.run(
        env.cmd()
            .args(["instances", "remove", &ids[1], INSTANCE, "site-99999999"]),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("not stored: site-99999999"), "{err}");
    assert!(err.contains("was the default instance"), "{err}");
    assert_eq!(listed(&env).len(), 1);
    assert_eq!(env.cache_files().len(), 1);
}

#[test]
fn api_key_profiles_have_no_fleet() {
    let (env, key) = key_env(&[]);
    assert!(login_key(&env, &key, &["--site-id", SITE]).status.success());
    for args in [
        &["instances"][..],
        &["instances", "add", "inst-1"],
        &["token", "--each-instance"],
        &["exec", "--each-instance", "--", "true"],
    ] {
        let line = assert_fails(&env.run(env.cmd().args(args)), 2);
        assert!(line.contains("for app profiles"), "{args:?}: {line}");
    }
    assert_eq!(env.emu.seen().len(), 0);
}

#[test]
fn headless_profiles_have_no_fleet() {
    let env = TestEnv::new();
    std::fs::write(
        env.config_file(),
        "[profiles.default]\nclient_id = \"client-1\"\nflow = \"visitor\"\n",
    )
    .unwrap();
    for args in [
        &["instances"][..],
        &["instances", "add", "inst-1"],
        &["instances", "refresh"],
        &["token", "--each-instance"],
        &["api", "--each-instance", "/apps/v1/instance"],
        &["exec", "--each-instance", "--", "true"],
    ] {
        let line = assert_fails(&env.run(env.cmd().args(args)), 2);
        assert!(line.contains("for app profiles"), "{args:?}: {line}");
    }
    assert_eq!(env.emu.seen().len(), 0);
}
