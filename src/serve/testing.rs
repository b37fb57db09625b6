//! For the unit tests of the server and of its policies: a raw client and the check of the
//! headers every answer carries.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Sends raw bytes, half-closes, and reads the whole answer (a reset ends it too).
pub(crate) fn exchange(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    stream.write_all(bytes).unwrap();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// Asserts the server's common headers (title case, as the server writes them).
pub(crate) fn assert_common_headers(answer: &str) {
    for (name, value) in super::http::COMMON {
        let line = format!("{}: {value}\r\n", title_case(name.as_str()));
        assert!(answer.contains(&line), "{line:?} missing: {answer}");
    }
}

fn title_case(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}
