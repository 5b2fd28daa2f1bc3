//! Compiles the reference C client (ei/ei_rpc_bench.c) against OTP's erl_interface. Without
//! erl_interface the bench still builds; the ei rows then say why they did not run.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `$EI_DIR`, else the newest `/usr/lib/erlang/lib/erl_interface-*` (Debian's erlang-dev).
fn ei_dir() -> Option<PathBuf> {
    let usable = |d: &Path| d.join("include/ei.h").exists() && d.join("lib/libei.a").exists();
    if let Some(d) = std::env::var_os("EI_DIR").map(PathBuf::from) {
        return usable(&d).then_some(d);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/erlang/lib")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("erl_interface-")))
        .filter(|p| usable(p))
        .collect();
    found.sort();
    found.pop()
}

fn main() {
    let src = "ei/ei_rpc_bench.c";
    println!("cargo:rerun-if-changed={src}");
    println!("cargo:rerun-if-env-changed=EI_DIR");
    println!("cargo:rerun-if-env-changed=CC");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("ei_rpc_bench");
    let built = match ei_dir() {
        None => {
            println!("cargo:warning=erl_interface not found: the ei_rpc reference rows will be skipped");
            false
        }
        Some(dir) => {
            let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
            // -pthread: ei's erl_errno is per thread only with _REENTRANT.
            let status = Command::new(&cc)
                .args(["-O2", "-Wall", "-pthread", "-o"])
                .arg(&out)
                .arg(src)
                .arg(format!("-I{}", dir.join("include").display()))
                .arg(format!("-L{}", dir.join("lib").display()))
                .arg("-lei")
                .status();
            match status {
                Ok(s) if s.success() => true,
                other => {
                    println!("cargo:warning=compiling {src} with {cc} failed ({other:?}): ei rows skipped");
                    false
                }
            }
        }
    };
    let path = if built { out.display().to_string() } else { String::new() };
    println!("cargo:rustc-env=BEAMLINK_EI_RPC_BENCH={path}");
}
