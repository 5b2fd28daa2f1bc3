//! The codec checked against real BEAM nodes (OTP 25 and OTP 28), both directions.
//!
//! BEAM → Rust: every corpus term, encoded by `term_to_binary/2` with each option set, must
//! decode and re-encode to the very same bytes (compressed terms: the same term, since our
//! zlib is not BEAM's zlib). Rust → BEAM: our encoding of every corpus term must decode on the
//! node to a term `=:=` the original, and arbitrary generated terms must survive a trip through
//! `binary_to_term` and back.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use beamlink::term::{self, EncodeOptions, Term, decode_shared, encode_with};
use beamlink_test_support::{Otp, TestNode, repo_root, unique_name};
use bytes::Bytes;
use common::{arb_term, hex, unhex};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

fn load_corpus_module(node: &TestNode) {
    node.load_erl(&repo_root().join("tests/corpus/etf_corpus.erl"));
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(unique_name("beamlink_corpus"));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn options_for(otp: Otp, set: &str) -> EncodeOptions {
    let base = match otp {
        Otp::V25 => EncodeOptions::otp25(),
        Otp::V28 => EncodeOptions::default(),
    };
    match set {
        "default" => base,
        "compressed" => EncodeOptions { compressed: Some(6), ..base },
        "minor1" => EncodeOptions { minor_version: 1, ..base },
        "minor0" => EncodeOptions { minor_version: 0, ..base },
        other => panic!("unknown option set {other}"),
    }
}

fn cross_check(otp: Otp) {
    let node = TestNode::start(otp, "corpus");
    load_corpus_module(&node);
    let file = scratch("from_beam.txt");
    let count: usize = node.eval_ok(&format!("etf_corpus:write(\"{}\").", file.display())).parse().unwrap();
    let text = std::fs::read_to_string(&file).unwrap();

    let mut mismatches = Vec::new();
    let mut top_tags = BTreeSet::new();
    let mut defaults: Vec<(String, Term)> = Vec::new();
    let mut compressed_same_bytes = 0;
    for line in text.lines() {
        let mut parts = line.split('\t');
        let (name, set, hexed) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        let bytes = Bytes::from(unhex(hexed));
        top_tags.insert(bytes[1]);
        let t = match decode_shared(&bytes) {
            Ok(t) => t,
            Err(e) => {
                mismatches.push(format!("{name}/{set}: decode failed: {e}"));
                continue;
            }
        };
        let again = encode_with(&t, &options_for(otp, set));
        if set == "compressed" {
            let plain = &defaults.last().expect("default comes first").1;
            if &t != plain {
                mismatches.push(format!("{name}/compressed decodes to a different term"));
            }
            if again == bytes.as_ref() {
                compressed_same_bytes += 1;
            }
        } else if again != bytes.as_ref() {
            let at = again
                .iter()
                .zip(bytes.iter())
                .position(|(a, b)| a != b)
                .unwrap_or(again.len().min(bytes.len()));
            mismatches.push(format!(
                "{name}/{set}: re-encoding differs at byte {at} (ours {} bytes, BEAM {} bytes)",
                again.len(),
                bytes.len()
            ));
        }
        if set == "default" {
            defaults.push((name.to_string(), t));
        }
    }
    assert!(count >= 600, "corpus has {count} encodings");
    assert!(
        mismatches.is_empty(),
        "{}: {} mismatches:\n{}",
        otp.label(),
        mismatches.len(),
        mismatches.join("\n")
    );

    // Every tag BEAM writes appears at the top of some corpus item.
    use beamlink::term::tag::*;
    let mut want = vec![
        SMALL_INTEGER_EXT,
        INTEGER_EXT,
        SMALL_BIG_EXT,
        LARGE_BIG_EXT,
        NEW_FLOAT_EXT,
        FLOAT_EXT,
        ATOM_EXT,
        SMALL_ATOM_UTF8_EXT,
        ATOM_UTF8_EXT,
        BINARY_EXT,
        BIT_BINARY_EXT,
        NIL_EXT,
        STRING_EXT,
        LIST_EXT,
        SMALL_TUPLE_EXT,
        LARGE_TUPLE_EXT,
        MAP_EXT,
        NEW_PID_EXT,
        NEWER_REFERENCE_EXT,
        NEW_FUN_EXT,
        EXPORT_EXT,
        COMPRESSED,
    ];
    want.push(if otp == Otp::V25 { NEW_PORT_EXT } else { V4_PORT_EXT });
    let missing: Vec<u8> = want.into_iter().filter(|t| !top_tags.contains(t)).collect();
    assert!(missing.is_empty(), "{}: corpus lacks tags {missing:?}", otp.label());

    // Rust → BEAM: our encodings (plain and compressed) decode to the original terms.
    let mut lines = String::new();
    for (name, t) in &defaults {
        for opts in [EncodeOptions::default(), EncodeOptions { compressed: Some(6), ..Default::default() }] {
            lines.push_str(name);
            lines.push('\t');
            lines.push_str(&hex(&encode_with(t, &opts)));
            lines.push('\n');
        }
    }
    let back = scratch("from_rust.txt");
    std::fs::write(&back, lines).unwrap();
    let verdict = node.eval_ok(&format!("etf_corpus:check(\"{}\").", back.display()));
    assert_eq!(verdict, format!("{{{},[]}}", defaults.len() * 2), "{}: BEAM disagreed", otp.label());
    eprintln!(
        "{}: {count} BEAM encodings re-encoded byte for byte; {} Rust encodings accepted; compressed identical bytes: {compressed_same_bytes}/{}",
        otp.label(),
        defaults.len() * 2,
        defaults.len()
    );
}

/// Terms BEAM never saw: generated here, decoded by BEAM, re-encoded by BEAM, decoded here.
fn generated_round_trip(otp: Otp) {
    let node = TestNode::start(otp, "corpusgen");
    load_corpus_module(&node);
    let mut runner = TestRunner::deterministic();
    let strategy = arb_term();
    let terms: Vec<Term> = (0..400).map(|_| strategy.new_tree(&mut runner).unwrap().current()).collect();
    let input = scratch("gen_in.txt");
    let output = scratch("gen_out.txt");
    let text: String = terms.iter().map(|t| hex(&term::encode(t)) + "\n").collect();
    std::fs::write(&input, text).unwrap();
    node.eval_ok(&format!("etf_corpus:reencode(\"{}\", \"{}\").", input.display(), output.display()));
    let back = std::fs::read_to_string(&output).unwrap();
    let mut bad = Vec::new();
    for (t, line) in terms.iter().zip(back.lines()) {
        if line == "badarg" {
            bad.push(format!("BEAM refused {t:?}"));
            continue;
        }
        let got = term::decode(&unhex(line)).unwrap();
        if &got != t {
            bad.push(format!("{t:?} came back as {got:?}"));
        }
    }
    assert_eq!(back.lines().count(), terms.len());
    assert!(bad.is_empty(), "{}: {}", otp.label(), bad.join("\n"));
}

#[test]
fn beam_corpus_otp25() {
    cross_check(Otp::V25);
}

#[test]
fn beam_corpus_otp28() {
    cross_check(Otp::V28);
}

#[test]
fn generated_terms_survive_beam_otp25() {
    generated_round_trip(Otp::V25);
}

#[test]
fn generated_terms_survive_beam_otp28() {
    generated_round_trip(Otp::V28);
}
