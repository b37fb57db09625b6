//! Every integration test in one binary: the shared support code and the test files are
//! compiled and linked once, and all tests run in parallel in one process.

mod support;

mod action_install;
mod advanced_token;
mod api;
mod api_keys;
mod basic_login;
mod bi_event;
mod browser_login;
mod chromium;
mod completion_shells;
#[cfg(target_os = "linux")]
mod eighty;
mod env_file;
mod exec;
mod explain;
mod faults;
mod fleet;
#[cfg(unix)]
mod fleet_exec;
mod fleet_instances;
mod generated;
mod headless;
mod identities;
mod install_script;
mod keyring;
mod listener_hostile;
mod login_explains;
mod next_steps;
mod one_home;
#[cfg(target_os = "linux")]
mod other_user;
// The npm packages and the JS API (Node.js needed: #[ignore]d, run by scripts/test.sh).
mod npm;
mod npm_install;
mod npm_sdk;
mod output;
// The terminal is played with util-linux `script`: Linux only (macOS has BSD `script`).
#[cfg(target_os = "linux")]
mod prompts;
mod regressions;
mod release_meta;
mod start_up;
mod status_logout;
mod switch_doctor;
mod token;
mod trust;
mod trust_files;
mod trust_two;
mod webhook;
mod webhook_battery;
mod webhook_lab;
mod webhook_load;
// Wix's JS SDK as the handler (Node.js needed: #[ignore]d, run by scripts/test.sh).
mod webhook_node;
mod whoami;
