//! The test suite's Wix emulator as a standalone server, for benchmarks and manual tries.
//!
//! `cargo run --example wix-emulator -- [--port N] [--app APP_ID:SECRET]... [--install APP_ID:INSTANCE]...
//!  [--redirect APP_ID:URL]... [--admin CLIENT_ID:CLIENT_SECRET]... [--install-range APP_ID:PREFIX:N]...
//!  [--delay-ms MS] [--limit-per-instance N] [--burst-429 N:SECS]` prints its base URL on stdout and
//!  serves until killed. `--admin` registers a Wix Headless client with its client secret.
//!  `--install-range` installs the app on PREFIX-00000001 … PREFIX-N; `--delay-ms` makes every
//!  answer wait; `--limit-per-instance` answers 429 beyond N requests a minute per instance (Wix's
//!  200); `--burst-429` answers the first N requests that carry a token 429 with `Retry-After: SECS`.
//!  `GET /__fleet` says what the limit saw.

#[path = "../tests/it/support/emulator.rs"]
mod emulator;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut port = 0u16;
    let mut apps: Vec<(String, String)> = Vec::new();
    let mut installs = Vec::new();
    let mut redirects: Vec<(String, String)> = Vec::new();
    let mut admins: Vec<(String, String)> = Vec::new();
    let mut ranges: Vec<(String, String, usize)> = Vec::new();
    let (mut delay_ms, mut limit, mut burst) = (0u64, None, None);
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
            "--install-range" => {
                let parts: Vec<&str> = value.splitn(3, ':').collect();
                if let [app, prefix, n] = parts[..] {
                    ranges.push((app.into(), prefix.into(), n.parse().unwrap_or(0)));
                }
            }
            "--delay-ms" => delay_ms = value.parse().unwrap_or(0),
            "--limit-per-instance" => limit = value.parse::<usize>().ok(),
            "--burst-429" => {
                burst = value
                    .split_once(':')
                    .and_then(|(n, secs)| Some((n.parse().ok()?, secs.parse().ok()?)))
            }
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
    for (app, prefix, n) in &ranges {
        emulator.install_many(app, prefix, *n);
    }
    emulator.set_answer_delay(std::time::Duration::from_millis(delay_ms));
    if let Some(max) = limit {
        emulator.limit_per_instance(max, std::time::Duration::from_secs(60));
    }
    if let Some((count, secs)) = burst {
        emulator.burst_429(count, secs);
    }
    println!("{}", emulator.base());
    loop {
        std::thread::park();
    }
}
