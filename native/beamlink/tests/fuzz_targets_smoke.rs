//! A short run of every fuzz target of `fuzz/` on stable Rust, as part of `cargo test`: the
//! seeds of `beamlink::fuzzing::seeds` and mutants of them (bit flips, byte changes, cuts,
//! splices, length fields set to extremes). The long coverage-guided runs are
//! `make fuzz-long` (cargo-fuzz); this catches a regression on the paths the seeds reach.
//!
//! `BEAMLINK_FUZZ_SECONDS` sets the time per target (default 1), `BEAMLINK_FUZZ_SEED` the seed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use beamlink::fuzzing;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len().max(1));
        match rng.below(7) {
            0 if !v.is_empty() => v[at] ^= 1 << rng.below(8),
            1 if !v.is_empty() => v[at] = rng.next() as u8,
            2 => v.truncate(at),
            3 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len().max(1));
                v.splice(at..at, other[from.min(other.len())..].iter().copied().take(64));
            }
            4 if at + 4 <= v.len() => {
                let extreme = [[0xff; 4], [0x7f, 0xff, 0xff, 0xff], [0; 4], [0, 0, 0, 1]][rng.below(4)];
                v[at..at + 4].copy_from_slice(&extreme);
            }
            5 if at + 2 <= v.len() => v[at..at + 2].copy_from_slice(&[0xff, 0xff]),
            _ => v.insert(at.min(v.len()), rng.next() as u8),
        }
    }
    v
}

fn smoke(target: &str, run: fn(&[u8])) {
    let seconds: f64 =
        std::env::var("BEAMLINK_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let seed: u64 =
        std::env::var("BEAMLINK_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_1234);
    let seeds = fuzzing::seeds(target);
    assert!(!seeds.is_empty(), "{target} has seeds");
    let mut rng = Rng(seed | 1);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut runs = 0u64;
    for s in &seeds {
        run(s);
    }
    while Instant::now() < deadline {
        let base = rng.below(seeds.len());
        let input = mutate(&mut rng, &seeds, &seeds[base]);
        if catch_unwind(AssertUnwindSafe(|| run(&input))).is_err() {
            panic!("{target} panicked on {input:02x?} (BEAMLINK_FUZZ_SEED={seed})");
        }
        runs += 1;
    }
    eprintln!("{target}: {runs} inputs in {seconds} s");
    assert!(runs > 0);
}

#[test]
fn packets() {
    smoke("packets", fuzzing::packets);
}

#[test]
fn control() {
    smoke("control", fuzzing::control);
}

#[test]
fn handshake_accept() {
    smoke("handshake_accept", fuzzing::handshake_accept);
}

#[test]
fn handshake_initiate() {
    smoke("handshake_initiate", fuzzing::handshake_initiate);
}

#[test]
fn epmd_reply() {
    smoke("epmd_reply", fuzzing::epmd_reply);
}

#[test]
fn erlang_syntax() {
    smoke("erlang_syntax", fuzzing::erlang_syntax);
}
