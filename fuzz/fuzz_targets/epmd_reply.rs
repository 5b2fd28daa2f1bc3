//! `beamlink::fuzzing::epmd_reply` on arbitrary bytes: it must neither panic nor allocate without bound
//! (libFuzzer's -rss_limit_mb catches the latter). Seeds: `cargo run --bin seeds`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| beamlink::fuzzing::epmd_reply(data));
