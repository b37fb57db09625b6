//! Name lookups in the static Linux build.
//!
//! The x86_64 Linux build links glibc statically (.cargo/config.toml). Such a glibc still loads
//! the NSS modules /etc/nsswitch.conf names beyond its own (`resolve`, `mdns`, `systemd`, `sss`,
//! …) with `dlopen`, and a module from another glibc version than the one linked in can fail or
//! crash. Its `files` and `dns` services are built in: [`builtin_services_only`] pins host and
//! user lookups to them (`hosts: files dns`, `passwd: files`), so a lookup reads /etc/hosts,
//! /etc/resolv.conf and /etc/passwd and loads nothing. Other builds use the system's NSS.

/// Pins host and user-database lookups to glibc's built-in services; call it before the first
/// lookup (a cache-hit `wixauth token` makes none, and pays nothing). Once per process.
pub(crate) fn builtin_services_only() {
    #[cfg(all(target_os = "linux", target_env = "gnu", target_feature = "crt-static"))]
    {
        static PINNED: std::sync::Once = std::sync::Once::new();
        PINNED.call_once(|| {
            unsafe extern "C" {
                // glibc's <nss.h>: replaces the service line for one database.
                fn __nss_configure_lookup(
                    dbname: *const libc::c_char,
                    service_line: *const libc::c_char,
                ) -> libc::c_int;
            }
            for (database, services) in [(c"hosts", c"files dns"), (c"passwd", c"files")] {
                // SAFETY: two NUL-terminated strings that glibc copies; called before any
                // thread of ours makes a lookup (Once, and before the HTTP client exists).
                // A failure (-1: unknown database) leaves nsswitch.conf's line in force.
                unsafe { __nss_configure_lookup(database.as_ptr(), services.as_ptr()) };
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::net::ToSocketAddrs;

    #[test]
    fn names_still_resolve_after_pinning() {
        // A second call is harmless.
        super::builtin_services_only();
        super::builtin_services_only();
        // /etc/hosts (`files`) names localhost on every machine this builds on.
        let addrs: Vec<_> = ("localhost", 80)
            .to_socket_addrs()
            .expect("localhost resolves")
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
        assert!(!addrs.is_empty());
    }

    /// The build this module is for: the test binary, built with the same flags as wixauth,
    /// runs with no dynamic loader and no shared glibc mapped.
    #[cfg(all(target_os = "linux", target_env = "gnu", target_feature = "crt-static"))]
    #[test]
    fn the_static_build_links_glibc_statically() {
        let maps = std::fs::read_to_string("/proc/self/maps").expect("maps");
        assert!(
            !maps.contains("ld-linux") && !maps.contains("libc.so"),
            "a shared glibc is mapped: {maps}"
        );
    }
}
