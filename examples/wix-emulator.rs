//! The test suite's Wix emulator as a standalone server, for benchmarks and manual tries.
//!
//! `cargo run --example wix-emulator -- [--port N] [--app APP_ID:SECRET]... [--install APP_ID:INSTANCE]...
//!  [--redirect APP_ID:URL]... [--admin CLIENT_ID:CLIENT_SECRET]...` prints its base URL on stdout and
//!  serves until killed. `--admin` registers a Wix Headless client with its client secret.

#[path = "../tests/it/support/emulator.rs"]
mod emulator;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut port = 0u16;
    let mut apps: Vec<(String, String)> = Vec::new();
    let mut installs = Vec::new();
    let mut redirects: Vec<(String, String)> = Vec::new();
    let mut admins: Vec<(String, String)> = Vec::new();
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_default();
        let pair = || {
            value
                .split_once(':')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        };
        match flag.as_str() {
            "--port" => port = value.parse().unwrap_or(0),
            "--app" => apps.extend(pair()),
            "--install" => installs.extend(pair()),
            "--redirect" => redirects.extend(pair()),
            "--admin" => admins.extend(pair()),
            other => {
                eprintln!("wix-emulator: unknown flag {other}");
                std::process::exit(2);
            }
        }
    }
    let emulator = emulator::Emulator::start_on(&format!("127.0.0.1:{port}"));
    for (app, secret) in &apps {
        let urls: Vec<&str> = redirects
            .iter()
            .filter(|(a, _)| a == app)
            .map(|(_, u)| u.as_str())
            .collect();
        emulator.register_app(app, secret, &urls);
    }
    for (app, instance) in &installs {
        emulator.install(app, instance);
    }
    for (client, secret) in &admins {
        emulator.register_headless(client, &[]);
        emulator.register_client_secret(client, secret);
    }
    println!("{}", emulator.base());
    loop {
        std::thread::park();
    }
}
