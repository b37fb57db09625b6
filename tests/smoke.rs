mod common;
use common::*;

#[test]
fn basic_login_then_token() {
    let env = TestEnv::new();
    env.login_basic();
    let out = env.run(env.cmd().arg("token"));
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out);
    assert!(token.ends_with('\n') && token.lines().count() == 1);
    assert!(env.emu.token_info(token.trim()).is_some());
}
