//! Where the server listens: loopback addresses only, all on one port, and the typed errors
//! that its callers turn into their own messages (`--redirect-url`, `--port`).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::net::TcpSocket;
use url::Url;

use crate::core::error::{Error, Result};
use crate::core::log::debug;
use crate::core::net::loopback_ips;

/// Why the server could not start.
#[derive(Debug)]
pub(crate) enum StartError {
    /// Another socket holds the port on this address.
    InUse(SocketAddr),
    /// Binding failed otherwise (no such address, permission...).
    Bind(SocketAddr, io::Error),
    /// The sockets are bound but the server around them could not be set up.
    Start(io::Error),
}

impl StartError {
    /// The error for whoever chose the address: `in_use` words a taken port (what may hold
    /// it, how to pick another), `option` is what picks another address, `server` what failed
    /// to start.
    pub(crate) fn for_user(
        self,
        in_use: impl FnOnce(u16, IpAddr) -> String,
        option: &str,
        server: &str,
    ) -> Error {
        match self {
            StartError::InUse(addr) => Error::usage(in_use(addr.port(), addr.ip())),
            StartError::Bind(addr, e) => Error::usage(format!(
                "cannot listen on {addr}: {e}; pass another {option}"
            )),
            StartError::Start(e) => Error::failure(format!("cannot start the {server}: {e}")),
        }
    }
}

/// Checks that a redirect URL is one wixauth can listen on: `http://` on a loopback host.
pub(crate) fn listen_addresses(redirect: &Url) -> Result<Vec<SocketAddr>> {
    let refuse = || {
        Error::usage(format!(
            "--redirect-url {redirect} must be an http:// URL on this machine (localhost, 127.0.0.1 or [::1]) so wixauth can listen there"
        ))
    };
    if redirect.scheme() != "http" {
        return Err(refuse());
    }
    let port = redirect.port_or_known_default().ok_or_else(refuse)?;
    let ips = loopback_ips(redirect).ok_or_else(refuse)?;
    Ok(ips
        .into_iter()
        .map(|ip| SocketAddr::new(ip, port))
        .collect())
}

/// `localhost:port`: 127.0.0.1 and ::1 (browsers and tunnels pick either).
pub(crate) fn localhost(port: u16) -> Vec<SocketAddr> {
    vec![
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
        SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
    ]
}

/// Pending connections the kernel queues for `accept`. std's 128 overflowed under a crowd
/// reconnecting in bursts: a dropped SYN is sent again only after a second, and a delivery
/// connecting then missed Wix's 1250 ms.
pub(super) const BACKLOG: u32 = 1024;

/// Binds every address (listening comes later, inside the server's runtime). Port 0 (tests):
/// every address gets the port the first one was given. An IPv6 address that cannot be bound
/// for another reason than "in use" is skipped once an IPv4 one is bound: a machine without
/// IPv6 still serves 127.0.0.1.
pub(super) fn bind_all(
    addresses: &[SocketAddr],
) -> std::result::Result<Vec<TcpSocket>, StartError> {
    let mut sockets: Vec<TcpSocket> = Vec::new();
    for &addr in addresses {
        let mut addr = addr;
        if !addr.ip().is_loopback() {
            // Callers only pass loopback addresses; this keeps it so whatever they pass.
            let refused = io::Error::new(io::ErrorKind::InvalidInput, "not a loopback address");
            return Err(StartError::Bind(addr, refused));
        }
        if let Some(first) = sockets.first().and_then(|s| s.local_addr().ok()) {
            addr.set_port(first.port());
        }
        let socket = match bind_one(addr) {
            Ok(socket) => socket,
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => return Err(StartError::InUse(addr)),
            Err(e) if addr.is_ipv6() && !sockets.is_empty() => {
                debug!("not listening on {addr}: {e}");
                continue;
            }
            Err(e) => return Err(StartError::Bind(addr, e)),
        };
        sockets.push(socket);
    }
    Ok(sockets)
}

fn bind_one(addr: SocketAddr) -> io::Result<TcpSocket> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // As std does on Unix: the port can be bound again at once after a restart (connections
    // of the previous process in TIME_WAIT); two listeners on one port are still refused.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    Ok(socket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_http_redirects() {
        let ok = |u: &str| listen_addresses(&Url::parse(u).unwrap());
        assert_eq!(ok("http://localhost:8338/callback").unwrap().len(), 2);
        assert_eq!(
            ok("http://127.0.0.1:9/cb").unwrap(),
            vec!["127.0.0.1:9".parse().unwrap()]
        );
        assert_eq!(
            ok("http://[::1]:9/cb").unwrap(),
            vec!["[::1]:9".parse().unwrap()]
        );
        for bad in [
            "https://localhost:8338/cb",
            "http://example.com/cb",
            "http://0.0.0.0:1/",
            "http://10.1.2.3:1/",
        ] {
            assert!(ok(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn binds_loopback_only_on_one_port_and_says_when_it_is_taken() {
        let sockets = bind_all(&localhost(0)).unwrap();
        let ports: Vec<u16> = sockets
            .iter()
            .map(|s| s.local_addr().unwrap().port())
            .collect();
        assert_ne!(ports[0], 0);
        assert!(ports.iter().all(|&p| p == ports[0]), "{ports:?}");
        drop(sockets);
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        match bind_all(&localhost(port)) {
            Err(StartError::InUse(addr)) => assert_eq!(addr.port(), port),
            other => panic!("want InUse, got {other:?}"),
        }
        let outside: SocketAddr = "0.0.0.0:0".parse().unwrap();
        assert!(matches!(
            bind_all(&[outside]),
            Err(StartError::Bind(addr, _)) if addr == outside
        ));
    }
}
