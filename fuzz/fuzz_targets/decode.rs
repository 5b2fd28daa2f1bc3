//! The decoder on arbitrary bytes: it must not panic, and what it accepts must re-encode to
//! bytes that decode to an equal term (the same oracle as `tests/fuzz_smoke.rs`).
#![no_main]

use beamlink::term::{EncodeOptions, compare, decode, decode_shared, encode_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(t) = decode(data) else { return };
    assert!(compare(&t, &t).is_eq());
    assert_eq!(decode_shared(&bytes::Bytes::copy_from_slice(data)).unwrap(), t);
    for opts in [EncodeOptions::default(), EncodeOptions { minor_version: 0, ..EncodeOptions::otp25() }] {
        let again = encode_with(&t, &opts);
        assert_eq!(decode(&again).unwrap(), t);
    }
});
