//! What every CLI test file shares: running `beamlink` as a process, and real BEAM nodes
//! shared between the tests of one file (started on first use, killed by PID when the last
//! test holding them is done).
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, Weak};

pub use beamlink_test_support::{DEFAULT_COOKIE, Otp, TestNode, unique_name};

/// A `beamlink` invocation: the test cookie in BEAMLINK_COOKIE, a 10 s limit unless the
/// arguments give one.
pub struct Run {
    cmd: Command,
    stdin: Option<Vec<u8>>,
}

pub fn beamlink<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_beamlink"));
    cmd.args(args).env("BEAMLINK_COOKIE", DEFAULT_COOKIE).env_remove("ERL_EPMD_PORT");
    Run { cmd, stdin: None }
}

impl Run {
    pub fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Run {
        self.cmd.env(k, v);
        self
    }

    pub fn env_remove(mut self, k: &str) -> Run {
        self.cmd.env_remove(k);
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Run {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn command(&mut self) -> &mut Command {
        &mut self.cmd
    }

    pub fn output(mut self) -> Output {
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        self.cmd.stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        let mut child = self.cmd.spawn().expect("running beamlink");
        if let Some(bytes) = self.stdin.take() {
            let mut w = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                let _ = w.write_all(&bytes);
            });
        }
        child.wait_with_output().expect("waiting for beamlink")
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
pub fn expect(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "stdout: {}\nstderr: {}", stdout(o), stderr(o));
}

/// The kinds of node the CLI tests talk to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Otp25,
    Otp28,
    /// OTP 25 with Elixir started.
    Elixir,
}

impl Kind {
    pub const ERLANG: [Kind; 2] = [Kind::Otp25, Kind::Otp28];
}

/// A node of `kind` that the tests of this file share: started on first use, killed (by its
/// PID, when dropped) once no running test holds it. Tests must not leave state behind on it
/// that another test could trip over.
pub fn shared(kind: Kind) -> Arc<TestNode> {
    static NODES: Mutex<Option<HashMap<Kind, Weak<TestNode>>>> = Mutex::new(None);
    let mut nodes = NODES.lock().unwrap();
    let map = nodes.get_or_insert_with(HashMap::new);
    if let Some(n) = map.get(&kind).and_then(Weak::upgrade) {
        return n;
    }
    let n = Arc::new(match kind {
        Kind::Otp25 => TestNode::start(Otp::V25, "cli25"),
        Kind::Otp28 => TestNode::start(Otp::V28, "cli28"),
        Kind::Elixir => TestNode::builder(Otp::V25).prefix("cliex").elixir().start().unwrap(),
    });
    map.insert(kind, Arc::downgrade(&n));
    n
}

/// Runs the invocations on threads at once and returns their outputs in order.
pub fn all(runs: Vec<Run>) -> Vec<Output> {
    let handles: Vec<_> = runs.into_iter().map(|r| std::thread::spawn(move || r.output())).collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

/// A temporary HOME without a cookie file.
pub fn empty_home() -> std::path::PathBuf {
    let home = std::env::temp_dir().join(unique_name("beamlink_home"));
    std::fs::create_dir_all(&home).unwrap();
    home
}

/// The local form `<0.X.Y>` (as `list_to_pid` on its node reads it) of the pid `spawn`
/// reports on stderr as `<node@host.X.Y>`.
pub fn spawned_pid(stderr: &str) -> String {
    let line = stderr.lines().find_map(|l| l.strip_prefix("beamlink: spawned <")).expect("the spawned pid");
    // The host may contain dots: the last two fields are the numbers.
    let f: Vec<&str> = line.trim_end_matches('>').rsplitn(3, '.').collect();
    format!("<0.{}.{}>", f[1], f[0])
}
