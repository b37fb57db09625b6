//! Link settings for the Linux glibc build.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CC");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let crt_static = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    let gnu = var("TARGET") == "x86_64-unknown-linux-gnu";
    // Link the unwinder (libgcc_eh.a, from the same gcc package as libgcc_s.so) into the binary,
    // so the dynamic loader has one shared library fewer to open, map and bind at every start.
    // A crt-static build links it already.
    if gnu && !crt_static {
        println!("cargo::rustc-link-lib=static:-bundle=gcc_eh");
    }
    // The static-pie build (.cargo/config.toml) needs glibc's static archives, which some
    // distributions ship apart (Fedora/RHEL: glibc-static). Say so in one line instead of
    // leaving the user a page of linker errors.
    if gnu && crt_static {
        if let Some(missing) = missing_static_part(&var("CC")) {
            panic!(
                "wixauth's static Linux build needs {missing} from the static C library, which is not installed: install it (Fedora/RHEL: `dnf install glibc-static`; Debian/Ubuntu: `apt install libc6-dev`), or build a dynamic binary with `RUSTFLAGS= cargo install --locked --path .`"
            );
        }
    }
}

/// The first of the static C runtime's files the C compiler cannot find (`cc -print-file-name`
/// echoes a bare name back when it has no such file), `None` when all are there or when no
/// compiler answers (then the linker says what it misses).
fn missing_static_part(cc: &str) -> Option<&'static str> {
    let cc = if cc.is_empty() { "cc" } else { cc };
    ["libc.a", "rcrt1.o"].into_iter().find(|file| {
        std::process::Command::new(cc)
            .arg(format!("-print-file-name={file}"))
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
            .is_some_and(|found| !std::path::Path::new(&found).is_absolute())
    })
}
