//! Generates the C header from this crate's source with cbindgen, into `$OUT_DIR/beamlink.h`.
//! The committed copy is `include/beamlink.h`: `BEAMLINK_UPDATE_HEADER=1` (what
//! `scripts/c.sh header` sets) rewrites it, and the crate's `header_is_current` test fails when
//! the two differ, so `make test` catches a header left behind.

use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=BEAMLINK_UPDATE_HEADER");
    // Installed as libbeamlink.so.0 (see scripts/c.sh install), so that is the soname.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libbeamlink.so.0");

    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("reading cbindgen.toml");
    let header = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen could not generate the header");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("beamlink.h");
    header.write_to_file(&out);
    if std::env::var("BEAMLINK_UPDATE_HEADER").as_deref() == Ok("1") {
        header.write_to_file(dir.join("../../include/beamlink.h"));
    }
}
