//! What comes from outside is bounded and never reaches a terminal raw (issue 16, items 3, 6).

use super::*;

fn api_opts(data: Option<&str>) -> api::ApiOptions {
    api::ApiOptions {
        path: "/echo".into(),
        method: None,
        data: data.map(str::to_string),
        headers: vec![],
        include: false,
        explain: false,
        fleet: Default::default(),
    }
}

#[test]
fn an_answer_over_64_mib_is_fetched_once_and_called_too_large() {
    let h = Harness::new();
    h.basic_login();
    let ctx = h.ctx(None);
    for _ in 0..3 {
        h.emu.push_fault(
            "/echo",
            emulator::Fault::Body(200, "x".repeat((64 << 20) + 1)),
        );
    }
    let (mut io, out, _) = quiet_io("");
    // A GET, which a network failure would repeat.
    let e = api::run(&api_opts(None), &ctx, &mut io).unwrap_err();
    assert_eq!(e.exit, Exit::Unavailable, "{e}");
    assert!(
        e.message().contains("over 64 MiB") && !e.message().contains("cannot reach"),
        "{e}"
    );
    assert_eq!(h.emu.count("/echo"), 1, "fetched once, not three times");
    assert!(out.text().is_empty());
}

#[test]
fn a_body_over_16_mib_is_refused_before_anything_is_sent() {
    let mut h = Harness::new();
    // 16 MiB there and back through a debug-built emulator beside the whole suite: more than
    // the harness's 2 s on two busy cores.
    h.extra_env
        .push(("WIXAUTH_HTTP_TIMEOUT".into(), "30".into()));
    h.basic_login();
    let ctx = h.ctx(None);
    let big = format!("\"{}\"", "x".repeat(16 << 20));
    let file = h.dir.path().join("big.json");
    std::fs::write(&file, &big).unwrap();
    let at_file = format!("@{}", file.display());
    for (data, stdin) in [(at_file.as_str(), ""), ("@-", big.as_str())] {
        let (mut io, _, _) = quiet_io(stdin);
        let e = api::run(&api_opts(Some(data)), &ctx, &mut io).unwrap_err();
        assert_eq!(e.exit, Exit::Usage, "{data}: {e}");
        assert!(e.message().contains("over 16 MiB"), "{e}");
    }
    assert_eq!(h.emu.count("/echo"), 0, "nothing was sent");
    // Just under the bound is sent.
    std::fs::write(&file, format!("\"{}\"", "x".repeat((16 << 20) - 2))).unwrap();
    let (mut io, _, _) = quiet_io("");
    api::run(&api_opts(Some(&at_file)), &ctx, &mut io).unwrap();
}

#[test]
fn json_from_wix_on_a_terminal_has_its_c1_and_bidi_controls_escaped() {
    let h = Harness::new();
    h.basic_login();
    let ctx = h.ctx(None);
    let hostile = "{\"site\":\"a\u{9b}2Jb\u{202e}c\"}";
    for tty in [true, false] {
        h.emu
            .push_fault("/echo", emulator::Fault::Body(200, hostile.into()));
        let (mut io, out, _) = quiet_io("");
        io.stdout_tty = tty;
        api::run(&api_opts(None), &ctx, &mut io).unwrap();
        let shown = out.text();
        match tty {
            true => {
                assert!(
                    !shown.contains('\u{9b}') && !shown.contains('\u{202e}'),
                    "{shown:?}"
                );
                let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
                assert_eq!(back["site"], "a\u{9b}2Jb\u{202e}c", "still the same JSON");
            }
            // A pipe gets Wix's bytes.
            false => assert_eq!(shown, hostile),
        }
    }
}
