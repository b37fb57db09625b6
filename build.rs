//! Link settings for the Linux glibc build.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let crt_static = var("CARGO_CFG_TARGET_FEATURE")
        .split(',')
        .any(|f| f == "crt-static");
    // Link the unwinder (libgcc_eh.a, from the same gcc package as libgcc_s.so) into the binary,
    // so the dynamic loader has one shared library fewer to open, map and bind at every start.
    // A crt-static build links it already.
    if var("TARGET") == "x86_64-unknown-linux-gnu" && !crt_static {
        println!("cargo::rustc-link-lib=static:-bundle=gcc_eh");
    }
}
