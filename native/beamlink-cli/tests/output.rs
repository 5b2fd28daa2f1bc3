//! What reaches stdout and what happens when it cannot: a closed pipe ends a command quietly
//! (as SIGPIPE ends other tools), a full disk is an error exit, nothing panics.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use common::*;

/// Held while a child is started (and, for a closed pipe, until our read end is gone): a
/// child forked by another test in between would hold a copy of the read end until its exec,
/// and a write landing then would not see the pipe closed.
static SPAWNING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn every_command(n: &str) -> Vec<Vec<String>> {
    let v = |a: &[&str]| a.iter().map(|s| s.replace('N', n)).collect::<Vec<String>>();
    vec![
        v(&["names"]),
        v(&["ping", "N"]),
        v(&["rpc", "N", "erlang", "node"]),
        v(&["eval", "N", "node()"]),
        v(&["spawn", "N", "io", "put_chars", "[\"text\\n\"]"]),
        v(&["info", "N"]),
        v(&["multicall", "N", "erlang", "node"]),
        v(&["cluster", "N"]),
    ]
}

#[test]
fn a_full_disk_is_an_error_exit() {
    let node = shared(Kind::Otp25);
    let runs = every_command(&node.name)
        .into_iter()
        .map(|args| {
            let mut r = beamlink(&args);
            r.command().stdout(std::fs::File::create("/dev/full").unwrap());
            std::thread::spawn(move || {
                let child = {
                    let _held = SPAWNING.lock().unwrap();
                    r.command().stdin(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap()
                };
                (args, child.wait_with_output().unwrap())
            })
        })
        .collect::<Vec<_>>();
    for r in runs {
        let (args, o) = r.join().unwrap();
        assert_eq!(o.status.code(), Some(74), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains("cannot write the output") && err.contains("No space left"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    let node = shared(Kind::Otp25);
    let runs = every_command(&node.name)
        .into_iter()
        .map(|args| {
            let mut r = beamlink(&args);
            std::thread::spawn(move || {
                let child = {
                    let _held = SPAWNING.lock().unwrap();
                    let mut child = r
                        .command()
                        .stdin(Stdio::null())
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped())
                        .spawn()
                        .unwrap();
                    // The reader goes away before anything is written, as `head` does once it
                    // has what it wants.
                    drop(child.stdout.take());
                    child
                };
                (args, child.wait_with_output().unwrap())
            })
        })
        .collect::<Vec<_>>();
    for r in runs {
        let (args, o) = r.join().unwrap();
        let err = stderr(&o);
        // `spawn` reports the pid on stderr before any output.
        let quiet = err.lines().all(|l| l.starts_with("beamlink: spawned <"));
        assert!(quiet, "{args:?}: {err}");
        assert_eq!(o.status.signal(), Some(libc::SIGPIPE), "{args:?}: {:?} {err}", o.status);
    }
}
